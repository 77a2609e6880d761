"""Expiry reminders: each threshold (30, 7, 1 days) once per licence, into the inbox."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from api.db import from_timestamp
from api.extensions import db
from api.identity.models import User
from api.jobs import job
from api.licences.catalogue import (
    CATALOGUE,
)
from api.licences.common import REMINDER_THRESHOLDS
from api.licences.models import Licence, LicenceReminder
from api.localtime import local_today
from api.notifications.inbox import deliver_to_user
from api.unit_of_work import commit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DueReminder:
    licence_id: int
    user_id: int
    licence_type: str
    threshold_days: int
    valid_until: date
    days_left: int


def due_reminders(now: int) -> list[DueReminder]:
    """Licences of registered residents expiring within 30 days whose current threshold (30, 7 or
    1 day; the tightest one that applies, so a late run never sends a stale 30-day notice) has
    not been recorded yet."""
    today = local_today(now)
    rows = db.session.execute(
        select(Licence.id, Licence.type, Licence.valid_until, User.id)
        .join(User, User.id_number_bidx == Licence.holder_bidx)
        .where(Licence.status == "active", Licence.valid_until.is_not(None),
               Licence.valid_until >= today, Licence.valid_until <= today + timedelta(days=max(REMINDER_THRESHOLDS)))
        .order_by(Licence.id)).all()
    if not rows:
        return []
    recorded = set(db.session.execute(
        select(LicenceReminder.licence_id, LicenceReminder.threshold_days, LicenceReminder.valid_until)
        .where(LicenceReminder.licence_id.in_([r[0] for r in rows]))).all())
    due = []
    for licence_id, licence_type, valid_until, user_id in rows:
        days_left = (valid_until - today).days
        threshold = min(t for t in REMINDER_THRESHOLDS if days_left <= t)
        if (licence_id, threshold, valid_until) not in recorded:
            due.append(DueReminder(licence_id, user_id, licence_type, threshold, valid_until, days_left))
    return due


def reminder_message(due: DueReminder) -> dict:
    """The inbox message: licence type and expiry date only, no PII."""
    spec = CATALOGUE[due.licence_type]
    until = due.valid_until.isoformat()
    return {
        "category": "licence",
        "title": f"{spec.name_zh}即将到期", "title_en": f"Your {spec.name_en.lower()} expires soon",
        "body": f"您的{spec.name_zh}将于{until}到期（还有{due.days_left}天），请及时办理换领。",
        "body_en": f"Your {spec.name_en.lower()} expires on {until} (in {due.days_left} day(s)); please renew it in time.",
        "deep_link": f"ssb://licences/{due.licence_id}",
    }


def deliver_expiry_reminder(due: DueReminder, *, now: int) -> None:
    """Add one reminder's inbox message and push to the caller's unit of work (the reminder row):
    they commit together, and the push relay wakes after the commit."""
    deliver_to_user(due.user_id, now=now, **reminder_message(due))


def run_expiry_reminders(*, now: int) -> int:
    """Claim each due reminder with its unique row (concurrent workers send it once), then deliver
    it in the same transaction: the reminder row and the inbox message commit together, so a failed
    delivery leaves no row and the next run tries again. Returns how many were handed over."""
    sent = 0
    for due in due_reminders(now):
        row = LicenceReminder(licence_id=due.licence_id, user_id=due.user_id, threshold_days=due.threshold_days,
                              valid_until=due.valid_until, status="sent", created_at=from_timestamp(now),
                              sent_at=from_timestamp(now))
        db.session.add(row)
        try:
            db.session.flush()
        except IntegrityError:
            db.session.rollback()       # another worker claimed it
            continue
        try:
            deliver_expiry_reminder(due, now=now)
            commit()
        except IntegrityError:
            db.session.rollback()       # claimed concurrently (the flush raced the other commit)
            continue
        except Exception:
            db.session.rollback()
            log.exception("licence reminder delivery failed", extra={"licence_id": due.licence_id})
            continue
        sent += 1
    return sent


@job(queue_name="licences", max_retries=3)
def send_expiry_reminders() -> int:
    """Dramatiq job (run daily, e.g. `flask --app wsgi licences send-reminders`)."""
    from api.extensions import now
    return run_expiry_reminders(now=now())
