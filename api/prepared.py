"""Prebuilt statements for the hot paths, run on a pooled DBAPI connection.

A `Prepared` wraps a SQLAlchemy Core statement. The first use on an engine compiles it for that
dialect and keeps the SQL text, the order of its parameters and SQLAlchemy's own bind and result
processors for its types (the same ones Core would apply: UTC datetimes, JSON). Later uses only
convert the parameters, execute and convert the row values: none of Core's per-execution work
(cache-key generation, parameter construction, result metadata), which on /v1/me cost more than
the query itself (issue 14). A statement that needs per-execution rendering (expanding IN,
post-compile LIMIT) is refused when first compiled: use Core for those.

    _USER = Prepared(select(User.id, User.status).where(User.id == bindparam("user_id")))
    with connection() as conn:
        row = conn.one(_USER, user_id=5)      # a named tuple, or None
    with connection() as conn:
        conn.run(_TOUCH, ...); conn.commit()  # writes commit explicitly; otherwise rolled back
"""
from __future__ import annotations

import contextlib
import json
from collections import namedtuple
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON
from sqlalchemy.exc import DBAPIError

from api.db import UTCDateTime
from api.extensions import db


class _Plan:
    __slots__ = ("sql", "order", "binds", "defaults", "results", "row")

    results: list[tuple[int, Any]]     # (column index, processor) for the columns that need one

    def __init__(self, statement, dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        if "POSTCOMPILE" in compiled.string:
            raise ValueError("needs per-execution rendering")
        self.sql = compiled.string
        self.order = list(compiled.positiontup) if compiled.positional else None
        self.binds = {name: bind.type.dialect_impl(dialect).bind_processor(dialect)
                      for name, bind in compiled.binds.items()}
        # Values written into the statement itself (`status == "active"`), not passed per call.
        self.defaults = {name: bind.effective_value for name, bind in compiled.binds.items() if not bind.required}
        columns = list(getattr(statement, "selected_columns", ()))
        processors = [_result_processor(col.type, dialect) for col in columns]
        self.results = [(i, proc) for i, proc in enumerate(processors) if proc is not None]
        self.row = namedtuple("Row", [col.key for col in columns], rename=True) if columns else None  # type: ignore[misc]

    def parameters(self, values: dict) -> Any:
        converted = {}
        for name, proc in self.binds.items():
            value = values[name] if name in values else self.defaults[name]
            converted[name] = proc(value) if proc is not None and value is not None else value
        return [converted[name] for name in self.order] if self.order is not None else converted

    def convert(self, raw: tuple):
        if not self.results:
            return self.row._make(raw)
        values = list(raw)
        for index, proc in self.results:
            if values[index] is not None:
                values[index] = proc(values[index])
        return self.row._make(values)


def _sqlite_utc_datetime(value):
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _result_processor(type_, dialect):
    if dialect.name == "sqlite" and isinstance(type_, UTCDateTime):
        # SQLite keeps "YYYY-MM-DD HH:MM:SS[.ffffff]" in UTC: fromisoformat (C) reads it several
        # times faster than the dialect's regular-expression parser, to the same value.
        return _sqlite_utc_datetime
    if dialect.name == "sqlite" and isinstance(type_, JSON) and dialect._json_deserializer is None:
        return json.loads        # what the dialect's processor calls, without its two wrappers
    return type_.dialect_impl(dialect).result_processor(dialect, None)


class Prepared:
    """A Core statement compiled once per dialect (see the module docstring)."""

    def __init__(self, statement) -> None:
        self.statement = statement
        self._plans: dict[str, _Plan] = {}

    def plan(self, dialect) -> _Plan:
        key = dialect.name + "+" + (dialect.driver or "")
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = _Plan(self.statement, dialect)
        return plan


class Connection:
    """A pooled DBAPI connection; `connection()` returns it to the pool (rolled back unless committed)."""

    def __init__(self, engine) -> None:
        self._dialect = engine.dialect
        self._listeners = engine.dispatch.before_cursor_execute
        dbapi_error = engine.dialect.loaded_dbapi.Error
        try:
            self._raw = engine.raw_connection()
        except dbapi_error as exc:    # the pool's connect (or its pre-ping's reconnect) failed
            raise DBAPIError.instance(None, None, exc, dbapi_error, connection_invalidated=True,
                                      dialect=engine.dialect) from exc

    def _execute(self, prepared: Prepared, values: dict):
        plan = prepared.plan(self._dialect)
        cursor = self._raw.cursor()
        parameters = plan.parameters(values)
        if self._listeners:    # engine "before_cursor_execute" listeners still see every statement
            self._listeners(None, cursor, plan.sql, parameters, None, False)   # (no Core connection/context)
        with self._translated(plan.sql, parameters, cursor):
            cursor.execute(plan.sql, parameters)
        return plan, cursor

    @contextlib.contextmanager
    def _translated(self, sql: str | None, parameters, cursor=None) -> Iterator[None]:
        """DBAPI errors as Core raises them (so the app's handlers answer them, e.g. 503
        DATABASE_UNAVAILABLE), and a connection that broke is discarded, not pooled again."""
        dbapi_error = self._dialect.loaded_dbapi.Error
        try:
            yield
        except dbapi_error as exc:
            disconnect = self._dialect.is_disconnect(exc, self._raw.driver_connection, cursor)
            if disconnect:
                self._raw.invalidate(exc)
            raise DBAPIError.instance(sql, parameters, exc, dbapi_error,
                                      connection_invalidated=disconnect, dialect=self._dialect) from exc

    def all(self, prepared: Prepared, **values) -> list:
        plan, cursor = self._execute(prepared, values)
        try:
            return [plan.convert(raw) for raw in cursor.fetchall()]
        finally:
            cursor.close()

    def one(self, prepared: Prepared, **values):
        rows = self.all(prepared, **values)
        return rows[0] if rows else None

    def scalar(self, prepared: Prepared, **values):
        row = self.one(prepared, **values)
        return row[0] if row is not None else None

    def run(self, prepared: Prepared, **values) -> int:
        """Execute a write; returns the number of rows it matched."""
        _, cursor = self._execute(prepared, values)
        try:
            return cursor.rowcount
        finally:
            cursor.close()

    def commit(self) -> None:
        with self._translated("COMMIT", None):
            self._raw.commit()

    def close(self) -> None:
        self._raw.close()     # back to the pool, which rolls back anything uncommitted


@contextlib.contextmanager
def connection(*, read_only: bool = False, autocommit: bool = False) -> Iterator[Connection]:
    """`read_only` or `autocommit`: each statement commits by itself where the driver has the
    mode (psycopg), so a read costs one round trip instead of three (BEGIN implied, the query,
    ROLLBACK at return), and a write that is one statement needs no separate COMMIT."""
    conn = Connection(db.engine)
    driver = conn._raw.driver_connection
    autocommit = (read_only or autocommit) and isinstance(getattr(driver, "autocommit", None), bool)
    if autocommit:
        driver.autocommit = True
    try:
        yield conn
    finally:
        if autocommit:
            try:
                driver.autocommit = False
            except Exception:      # a broken connection: the pool discards it
                pass
        conn.close()
