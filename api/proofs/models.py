"""E-proofs (电子证明): a resident's requests, the proofs issued for them, and the revocation feed.

Personal data in a proof (the holder's full name, the field values) are stored only encrypted
(AES-GCM, bound to the proof number); what the resident's listings show is kept masked beside.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, BigId, utcnow

REQUEST_STATUSES = ("pending", "issued", "refused", "withdrawn")


class ProofRequest(Base):
    """A resident asked for a proof of one type, for one purpose."""

    __tablename__ = "proof_requests"
    __table_args__ = (Index("ix_proof_requests_user_id_id", "user_id", "id"),
                      Index("ix_proof_requests_type_status_id", "type", "status", "id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(40))
    purpose: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    # "<user_id>:<type>" while pending, NULL once decided or withdrawn. Unique, so a second pending
    # request of the same type fails at the insert on every backend (NULLs never collide).
    pending_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    refusal_reason: Mapped[str | None] = mapped_column(String(500))
    decided_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("licence_issuers.id"))
    # Departments that have been shown the holder's identity for this request (access-logged once each).
    disclosed_to: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column()


class Proof(Base):
    """An issued proof. `number` is public (printed, and the `jti` of its payload); `id` is ours."""

    __tablename__ = "proofs"
    __table_args__ = (Index("ix_proofs_user_id_id", "user_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    request_id: Mapped[int] = mapped_column(BigId, ForeignKey("proof_requests.id", ondelete="CASCADE"),
                                            unique=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(40))
    # NULL: issued at once from registry data by the platform itself.
    issuer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("licence_issuers.id"))
    issuer_name: Mapped[str] = mapped_column(String(128))
    holder_name_enc: Mapped[bytes] = mapped_column(LargeBinary)
    holder_name_masked: Mapped[str] = mapped_column(String(64))
    holder_id_type: Mapped[str] = mapped_column(String(24))
    holder_id_masked: Mapped[str] = mapped_column(String(32))
    fields_enc: Mapped[bytes] = mapped_column(LargeBinary)
    purpose: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="issued")     # issued | revoked
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    valid_from: Mapped[datetime] = mapped_column()
    valid_until: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()


class ProofRevocation(Base):
    """The append-only feed offline verifiers read (`id` is the cursor). `valid_until` tells them
    when they may forget the entry: the proof stops verifying by itself then."""

    __tablename__ = "proof_revocations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    proof_id: Mapped[int] = mapped_column(BigId, ForeignKey("proofs.id", ondelete="CASCADE"), unique=True)
    number: Mapped[str] = mapped_column(String(24))
    valid_until: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
