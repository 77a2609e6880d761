"""Refreshing peers' JWKS: one peer now (operators, the job), every due peer (the loop), purging.

Scheduling (the same shape as the push relay): `flask --app wsgi trust refresh --loop` (started
by `make run`; in production one such process, or cron running it without --loop) claims the
peers whose `next_refresh_at` has passed and enqueues one `refresh_peer_job` each for the
Dramatiq workers (or refreshes them itself with --inline, or when the broker is down). A claim
is a conditional UPDATE that moves `next_refresh_at` CLAIM_LEASE ahead, so several loops or a
slow worker never fetch one peer twice; the refresh itself then sets the real next time from the
peer's Cache-Control max-age (clamped), or backs off after a failure. A Redis lock per peer
keeps an operator's "refresh now" and a job from running at the same moment.

No transaction is held open while a peer answers: the peer row is read, the transaction ends,
the fetch runs, and the outcome is written in a second short transaction.
"""
from __future__ import annotations

import logging
import secrets

from sqlalchemy import delete, select, update

from api.db import from_timestamp
from api.errors import AppError
from api.extensions import db, get_config, get_redis
from api.extensions import now as clock_now
from api.jobs import job
from api.trust.fetcher import FetchOutcome, JwksClient
from api.trust.keystate import usable_keys
from api.trust.models import PeerScan, TrustPeer, TrustRefresh
from api.unit_of_work import commit
from qr.federation import JwksError, parse_jwks

log = logging.getLogger("ssb.trust")

QUEUE = "trust"
CLAIM_LEASE = 300
MAX_ETAG = 256


def jwks_client(cfg) -> JwksClient:
    return JwksClient(timeout_ms=cfg.TRUST_FETCH_TIMEOUT_MS, deadline_ms=cfg.TRUST_FETCH_DEADLINE_MS,
                      max_bytes=cfg.TRUST_JWKS_MAX_BYTES)


# --------------------------------------------------------------------------- one peer


def refresh_peer(peer_id: int, *, now: int) -> TrustRefresh:
    """Fetch one peer's JWKS now and record the outcome. Raises PEER_NOT_FOUND or
    PEER_REFRESH_IN_PROGRESS; a peer that fails to answer is a recorded outcome, not an error."""
    cfg = get_config()
    redis = get_redis()
    lock, token = f"trust:refresh:{peer_id}", secrets.token_hex(8)
    if not redis.set(lock, token, nx=True, px=cfg.TRUST_FETCH_DEADLINE_MS + 5000):
        raise AppError("PEER_REFRESH_IN_PROGRESS")
    try:
        return _refresh_locked(peer_id, now=now, cfg=cfg)
    finally:
        if redis.get(lock) == token.encode():
            redis.delete(lock)


def _refresh_locked(peer_id: int, *, now: int, cfg) -> TrustRefresh:
    peer = db.session.get(TrustPeer, peer_id)
    if peer is None:
        raise AppError("PEER_NOT_FOUND")
    url, etag = peer.jwks_url, peer.etag if peer.keys_fetched_at is not None else None
    commit()   # end the read: no transaction stays open while the peer answers
    outcome = jwks_client(cfg).fetch(url, etag=etag)
    peer = db.session.get(TrustPeer, peer_id, populate_existing=True)
    if peer is None:   # removed while we were fetching
        raise AppError("PEER_NOT_FOUND")
    record = _apply(peer, outcome, now=now, cfg=cfg)
    db.session.add(record)
    commit()
    log.info("peer keys refreshed", extra={"peer_id": peer_id, "status": record.status,
                                           "key_count": record.key_count, "error": record.error})
    return record


def _apply(peer: TrustPeer, outcome: FetchOutcome, *, now: int, cfg) -> TrustRefresh:
    record = TrustRefresh(peer_id=peer.id, started_at=from_timestamp(now), status=outcome.status,
                          http_status=outcome.http_status, duration_ms=outcome.duration_ms)
    if outcome.status == "error":
        return _failed(peer, record, outcome.error or "error", now=now, cfg=cfg)
    if outcome.status == "not_modified":
        if peer.keys_fetched_at is None:
            return _failed(peer, record, "unexpected 304 without a cached document", now=now, cfg=cfg)
    else:
        try:
            keys, skipped = parse_jwks(outcome.document, algorithms=peer.algorithms)
        except JwksError as exc:
            return _failed(peer, record, f"invalid_jwks: {exc}", now=now, cfg=cfg)
        peer.keys = [k.jwk for k in keys]   # a key the peer withdrew is gone from here on
        record.detail = ("skipped " + "; ".join(skipped))[:255] if skipped else None
    if outcome.etag and len(outcome.etag) <= MAX_ETAG:
        peer.etag = outcome.etag
    elif outcome.status == "ok":
        peer.etag = None
    peer.keys_fetched_at = from_timestamp(now)
    peer.failures = 0
    peer.next_refresh_at = from_timestamp(now + _interval(outcome.max_age, cfg))
    record.key_count = len(peer.keys)
    return record


