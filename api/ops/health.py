"""Readiness: can we reach the database and Redis right now?"""
from sqlalchemy import text

from api.extensions import db, get_redis


def readiness() -> dict:
    checks = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any driver error means "not ready"; the type is enough to say why
        db.session.rollback()
        checks["database"] = f"unreachable: {type(exc).__name__}"
    try:
        get_redis().ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"unreachable: {type(exc).__name__}"
    return {"status": "ok" if all(v == "ok" for v in checks.values()) else "unavailable", "checks": checks}
