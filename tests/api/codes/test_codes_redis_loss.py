"""Replay keys of single-use (transport) codes live in Redis. When Redis loses them (a restart
without the data, a failover, a wipe), a code that could have been shown before must not pass
a second time: it is refused with CODE_REFRESH_REQUIRED and the resident shows a fresh one."""


def lose_redis(app) -> None:
    """What the app sees of a Redis that restarted empty: every key gone, every connection dropped."""
    with app.app_context():
        from api.extensions import get_redis
        redis = get_redis()
        redis.flushdb()
        redis.connection_pool.disconnect()


def test_a_transport_code_used_before_the_loss_does_not_pass_again(app, verify, get_code, resident, clock):
    code = get_code(resident, "transport")
    assert verify(code).status_code == 200
    assert verify(code).json["error"] == "CODE_REPLAYED"

    lose_redis(app)

    r = verify(code)
    assert r.status_code == 409 and r.json["error"] == "CODE_REFRESH_REQUIRED"
    assert verify(code).json["error"] == "CODE_REPLAYED"        # and it stays burned
    clock.advance(1)   # codes carry whole seconds: one of the second the loss was noticed counts as before it
    assert verify(get_code(resident, "transport")).status_code == 200   # a fresh code passes


def test_prefetched_codes_whose_window_opens_after_the_loss_still_pass(app, verify, get_code, resident, clock):
    batch = get_code(resident, "transport", count=3)["codes"]   # for offline use: consecutive windows
    lose_redis(app)
    assert verify(batch[0]["payload"]).json["error"] == "CODE_REFRESH_REQUIRED"   # usable before the loss
    clock.advance(batch[2]["not_before"] - batch[0]["not_before"])
    assert verify(batch[2]["payload"]).status_code == 200      # could not have been shown before it


def test_codes_that_are_not_single_use_are_unaffected(app, verify, get_code, resident):
    code = get_code(resident, "general")
    lose_redis(app)
    assert verify(code).status_code == 200
    assert verify(code).status_code == 200
