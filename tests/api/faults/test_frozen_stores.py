"""A store that stops answering without closing its connections (a frozen process, a stalled
disk, a partition) must cost a request a bounded wait and a 503 envelope, not a hung worker; the
app recovers by itself when the store answers again.

The app under test talks to the suite's real Redis (and PostgreSQL, when the suite runs on it)
through a loopback proxy that stops forwarding on `freeze()`. The bound asserted is the mobile
client's patience (5 s) minus a margin, not a speed: the configured waits are 2 s for Redis and
3 s for a request's database work, and after one such wait the process fails fast for the
breaker's cooldown (api.breaker), then tries again: recovery comes within that cooldown.
"""
from __future__ import annotations

import time

import pytest

from api import broadcast
from tests.conftest import bearer
from tests.fakes.freezing_proxy import proxied_app

CLIENT_PATIENCE = 4.5   # seconds: under a mobile client's 5 s timeout


@pytest.fixture
def proxied(app, stores, base_config):
    """An app whose Redis (and PostgreSQL) connections go through freezing proxies."""
    with proxied_app(base_config, stores["redis"], app.extensions["ssb.clock"]) as (frozen_app, proxies):
        yield frozen_app, proxies


def _timed(fn):
    started = time.monotonic()
    response = fn()
    return response, time.monotonic() - started


def _recovers(fn, within: float = 10.0):
    """The answer once the store is back: tried until it succeeds (the breaker's cooldown)."""
    deadline = time.monotonic() + within
    while True:
        r = fn()
        if r.status_code == 200 or time.monotonic() > deadline:
            return r
        time.sleep(0.2)


def _envelope(r, status: int, error: str) -> None:
    assert r.status_code == status, r.json
    assert r.json["error"] == error and r.json["code"] == status and r.json["message"]
    assert r.headers.get("Retry-After")


def test_frozen_redis_gives_a_bounded_503_and_recovers(proxied, login):
    frozen_app, proxies = proxied
    client = frozen_app.test_client()
    auth = bearer(login())
    assert client.get("/v1/me", headers=auth).status_code == 200

    proxies["redis"].freeze()
    r, waited = _timed(lambda: client.post("/v1/auth/otp", json={"phone": "13800138001"}))
    _envelope(r, 503, "REDIS_UNAVAILABLE")
    assert waited < CLIENT_PATIENCE
    # /v1/me reads the process's copy of the deny-list, trusted while its subscription answers
    # pings (api.broadcast.MAX_STALENESS); once it has not, the check asks Redis: 503.
    time.sleep(broadcast.MAX_STALENESS)
    r, waited = _timed(lambda: client.get("/v1/me", headers=auth))
    _envelope(r, 503, "REDIS_UNAVAILABLE")
    assert waited < CLIENT_PATIENCE
    # The same worker answers the next request too (nothing is stuck), and says why it is not ready.
    r, waited = _timed(lambda: client.get("/readyz"))
    assert r.status_code == 503 and waited < CLIENT_PATIENCE
    assert r.json["checks"]["redis"].startswith("unreachable") and r.json["checks"]["database"] == "ok"
    r, waited = _timed(lambda: client.post("/v1/auth/otp", json={"phone": "13800138001"}))
    _envelope(r, 503, "REDIS_UNAVAILABLE")
    assert waited < CLIENT_PATIENCE

    proxies["redis"].thaw()   # no restart: the next requests dial fresh connections
    assert _recovers(lambda: client.get("/v1/me", headers=auth)).status_code == 200
    assert client.get("/readyz").json["checks"] == {"database": "ok", "redis": "ok"}


def test_frozen_database_gives_a_bounded_503_and_recovers(proxied, login):
    frozen_app, proxies = proxied
    if "db" not in proxies:
        pytest.skip("a frozen database needs PostgreSQL (TEST_DATABASE_URL); SQLite is a file")
    client = frozen_app.test_client()
    auth = bearer(login())
    assert client.get("/v1/me", headers=auth).status_code == 200   # a pooled connection now exists

    proxies["db"].freeze()
    r, waited = _timed(lambda: client.get("/v1/me", headers=auth))   # on the pooled connection
    _envelope(r, 503, "DATABASE_UNAVAILABLE")
    assert waited < CLIENT_PATIENCE
    r, waited = _timed(lambda: client.get("/v1/me", headers=auth))   # a new connection that gets no answer
    _envelope(r, 503, "DATABASE_UNAVAILABLE")
    assert waited < CLIENT_PATIENCE
    r, waited = _timed(lambda: client.get("/readyz"))
    assert r.status_code == 503 and waited < CLIENT_PATIENCE
    assert r.json["checks"]["database"].startswith("unreachable") and r.json["checks"]["redis"] == "ok"

    proxies["db"].thaw()
    assert _recovers(lambda: client.get("/v1/me", headers=auth)).status_code == 200
    assert client.get("/readyz").json["checks"] == {"database": "ok", "redis": "ok"}
