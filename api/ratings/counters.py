"""Per-subject summary counters, kept with the writes so a summary is one primary-key read.

Every change is `UPDATE ... SET x = x + n` in the writer's own transaction: concurrent raters
of one venue serialise on the row lock and none is lost. The first rating of a subject inserts
the row inside a savepoint; if a concurrent transaction inserted it first, the unique key
refuses ours and the UPDATE is retried (portable: no dialect-specific upsert).
"""
from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from api.extensions import db
from api.ratings.models import RatingCounters
from api.ratings.subjects import Subject

STAR_COLUMNS = {n: getattr(RatingCounters, f"star_{n}") for n in range(1, 6)}


def _where(subject: Subject):
    return (RatingCounters.subject_type == subject.type, RatingCounters.subject_id == subject.id)


def _add(subject: Subject, values: dict) -> None:
    """Apply `column += delta` for each entry; creates the row on the subject's first write."""
    increments = {col.key: col + delta for col, delta in values.items()}
    if db.session.execute(update(RatingCounters).where(*_where(subject)).values(increments)).rowcount:
        return
    initial = {col.key: 0 for col in (RatingCounters.count, RatingCounters.stars_sum, RatingCounters.replied,
                                      *STAR_COLUMNS.values())}
    initial.update({col.key: delta for col, delta in values.items()})
    try:
        with db.session.begin_nested():
            db.session.execute(insert(RatingCounters).values(subject_type=subject.type, subject_id=subject.id,
                                                             **initial))
    except IntegrityError:   # created meanwhile by another rater: add to theirs
        db.session.execute(update(RatingCounters).where(*_where(subject)).values(increments))


def count_rating(subject: Subject, stars: int) -> None:
    _add(subject, {RatingCounters.count: 1, RatingCounters.stars_sum: stars, STAR_COLUMNS[stars]: 1})


def count_reply(subject: Subject) -> None:
    _add(subject, {RatingCounters.replied: 1})


def summary(subject: Subject) -> dict | None:
    """`{count, average, distribution, replied, replied_count}`, or None if never rated."""
    row = db.session.execute(select(RatingCounters).where(*_where(subject))).scalar_one_or_none()
    if row is None:
        return None
    return _view(row.count, row.stars_sum, [getattr(row, f"star_{n}") for n in range(1, 6)], row.replied)


def empty_summary() -> dict:
    return _view(0, 0, [0] * 5, 0)


def _view(count: int, stars_sum: int, stars: list[int], replied: int) -> dict:
    return {"count": count, "average": round(stars_sum / count, 2) if count else None,
            "distribution": {str(n): stars[n - 1] for n in range(1, 6)},
            "replied": round(replied / count, 4) if count else 0.0, "replied_count": replied}
