"""Venues, staff grants (cached in Redis for the verify hot path), place codes and check-ins,
and disabling accounts (which revokes their holder for offline scanners too)."""
from __future__ import annotations

import json
import secrets

from sqlalchemy import select

from api.access.records import record_access
from api.codes import holder_cache
from api.codes.models import Checkin, Revocation, Venue, VenueStaff
from api.db import from_timestamp
from api.error_codes import SUISHEN_CODE_ERRORS
from api.errors import AppError
from api.extensions import db, get_config, get_keyring, get_redis
from api.identity.models import User
from api.identity.tokens import Principal
from api.localcache import LocalCache, invalidation_view, publish_invalidation
from api.ops import invalidations
from api.unit_of_work import commit
from qr.codes import SCENES, CodeError, issue_place_code, verify_place_code

PLACE_CODE_TTL = 365 * 24 * 3600

# The scenes a venue of each kind accepts unless the operator lists them explicitly.
DEFAULT_SCENES = {
    "transit": ["general", "transport", "veteran"],
    "hospital": ["general", "medical"],
    "culture": ["general", "culture", "veteran"],
    "community": ["general", "home_service", "veteran"],
    "government": ["general", "enterprise", "veteran"],
    "office": ["general", "enterprise"],
    "other": ["general"],
}

MAX_ID = 2**63 - 1   # ids in URLs beyond BIGINT simply do not exist
STAFF_TTL = 3600
STAFF_MISSING_TTL = 60


def staff_key(venue_public_id: str) -> str:
    """One hash per venue: field "v" the venue, "u:<user_id>" each active grant's scenes."""
    return f"vs:{{{venue_public_id}}}"


def _venue_view(v: Venue) -> dict:
    return {"id": v.public_id, "name": v.name, "address": v.address, "district": v.district, "kind": v.kind,
            "scenes": list(v.scenes), "status": v.status, "created_at": v.created_at}


def _get_venue(public_id: str) -> Venue:
    venue = db.session.scalar(select(Venue).where(Venue.public_id == public_id))
    if venue is None:
        raise AppError("VENUE_NOT_FOUND")
    return venue


def staff_generation_key(venue_public_id: str) -> str:
    return f"vsg:{{{venue_public_id}}}"


def _invalidate_staff(public_id: str) -> None:
    """After the grant's commit: now, or once Redis answers again (api.ops.invalidations)."""
    invalidations.apply("venue_staff", {"venue": public_id})


@invalidations.handler("venue_staff")
def _apply_staff_invalidation(payload: dict) -> None:
    public_id = payload["venue"]
    pipe = get_redis().pipeline(transaction=False)
    pipe.incr(staff_generation_key(public_id))
    pipe.expire(staff_generation_key(public_id), STAFF_TTL * 2)
    pipe.delete(staff_key(public_id))
    pipe.execute()
    publish_invalidation(get_redis(), STAFF_LOCAL, [public_id])   # every process's copy (api.localcache)


# --------------------------------------------------------------------------- operators


def create_venue(*, operator: Principal, name: str, address: str, district: str, kind: str,
                 scenes: list[str] | None, now: int) -> dict:
    chosen = sorted(set(scenes)) if scenes else DEFAULT_SCENES[kind]
    if any(s not in SCENES for s in chosen):
        raise AppError("SCENES_NOT_OFFERED")
    venue = Venue(public_id="vn_" + secrets.token_hex(8), name=name.strip(), address=address.strip(),
                  district=district.strip(), kind=kind, scenes=chosen, status="active", created_by=operator.user_id,
                  created_at=from_timestamp(now))
    db.session.add(venue)
    commit()
    return _venue_view(venue)


