"""Enterprises (legal persons): the local mirror of the enterprise registry, claimed enterprise
accounts, delegated member roles and their audit trail."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.db import Base, BigId, utcnow

# Lowest to highest; a role includes everything the roles before it may do.
ENTERPRISE_ROLES = ("viewer", "handler", "manager", "administrator")
AUDIT_ACTIONS = ("claim", "grant", "revoke", "act_as", "legal_rep_changed", "invite")


class RegistryEnterprise(Base):
    """One row of the enterprise registry, loaded by `registry import-enterprises`. The legal
    representative's identity number is stored encrypted with a keyed blind index."""

    __tablename__ = "enterprise_registry"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    legal_rep_id_type: Mapped[str] = mapped_column(String(24), default="resident_id")
    legal_rep_bidx: Mapped[str] = mapped_column(String(64), index=True)
    legal_rep_enc: Mapped[bytes] = mapped_column(LargeBinary)
    district: Mapped[str | None] = mapped_column(String(32))
    industry: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[str | None] = mapped_column(String(32))
    founded_on: Mapped[date | None] = mapped_column(Date)
    attributes: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Enterprise(Base):
    """An enterprise account, created when its legal representative first claims it. Registry
    facts are copied at claim/import time; `legal_rep_bidx` is the representative last seen."""

    __tablename__ = "enterprises"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    district: Mapped[str | None] = mapped_column(String(32))
    industry: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[str | None] = mapped_column(String(32))
    founded_on: Mapped[date | None] = mapped_column(Date)
    legal_rep_bidx: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class EnterpriseMember(Base):
    """A resident's current role in an enterprise. Revocation deletes the row (the audit keeps
    the history), so "is this membership active" is one indexed look-up."""

    __tablename__ = "enterprise_members"
    __table_args__ = (UniqueConstraint("enterprise_id", "user_id", name="uq_enterprise_members_enterprise_user"),
                      Index("ix_enterprise_members_user_id", "user_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    enterprise_id: Mapped[int] = mapped_column(BigId, ForeignKey("enterprises.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    # "legal_rep": held because the registry names this resident; "grant": given by a member.
    source: Mapped[str] = mapped_column(String(16), default="grant")
    granted_by: Mapped[int | None] = mapped_column(BigId)
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)

    enterprise: Mapped[Enterprise] = relationship(lazy="joined")


class EnterpriseInvitation(Base):
    """A role offered to a phone number that is not a member yet. The administrator learns
    nothing about the number (whether anyone uses it, verified or not) until its holder, signed
    in and real-name verified, accepts; declining or letting it expire tells them nothing either."""

    __tablename__ = "enterprise_invitations"
    __table_args__ = (UniqueConstraint("enterprise_id", "phone", name="uq_enterprise_invitations_enterprise_phone"),
                      Index("ix_enterprise_invitations_phone", "phone"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    enterprise_id: Mapped[int] = mapped_column(BigId, ForeignKey("enterprises.id", ondelete="CASCADE"))
    phone: Mapped[str] = mapped_column(String(20))            # E.164, as users.phone
    role: Mapped[str] = mapped_column(String(16))
    invited_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()

    enterprise: Mapped[Enterprise] = relationship(lazy="joined")


class EnterpriseAudit(Base):
    """Every claim, grant, revocation, act-as and change of legal representative."""

    __tablename__ = "enterprise_audit"
    __table_args__ = (Index("ix_enterprise_audit_enterprise_id_id", "enterprise_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    enterprise_id: Mapped[int] = mapped_column(BigId, ForeignKey("enterprises.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(24))
    actor_user_id: Mapped[int | None] = mapped_column(BigId)      # null: the registry (an import)
    subject_user_id: Mapped[int | None] = mapped_column(BigId)
    role: Mapped[str | None] = mapped_column(String(16))
    previous_role: Mapped[str | None] = mapped_column(String(16))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
