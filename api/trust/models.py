"""Peer platforms of the trust federation, their key refreshes, and scans of their codes."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, BigId, utcnow


class TrustPeer(Base):
    """Another province's platform whose codes we verify. `keys` is the last good set of its
    public keys (normalised JWKs), confirmed by the peer at `keys_fetched_at`."""

    __tablename__ = "trust_peers"
    __table_args__ = (Index("ix_trust_peers_next_refresh_at", "next_refresh_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64))
    region: Mapped[str] = mapped_column(String(6))                  # GB/T 2260
    issuer: Mapped[str] = mapped_column(String(255), unique=True)   # the `iss` of its codes
    jwks_url: Mapped[str] = mapped_column(String(2048))
    token_types: Mapped[list] = mapped_column(JSON, default=list)   # `typ` values it signs codes with
    scenes: Mapped[list] = mapped_column(JSON, default=list)        # scenes we trust it for
    algorithms: Mapped[list] = mapped_column(JSON, default=list)    # subset of EdDSA, ES256
    keys: Mapped[list] = mapped_column(JSON, default=list)
    keys_fetched_at: Mapped[datetime | None] = mapped_column()
    etag: Mapped[str | None] = mapped_column(String(256))
    next_refresh_at: Mapped[datetime] = mapped_column(default=utcnow)
    failures: Mapped[int] = mapped_column(Integer, default=0)      # consecutive failed refreshes
    created_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TrustRefresh(Base):
    """One fetch of a peer's JWKS: `ok` (new document), `not_modified` (ETag) or `error`."""

    __tablename__ = "trust_refreshes"
    __table_args__ = (Index("ix_trust_refreshes_peer_id_id", "peer_id", "id"),
                      Index("ix_trust_refreshes_started_at", "started_at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    peer_id: Mapped[int] = mapped_column(BigId, ForeignKey("trust_peers.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(16))
    http_status: Mapped[int | None] = mapped_column(Integer)
    key_count: Mapped[int] = mapped_column(Integer, default=0)      # keys held after this refresh
    error: Mapped[str | None] = mapped_column(String(255))
    detail: Mapped[str | None] = mapped_column(String(255))         # e.g. keys skipped as unusable
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)


class PeerScan(Base):
    """A peer's code accepted at one of our venues. The holder has no account here, so this is
    our only record of it: the peer's pseudonymous `sub`, never a name or identity number; kept
    TRUST_SCAN_RETENTION_DAYS (30) days, then purged by `flask trust purge` / the refresh loop."""

    __tablename__ = "trust_peer_scans"
    __table_args__ = (Index("ix_trust_peer_scans_scanned_at", "scanned_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    peer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("trust_peers.id", ondelete="SET NULL"))
    issuer: Mapped[str] = mapped_column(String(255))
    sub: Mapped[str] = mapped_column(String(256))
    jti: Mapped[str] = mapped_column(String(256))
    scene: Mapped[str] = mapped_column(String(32))
    venue_id: Mapped[str] = mapped_column(String(24))               # the venue's public id
    staff_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    scanned_at: Mapped[datetime] = mapped_column(default=utcnow)
