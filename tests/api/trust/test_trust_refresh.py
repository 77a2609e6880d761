"""Fetching peers' JWKS against the fake platform: caching, rotation, outages, and hostile peers."""
import threading

import dramatiq
import pytest

from tests.api.trust.conftest import PEERS


def _next_in(view, _now=None) -> int:
    """Seconds from the last refresh to the next one."""
    from datetime import datetime
    at = datetime.fromisoformat(view["last_refresh"]["at"]).timestamp()
    return int(datetime.fromisoformat(view["next_refresh_at"]).timestamp() - at)


def test_the_first_refresh_stores_the_keys_and_follows_max_age(trusted_peer, peer, now):
    assert [k["kid"] for k in trusted_peer["keys"]] == [peer.signing_key.kid]
    last = trusted_peer["last_refresh"]
    assert (last["status"], last["http_status"], last["key_count"], last["error"]) == ("ok", 200, 1, None)
    assert _next_in(trusted_peer, now()) == 300


def test_the_next_refresh_sends_the_etag_and_takes_a_304(trusted_peer, peer, refresh):
    view = refresh(trusted_peer["id"])
    assert view["last_refresh"]["status"] == "not_modified" and view["last_refresh"]["http_status"] == 304
    assert peer.requests[-1]["headers"]["If-None-Match"] == peer.body()[1]
    assert view["key_status"] == "current" and len(view["keys"]) == 1


@pytest.mark.parametrize("max_age, expected", [(5, 60), (None, 3600), (10**7, 6 * 3600), (900, 900)])
def test_cache_control_is_honoured_within_bounds(peer, register, refresh, now, max_age, expected):
    peer.max_age = max_age
    view = refresh(register(peer).json["id"])
    assert _next_in(view, now()) == expected


def test_a_rotated_key_is_picked_up(trusted_peer, peer, refresh):
    new = peer.rotate(alg="ES256")
    view = refresh(trusted_peer["id"])
    assert view["last_refresh"]["status"] == "ok"
    assert {(k["kid"], k["alg"]) for k in view["keys"]} == {(trusted_peer["keys"][0]["kid"], "EdDSA"), (new, "ES256")}


@pytest.mark.parametrize("mode, error", [("error", "http_status: 503"), ("hangup", "unreachable"),
                                         ("redirect", "http_status: 302"), ("html", "content_type"),
                                         ("gzip", "content_encoding")])
def test_an_unreachable_or_misbehaving_peer_keeps_its_last_good_keys(trusted_peer, peer, refresh, now, mode, error):
    peer.mode = mode
    view = refresh(trusted_peer["id"])
    assert view["last_refresh"]["status"] == "error" and view["last_refresh"]["error"].startswith(error)
    assert view["key_status"] == "stale" and view["keys"] == trusted_peer["keys"]
    assert view["last_refresh"]["key_count"] == 1 and view["consecutive_failures"] == 1
    assert _next_in(view, now()) == 60
    assert _next_in(refresh(trusted_peer["id"]), now()) == 120   # backing off
    peer.mode = "normal"
    view = refresh(trusted_peer["id"])
    assert view["key_status"] == "current" and view["consecutive_failures"] == 0


def test_a_redirect_is_never_followed(trusted_peer, peer, refresh):
    peer.mode = "redirect"
    refresh(trusted_peer["id"])
    assert [r["path"] for r in peer.requests][-1] == "/jwks.json"


def test_a_slow_peer_times_out(trusted_peer, peer, refresh):
    peer.mode, peer.delay = "slow", 3
    view = refresh(trusted_peer["id"])
    assert view["last_refresh"]["error"].startswith(("timeout", "deadline")), view["last_refresh"]
    assert view["key_status"] == "stale"


def test_a_peer_dripping_bytes_is_cut_off_by_the_deadline(trusted_peer, peer, refresh):
    peer.mode, peer.drip_interval = "drip", 0.1     # each byte well within the read timeout
    view = refresh(trusted_peer["id"])
    assert view["last_refresh"]["error"].startswith("deadline"), view["last_refresh"]


@pytest.mark.parametrize("mode", ["huge", "huge_declared"])
def test_a_huge_jwks_is_refused_without_reading_it_all(trusted_peer, peer, refresh, mode):
    peer.mode = mode
    view = refresh(trusted_peer["id"])
    assert view["last_refresh"]["error"].startswith("too_large"), view["last_refresh"]
    assert view["key_status"] == "stale"


