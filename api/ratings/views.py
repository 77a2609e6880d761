"""What each audience sees of ratings and cases.

Public: never the rater, nothing that links two ratings of one resident (a random id, the day
rather than the time). The rater additionally sees what they rated and their case; the rated
(staff, operators) see the case with the public view of its rating.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Row

from api.localtime import local_today
from api.ratings.deadlines import is_overdue
from api.ratings.models import Rating, RatingCase


def _day(moment: datetime | None) -> date | None:
    if moment is None:
        return None
    return local_today(moment.timestamp())


def public_view(rating: Rating | Row[Any]) -> dict:
    """From a Rating or a row of its public columns (`services.PUBLIC_COLUMNS`)."""
    reply = {"text": rating.reply, "replied_on": _day(rating.replied_at)} if rating.reply is not None else None
    return {"id": rating.public_id, "stars": rating.stars, "tags": list(rating.tags or []), "comment": rating.comment,
            "service": rating.service_kind, "rated_on": _day(rating.created_at), "reply": reply}


def case_summary(case: RatingCase, *, now: int) -> dict:
    return {"id": case.id, "status": case.status, "opened_at": case.opened_at, "due_on": case.due_on,
            "overdue": is_overdue(case, now=now), "resolved_at": case.resolved_at, "note": case.note,
            "satisfied": case.satisfied, "answered_at": case.answered_at}


def _subject(kind: str, subject_id: str, names: dict) -> dict:
    return {"type": kind, "id": subject_id, "name": names.get((kind, subject_id))}


def own_view(rating: Rating, case: RatingCase | None, names: dict, *, now: int) -> dict:
    return public_view(rating) | {
        "access_id": rating.access_id, "created_at": rating.created_at,
        "subject": _subject(rating.subject_type, rating.subject_id, names),
        "case": case_summary(case, now=now) if case else None}


def case_view(case: RatingCase, rating: Rating, names: dict, *, now: int) -> dict:
    return case_summary(case, now=now) | {"subject": _subject(case.subject_type, case.subject_id, names),
                                          "rating": public_view(rating)}
