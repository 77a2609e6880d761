"""Family (亲友): dependents, guardian links, and what guardians did for their dependents.

A dependent is a person (keyed by the blind index of their identity number), with or without an
account of their own: most children and many elders have none. Their identity number is never
stored here, only its blind index and a masked copy.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, BigId, utcnow

RELATIONS = ("minor_child", "elder")
LINK_STATUSES = ("pending", "active", "refused", "ended")


class FamilyDependent(Base):
    """A person some guardian acts for, as checked against the population registry."""

    __tablename__ = "family_dependents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    id_type: Mapped[str] = mapped_column(String(24))
    id_number_bidx: Mapped[str] = mapped_column(String(64), unique=True)
    id_number_masked: Mapped[str] = mapped_column(String(32))
    masked_name: Mapped[str] = mapped_column(String(64))
    birth_date: Mapped[date | None] = mapped_column(Date)
    # The pseudonymous holder id that codes carry as `sub` while the dependent has no account
    # of their own (with one, their account's holder id is used instead).
    holder_id: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FamilyLink(Base):
    """A guardian may act for a dependent while the link is active.

    `live_key` is "<guardian_user_id>:<dependent_id>" while the link is pending or active and
    NULL once refused or ended: the unique constraint allows one live link per pair, however
    many ended ones history keeps (NULLs never collide, on SQLite and PostgreSQL alike)."""

    __tablename__ = "family_links"
    __table_args__ = (Index("ix_family_links_guardian_user_id_id", "guardian_user_id", "id"),
                      Index("ix_family_links_dependent_id_id", "dependent_id", "id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(24), unique=True)     # "fl_<hex>": in URLs and `for=`
    guardian_user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    dependent_id: Mapped[int] = mapped_column(BigId, ForeignKey("family_dependents.id", ondelete="CASCADE"))
    relation: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    live_key: Mapped[str | None] = mapped_column(String(48), unique=True)
    # How the link became active: "registry" (a minor's registered guardian), "app" (the elder
    # agreed in their app) or "clerk" (in person, {venue_id, clerk_user_id} in `consent`).
    approved_via: Mapped[str | None] = mapped_column(String(16))
    consent: Mapped[dict | None] = mapped_column(JSON)
    ended_reason: Mapped[str | None] = mapped_column(String(24))   # guardian | dependent | refused | came_of_age
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()


class FamilyActivity(Base):
    """One thing done for a dependent under a link: the guardian's own acts (a code shown, the
    wallet opened, a licence presented) and what others did with them (a scan, a verification).

    It is the dependent's log whether or not they have an account, and the guardian's record
    of what they did for whom; a dependent with an account also gets an access record."""

    __tablename__ = "family_activity"
    __table_args__ = (Index("ix_family_activity_link_id_id", "link_id", "id"),
                      Index("ix_family_activity_dependent_id_id", "dependent_id", "id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    link_id: Mapped[int] = mapped_column(BigId, ForeignKey("family_links.id", ondelete="CASCADE"))
    dependent_id: Mapped[int] = mapped_column(BigId, ForeignKey("family_dependents.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))           # as access records: code_scan, licence_view, guardian_act
    action: Mapped[str | None] = mapped_column(String(32))  # guardian_act: code_shown, wallet_opened, ...
    scene: Mapped[str | None] = mapped_column(String(32))
    accessor: Mapped[dict] = mapped_column(JSON, default=dict)
    fields: Mapped[list] = mapped_column(JSON, default=list)
    purpose: Mapped[str | None] = mapped_column(String(128))
    subject_ref: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
