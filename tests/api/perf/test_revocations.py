"""Sign-out reaches every process at once without a Redis round trip per request, and stays
correct when a message is lost, the subscription breaks or Redis is flushed."""
import time

from api import broadcast
from api.extensions import get_redis
from api.identity import revocations
from api.identity.revocations import RevocationView
from api.identity.tokens import decode_access_token
from tests.conftest import bearer


def _sid(app, tokens) -> str:
    with app.app_context():
        return decode_access_token(tokens["access_token"], now=int(time.time())).session_id


def _other_process_view(app) -> RevocationView:
    """Another process's copy: its own subscribed connection, made current before the sign-out."""
    with app.app_context():
        view = RevocationView(get_redis())
    assert view.is_current()
    return view


def test_logout_reaches_another_process_copy_at_once(app, client, login):
    tokens = login()
    view = _other_process_view(app)
    sid = _sid(app, tokens)
    assert not view.is_denied(sid, int(time.time()))
    assert client.post("/v1/auth/logout", headers=bearer(tokens)).status_code == 204
    assert view.is_current(), "the copy is trusted: no Redis look-up per request"
    assert view.is_denied(sid, int(time.time())), "no sleep, no polling: the message was already on the socket"
    assert client.get("/v1/me", headers=bearer(tokens)).status_code == 401


def test_remote_sign_out_reaches_another_process_copy_at_once(app, client, login):
    mine = login(device_id="phone")
    other = login(device_id="tablet")
    view = _other_process_view(app)
    sessions = client.get("/v1/auth/sessions", headers=bearer(mine)).json
    tablet = next(s for s in sessions if s["device_id"] == "tablet")
    assert client.delete(f"/v1/auth/sessions/{tablet['id']}", headers=bearer(mine)).status_code == 204
    assert view.is_denied(_sid(app, other), int(time.time()))
    assert client.get("/v1/me", headers=bearer(other)).status_code == 401
    assert client.get("/v1/me", headers=bearer(mine)).status_code == 200


def test_a_lost_message_is_noticed_and_the_set_reloaded(app):
    view = _other_process_view(app)
    now = int(time.time())
    with app.app_context():
        redis = get_redis()
        # A sign-out whose message this copy never receives: the set and counter move, no PUBLISH.
        redis.zadd(revocations.SET_KEY, {"lost-session": now + 600})
        redis.incr(revocations.GEN_KEY)
        revocations.deny(redis, ["next-session"], expires_at=now + 600, now=now)
    assert view.is_denied("next-session", now)
    assert view.is_denied("lost-session", now), "the generation gap made the copy reload"


def test_a_broken_subscription_falls_back_to_redis_and_recovers(app):
    view = _other_process_view(app)
    now = int(time.time())
    with app.app_context():
        redis = get_redis()
        redis.client_kill_filter(_type="pubsub")
        revocations.deny(redis, ["while-down"], expires_at=now + 600, now=now)
    assert view.is_denied("while-down", now)
    assert not view.is_denied("someone-else", now)


def test_a_flushed_redis_resets_the_counter_without_hiding_new_sign_outs(app):
    view = _other_process_view(app)
    now = int(time.time())
    with app.app_context():
        redis = get_redis()
        for i in range(3):
            revocations.deny(redis, [f"s{i}"], expires_at=now + 600, now=now)
        assert view.is_denied("s2", now)
        redis.flushdb()
        revocations.deny(redis, ["after-flush"], expires_at=now + 600, now=now)
    assert view.is_denied("after-flush", now)


def test_an_unconfirmed_copy_is_not_trusted(app):
    view = _other_process_view(app)
    view._confirmed_at -= broadcast.MAX_STALENESS + 1      # no pong for too long (a silent dead link)
    view._ping_sent_at = time.monotonic() - broadcast.MAX_STALENESS
    now = int(time.time())
    with app.app_context():
        get_redis().zadd(revocations.SET_KEY, {"only-in-redis": now + 600})   # no message at all
    assert view.is_denied("only-in-redis", now), "an unconfirmed copy asks Redis"


def test_denial_expires_with_the_access_tokens(app):
    view = _other_process_view(app)
    now = int(time.time())
    with app.app_context():
        revocations.deny(get_redis(), ["short"], expires_at=now + 5, now=now)
    assert view.is_denied("short", now)
    assert not view.is_denied("short", now + 6)


def test_a_signed_in_resident_costs_no_deny_list_look_up_in_redis(app, client, login):
    """The hot routes' revocation check reads the process's copy: in steady state no request
    asks Redis (a ZSCORE per request was the largest single cost on /v1/me)."""
    auth = bearer(login())
    assert client.get("/v1/me", headers=auth).status_code == 200     # the copy subscribes and loads
    with app.app_context():
        from api.identity.sessions import revocation_view
        deadline = time.monotonic() + 3     # an earlier test may have killed the subscription:
        while not revocation_view().is_current() and time.monotonic() < deadline:   # resubscribes within 1 s
            time.sleep(0.1)
    # (a new connection makes the next request re-verify Redis's epoch: one look-up, once)
    assert client.get("/v1/me", headers=auth).status_code == 200

    def zscores() -> int:
        with app.app_context():
            from api.extensions import get_redis
            return int(get_redis().info("commandstats").get("cmdstat_zscore", {}).get("calls", 0))

    before = zscores()
    for _ in range(20):
        assert client.get("/v1/me", headers=auth).status_code == 200
    assert zscores() == before
