"""Which of a peer's stored keys may verify right now.

A peer's last good keys keep verifying while it is unreachable, until TRUST_KEYS_MAX_AGE has
passed since the peer last confirmed them (a 200 or a 304); then none of them verify until a
refresh succeeds again.
"""
from __future__ import annotations

from api.trust.models import TrustPeer


def keys_valid_until(peer: TrustPeer, max_age: int) -> int | None:
    if peer.keys_fetched_at is None:
        return None
    return int(peer.keys_fetched_at.timestamp()) + max_age


def key_status(peer: TrustPeer, *, now: int, max_age: int) -> str:
    """pending (never fetched), current, stale (last refresh failed; last good keys still in
    use) or expired (too old to use)."""
    until = keys_valid_until(peer, max_age)
    if until is None:
        return "pending"
    if now > until:
        return "expired"
    return "stale" if peer.failures else "current"


def usable_keys(peer: TrustPeer, *, now: int, max_age: int) -> list[dict]:
    return list(peer.keys or []) if key_status(peer, now=now, max_age=max_age) in ("current", "stale") else []
