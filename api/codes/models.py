"""Venues, their staff grants, place-code check-ins, and the revocation feed for offline scanners."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, BigId, utcnow

VENUE_KINDS = ("transit", "hospital", "culture", "community", "government", "office", "other")


class Venue(Base):
    """A place whose staff scan 随申码 and whose place code (场所码) residents scan."""

    __tablename__ = "venues"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(24), unique=True)      # "vn_<hex>": in URLs and place codes
    name: Mapped[str] = mapped_column(String(128))
    address: Mapped[str] = mapped_column(String(256))
    district: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(24))
    scenes: Mapped[list] = mapped_column(JSON, default=list)              # scenes this venue accepts
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class VenueStaff(Base):
    """A staff member may verify codes of `scenes` at one venue; revoked grants are kept."""

    __tablename__ = "venue_staff"
    __table_args__ = (UniqueConstraint("venue_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    venue_id: Mapped[int] = mapped_column(BigId, ForeignKey("venues.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    scenes: Mapped[list] = mapped_column(JSON, default=list)
    granted_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()


class Checkin(Base):
    """A resident scanned a venue's place code."""

    __tablename__ = "checkins"
    __table_args__ = (Index("ix_checkins_user_id_id", "user_id", "id"),
                      Index("ix_checkins_venue_id_created_at", "venue_id", "created_at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    venue_id: Mapped[int] = mapped_column(BigId, ForeignKey("venues.id", ondelete="CASCADE"))
    place_code_jti: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Revocation(Base):
    """Append-only feed for offline scanners; `id` is the cursor.

    kind "holder": subject is a revoked holder_id (account disabled). kind "key": subject is a
    retired signing key's kid, `until` its published_until time."""

    __tablename__ = "revocations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(64))
    until: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

