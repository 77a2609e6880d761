"""Readiness: can we reach the database and Redis right now?

Each check is bounded (a frozen store must not hang the probe): the database by a 1.5 s client
deadline, Redis by the client's 2 s socket timeout, so the answer comes within about 3.5 s.
"""
from sqlalchemy import text

from api.extensions import db, get_redis

DATABASE_CHECK_SECONDS = 1.5


def _database_deadline():
    import contextlib
    if db.engine.dialect.name != "postgresql":
        return contextlib.nullcontext()
    from api import db_deadline
    return db_deadline.within(DATABASE_CHECK_SECONDS)


def readiness() -> dict:
    checks = {}
    try:
        with _database_deadline():
            db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any driver error means "not ready"; the type is enough to say why
        try:
            db.session.rollback()
        except Exception:  # the connection is gone; the pool discards it
            pass
        checks["database"] = f"unreachable: {type(exc).__name__}"
    try:
        get_redis().ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"unreachable: {type(exc).__name__}"
    return {"status": "ok" if all(v == "ok" for v in checks.values()) else "unavailable", "checks": checks}
