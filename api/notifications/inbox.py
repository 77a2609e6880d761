"""The resident's inbox, and `deliver_to_user`: the one entry point other areas call to notify a
resident (licence expiry reminders, mini-program subscription messages, security notices).

Language: each message has zh-CN text and, where the author gave it, English. Listings return
both under ``translations`` and pick ``title``/``body`` by Accept-Language (English only when the
client prefers it over Chinese and the message has it; zh-CN otherwise).
"""
from __future__ import annotations

import logging

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import aliased

from api import hooks
from api.db import from_timestamp
from api.errors import AppError
from api.extensions import db
from api.notifications import preferences
from api.notifications.models import CATEGORIES, Campaign, InboxMessage, PushOutbox
from api.prepared import Prepared, connection
from api.unit_of_work import after_commit, commit

log = logging.getLogger("ssb.inbox")


def deliver_to_user(user_id: int, *, category: str, title: str, body: str, deep_link: str | None,
                    title_en: str | None = None, body_en: str | None = None, urgent: bool = False, now: int,
                    topic: str | None = None) -> InboxMessage:
    """Add an inbox message and its push (an outbox row) to the caller's unit of work.

    A composed writer: the calling use case commits, and only then is the push relay woken.
    The push honours the resident's preferences: a muted topic is recorded as skipped, quiet
    hours defer a non-urgent push (``not_before``), the daily cap is applied when it is sent.
    Returns the inbox message (with its id).
    """
    if category not in CATEGORIES:
        raise ValueError(f"unknown category {category!r}")
    when = from_timestamp(now)
    message = InboxMessage(user_id=user_id, category=category, title=title[:200], body=body, deep_link=deep_link,
                           title_en=title_en[:200] if title_en else None, body_en=body_en, urgent=urgent,
                           created_at=when)
    db.session.add(message)
    db.session.flush()
    status, reason, deferred, not_before = preferences.push_plan(
        preferences.load(user_id), category=category, topic=topic, urgent=urgent, now=now)
    db.session.add(PushOutbox(user_id=user_id, inbox_id=message.id, category=category, urgent=urgent, status=status,
                              reason=reason, deferred=deferred, not_before=not_before, attempts=0, created_at=when))
    if status == "pending":
        after_commit(lambda: hooks.fire(hooks.INBOX_PUSH_PENDING, not_before, now))
    return message


# ---------------------------------------------------------------------------------------------
# Reading


def _content_query():
    c = aliased(Campaign)
    return select(
        InboxMessage.id, InboxMessage.category, InboxMessage.urgent, InboxMessage.created_at, InboxMessage.read_at,
        func.coalesce(InboxMessage.title, c.title).label("title"),
        func.coalesce(InboxMessage.body, c.body).label("body"),
        func.coalesce(InboxMessage.title_en, c.title_en).label("title_en"),
        func.coalesce(InboxMessage.body_en, c.body_en).label("body_en"),
        func.coalesce(InboxMessage.deep_link, c.deep_link).label("deep_link"),
    ).outerjoin(c, c.id == InboxMessage.campaign_id)


# Built and compiled once (issue 14: rebuilding the aliased SELECT cost more than running it),
# run on a pooled DBAPI connection (api.prepared).
_PAGE = Prepared(_content_query().where(InboxMessage.user_id == bindparam("user_id")) \
    .order_by(InboxMessage.id.desc()).limit(bindparam("limit")))
_PAGE_BEFORE = Prepared(_content_query().where(InboxMessage.user_id == bindparam("user_id"),
                                      InboxMessage.id < bindparam("before_id")) \
    .order_by(InboxMessage.id.desc()).limit(bindparam("limit")))
_ONE = Prepared(_content_query().where(InboxMessage.id == bindparam("message_id"),
                                       InboxMessage.user_id == bindparam("user_id")))
_UNREAD = Prepared(select(func.count()).select_from(InboxMessage).where(
    InboxMessage.user_id == bindparam("user_id"), InboxMessage.read_at.is_(None)))


def _item(row, english: bool) -> dict:
    has_en = bool(row.title_en and row.body_en)
    use_en = english and has_en
    translations = {"zh-CN": {"title": row.title, "body": row.body}}
    if has_en:
        translations["en"] = {"title": row.title_en, "body": row.body_en}
    return {"id": row.id, "category": row.category, "title": row.title_en if use_en else row.title,
            "body": row.body_en if use_en else row.body, "lang": "en" if use_en else "zh-CN",
            "translations": translations, "deep_link": row.deep_link, "urgent": bool(row.urgent),
            "created_at": row.created_at, "read": row.read_at is not None, "read_at": row.read_at}


def list_inbox(user_id: int, *, before_id: int | None, limit: int, english: bool = False) -> dict:
    """Newest first, keyset by descending id: a page never repeats or skips a message when new
    ones arrive meanwhile. Plain data: InboxPage dumps it, and so does orjson for the ready
    response (datetimes written exactly as isoformat() writes them)."""
    with connection(read_only=True) as conn:
        if before_id:
            rows = conn.all(_PAGE_BEFORE, user_id=user_id, before_id=before_id, limit=limit + 1)
        else:
            rows = conn.all(_PAGE, user_id=user_id, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": [_item(r, english) for r in rows],
            "next_cursor": str(rows[-1].id) if more and rows else None}


def get_message(user_id: int, message_id: int, *, english: bool = False) -> dict:
    with connection(read_only=True) as conn:
        row = conn.one(_ONE, message_id=message_id, user_id=user_id)
    if row is None:
        raise AppError("INBOX_MESSAGE_NOT_FOUND")
    return _item(row, english)


def unread_count(user_id: int) -> dict:
    with connection(read_only=True) as conn:
        n = conn.scalar(_UNREAD, user_id=user_id)
    return {"unread": int(n or 0)}


def mark_read(user_id: int, message_id: int, *, now: int) -> None:
    """Idempotent: reading a read message keeps its first read time."""
    exists = db.session.scalar(select(InboxMessage.id).where(InboxMessage.id == message_id,
                                                             InboxMessage.user_id == user_id))
    if exists is None:
        raise AppError("INBOX_MESSAGE_NOT_FOUND")
    db.session.execute(update(InboxMessage).where(InboxMessage.id == message_id, InboxMessage.read_at.is_(None))
                       .values(read_at=from_timestamp(now)))
    commit()


def mark_all_read(user_id: int, *, now: int) -> dict:
    n = db.session.execute(update(InboxMessage).where(InboxMessage.user_id == user_id,
                                                      InboxMessage.read_at.is_(None))
                           .values(read_at=from_timestamp(now))).rowcount
    commit()
    return {"marked": int(n or 0), "unread": 0}
