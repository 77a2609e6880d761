"""Notification preferences: topics on/off, quiet hours (Asia/Shanghai), a daily push cap.

The inbox entry is always written at once; preferences only decide whether, and when, a push
goes out. Security messages cannot be turned off.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from api.db import from_timestamp
from api.errors import AppError
from api.extensions import db
from api.localtime import LOCAL_TZ
from api.notifications.models import TOPICS, NotificationPreference, TopicOptOut
from api.unit_of_work import commit

DEFAULT_DAILY_CAP = 10
LOCKED_TOPICS = frozenset({"security"})
DAY_MINUTES = 24 * 60


@dataclass(frozen=True)
class Prefs:
    opted_out: frozenset[str]
    quiet_start: int | None
    quiet_end: int | None
    daily_cap: int
    language: str


def _hhmm(minutes: int | None) -> str | None:
    return None if minutes is None else f"{minutes // 60:02d}:{minutes % 60:02d}"


def _minutes(hhmm: str) -> int:
    hours, _, mins = hhmm.partition(":")
    return int(hours) * 60 + int(mins)


def load(user_id: int) -> Prefs:
    row = db.session.get(NotificationPreference, user_id)
    opted = frozenset(db.session.scalars(select(TopicOptOut.topic).where(TopicOptOut.user_id == user_id)))
    if row is None:
        return Prefs(opted, None, None, DEFAULT_DAILY_CAP, "zh-CN")
    return Prefs(opted, row.quiet_start, row.quiet_end, row.daily_cap, row.language)


def _view(p: Prefs) -> dict:
    quiet = None if p.quiet_start is None else {"start": _hhmm(p.quiet_start), "end": _hhmm(p.quiet_end)}
    return {"topics": {t: t not in p.opted_out for t in TOPICS}, "quiet_hours": quiet, "daily_cap": p.daily_cap,
            "language": p.language, "timezone": "Asia/Shanghai"}


def get_preferences(user_id: int) -> dict:
    return _view(load(user_id))


def update_preferences(user_id: int, *, changes: dict, now: int) -> dict:
    """Fields absent from ``changes`` keep their value; ``topics`` lists only the topics to set."""
    topics = changes.get("topics") or {}
    if any(topics.get(t) is False for t in LOCKED_TOPICS):
        raise AppError("SECURITY_TOPIC_REQUIRED", errors={"topics": {"security": ["cannot be turned off"]}})
    row = db.session.get(NotificationPreference, user_id)
    if row is None:
        row = NotificationPreference(user_id=user_id, daily_cap=DEFAULT_DAILY_CAP, language="zh-CN")
        db.session.add(row)
    if "quiet_hours" in changes:
        quiet = changes["quiet_hours"]
        if quiet is None:
            row.quiet_start = row.quiet_end = None
        else:
            start, end = _minutes(quiet["start"]), _minutes(quiet["end"])
            if start == end:
                raise AppError("QUIET_HOURS_INVALID", errors={"quiet_hours": ["start and end must differ"]})
            row.quiet_start, row.quiet_end = start, end
    if changes.get("daily_cap") is not None:
        row.daily_cap = changes["daily_cap"]
    if changes.get("language"):
        row.language = changes["language"]
    row.updated_at = from_timestamp(now)
    off = [t for t, on in topics.items() if on is False]
    on = [t for t, value in topics.items() if value is True]
    if on:
        db.session.execute(delete(TopicOptOut).where(TopicOptOut.user_id == user_id, TopicOptOut.topic.in_(on)))
    existing = set(db.session.scalars(select(TopicOptOut.topic).where(TopicOptOut.user_id == user_id)))
    for topic in off:
        if topic not in existing:
            db.session.add(TopicOptOut(user_id=user_id, topic=topic))
    commit()
    return get_preferences(user_id)


# ---------------------------------------------------------------------------------------------
# Decisions, shared by deliver_to_user (Python, one resident) and the campaign SQL (population)


def local_minute(now: int) -> tuple[int, int]:
    """(minute of the local day, seconds into that minute) at ``now``."""
    t = datetime.fromtimestamp(now, LOCAL_TZ)
    return t.hour * 60 + t.minute, t.second


def in_quiet_hours(start: int | None, end: int | None, minute: int) -> bool:
    if start is None or end is None or start == end:
        return False
    if start < end:
        return start <= minute < end
    return minute >= start or minute < end


def quiet_hours_end(end: int, now: int) -> int:
    """The next instant the local clock reads ``end`` (quiet hours over)."""
    minute, second = local_minute(now)
    return now - second + ((end - minute) % DAY_MINUTES) * 60


def push_plan(prefs: Prefs, *, category: str, topic: str | None, urgent: bool, now: int) -> tuple[str, str | None,
                                                                                                  bool, int]:
    """(status, reason, deferred, not_before) of the outbox row for one push."""
    if category not in LOCKED_TOPICS and (category in prefs.opted_out or (topic and topic in prefs.opted_out)):
        return "skipped", "topic_off", False, now
    minute, _ = local_minute(now)
    if not urgent and in_quiet_hours(prefs.quiet_start, prefs.quiet_end, minute):
        return "pending", "quiet_hours", True, quiet_hours_end(prefs.quiet_end, now)
    return "pending", None, False, now



