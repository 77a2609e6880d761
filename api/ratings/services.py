"""好差评 use cases: a resident rates a service once, anyone reads a subject's ratings and summary,
the venue's staff (operators, for a mini-program) reply once, publicly.

Public views never name the rater and carry nothing that links two ratings of one resident: a
random id per rating, the day (not the time) it was given, and opaque cursors (a rating's
public id, not our sequence, which would show that two ratings were written one after another).
"""
from __future__ import annotations

import secrets

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from api.access.models import AccessRecord
from api.db import from_timestamp
from api.errors import AppError
from api.extensions import db, get_config
from api.identity.tokens import Principal
from api.ratelimits import enforce
from api.ratings import cases, counters
from api.ratings.catalogue import MAX_TAGS, tag_codes
from api.ratings.masking import mask_personal_data
from api.ratings.models import Rating, RatingCase
from api.ratings.subjects import (
    Subject,
    may_respond,
    names_to_mask,
    require_responder,
    require_subject,
    subject_names,
    subject_of,
)
from api.ratings.views import own_view, public_view
from api.unit_of_work import commit, rollback

RATING_WINDOW = 15 * 24 * 3600
PER_SUBJECT_PER_DAY = "5/day"   # ratings of one venue or mini-program by one resident
BAD_STARS = 2            # this many stars or fewer opens a rectification case
MAX_ID = 2**63 - 1
PUBLIC_COLUMNS = (Rating.public_id, Rating.stars, Rating.tags, Rating.comment, Rating.service_kind, Rating.created_at,
                  Rating.reply, Rating.replied_at)


def new_public_id() -> str:
    return "rt_" + secrets.token_hex(8)


# --------------------------------------------------------------------------- the resident


def rate_service(principal: Principal, *, access_id: int, stars: int, tags: list[str], comment: str | None,
                 now: int) -> dict:
    """Rate one service the caller received (one of their access records), once.

    404 for a record that is not theirs (whether or not it exists), 422 for a service that
    cannot be rated or tags that do not fit it, 410 after 15 days, 409 the second time, 403
    for the venue's own staff. The comment is stored masked; 1-2 stars open a rectification
    case. Limited per resident per hour (attempts that fail included: no probing of record
    ids) and per resident and subject per day (check-ins cost nothing to repeat)."""
    enforce(f"{get_config().RATINGS_PER_HOUR}/hour", "rating", str(principal.user_id))
    record = _own_record(principal.user_id, access_id)
    subject = _rateable_subject(principal, record, tags, now=now)
    enforce(PER_SUBJECT_PER_DAY, "rating-subject", str(principal.user_id), subject.type, subject.id)
    comment = (comment or "").strip() or None
    rating = Rating(public_id=new_public_id(), access_id=record.id, user_id=principal.user_id,
                    subject_type=subject.type, subject_id=subject.id, service_kind=record.kind, stars=stars,
                    tags=list(dict.fromkeys(tags))[:MAX_TAGS], created_at=from_timestamp(now),
                    comment=mask_personal_data(comment, names_to_mask(subject, principal.user_id)) if comment else None)
    db.session.add(rating)
    try:
        db.session.flush()
    except IntegrityError:          # a concurrent rating of the same record won
        rollback()
        raise AppError("ALREADY_RATED") from None
    counters.count_rating(subject, stars)
    case = cases.open_case(rating, now=now) if stars <= BAD_STARS else None
    commit()
    return own_view(rating, case, subject_names({(subject.type, subject.id)}), now=now)


def _rateable_subject(principal: Principal, record: AccessRecord, tags: list[str], *, now: int) -> Subject:
    subject = subject_of(record)
    if subject is None:
        raise AppError("NOT_RATEABLE")
    if now - record.created_at.timestamp() > RATING_WINDOW:
        raise AppError("RATING_WINDOW_CLOSED")
    unknown = sorted(set(tags) - tag_codes(record.kind))
    if unknown:
        raise AppError("UNKNOWN_RATING_TAG", errors={"tags": unknown})
    if db.session.scalar(select(Rating.id).where(Rating.access_id == record.id)) is not None:
        raise AppError("ALREADY_RATED")
    if subject.type == "venue" and may_respond(principal, subject):
        raise AppError("OWN_SERVICE_NOT_RATEABLE")
    return subject