def test_unusable_keys_are_skipped_and_said_so(peer, register, refresh):
    peer.extra_keys = [
        {"kty": "RSA", "kid": "rsa-1", "n": "AQAB", "e": "AQAB"},
        {**peer.signing_key.jwk(), "kid": "leaked", "d": "c2VjcmV0"},
        {**peer.signing_key.jwk(), "kid": "confused", "alg": "ES256"},
        {"kty": "EC", "crv": "P-256", "kid": "off-curve", "x": "A" * 43, "y": "A" * 43},
        {**peer.signing_key.jwk(), "kid": "enc", "use": "enc"},
    ]
    view = refresh(register(peer).json["id"])
    assert [k["kid"] for k in view["keys"]] == [peer.signing_key.kid]
    detail = view["last_refresh"]["detail"]
    for kid in ("rsa-1", "leaked", "confused", "off-curve", "enc"):
        assert kid in detail


def test_keys_of_an_algorithm_the_peer_was_not_registered_for_are_skipped(peer, register, refresh):
    es = peer.rotate(alg="ES256")
    view = refresh(register(peer, algorithms=["EdDSA"]).json["id"])
    assert es not in [k["kid"] for k in view["keys"]] and es in view["last_refresh"]["detail"]


@pytest.mark.parametrize("extra", [[{"kid": "dup"}, {"kid": "dup"}], [{"kty": "OKP"}] * 40])
def test_an_invalid_jwks_document_is_an_error_and_keeps_the_keys(trusted_peer, peer, refresh, extra):
    peer.extra_keys = extra
    view = refresh(trusted_peer["id"])
    assert view["last_refresh"]["error"].startswith("invalid_jwks") and len(view["keys"]) == 1


def test_a_peer_that_withdraws_every_key_has_none(trusted_peer, peer, refresh):
    peer.withdraw(peer.signing_key.kid)
    view = refresh(trusted_peer["id"])
    assert view["last_refresh"]["status"] == "ok" and view["keys"] == [] and view["key_status"] == "current"


def test_one_refresh_of_a_peer_runs_at_a_time(app, client, operator, trusted_peer, peer):
    peer.mode, peer.delay = "slow", 1.0
    first, seen = [], len(peer.requests)
    thread = threading.Thread(target=lambda: first.append(
        app.test_client().post(f"{PEERS}/{trusted_peer['id']}/refresh", headers=operator)))
    thread.start()
    for _ in range(500):    # until the first refresh is waiting on the peer
        if len(peer.requests) > seen:
            break
        threading.Event().wait(0.01)
    r = client.post(f"{PEERS}/{trusted_peer['id']}/refresh", headers=operator)
    thread.join()
    assert r.status_code == 409 and r.json["error"] == "PEER_REFRESH_IN_PROGRESS"
    assert first[0].status_code == 200


# ------------------------------------------------------------------------------- scheduling


def test_the_loop_refreshes_due_peers_once(app, peer, register, now, clock):
    peer_id = register(peer).json["id"]
    runner = app.test_cli_runner()
    out = runner.invoke(args=["trust", "refresh", "--inline"])
    assert out.exit_code == 0 and "'ok': 1" in out.output, out.output
    out = runner.invoke(args=["trust", "refresh", "--inline"])
    assert "'due': 0" in out.output                     # next one in max-age (300 s)
    clock.advance(301)
    out = runner.invoke(args=["trust", "refresh", "--inline"])
    assert "'not_modified': 1" in out.output
    assert runner.invoke(args=["trust", "refresh", "--peer", str(peer_id)]).output.strip() == "not_modified"


def test_a_claimed_peer_is_not_claimed_twice(app, peer, register, now):
    from api.trust.refresh import claim_due
    peer_id = register(peer).json["id"]
    with app.app_context():
        assert claim_due(now=now()) == [peer_id]
        assert claim_due(now=now()) == []


def test_the_loop_enqueues_jobs_that_a_worker_runs(app, client, operator, peer, register, now):
    peer_id = register(peer).json["id"]
    broker = app.extensions["ssb.broker"]
    out = app.test_cli_runner().invoke(args=["trust", "refresh"])
    assert "'queued': 1" in out.output, out.output
    worker = dramatiq.Worker(broker, worker_timeout=100, worker_threads=1)
    worker.start()
    try:
        broker.join("trust", timeout=10_000)
    finally:
        worker.stop()
    view = client.get(f"{PEERS}/{peer_id}", headers=operator).json
    assert view["key_status"] == "current" and view["refreshes"][0]["status"] in ("ok", "not_modified")
