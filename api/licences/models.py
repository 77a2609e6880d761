"""E-licences (电子证照): issuing departments, licences, one-time presentations, expiry reminders.

Identity numbers (the holder's, and licence numbers, which for several types *are* the identity
number) are stored only encrypted with a keyed blind index; a licence is matched to its resident
at read time through `holder_bidx == users.id_number_bidx`, so a resident who verifies their
real name after the department pushed the licence still finds it.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, BigId, utcnow


class Issuer(Base):
    """A department that issues licences and/or e-proofs of some types, authenticating with client credentials."""

    __tablename__ = "licence_issuers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(String(40), unique=True)
    # sha256 of a 32-byte random secret: high entropy, so a fast hash is enough.
    secret_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128))
    licence_types: Mapped[list] = mapped_column(JSON, default=list)
    proof_types: Mapped[list] = mapped_column(JSON, default=list)     # e-proofs it decides (api/proofs)
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_by: Mapped[int | None] = mapped_column(BigId)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Licence(Base):
    __tablename__ = "licences"
    __table_args__ = (
        UniqueConstraint("type", "number_bidx", name="uq_licences_type_number_bidx"),
        Index("ix_licences_holder_bidx", "holder_bidx"),
        Index("ix_licences_status_valid_until", "status", "valid_until"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(40))
    issuer_id: Mapped[int] = mapped_column(BigId, ForeignKey("licence_issuers.id"))
    # The licence number: blind index for the upsert key, encrypted value, masked copy for display.
    number_bidx: Mapped[str] = mapped_column(String(64))
    number_enc: Mapped[bytes] = mapped_column(LargeBinary)
    number_masked: Mapped[str] = mapped_column(String(64))
    # Holder: a person (resident_id, passport, ...) or an enterprise (credit_code).
    holder_id_type: Mapped[str] = mapped_column(String(24))
    holder_bidx: Mapped[str] = mapped_column(String(64))
    holder_id_enc: Mapped[bytes] = mapped_column(LargeBinary)
    holder_id_masked: Mapped[str] = mapped_column(String(32))
    holder_name_enc: Mapped[bytes] = mapped_column(LargeBinary)
    holder_name_masked: Mapped[str] = mapped_column(String(64))
    # Field values: the non-sensitive ones in clear, the sensitive ones as one AES-GCM blob.
    fields_clear: Mapped[dict] = mapped_column(JSON, default=dict)
    fields_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)          # null: no expiry (长期)
    region: Mapped[str] = mapped_column(String(8))                   # GB/T 2260 province code
    status: Mapped[str] = mapped_column(String(16), default="active")   # active | revoked
    revoked_at: Mapped[datetime | None] = mapped_column()
    version: Mapped[int] = mapped_column(Integer, default=1)
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class LicencePresentation(Base):
    """One `ssb-licence+jwt` shown by its holder; `id` is the token's jti. Valid once."""

    __tablename__ = "licence_presentations"
    __table_args__ = (Index("ix_licence_presentations_licence_id", "licence_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    licence_id: Mapped[int] = mapped_column(BigId, ForeignKey("licences.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    fields: Mapped[list] = mapped_column(JSON, default=list)
    purpose: Mapped[str | None] = mapped_column(String(128))
    commitment_salt: Mapped[str] = mapped_column(String(44))
    status: Mapped[str] = mapped_column(String(16), default="issued")    # issued | verified
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    verified_at: Mapped[datetime | None] = mapped_column()
    verified_by: Mapped[int | None] = mapped_column(BigId)
    venue_id: Mapped[int | None] = mapped_column(BigId)


class LicenceReminder(Base):
    """An expiry reminder, recorded once per (licence, threshold, expiry date): a renewed licence
    (new valid_until) is reminded again, the same expiry never twice."""

    __tablename__ = "licence_reminders"
    __table_args__ = (UniqueConstraint("licence_id", "threshold_days", "valid_until",
                                       name="uq_licence_reminders_licence_threshold"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    licence_id: Mapped[int] = mapped_column(BigId, ForeignKey("licences.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    threshold_days: Mapped[int] = mapped_column(Integer)
    valid_until: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="sent")   # sent (inbox) | recorded (no inbox)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()
