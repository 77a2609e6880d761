"""`make stop` (`python -m api.devserver stop`) stops the embedded Redis that outlives `make run`."""
from __future__ import annotations

import time

from api import devserver, embedded_redis


def test_stop_stops_the_embedded_redis(tmp_path, monkeypatch):
    embedded_redis.ensure_running(tmp_path)
    sock = tmp_path / "redis.sock"
    assert embedded_redis._alive(sock)
    monkeypatch.setenv("INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.setenv("DATA_KEY", "eA==")
    assert devserver.main(["stop"]) == 0
    deadline = time.monotonic() + 10
    while embedded_redis._alive(sock) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not embedded_redis._alive(sock)