def _own_record(user_id: int, access_id: int) -> AccessRecord:
    record = db.session.get(AccessRecord, access_id) if 0 < access_id <= MAX_ID else None
    if record is None or record.user_id != user_id:
        raise AppError("RATING_TARGET_NOT_FOUND")
    return record


def my_ratings(principal: Principal, *, cursor: int | None, limit: int, now: int) -> dict:
    """The caller's ratings, newest first, each with its rectification case."""
    query = (select(Rating, RatingCase).outerjoin(RatingCase, RatingCase.rating_id == Rating.id)
             .where(Rating.user_id == principal.user_id))
    if cursor:
        query = query.where(Rating.id < cursor)
    rows = db.session.execute(query.order_by(Rating.id.desc()).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    names = subject_names({(r.subject_type, r.subject_id) for r, _ in rows})
    return {"items": [own_view(r, c, names, now=now) for r, c in rows],
            "next_cursor": str(rows[-1][0].id) if more and rows else None}


def my_rating(principal: Principal, rating_id: str, *, now: int) -> dict:
    row = db.session.execute(select(Rating, RatingCase).outerjoin(RatingCase, RatingCase.rating_id == Rating.id)
                             .where(Rating.public_id == rating_id, Rating.user_id == principal.user_id)).first()
    if row is None:
        raise AppError("RATING_NOT_FOUND")
    rating, case = row
    return own_view(rating, case, subject_names({(rating.subject_type, rating.subject_id)}), now=now)


# --------------------------------------------------------------------------- the public


def list_ratings(subject: Subject, *, cursor: str | None, limit: int) -> dict:
    """A subject's ratings, newest first. `cursor` is the public id of the last rating seen."""
    # Plain columns, not ORM entities: this is the public read path.
    query = select(*PUBLIC_COLUMNS).where(Rating.subject_type == subject.type, Rating.subject_id == subject.id)
    if cursor:
        position = db.session.scalar(select(Rating.id).where(
            Rating.public_id == cursor, Rating.subject_type == subject.type, Rating.subject_id == subject.id))
        if position is None:
            raise AppError("VALIDATION_ERROR", errors={"cursor": ["unknown cursor"]})
        query = query.where(Rating.id < position)
    rows = db.session.execute(query.order_by(Rating.id.desc()).limit(limit + 1)).all()
    if not rows and not cursor:
        require_subject(subject)
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": [public_view(r) for r in rows], "next_cursor": rows[-1].public_id if more and rows else None}


def rating_summary(subject: Subject) -> dict:
    """`{count, average, distribution, replied}` from the subject's counters row: one read."""
    found = counters.summary(subject)
    if found is not None:
        return found
    require_subject(subject)
    return counters.empty_summary()


# --------------------------------------------------------------------------- the rated


def reply(principal: Principal, rating_id: str, *, text: str, now: int) -> dict:
    """The rated venue's staff (operators, for a mini-program) reply publicly, once. The reply is
    masked like comments (the rater's and staff's registered names included)."""
    rating = db.session.scalar(select(Rating).where(Rating.public_id == rating_id))
    if rating is None:
        raise AppError("RATING_NOT_FOUND")
    subject = Subject(rating.subject_type, rating.subject_id)
    require_responder(principal, subject)
    masked = mask_personal_data(text.strip(), names_to_mask(subject, rating.user_id))
    done = db.session.execute(update(Rating).where(Rating.id == rating.id, Rating.reply.is_(None))
                              .values(reply=masked, replied_at=from_timestamp(now), replied_by=principal.user_id))
    if done.rowcount != 1:
        rollback()
        raise AppError("ALREADY_REPLIED")
    counters.count_reply(subject)
    commit()
    db.session.refresh(rating)
    return public_view(rating)
