"""Operators register, list, inspect, refresh and remove peer platforms."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from api.db import from_timestamp
from api.errors import AppError
from api.extensions import db, get_config
from api.identity.tokens import Principal
from api.trust import refresh
from api.trust.fetcher import url_refusal
from api.trust.keystate import key_status, keys_valid_until
from api.trust.models import TrustPeer, TrustRefresh
from api.trust.regions import region_name
from api.unit_of_work import after_commit, commit
from qr.federation import PEER_ALGORITHMS, TRUST_LIST_TYP

# Token types we sign ourselves: a peer signs under its own, so no verifier can confuse the two.
RESERVED_TYPES = frozenset({"at+jwt", "ssb-code+jwt", "ssb-licence+jwt", "ssb-place+jwt", TRUST_LIST_TYP})
RECENT_REFRESHES = 20


def _same_issuer(a: str, b: str) -> bool:
    """Issuers compared as a person would read them (case, trailing slash)."""
    return a.strip().rstrip("/").lower() == b.strip().rstrip("/").lower()


def _check_registration(issuer: str, jwks_url: str, token_types: list[str]) -> None:
    if _same_issuer(issuer, get_config().TOKEN_ISSUER):
        raise AppError("PEER_ISSUER_IS_OURS", errors={"issuer": ["our own issuer"]})
    refusal = url_refusal(jwks_url)
    if refusal:
        raise AppError("PEER_URL_NOT_ALLOWED", errors={"jwks_url": [refusal]})
    reserved = sorted(set(token_types) & RESERVED_TYPES)
    if reserved:
        raise AppError("PEER_TYPE_RESERVED", errors={"token_types": reserved})


def create_peer(*, operator: Principal, name: str, region: str, issuer: str, jwks_url: str,
                token_types: list[str], scenes: list[str], algorithms: list[str] | None, now: int) -> dict:
    """Register a peer; its keys are fetched right after (a job), then on its own schedule."""
    _check_registration(issuer, jwks_url, token_types)
    taken = db.session.scalars(select(TrustPeer.issuer)).all()
    if any(_same_issuer(issuer, other) for other in taken):
        raise AppError("PEER_ISSUER_TAKEN")
    peer = TrustPeer(name=name, region=region, issuer=issuer, jwks_url=jwks_url,
                     token_types=sorted(set(token_types)), scenes=sorted(set(scenes)),
                     algorithms=sorted(set(algorithms or PEER_ALGORITHMS)), keys=[], failures=0,
                     next_refresh_at=from_timestamp(now), created_by=operator.user_id,
                     created_at=from_timestamp(now))
    db.session.add(peer)
    try:
        db.session.flush()
    except IntegrityError:   # registered concurrently
        db.session.rollback()
        raise AppError("PEER_ISSUER_TAKEN") from None
    peer_id = peer.id
    after_commit(lambda: refresh.kick(peer_id))
    commit()
    return peer_view(peer, None, now=now)


def _get(peer_id: int) -> TrustPeer:
    peer = db.session.get(TrustPeer, peer_id) if 0 < peer_id < 2**63 else None
    if peer is None:
        raise AppError("PEER_NOT_FOUND")
    return peer


def list_peers(*, now: int) -> dict:
    peers = db.session.scalars(select(TrustPeer).order_by(TrustPeer.id)).all()
    latest = select(func.max(TrustRefresh.id)).group_by(TrustRefresh.peer_id)
    last = {r.peer_id: r for r in db.session.scalars(select(TrustRefresh).where(TrustRefresh.id.in_(latest)))}
    return {"items": [peer_view(p, last.get(p.id), now=now) for p in peers]}


def get_peer(peer_id: int, *, now: int) -> dict:
    peer = _get(peer_id)
    recent = db.session.scalars(select(TrustRefresh).where(TrustRefresh.peer_id == peer.id)
                                .order_by(TrustRefresh.id.desc()).limit(RECENT_REFRESHES)).all()
    view = peer_view(peer, recent[0] if recent else None, now=now)
    view["refreshes"] = [refresh_view(r) for r in recent]
    return view


def refresh_now(peer_id: int, *, now: int) -> dict:
    """Fetch the peer's JWKS now (operators); answers the peer with this refresh's outcome."""
    _get(peer_id)
    record = refresh.refresh_peer(peer_id, now=now)
    return peer_view(_get(peer_id), record, now=now)


def delete_peer(peer_id: int) -> None:
    """Stop trusting a peer at once: its codes are refused and it leaves the next trust list."""
    db.session.delete(_get(peer_id))
    commit()


def refresh_view(r: TrustRefresh) -> dict:
    return {"at": r.started_at, "status": r.status, "http_status": r.http_status, "key_count": r.key_count,
            "error": r.error, "detail": r.detail, "duration_ms": r.duration_ms}


def peer_view(peer: TrustPeer, last: TrustRefresh | None, *, now: int) -> dict:
    max_age = get_config().TRUST_KEYS_MAX_AGE
    until = keys_valid_until(peer, max_age)
    return {"id": peer.id, "name": peer.name, "region": peer.region, "region_name": region_name(peer.region),
            "issuer": peer.issuer, "jwks_url": peer.jwks_url, "token_types": list(peer.token_types),
            "scenes": list(peer.scenes), "algorithms": list(peer.algorithms),
            "key_status": key_status(peer, now=now, max_age=max_age),
            "keys": [{"kid": k["kid"], "alg": k["alg"]} for k in peer.keys or []],
            "keys_fetched_at": peer.keys_fetched_at, "keys_valid_until": from_timestamp(until) if until else None,
            "next_refresh_at": peer.next_refresh_at, "consecutive_failures": peer.failures,
            "last_refresh": refresh_view(last) if last is not None else None, "created_at": peer.created_at}
