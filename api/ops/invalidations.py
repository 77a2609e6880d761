"""Cache invalidations that survive a Redis outage.

Caches in Redis (holders, venue staff, mini-program tokens) are invalidated after the change
they mirror has committed. If Redis is unreachable at that moment, the invalidation is written
to the database (`pending_invalidations`, a short transaction of its own) and applied when
Redis answers again, oldest first:

- by the process that recorded it, after one of its next responses (never before: the client
  does not wait), every RETRY_SECONDS until it succeeds;
- by every process once after it starts (a process that died may have left rows);
- by `flask --app wsgi push relay` (the periodic safety net).

Until then readers may see the old entry, for at most the entry's own expiry, as before the
fix; the loss of Redis itself loses the entries, which is an invalidation too. Each kind of
invalidation has a handler, registered by the cache that owns it (`@handler("holder")`); a
handler must be idempotent (a row can be applied twice by two processes).
"""
from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable

from sqlalchemy import delete, insert, select

from api.db import utcnow
from api.extensions import db, get_redis

log = logging.getLogger("ssb.invalidations")

RETRY_SECONDS = 5.0
BATCH = 500
_DUE = "ssb.invalidations_due"   # app.extensions: monotonic time of the next drain, or None

_handlers: dict[str, Callable[[dict], None]] = {}


def handler(kind: str):
    """Register `fn(payload)` as the way to apply invalidations of `kind`."""
    def decorator(fn: Callable[[dict], None]) -> Callable[[dict], None]:
        _handlers[kind] = fn
        return fn
    return decorator


@handler("keys")
def _delete_keys(payload: dict) -> None:
    if payload.get("keys"):
        get_redis().delete(*payload["keys"])


def apply(kind: str, payload: dict) -> bool:
    """Apply now, or record for later when Redis fails; True when applied now. Call it after
    the commit of the change the cache mirrors."""
    try:
        _handlers[kind](payload)
        return True
    except Exception:
        log.warning("cache invalidation failed; recorded for later", exc_info=True, extra={"kind": kind})
        record(kind, payload)
        return False


def record(kind: str, payload: dict) -> None:
    from flask import current_app

    from api.ops.models import PendingInvalidation
    try:
        # After a commit the session may not write (after_commit callbacks): a transaction of its own.
        with db.engine.begin() as conn:
            conn.execute(insert(PendingInvalidation).values(kind=kind, payload=payload, created_at=utcnow()))
    except Exception:   # the database went too: the entries still expire by themselves
        log.error("cache invalidation lost", exc_info=True, extra={"kind": kind})
        return
    soon = time.monotonic() + RETRY_SECONDS
    due = current_app.extensions.get(_DUE)
    current_app.extensions[_DUE] = soon if due is None else min(due, soon)


def drain() -> int:
    """Apply every recorded invalidation, oldest first; returns how many. Raises while Redis is
    unreachable (what is not applied stays for the next attempt)."""
    from api.ops.models import PendingInvalidation as Pending
    applied = 0
    while True:
        rows = db.session.execute(select(Pending.id, Pending.kind, Pending.payload)
                                  .order_by(Pending.id).limit(BATCH)).all()
        db.session.rollback()
        if not rows:
            return applied
        done = []
        try:
            for row in rows:
                if row.kind in _handlers:   # an unknown kind (an older or newer release) waits
                    _handlers[row.kind](row.payload)
                    done.append(row.id)
        finally:
            if done:
                db.session.execute(delete(Pending).where(Pending.id.in_(done)))
                db.session.commit()
                applied += len(done)
        if len(rows) < BATCH or not done:
            return applied


def init_app(app) -> None:
    """Drain after a response when due (see the module doc)."""
    app.extensions[_DUE] = 0.0

    @app.after_request
    def _schedule(response):
        due = app.extensions.get(_DUE)
        if due is not None and time.monotonic() >= due and _redis_may_answer():
            app.extensions[_DUE] = time.monotonic() + RETRY_SECONDS
            response.call_on_close(lambda: _drain_after_response(app))
        return response


def _redis_may_answer() -> bool:
    """False while this process knows Redis is down (its breaker is open): no point trying."""
    from api.extensions import redis_breaker
    breaker = redis_breaker()
    return breaker is None or breaker.allows()


def _drain_after_response(app) -> None:
    with app.app_context():
        try:
            with _bounded():
                drain()
            app.extensions[_DUE] = None
        except Exception as exc:   # still down: again after a later response
            log.warning("cache invalidation drain failed", extra={"error": type(exc).__name__})
            with contextlib.suppress(Exception):
                db.session.rollback()
        finally:
            db.session.remove()


def _bounded():
    if db.engine.dialect.name != "postgresql":
        return contextlib.nullcontext()
    from api import db_deadline
    return db_deadline.within(2.0)
