"""Access records: every read of a resident's data by someone else, which the resident can list."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, BigId, utcnow

# guardian_act: a guardian acted for this resident (api.family); family_consent: a clerk recorded
# the resident's agreement to a guardian in person. Records about a dependent name the guardian
# in `accessor.guardian` (masked). proof_check: someone checked one of my e-proofs (public or
# signed in); proof_request_view: a department was shown my identity to decide my e-proof request.
ACCESS_KINDS = ("code_scan", "checkin", "licence_view", "miniprogram_release", "guardian_act", "family_consent",
                "proof_check", "proof_request_view")


class AccessRecord(Base):
    __tablename__ = "access_records"
    __table_args__ = (Index("ix_access_records_user_id_id", "user_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    # Who looked: {"type": "venue_staff"|"miniprogram"|..., "name": ..., "venue_id": ...}
    accessor: Mapped[dict] = mapped_column(JSON, default=dict)
    scene: Mapped[str | None] = mapped_column(String(32))
    purpose: Mapped[str | None] = mapped_column(String(128))
    fields: Mapped[list] = mapped_column(JSON, default=list)
    subject_ref: Mapped[str | None] = mapped_column(String(64))   # e.g. licence id
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
