"""好差评: ratings of services residents received, per-subject counters, rectification cases.

A rating's subject is what gave the service: a venue (by its public id) or a mini-program (by
its appid). Ratings outlive the rater's account (the public record stays; `user_id` and
`access_id` become NULL), so the counters never drift from the rows.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, BigId, utcnow

SUBJECT_TYPES = ("venue", "miniprogram")
CASE_STATUSES = ("open", "resolved")


class Rating(Base):
    """One resident's rating of one service (an access record), at most one per record."""

    __tablename__ = "ratings"
    __table_args__ = (Index("ix_ratings_subject", "subject_type", "subject_id", "id"),
                      Index("ix_ratings_user_id_id", "user_id", "id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)   # internal; cursors only
    # Random, what clients see: two ratings of one resident share nothing.
    public_id: Mapped[str] = mapped_column(String(24), unique=True)
    access_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("access_records.id", ondelete="SET NULL"), unique=True)
    user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    subject_type: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str] = mapped_column(String(32))
    service_kind: Mapped[str] = mapped_column(String(32))
    stars: Mapped[int] = mapped_column(SmallInteger)
    tags: Mapped[list] = mapped_column(JSON, default=list)
    comment: Mapped[str | None] = mapped_column(String(600))       # stored masked, never the raw text
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reply: Mapped[str | None] = mapped_column(String(600))         # masked as well
    replied_at: Mapped[datetime | None] = mapped_column()
    replied_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))


class RatingCounters(Base):
    """The summary of one subject, updated in the rating's own transaction (`x = x + 1`)."""

    __tablename__ = "rating_counters"

    subject_type: Mapped[str] = mapped_column(String(16), primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    count: Mapped[int] = mapped_column(BigId, default=0)
    stars_sum: Mapped[int] = mapped_column(BigId, default=0)
    star_1: Mapped[int] = mapped_column(BigId, default=0)
    star_2: Mapped[int] = mapped_column(BigId, default=0)
    star_3: Mapped[int] = mapped_column(BigId, default=0)
    star_4: Mapped[int] = mapped_column(BigId, default=0)
    star_5: Mapped[int] = mapped_column(BigId, default=0)
    replied: Mapped[int] = mapped_column(BigId, default=0)


class RatingCase(Base):
    """A rectification case (整改) opened by a 1- or 2-star rating.

    `due_on` is the third working day after the opening date (Asia/Shanghai); a case is overdue
    when it is still open after that day, or was resolved after it."""

    __tablename__ = "rating_cases"
    __table_args__ = (Index("ix_rating_cases_status_due_on", "status", "due_on"),
                      Index("ix_rating_cases_subject", "subject_type", "subject_id", "id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    rating_id: Mapped[int] = mapped_column(BigId, ForeignKey("ratings.id", ondelete="CASCADE"), unique=True)
    subject_type: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="open")
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_on: Mapped[date] = mapped_column(Date)
    resolved_at: Mapped[datetime | None] = mapped_column()
    resolved_on: Mapped[date | None] = mapped_column(Date)         # Shanghai date, for the overdue filter
    resolved_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(String(1000))
    satisfied: Mapped[bool | None] = mapped_column(Boolean)
    answered_at: Mapped[datetime | None] = mapped_column()
    # The inbox message that told the resident (for the record; the inbox owns it).
    inbox_message_id: Mapped[int | None] = mapped_column(BigId)
