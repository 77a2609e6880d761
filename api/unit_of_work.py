"""The unit of work: one commit per use case, side effects after it.

Use cases end with `commit()`; writers that other use cases compose only add to the session.
What must happen only once the data is durable (waking the push relay, evicting a cache entry,
enqueueing a job) is registered with `after_commit(fn)` and runs after the outermost commit; a
rollback drops it. `install` binds the session events once, in `create_app`.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import event

from api.extensions import db

log = logging.getLogger("ssb.uow")
_CALLBACKS = "ssb.after_commit"
_FLUSH_COLLECTORS = "ssb.flush_collectors"


def commit() -> None:
    """Commit the current use case's transaction; after-commit callbacks then run."""
    db.session.commit()


def rollback() -> None:
    db.session.rollback()


def after_commit(callback: Callable[[], object]) -> None:
    """Run `callback` once the current transaction commits (never if it rolls back)."""
    db.session.info.setdefault(_CALLBACKS, []).append(callback)


def install(app, flush_collectors: tuple[Callable, ...] = ()) -> None:
    """Bind the session events of `db` (idempotent) and remember the app's flush collectors:
    functions `(session) -> callback | None` that look at what a flush wrote and return what to do
    after the commit (the holder cache registers one to evict what changed)."""
    app.extensions["ssb.flush_collectors"] = tuple(flush_collectors)
    factory = db.session.session_factory
    if not event.contains(factory, "after_commit", _run_callbacks):
        event.listen(factory, "after_flush", _collect)
        event.listen(factory, "after_commit", _run_callbacks)
        event.listen(factory, "after_soft_rollback", _drop_callbacks)


def _collect(session, _flush_context) -> None:
    from flask import current_app, has_app_context
    if not has_app_context():
        return
    for collector in current_app.extensions.get("ssb.flush_collectors", ()):
        callback = collector(session)
        if callback is not None:
            session.info.setdefault(_CALLBACKS, []).append(callback)


def _run_callbacks(session) -> None:
    for callback in session.info.pop(_CALLBACKS, ()):
        try:
            callback()
        except Exception:   # the write is durable; a failed side effect must not turn it into an error
            log.warning("after-commit callback failed", exc_info=True,
                        extra={"callback": getattr(callback, "__qualname__", repr(callback))})


def _drop_callbacks(session, _previous_transaction) -> None:
    if not session.in_transaction():
        session.info.pop(_CALLBACKS, None)
