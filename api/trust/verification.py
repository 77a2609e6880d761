"""Verifying a peer platform's code at one of our venues (POST /v1/verify delegates here).

The caller (api/codes) has already checked that the scanning staff member may scan at the venue
and found that the code is not a valid code of ours. Here the code's unverified `iss` only
selects the registered peer; everything else is checked against that peer's registration:
its key set (never ours, never another peer's), its `typ` values and algorithms, the scenes we
trust it for, and the scenes the venue and the staff member accept. Replay protection is the
same as for our codes (single-use scenes burn the code's issuer + jti in Redis), and an
accepted scan is recorded in `trust_peer_scans` (pseudonymous `sub` only, kept 30 days).
"""
from __future__ import annotations

import logging

from sqlalchemy import select

from api.db import from_timestamp
from api.errors import AppError
from api.extensions import db, get_config, get_redis
from api.identity.tokens import Principal
from api.trust.keystate import key_status
from api.trust.models import PeerScan, TrustPeer
from api.trust.regions import region_name
from api.unit_of_work import commit
from qr.codes import SINGLE_USE_SCENES, CodeError
from qr.federation import key_set, replay_digest, unverified_issuer, verify_peer_code

log = logging.getLogger("ssb.trust")


def foreign_issuer(payload) -> str | None:
    """The issuer a payload claims when it is not ours (unverified: to select a key set only)."""
    issuer = unverified_issuer(payload)
    return None if issuer is None or issuer == get_config().TOKEN_ISSUER else issuer


def _peer(issuer: str) -> TrustPeer:
    peer = db.session.scalar(select(TrustPeer).where(TrustPeer.issuer == issuer))
    if peer is None:
        raise AppError("CODE_WRONG_ISSUER")   # neither ours nor a platform we trust
    return peer


def _claims(peer: TrustPeer, payload: str, now: int) -> dict:
    cfg = get_config()
    if key_status(peer, now=now, max_age=cfg.TRUST_KEYS_MAX_AGE) not in ("current", "stale"):
        raise AppError("CODE_ISSUER_KEYS_EXPIRED", headers={"Retry-After": "60"})
    try:
        return verify_peer_code(payload, keys=key_set(peer.keys), types=peer.token_types, issuer=peer.issuer,
                                algorithms=peer.algorithms, scenes=peer.scenes, now=now, leeway=cfg.CLOCK_SKEW)
    except CodeError as exc:
        raise AppError(exc.code) from None


def peer_replay_key(issuer: str, jti: str) -> str:
    return f"code:p:{{{replay_digest(issuer, jti)}}}"


def verify_peer_code_at_venue(*, principal: Principal, payload: str, venue: dict, staff_scenes: list,
                              now: int) -> dict | None:
    """The verify answer for a peer's code, or None when the payload names no issuer or ours
    (the caller then keeps its own refusal). An issuer we do not trust is CODE_WRONG_ISSUER."""
    issuer = foreign_issuer(payload)
    if issuer is None:
        return None
    peer = _peer(issuer)
    claims = _claims(peer, payload, now)
    scene = claims["scn"]
    if scene not in venue["scenes"] or scene not in staff_scenes:
        raise AppError("SCENE_NOT_ALLOWED")
    burned = None
    redis = get_redis()
    if scene in SINGLE_USE_SCENES:
        burned = peer_replay_key(peer.issuer, claims["jti"])
        if not redis.set(burned, 1, nx=True, exat=claims["exp"] + get_config().CLOCK_SKEW + 1):
            raise AppError("CODE_REPLAYED")
    try:
        db.session.add(PeerScan(peer_id=peer.id, issuer=peer.issuer, sub=claims["sub"], jti=claims["jti"],
                                scene=scene, venue_id=venue["id"], staff_user_id=principal.user_id,
                                scanned_at=from_timestamp(now)))
        commit()
    except Exception:
        db.session.rollback()
        if burned:   # not recorded: the holder may present the code again
            try:
                redis.delete(burned)
            except Exception:
                log.warning("could not release replay key", exc_info=True)
        raise
    return _answer(peer, claims, venue, now)


def _answer(peer: TrustPeer, claims: dict, venue: dict, now: int) -> dict:
    return {"valid": True, "verdict": "accepted", "scene": claims["scn"],
            # We know nothing about the holder but the peer's pseudonym: no name, and the real-name
            # check is the peer's (it is trusted for this scene), not ours.
            "holder": {"name": None, "real_name_verified": False},
            "entitlement": {"mutual_recognition": True},
            "venue": {"id": venue["id"], "name": venue["name"], "district": venue.get("district")},
            "issuer": {"name": peer.name, "region": peer.region, "region_name": region_name(peer.region)},
            "expires_at": int(claims["exp"]), "checked_at": now}
