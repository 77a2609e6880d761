"""Ping a pooled PostgreSQL connection at checkout only when it has been idle.

SQLAlchemy's `pool_pre_ping` tests every connection at every checkout: one more round trip per
request (on `GET /v1/me` a third of the database time, issue 14). A connection that was in use a
moment ago is as alive as a ping would show; one that sat idle may have been closed by a
restart, a failover or a firewall. So a connection is pinged at checkout only after
IDLE_SECONDS in the pool; a dead one is replaced before use, as with `pool_pre_ping`. A
connection that dies while in use raises a disconnect as it always did: 503 for that request,
and the pool discards its older connections.
"""
from __future__ import annotations

import time

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError

IDLE_SECONDS = 1.0
_RETURNED = "ssb.returned_at"     # pool record info: monotonic time the connection was last returned


def install(engine) -> None:
    dialect = engine.dialect

    @event.listens_for(engine, "connect")
    def _fresh(_dbapi_connection, record):
        record.info[_RETURNED] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection, record):
        if record is not None:
            record.info[_RETURNED] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy):
        returned = record.info.get(_RETURNED)
        if returned is not None and time.monotonic() - returned < IDLE_SECONDS:
            return
        try:
            alive = dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError("idle connection failed its ping") from exc
        if not alive:
            raise DisconnectionError("idle connection failed its ping")
