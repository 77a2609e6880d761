"""Client-side deadlines for PostgreSQL, so a hung database gives a 503 instead of a hung worker.

A frozen server (a storage stall, a stopped process, a partition that keeps the TCP session)
answers nothing and closes nothing: its kernel still acknowledges our packets, so TCP
keepalives and `tcp_user_timeout` never fire, and its own `statement_timeout` cannot run. Only
the client can give up. psycopg waits for every round trip in `Connection.wait`; the
connection class here bounds that wait:

- inside an HTTP request, by the request's deadline (`DB_REQUEST_DEADLINE_MS` from the moment
  the request arrived; the WSGI middleware sets it), so all of a request's database work,
  including the pool's pre-ping and any reconnect, ends by then;
- elsewhere (jobs, CLI), by `DB_CLIENT_TIMEOUT_MS` per round trip.

When the bound passes, the connection is closed (its protocol state is unknown) and
`DeadlineExceeded`, a psycopg `OperationalError`, is raised: SQLAlchemy sees a disconnect,
invalidates the pool, and the app answers 503 DATABASE_UNAVAILABLE. A commit that hits the
deadline may or may not have happened, as with any lost answer; clients retry.
"""
from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from contextvars import ContextVar

import psycopg
from psycopg import errors as pg_errors

from api.breaker import Breaker, for_store

_deadline: ContextVar[float | None] = ContextVar("ssb_db_deadline", default=None)
_settings = {"default_timeout": 60.0}


class DeadlineExceeded(psycopg.OperationalError):
    """The database did not answer within the caller's deadline."""


def remaining() -> float | None:
    """Seconds left before the current deadline, or None outside one."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


def _budget() -> float:
    left = remaining()
    return _settings["default_timeout"] if left is None else left


@contextlib.contextmanager
def within(seconds: float) -> Iterator[None]:
    """Database work inside the block ends within `seconds` (or the outer deadline, if sooner)."""
    target = time.monotonic() + seconds
    outer = _deadline.get()
    token = _deadline.set(target if outer is None else min(outer, target))
    try:
        yield
    finally:
        _deadline.reset(token)


class DeadlineConnection(psycopg.Connection):
    """psycopg's connection with every wait bounded by the deadline (see the module doc), and
    the engine's breaker (api.breaker) in front: after a wait ran out, the process's next
    database calls fail at once for a cooldown instead of each waiting for its own deadline."""

    breaker: Breaker = Breaker("database")

    def wait(self, gen, interval: float = 0.1, timeout: float | None = None):
        if not self.breaker.allows():
            self._abandon()
            raise DeadlineExceeded(f"the database did not answer; next try in {self.breaker.retry_in:.1f} s")
        budget = _budget()
        ours = timeout is None or timeout > budget
        if ours:
            timeout = budget
        if timeout is not None and timeout <= 0:
            self._abandon()
            raise DeadlineExceeded("the database did not answer within the deadline")
        try:
            result = super().wait(gen, interval=interval, timeout=timeout)
        except pg_errors._WaitTimeout:
            if not ours:
                raise
            self._abandon()
            self.breaker.failed()
            raise DeadlineExceeded("the database did not answer within the deadline") from None
        self.breaker.succeeded()
        return result

    def _abandon(self) -> None:
        # Mid-protocol: the connection cannot be reused. finish() only closes our socket.
        try:
            self.pgconn.finish()
        except Exception:  # already gone
            pass


class RequestDeadline:
    """WSGI middleware: the request's database work (and the session clean-up after it) must
    end within `seconds` of its arrival."""

    def __init__(self, wsgi_app, seconds: float) -> None:
        self.wsgi_app = wsgi_app
        self.seconds = seconds

    def __call__(self, environ, start_response):
        token = _deadline.set(time.monotonic() + self.seconds)
        try:
            return self.wsgi_app(environ, start_response)
        finally:
            _deadline.reset(token)


def install(app, engine, *, request_deadline_ms: int, client_timeout_ms: int) -> None:
    """Connections of `engine` (PostgreSQL via psycopg) use DeadlineConnection; requests of
    `app` get a deadline."""
    from sqlalchemy import event

    _settings["default_timeout"] = client_timeout_ms / 1000
    breaker = for_store(str(engine.url))
    connection_class = type("DeadlineConnection", (DeadlineConnection,), {"breaker": breaker})

    @event.listens_for(engine, "do_connect")
    def _connect(_dialect, _record, cargs, cparams):
        left = remaining()
        if left is not None and left <= 0.05:
            raise DeadlineExceeded("no time left to connect to the database")
        if not breaker.allows():
            raise DeadlineExceeded(f"the database did not answer; next try in {breaker.retry_in:.1f} s")
        try:
            connection = connection_class.connect(*cargs, **cparams)
        except psycopg.OperationalError:   # refused, or no answer within connect_timeout
            breaker.failed()
            raise
        breaker.succeeded()
        return connection

    app.wsgi_app = RequestDeadline(app.wsgi_app, request_deadline_ms / 1000)