def _interval(max_age: int | None, cfg) -> int:
    if max_age is None:
        return cfg.TRUST_REFRESH_DEFAULT
    return min(max(max_age, cfg.TRUST_REFRESH_MIN), cfg.TRUST_REFRESH_MAX)


def _failed(peer: TrustPeer, record: TrustRefresh, error: str, *, now: int, cfg) -> TrustRefresh:
    """Keep the last good keys (they verify until TRUST_KEYS_MAX_AGE) and retry with backoff."""
    record.status, record.error = "error", error[:255]
    peer.failures = (peer.failures or 0) + 1
    backoff = cfg.TRUST_REFRESH_MIN * 2 ** min(peer.failures - 1, 10)
    peer.next_refresh_at = from_timestamp(now + min(backoff, cfg.TRUST_REFRESH_DEFAULT))
    record.key_count = len(usable_keys(peer, now=now, max_age=cfg.TRUST_KEYS_MAX_AGE))
    return record


def refresh_quietly(peer_id: int, *, now: int) -> str:
    """For jobs and the loop: the outcome's status, or why nothing ran."""
    try:
        return refresh_peer(peer_id, now=now).status
    except AppError as exc:   # removed meanwhile, or an operator's refresh is running
        db.session.rollback()
        return exc.error.name.lower()


@job(queue_name=QUEUE, max_retries=0, time_limit=120_000)
def refresh_peer_job(peer_id: int) -> None:
    refresh_quietly(peer_id, now=clock_now())


def kick(peer_id: int) -> bool:
    """Best effort: a refresh soon (a new peer); the loop catches up if the broker is down."""
    try:
        refresh_peer_job.send(peer_id)
        return True
    except Exception as exc:
        log.warning("trust refresh kick failed", extra={"error": type(exc).__name__})
        return False


# --------------------------------------------------------------------------- every due peer


def claim_due(*, now: int, limit: int = 100) -> list[int]:
    """Peers due for a refresh, each claimed by exactly one caller."""
    moment = from_timestamp(now)
    due = db.session.scalars(select(TrustPeer.id).where(TrustPeer.next_refresh_at <= moment)
                             .order_by(TrustPeer.next_refresh_at).limit(limit)).all()
    claimed = []
    for peer_id in due:
        result = db.session.execute(
            update(TrustPeer).where(TrustPeer.id == peer_id, TrustPeer.next_refresh_at <= moment)
            .values(next_refresh_at=from_timestamp(now + CLAIM_LEASE)).execution_options(synchronize_session=False))
        if result.rowcount == 1:
            claimed.append(peer_id)
    commit()
    return claimed


def refresh_due(*, now: int, inline: bool = False) -> dict:
    """Claim every due peer; enqueue a job each (or refresh here with `inline`)."""
    counts = {"due": 0, "queued": 0, "ok": 0, "not_modified": 0, "error": 0, "skipped": 0}
    for peer_id in claim_due(now=now):
        counts["due"] += 1
        if not inline and kick(peer_id):
            counts["queued"] += 1
            continue
        status = refresh_quietly(peer_id, now=now)
        counts[status if status in counts else "skipped"] += 1
    return counts


def purge(*, now: int) -> dict:
    """Delete peer scans and refresh records older than TRUST_SCAN_RETENTION_DAYS."""
    cutoff = from_timestamp(now - get_config().TRUST_SCAN_RETENTION_DAYS * 86400)
    scans = db.session.execute(delete(PeerScan).where(PeerScan.scanned_at < cutoff)).rowcount
    refreshes = db.session.execute(delete(TrustRefresh).where(TrustRefresh.started_at < cutoff)).rowcount
    commit()
    return {"scans": scans, "refreshes": refreshes}
