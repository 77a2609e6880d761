"""Named hooks: how `api` wakes a higher layer (push delivery) without importing it.

A plugin registers its handlers at start-up (`push.init_app`); `api` fires them, usually from an
after-commit callback. With no handler registered (an app built without push), firing does nothing.
"""
from __future__ import annotations

from collections.abc import Callable

from flask import current_app

INBOX_PUSH_PENDING = "inbox_push_pending"   # (not_before: int | None, now: int): a push waits in the outbox
CAMPAIGN_CREATED = "campaign_created"       # (campaign_id: int): plan and fan out a new campaign

KNOWN = frozenset({INBOX_PUSH_PENDING, CAMPAIGN_CREATED})


def register(app, name: str, handler: Callable) -> None:
    if name not in KNOWN:
        raise ValueError(f"unknown hook {name!r}")
    app.extensions.setdefault("ssb.hooks", {}).setdefault(name, []).append(handler)


def fire(name: str, *args, **kwargs) -> None:
    for handler in current_app.extensions.get("ssb.hooks", {}).get(name, ()):
        handler(*args, **kwargs)
