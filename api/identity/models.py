"""Accounts and the local mirror of the population registry."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, BigId, utcnow

ROLES = ("resident", "staff", "operator", "issuer-admin")


class User(Base):
    """A resident account, created by the first login with a phone number."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    roles: Mapped[list] = mapped_column(JSON, default=lambda: ["resident"])
    status: Mapped[str] = mapped_column(String(16), default="active")
    # Pseudonymous, random, stable: what codes carry instead of phone or identity number.
    holder_id: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Real-name verification (null until verified). The identity number is only ever stored
    # encrypted, with a keyed blind index for exact-match look-up.
    real_name_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    masked_name: Mapped[str | None] = mapped_column(String(64))
    id_type: Mapped[str | None] = mapped_column(String(24))
    id_number_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    id_number_bidx: Mapped[str | None] = mapped_column(String(64), unique=True)
    id_number_masked: Mapped[str | None] = mapped_column(String(32))
    real_name_verified_at: Mapped[datetime | None] = mapped_column()

    @property
    def is_verified(self) -> bool:
        return self.real_name_verified_at is not None


class Person(Base):
    """One row of the population registry, loaded by `registry import-persons`."""

    __tablename__ = "persons"
    __table_args__ = (UniqueConstraint("id_number_bidx"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    id_type: Mapped[str] = mapped_column(String(24))
    id_number_bidx: Mapped[str] = mapped_column(String(64))
    id_number_enc: Mapped[bytes] = mapped_column(LargeBinary)
    name: Mapped[str] = mapped_column(String(64))
    birth_date: Mapped[date | None] = mapped_column(Date)
    district: Mapped[str | None] = mapped_column(String(32))
    hukou: Mapped[bool] = mapped_column(Boolean, default=False)
    attributes: Mapped[dict] = mapped_column(JSON, default=dict)
    # The guardians the registry names (a minor's parents or legal guardians), each as the keyed
    # blind index its identity number would have as a user's `id_number_bidx`; never in clear.
    guardian_bidxs: Mapped[list | None] = mapped_column(JSON)


class AuthSession(Base):
    __tablename__ = "auth_sessions"
    __table_args__ = (Index("ix_auth_sessions_user", "user_id", "revoked_at"),
                      # recently signed-out sessions: what a lost deny-list is re-derived from
                      Index("ix_auth_sessions_revoked_at", "revoked_at"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    device_id: Mapped[str] = mapped_column(String(128))
    user_agent: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()
    revoked_reason: Mapped[str | None] = mapped_column(String(32))


class RefreshToken(Base):
    """Only the SHA-256 of the opaque token is kept. `used_at` set means rotated away:
    presenting it again is reuse, and the whole session (the family) is revoked, except within
    REFRESH_REUSE_GRACE seconds of the rotation, when a retry gets the same successor pair back.
    `successor_sealed` is that pair, AES-GCM sealed with a key derived from this token itself, so
    only someone presenting the token can open it."""

    __tablename__ = "refresh_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(32), ForeignKey("auth_sessions.id", ondelete="CASCADE"),
                                            index=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()
    successor_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
