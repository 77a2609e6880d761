"""Deterministic races for tests: another connection commits a row right before our INSERT."""
from __future__ import annotations

import contextlib

from sqlalchemy import event, text

from api.extensions import db


@contextlib.contextmanager
def concurrent_insert_before(app, table: str, row_sql: str, params: dict):
    """Commit `row_sql` on another connection right before the first INSERT INTO `table` reaches
    the database: what a concurrent request on another worker does between our read and our
    write. Yields a list that holds True once the race was staged."""
    fired: list[bool] = []
    with app.app_context():
        engine = db.engine

    def _race(conn, cursor, statement, parameters, context, executemany):
        if fired or not statement.lstrip().upper().startswith(f"INSERT INTO {table.upper()}"):
            return
        fired.append(True)
        with engine.connect() as other:
            other.execute(text(row_sql), params)
            other.commit()

    event.listen(engine, "before_cursor_execute", _race)
    try:
        yield fired
    finally:
        event.remove(engine, "before_cursor_execute", _race)