def list_venues(*, before_id: int | None, limit: int) -> dict:
    query = select(Venue)
    if before_id:
        query = query.where(Venue.id < before_id)
    rows = list(db.session.scalars(query.order_by(Venue.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": [_venue_view(v) for v in rows], "next_cursor": str(rows[-1].id) if more and rows else None}


def get_venue(public_id: str) -> dict:
    return _venue_view(_get_venue(public_id))


def venue_named(name: str, *, created_by: int) -> dict | None:
    """The oldest venue of this name an operator created, or None (lets scripts be re-run)."""
    venue = db.session.scalar(select(Venue).where(Venue.name == name, Venue.created_by == created_by)
                              .order_by(Venue.id).limit(1))
    return None if venue is None else _venue_view(venue)


def _staff_view(grant: VenueStaff, user: User) -> dict:
    from api.pii import mask_phone
    return {"user_id": user.id, "phone": mask_phone(user.phone), "name": user.masked_name,
            "scenes": list(grant.scenes), "granted_at": grant.granted_at, "revoked_at": grant.revoked_at}


def grant_staff(*, operator: Principal, venue_id: str, phone: str, scenes: list[str], now: int) -> dict:
    from api.identity.sessions import get_or_create_user

    venue = _get_venue(venue_id)
    scenes = sorted(set(scenes))
    if not set(scenes) <= set(venue.scenes):
        raise AppError("SCENES_NOT_OFFERED", errors={"scenes": sorted(set(scenes) - set(venue.scenes))})
    user = get_or_create_user(phone, now=now)
    if user.status != "active":
        raise AppError("ACCOUNT_DISABLED")
    if "staff" not in user.roles:
        user.roles = sorted(set(user.roles) | {"staff"})
    grant = db.session.scalar(select(VenueStaff).where(VenueStaff.venue_id == venue.id,
                                                       VenueStaff.user_id == user.id))
    if grant is None:
        grant = VenueStaff(venue_id=venue.id, user_id=user.id)
        db.session.add(grant)
    grant.scenes = scenes
    grant.granted_by = operator.user_id
    grant.granted_at = from_timestamp(now)
    grant.revoked_at = None
    commit()
    _invalidate_staff(venue.public_id)
    return _staff_view(grant, user)


def my_venues(principal: Principal) -> dict:
    """The active venues where the caller holds a staff grant, with the scenes granted there (what
    a scanner offers to pick from); empty for anyone else. Grants count at once, whatever roles
    the caller's token carries."""
    rows = db.session.execute(select(Venue, VenueStaff).join(VenueStaff, VenueStaff.venue_id == Venue.id)
                              .where(VenueStaff.user_id == principal.user_id, VenueStaff.revoked_at.is_(None),
                                     Venue.status == "active")
                              .order_by(Venue.name, Venue.id))
    return {"items": [_venue_view(v) | {"granted_scenes": list(grant.scenes), "granted_at": grant.granted_at}
                      for v, grant in rows]}


def venue_served_by(public_id: str, user_id: int) -> Venue:
    """The active venue `public_id` where `user_id` holds an active staff grant (any scenes): the
    check for venue-staff acts other than code scans (licence checks). Raises VENUE_NOT_FOUND or
    NOT_STAFF_OF_VENUE."""
    venue = db.session.scalar(select(Venue).where(Venue.public_id == public_id))
    if venue is None or venue.status != "active":
        raise AppError("VENUE_NOT_FOUND")
    granted = db.session.scalar(select(VenueStaff.id).where(
        VenueStaff.venue_id == venue.id, VenueStaff.user_id == user_id, VenueStaff.revoked_at.is_(None)))
    if granted is None:
        raise AppError("NOT_STAFF_OF_VENUE")
    return venue


def list_staff(*, venue_id: str) -> list[dict]:
    venue = _get_venue(venue_id)
    rows = db.session.execute(select(VenueStaff, User).join(User, VenueStaff.user_id == User.id)
                              .where(VenueStaff.venue_id == venue.id, VenueStaff.revoked_at.is_(None))
                              .order_by(VenueStaff.id))
    return [_staff_view(g, u) for g, u in rows]


def revoke_staff(*, venue_id: str, user_id: int, now: int) -> None:
    venue = _get_venue(venue_id)
    if not 0 < user_id <= MAX_ID:
        raise AppError("STAFF_NOT_FOUND")
    grant = db.session.scalar(select(VenueStaff).where(VenueStaff.venue_id == venue.id,
                                                       VenueStaff.user_id == user_id,
                                                       VenueStaff.revoked_at.is_(None)))
    if grant is None:
        raise AppError("STAFF_NOT_FOUND")
    grant.revoked_at = from_timestamp(now)
    commit()
    _invalidate_staff(venue.public_id)


def disable_user(*, operator: Principal, user_id: int, reason: str | None, now: int) -> dict:
    """The account stops working at once: sessions revoked, codes refused by our verifier, and
    the holder id published in the revocation feed for offline scanners. Idempotent."""
    from api.identity.sessions import revoke_all_sessions

    user = db.session.get(User, user_id) if 0 < user_id <= MAX_ID else None
    if user is None:
        raise AppError("USER_NOT_FOUND")
    if user.id == operator.user_id:
        raise AppError("CANNOT_DISABLE_SELF")
    if user.status != "disabled":
        user.status = "disabled"
        db.session.add(Revocation(kind="holder", subject=user.holder_id, reason=(reason or "disabled")[:64],
                                  created_at=from_timestamp(now)))
        commit()
        revoke_all_sessions(user.id, reason="disabled", now=now)
    holder_cache.evict([user.holder_id])
    return {"id": user.id, "status": user.status}


# --------------------------------------------------------------------------- the verify hot path


STAFF_LOCAL = "staff"      # api.localcache namespace: venue id -> (venue, {user id: scenes})


def local_staff_lookup(venue_public_id: str, user_id: int):
    """(venue, scenes) from this process's copy, or LocalCache.MISSING."""
    entry = invalidation_view().cache(STAFF_LOCAL).get(venue_public_id)
    if entry is LocalCache.MISSING or user_id not in entry[1]:
        return LocalCache.MISSING
    return entry[0], entry[1][user_id]


def staff_fill_token() -> int:
    return invalidation_view().cache(STAFF_LOCAL).fill_token()


def remember_staff_lookup(venue_public_id: str, user_id: int, result: tuple, token: int) -> None:
    cache = invalidation_view().cache(STAFF_LOCAL)
    entry = cache.get(venue_public_id)
    users = dict(entry[1]) if entry is not LocalCache.MISSING and entry[0] == result[0] else {}
    users[user_id] = result[1]
    cache.put(venue_public_id, (result[0], users), token)


def staff_lookup_commands(pipe, venue_public_id: str, user_id: int) -> None:
    pipe.hmget(staff_key(venue_public_id), ["v", f"u:{user_id}"])


def staff_lookup_result(venue_public_id: str, user_id: int, raw: list) -> tuple[dict | None, list | None]:
    """(venue, scenes granted to this user or None); fills the cache on a miss."""
    venue_raw, scenes_raw = raw
    if venue_raw is None:
        return _fill_staff_cache(venue_public_id, user_id)
    venue = json.loads(venue_raw)
    if not venue:
        return None, None
    return venue, json.loads(scenes_raw) if scenes_raw is not None else None


def _fill_staff_cache(venue_public_id: str, user_id: int) -> tuple[dict | None, list | None]:
    """Read the venue and its grants, and cache them unless a grant changed meanwhile (WATCH on
    the venue's generation, bumped by every change: a revoked grant is never cached back)."""
    from redis.exceptions import WatchError

    redis = get_redis()
    key = staff_key(venue_public_id)
    with redis.pipeline(transaction=True) as pipe:
        pipe.watch(staff_generation_key(venue_public_id))
        venue = db.session.scalar(select(Venue).where(Venue.public_id == venue_public_id))
        if venue is None or venue.status != "active":
            info, mine, mapping, ttl = None, None, {"v": "{}"}, STAFF_MISSING_TTL
        else:
            grants = db.session.execute(select(VenueStaff.user_id, VenueStaff.scenes).where(
                VenueStaff.venue_id == venue.id, VenueStaff.revoked_at.is_(None))).all()
            info = {"id": venue.public_id, "name": venue.name, "district": venue.district,
                    "scenes": list(venue.scenes)}
            mapping = {"v": json.dumps(info, ensure_ascii=False)}
            mapping.update({f"u:{uid}": json.dumps(list(scenes)) for uid, scenes in grants})
            mine, ttl = next((list(s) for uid, s in grants if uid == user_id), None), STAFF_TTL
        pipe.multi()
        pipe.delete(key)
        pipe.hset(key, mapping=mapping)
        pipe.expire(key, ttl)
        try:
            pipe.execute()
        except WatchError:
            pass   # answer this request from what we read; the next one reads again
    return info, mine


# --------------------------------------------------------------------------- place codes


def place_code(*, principal: Principal, venue_id: str, now: int) -> dict:
    """Staff of the venue or operators. Re-signed on each request with the current key."""
    venue = _get_venue(venue_id)
    if not principal.has_role("operator"):
        granted = db.session.scalar(select(VenueStaff.id).where(
            VenueStaff.venue_id == venue.id, VenueStaff.user_id == principal.user_id,
            VenueStaff.revoked_at.is_(None)))
        if granted is None:
            raise AppError("NOT_VENUE_MANAGER")
    cfg = get_config()
    code = issue_place_code(ring=get_keyring(), issuer=cfg.TOKEN_ISSUER, venue_id=venue.public_id, name=venue.name,
                            district=venue.district, now=now, ttl=PLACE_CODE_TTL)
    return {"payload": code.payload, "expires_at": code.expires_at,
            "venue": {"id": venue.public_id, "name": venue.name, "district": venue.district}}


def check_in(*, principal: Principal, payload: str, now: int) -> dict:
    cfg = get_config()
    try:
        # The server's whole ring (retired keys included): a printed place code outlives the
        # JWKS publication of its key; a key's retirement time bounds what it may have signed.
        claims = verify_place_code(payload, get_keyring(), now, leeway=cfg.CLOCK_SKEW, issuer=cfg.TOKEN_ISSUER)
    except CodeError as exc:
        raise AppError(_code_error(exc.code)) from None
    venue = db.session.scalar(select(Venue).where(Venue.public_id == claims["sub"]))
    if venue is None or venue.status != "active":
        raise AppError("VENUE_NOT_FOUND")
    user = db.session.get(User, principal.user_id)
    if user is None or user.status != "active":
        raise AppError("ACCOUNT_DISABLED")
    checkin = Checkin(user_id=user.id, venue_id=venue.id, place_code_jti=str(claims["jti"])[:32],
                      created_at=from_timestamp(now))
    db.session.add(checkin)
    record_access(user_id=user.id, kind="checkin", now=now, subject_ref=venue.public_id,
                  accessor={"type": "venue", "venue_id": venue.public_id, "venue_name": venue.name,
                            "district": venue.district})
    commit()
    return {"id": checkin.id, "venue": {"id": venue.public_id, "name": venue.name, "district": venue.district},
            "checked_in_at": checkin.created_at}


def _code_error(code: str) -> str:
    return code if code in SUISHEN_CODE_ERRORS else "MALFORMED_CODE"


def list_revocations(*, since: int | None, limit: int) -> dict:
    query = select(Revocation)
    if since:
        query = query.where(Revocation.id > since)
    rows = list(db.session.scalars(query.order_by(Revocation.id).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = str(rows[-1].id) if rows else (str(since) if since else None)
    return {"items": [{"id": r.id, "kind": r.kind, "subject": r.subject, "reason": r.reason,
                       "until": int(r.until.timestamp()) if r.until else None, "created_at": r.created_at}
                      for r in rows],
            "next_cursor": cursor, "more": more}


def record_key_retired(*, kid: str, published_until: int, now: int) -> None:
    db.session.add(Revocation(kind="key", subject=kid, reason="rotated", until=from_timestamp(published_until),
                              created_at=from_timestamp(now)))
    commit()
