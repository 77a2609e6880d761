"""Operational records: cache invalidations waiting for Redis."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, BigId, utcnow


class PendingInvalidation(Base):
    """A cache invalidation that failed after its change committed (Redis unreachable), kept
    until it is applied (api.ops.invalidations.drain)."""

    __tablename__ = "pending_invalidations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
