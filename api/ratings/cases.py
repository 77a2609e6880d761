"""Rectification cases (整改): a 1- or 2-star rating opens one, due in 3 working days; the rated
venue's staff (operators, for a mini-program) resolve it with a note; the rater is told in the
inbox and answers once whether they are satisfied.

Overdue: still open after the due day, or resolved after it (Asia/Shanghai days).
"""
from __future__ import annotations

from sqlalchemy import select, update

from api.db import from_timestamp
from api.errors import AppError
from api.extensions import db
from api.identity.tokens import Principal
from api.localtime import local_today
from api.notifications.inbox import deliver_to_user
from api.ratings.deadlines import case_due_on, overdue_clause
from api.ratings.models import Rating, RatingCase
from api.ratings.subjects import Subject, require_responder, require_subject, subject_names
from api.ratings.views import case_summary, case_view
from api.unit_of_work import commit, rollback

MAX_ID = 2**63 - 1


def open_case(rating: Rating, *, now: int) -> RatingCase:
    """Composed writer (the rating's use case commits)."""
    case = RatingCase(rating_id=rating.id, subject_type=rating.subject_type, subject_id=rating.subject_id,
                      status="open", opened_at=from_timestamp(now), due_on=case_due_on(now))
    db.session.add(case)
    return case


def list_cases(*, status: str | None, overdue: bool | None, subject: Subject | None, cursor: int | None,
               limit: int, now: int) -> dict:
    """Cases newest first, filtered by status, overdue or not, and subject."""
    query = select(RatingCase, Rating).join(Rating, Rating.id == RatingCase.rating_id)
    if status:
        query = query.where(RatingCase.status == status)
    if overdue is not None:
        clause = overdue_clause(now)
        query = query.where(clause if overdue else ~clause)
    if subject:
        query = query.where(RatingCase.subject_type == subject.type, RatingCase.subject_id == subject.id)
    if cursor:
        query = query.where(RatingCase.id < cursor)
    rows = db.session.execute(query.order_by(RatingCase.id.desc()).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    names = subject_names({(c.subject_type, c.subject_id) for c, _ in rows})
    return {"items": [case_view(c, r, names, now=now) for c, r in rows],
            "next_cursor": str(rows[-1][0].id) if more and rows else None}


def list_venue_cases(principal: Principal, venue_id: str, **filters) -> dict:
    """The cases of one venue, for its staff."""
    subject = Subject("venue", venue_id)
    require_subject(subject)
    require_responder(principal, subject)
    return list_cases(subject=subject, **filters)


def resolve_case(principal: Principal, case_id: int, *, note: str, now: int) -> dict:
    """Close an open case with a note; the rater gets an inbox message asking whether they are
    satisfied. Only the rated venue's staff (operators, for a mini-program); once."""
    case = db.session.get(RatingCase, case_id) if 0 < case_id <= MAX_ID else None
    if case is None:
        raise AppError("RATING_CASE_NOT_FOUND")
    subject = Subject(case.subject_type, case.subject_id)
    require_responder(principal, subject)
    stamp = from_timestamp(now)
    done = db.session.execute(
        update(RatingCase).where(RatingCase.id == case.id, RatingCase.status == "open")
        .values(status="resolved", note=note.strip(), resolved_at=stamp, resolved_on=local_today(now),
                resolved_by=principal.user_id))
    if done.rowcount != 1:
        rollback()
        raise AppError("CASE_ALREADY_RESOLVED")
    rating = db.session.get_one(Rating, case.rating_id)
    names = subject_names({(subject.type, subject.id)})
    if rating.user_id is not None:     # the rater may have closed their account since
        message = deliver_to_user(rating.user_id, category="service", now=now,
                                  deep_link=f"ssb://ratings/{rating.public_id}",
                                  **_outcome_message(names.get((subject.type, subject.id)) or "", rating, note.strip()))
        case.inbox_message_id = message.id
    commit()
    db.session.refresh(case)
    return case_view(case, rating, names, now=now)


def _outcome_message(subject_name: str, rating: Rating, note: str) -> dict:
    return {"title": "您的评价已有整改结果",
            "body": f"您对“{subject_name}”的{rating.stars}星评价已处理：{note}\n请告诉我们您是否满意。",
            "title_en": "Your rating has an outcome",
            "body_en": f"Your {rating.stars}-star rating of “{subject_name}” was followed up: {note}\n"
                       "Please tell us whether you are satisfied."}


def answer(principal: Principal, rating_id: str, *, satisfied: bool, now: int) -> dict:
    """The rater says once whether the outcome satisfies them; the case shows the answer."""
    row = db.session.execute(select(Rating, RatingCase).outerjoin(RatingCase, RatingCase.rating_id == Rating.id)
                             .where(Rating.public_id == rating_id, Rating.user_id == principal.user_id)).first()
    if row is None:
        raise AppError("RATING_NOT_FOUND")
    rating, case = row
    if case is None or case.status != "resolved":
        raise AppError("CASE_NOT_RESOLVED")
    done = db.session.execute(update(RatingCase).where(RatingCase.id == case.id, RatingCase.satisfied.is_(None))
                              .values(satisfied=satisfied, answered_at=from_timestamp(now)))
    if done.rowcount != 1:
        rollback()
        raise AppError("FEEDBACK_ALREADY_GIVEN")
    commit()
    db.session.refresh(case)
    return case_summary(case, now=now)
