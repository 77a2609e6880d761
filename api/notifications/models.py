"""Notifications: the resident's inbox, push devices, preferences, policies, campaigns and the
push outbox.

Scheduling columns of the outbox (`not_before`, `lease_until`) are integer unix seconds rather
than datetimes: the campaign fan-out computes them in SQL (quiet hours) and integer arithmetic
is identical on SQLite and PostgreSQL.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, BigId, utcnow

CATEGORIES = ("policy", "licence", "service", "security")
# Policy topics a resident can mute one by one (besides the whole "policy" category).
POLICY_TOPICS = ("elderly", "disability", "veterans", "family", "housing", "employment", "health",
                 "education", "business", "general")
TOPICS = CATEGORIES + POLICY_TOPICS
PLATFORMS = ("apns", "fcm", "hms")
SUBJECTS = ("person", "enterprise")


class InboxMessage(Base):
    """One message in a resident's inbox. Campaign rows carry no text of their own: title, body
    and deep link come from the campaign, so a million-recipient fan-out writes narrow rows.

    `policy_id` (campaign messages only) makes "one message per policy and resident" a unique
    key: a rerun of a policy's campaign, or two runs overlapping, cannot tell anyone twice."""

    __tablename__ = "inbox_messages"
    __table_args__ = (
        UniqueConstraint("campaign_id", "user_id", name="uq_inbox_messages_campaign_user"),
        Index("uq_inbox_messages_policy_user", "policy_id", "user_id", unique=True,
              postgresql_where=text("policy_id IS NOT NULL"), sqlite_where=text("policy_id IS NOT NULL")),
        Index("ix_inbox_messages_user_id_id", "user_id", "id"),
        Index("ix_inbox_messages_unread", "user_id", postgresql_where=text("read_at IS NULL"),
              sqlite_where=text("read_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(16))
    campaign_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("campaigns.id", ondelete="CASCADE"))
    policy_id: Mapped[int | None] = mapped_column(BigId)     # the campaign's policy (no FK: set with campaign_id)
    title: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)
    title_en: Mapped[str | None] = mapped_column(String(200))
    body_en: Mapped[str | None] = mapped_column(Text)
    deep_link: Mapped[str | None] = mapped_column(String(512))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column()


class Device(Base):
    """A push token registered by one sign-in session. A token belongs to one device at a time:
    registering it again moves it to the new session."""

    __tablename__ = "devices"
    __table_args__ = (
        UniqueConstraint("platform", "token", name="uq_devices_platform_token"),
        Index("ix_devices_user_id_active", "user_id", "active"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    session_id: Mapped[str | None] = mapped_column(String(32), ForeignKey("auth_sessions.id", ondelete="SET NULL"),
                                                   index=True)
    platform: Mapped[str] = mapped_column(String(8))
    token: Mapped[str] = mapped_column(String(512))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deactivated_at: Mapped[datetime | None] = mapped_column()
    deactivated_reason: Mapped[str | None] = mapped_column(String(32))


class NotificationPreference(Base):
    """Absent row = defaults: every topic on, no quiet hours, the default daily cap."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    # Minutes after local midnight (Asia/Shanghai); both null = no quiet hours.
    quiet_start: Mapped[int | None] = mapped_column(SmallInteger)
    quiet_end: Mapped[int | None] = mapped_column(SmallInteger)
    daily_cap: Mapped[int] = mapped_column(Integer, default=10)
    language: Mapped[str] = mapped_column(String(8), default="zh-CN")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class TopicOptOut(Base):
    """A topic the resident turned off (one row per topic; the campaign SQL probes it by key)."""

    __tablename__ = "notification_optouts"

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    topic: Mapped[str] = mapped_column(String(24), primary_key=True)


class Policy(Base):
    __tablename__ = "policies"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    title_en: Mapped[str | None] = mapped_column(String(200))
    body_en: Mapped[str | None] = mapped_column(Text)
    topic: Mapped[str] = mapped_column(String(24))
    subject: Mapped[str] = mapped_column(String(16), default="person")
    rule: Mapped[object] = mapped_column(JSON)
    deep_link: Mapped[str | None] = mapped_column(String(512))
    created_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Campaign(Base):
    """One run of a policy finding its people. Starting a policy's campaign while its latest run
    is unfinished returns that run; once it has fanned out, a new run (`run` + 1) reaches the
    residents who became eligible since: an inbox holds at most one message per policy
    (`InboxMessage.policy_id`), so whatever runs, overlaps or retries, nobody is told twice.

    Everything a chunk needs is frozen here when the run starts (the rule, the text, the date
    ages are computed at, the clock), so a chunk run twice computes the same rows."""

    __tablename__ = "campaigns"
    __table_args__ = (UniqueConstraint("policy_id", "run", name="uq_campaigns_policy_run"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    policy_id: Mapped[int] = mapped_column(BigId, ForeignKey("policies.id", ondelete="CASCADE"))
    run: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    status: Mapped[str] = mapped_column(String(16), default="planning")   # planning | running | fanned_out
    category: Mapped[str] = mapped_column(String(16), default="policy")
    topic: Mapped[str] = mapped_column(String(24))
    rule: Mapped[object] = mapped_column(JSON)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    title_en: Mapped[str | None] = mapped_column(String(200))
    body_en: Mapped[str | None] = mapped_column(Text)
    deep_link: Mapped[str | None] = mapped_column(String(512))
    as_of: Mapped[date] = mapped_column(Date)
    started_epoch: Mapped[int] = mapped_column(BigInteger)
    chunk_size: Mapped[int] = mapped_column(Integer, default=5000)
    created_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    fanned_out_at: Mapped[datetime | None] = mapped_column()


class CampaignChunk(Base):
    """A keyset slice of users.id, (lo, hi]. `done` is set in the transaction that wrote its
    inbox and outbox rows, so a chunk is either wholly written or not at all."""

    __tablename__ = "campaign_chunks"

    campaign_id: Mapped[int] = mapped_column(BigId, ForeignKey("campaigns.id", ondelete="CASCADE"),
                                             primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    lo: Mapped[int] = mapped_column(BigInteger)
    hi: Mapped[int] = mapped_column(BigInteger)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    matched: Mapped[int] = mapped_column(Integer, default=0)
    outbox_written: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    done_at: Mapped[datetime | None] = mapped_column()


class PushOutbox(Base):
    """A push to send to one resident (to each of their active devices), written in the same
    transaction as the inbox row. status: pending | sent | skipped | failed.

    reason: why skipped (topic_off, daily_cap, no_device, dead_tokens) or failed; `deferred`
    marks pushes held back by quiet hours."""

    __tablename__ = "push_outbox"
    __table_args__ = (
        UniqueConstraint("campaign_id", "user_id", name="uq_push_outbox_campaign_user"),
        Index("ix_push_outbox_due", "not_before", postgresql_where=text("status = 'pending'"),
              sqlite_where=text("status = 'pending'")),
        Index("ix_push_outbox_sent", "user_id", "sent_at", postgresql_where=text("status = 'sent'"),
              sqlite_where=text("status = 'sent'")),
        # For the ON DELETE CASCADE from inbox_messages; campaign rows (inbox_id NULL) stay out of it.
        Index("ix_push_outbox_inbox_id", "inbox_id", postgresql_where=text("inbox_id IS NOT NULL"),
              sqlite_where=text("inbox_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    campaign_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("campaigns.id", ondelete="CASCADE"))
    inbox_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("inbox_messages.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(16))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(8), default="pending")
    reason: Mapped[str | None] = mapped_column(String(24))
    deferred: Mapped[bool] = mapped_column(Boolean, default=False)
    not_before: Mapped[int] = mapped_column(BigInteger)
    lease_until: Mapped[int | None] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()
