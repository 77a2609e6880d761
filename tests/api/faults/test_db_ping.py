"""Pooled PostgreSQL connections are pinged at checkout only after sitting idle (api/db_ping.py):
one that the server closed meanwhile (a restart, a failover, an idle timeout) is replaced before
use, so the resident sees no error. (That a busy connection costs no ping shows in
`python -m bench.profile` on PostgreSQL: no `do_ping` among the calls.)"""
from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from api import db_ping
from api.extensions import db
from tests.conftest import bearer


@pytest.fixture
def pg(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("pooled server connections: PostgreSQL only (TEST_DATABASE_URL)")
        return db.engine


def test_an_idle_connection_the_server_closed_is_replaced_before_use(app, client, login, pg):
    auth = bearer(login())
    assert client.get("/v1/me", headers=auth).status_code == 200
    # From a connection outside the app's pool, the server ends the pool's sessions (as a
    # restart, a failover or an idle timeout would).
    outside = create_engine(pg.url.render_as_string(hide_password=False), poolclass=NullPool)
    with outside.begin() as conn:
        killed = conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = current_database() AND usename = current_user AND pid <> pg_backend_pid()")).all()
    outside.dispose()
    assert killed, "the app had a pooled connection to end"
    time.sleep(db_ping.IDLE_SECONDS + 0.1)
    for _ in range(3):
        assert client.get("/v1/me", headers=auth).status_code == 200
