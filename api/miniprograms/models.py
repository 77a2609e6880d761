"""Mini-programs registered by operators, residents' consents to them, the pairwise ids they
were given and the subscription messages they sent."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, BigId, utcnow


class MiniProgram(Base):
    """A third-party mini-program: `appid` is public, the secret is only stored hashed."""

    __tablename__ = "miniprograms"

    appid: Mapped[str] = mapped_column(String(19), primary_key=True)          # "ssb" + 16 hex
    name: Mapped[str] = mapped_column(String(64))
    owner_org: Mapped[str] = mapped_column(String(128))                       # unionid scope
    scopes: Mapped[list] = mapped_column(JSON, default=list)                  # what it may ask for
    request_domain: Mapped[str | None] = mapped_column(String(255))
    secret_hash: Mapped[str] = mapped_column(String(64))
    # Bumped on every rotation: access tokens carry it, so a rotation revokes them at once.
    secret_version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_by: Mapped[int | None] = mapped_column(BigId)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    secret_rotated_at: Mapped[datetime | None] = mapped_column()


class MiniProgramConsent(Base):
    """One scope a resident granted to one mini-program; deleting the row revokes it."""

    __tablename__ = "miniprogram_consents"
    __table_args__ = (UniqueConstraint("user_id", "appid", "scope", name="uq_miniprogram_consents_user_app_scope"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    appid: Mapped[str] = mapped_column(String(19), ForeignKey("miniprograms.appid", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(64))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)


class MiniProgramUser(Base):
    """The pairwise `openid` a mini-program knows a resident by (so it can be resolved back)."""

    __tablename__ = "miniprogram_users"
    __table_args__ = (UniqueConstraint("appid", "user_id", name="uq_miniprogram_users_app_user"),)

    openid: Mapped[str] = mapped_column(String(64), primary_key=True)
    appid: Mapped[str] = mapped_column(String(19), ForeignKey("miniprograms.appid", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    unionid: Mapped[str] = mapped_column(String(64))
    first_login_at: Mapped[datetime] = mapped_column(default=utcnow)


class MiniProgramMessage(Base):
    """A subscription message a mini-program sent to a resident (kept even once in the inbox)."""

    __tablename__ = "miniprogram_messages"
    __table_args__ = (Index("ix_miniprogram_messages_user_id_id", "user_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    appid: Mapped[str] = mapped_column(String(19), ForeignKey("miniprograms.appid", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    template_id: Mapped[str] = mapped_column(String(128))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    page: Mapped[str | None] = mapped_column(String(512))
    # "stored" until the inbox has it, then "delivered" with the inbox's reference.
    status: Mapped[str] = mapped_column(String(16), default="stored")
    inbox_ref: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
