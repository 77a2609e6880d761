"""随申码: issuing rotating signed codes, and verification by venue staff.

Hot path (no relational table on issue; one INSERT on an accepted scan):
  issue:  token (has `hid`) → the process's copy of hc:{holder} (else GET) → Ed25519 sign
  verify: Ed25519 verify → venue staff and holder from the process's copies (api.localcache), or
          one pipelined round trip for what they lack (HMGET venue staff, GET holder) →
          SET NX of the code's key to the venue (single-use scenes: once; others: this venue
          only) → INSERT access record + COMMIT
"""
from __future__ import annotations

import logging
import threading
import time
from datetime import date

from flask import current_app

from api import hooks, redis_epoch
from api.access.records import record_access_now
from api.codes import holder_cache, venues
from api.codes.holder_cache import HolderInfo
from api.error_codes import SUISHEN_CODE_ERRORS
from api.errors import AppError
from api.extensions import db, get_config, get_keyring, get_redis
from api.identity.tokens import Principal
from api.localcache import LocalCache
from api.trust.verification import verify_peer_code_at_venue
from api.unit_of_work import commit
from qr.codes import ACT_CLAIM, SCENES, SINGLE_USE_SCENES, CodeError, act_claim, issue_codes, verify_code
from qr.keys import KeyRing
from qr.render import render

log = logging.getLogger("ssb.codes")


SENIOR_AGE = 70   # Shanghai: free public transport and museums for residents 70 and over


# --------------------------------------------------------------------------- entitlements


def scene_refusal(info: HolderInfo, scene: str, acting_for: dict | None) -> str | None:
    """The machine code refusing this scene to this holder, or None."""
    if scene == "veteran" and not info.veteran:
        return "NOT_A_VETERAN"
    if scene == "home_service" and not info.home_service:
        return "HOME_SERVICE_CERT_REQUIRED"
    if scene == "medical" and not info.verified:
        return "REAL_NAME_REQUIRED"
    if scene == "enterprise" and not acting_for:
        return "NOT_ACTING_FOR_ENTERPRISE"
    return None


def _concession(info: HolderInfo, today: date) -> str | None:
    if info.veteran:
        return "veteran"
    if info.birth_year and today.year - info.birth_year >= SENIOR_AGE:
        return "senior"
    return None


def entitlement(info: HolderInfo, scene: str, claims: dict, now: int) -> dict:
    """Only what this scene needs, nothing else about the holder."""
    today = date.fromtimestamp(now)
    if scene == "transport":
        concession = _concession(info, today)
        return {"concession": concession, "fare": "preferential" if concession else "standard"}
    if scene == "veteran":
        return {"veteran": True, "preferential_travel": True, "priority_service": True}
    if scene == "culture":
        concession = _concession(info, today)
        return {"concession": concession, "free_admission": concession is not None}
    if scene == "medical":
        return {"real_name_verified": True, "insurance_card": info.medical_insurance or "unknown"}
    if scene == "home_service":
        return {"home_service_certificate": True}
    if scene == "enterprise":
        ent = claims.get("ent") if isinstance(claims.get("ent"), dict) else {}
        return {"enterprise_id": ent.get("enterprise_id"), "role": ent.get("role")}
    return {"real_name_verified": info.verified}


# --------------------------------------------------------------------------- issuing


def _holder_for(principal: Principal) -> HolderInfo:
    holder_id = principal.claims.get("hid") or holder_cache.holder_id_for_user(principal.user_id)
    info = holder_cache.get(holder_id) if holder_id else None
    if info is None or info.user_id != principal.user_id:
        raise AppError("USER_NOT_FOUND")
    if not info.active:
        raise AppError("ACCOUNT_DISABLED")
    return info


def issue(*, principal: Principal, scene: str, count: int, now: int, dependent: str | None = None) -> dict:
    if dependent is not None:
        return _issue_for_dependent(principal=principal, dependent=dependent, scene=scene, count=count, now=now)
    info = _holder_for(principal)
    refusal = scene_refusal(info, scene, principal.acting_for)
    if refusal:
        raise AppError(refusal)
    cfg = get_config()
    extra = None
    if scene == "enterprise":
        act = principal.acting_for or {}
        extra = {"ent": {"enterprise_id": act.get("enterprise_id"), "role": act.get("role")}}
    codes = issue_codes(ring=get_keyring(), issuer=cfg.TOKEN_ISSUER, holder_id=info.holder_id, scene=scene,
                        now=now, ttl=cfg.CODE_TTL, count=count, extra=extra)
    margin = min(15, cfg.CODE_TTL // 4)
    return {"codes": [{"payload": c.payload, "not_before": c.not_before, "expires_at": c.expires_at} for c in codes],
            "scene": scene, "refresh_after": max(1, count * cfg.CODE_TTL - margin), "server_time": now}


def _issue_for_dependent(*, principal: Principal, dependent: str, scene: str, count: int, now: int) -> dict:
    """Codes of a dependent shown by their guardian (api.family decides who may): `sub` is the
    dependent's holder id, `act.sub` the guardian's; the dependent's entitlements apply."""
    acting = hooks.ask(hooks.DEPENDENT_FOR_CALLER, principal, dependent, now)
    info = acting.holder()
    if not info.active:
        raise AppError("ACCOUNT_DISABLED")
    refusal = scene_refusal(info, scene, None)
    if refusal:
        raise AppError(refusal)
    cfg = get_config()
    codes = issue_codes(ring=get_keyring(), issuer=cfg.TOKEN_ISSUER, holder_id=info.holder_id, scene=scene,
                        now=now, ttl=cfg.CODE_TTL, count=count, extra=act_claim(acting.guardian_holder_id))
    if acting.note_code_shown(scene=scene, now=now):
        commit()
    margin = min(15, cfg.CODE_TTL // 4)
    return {"codes": [{"payload": c.payload, "not_before": c.not_before, "expires_at": c.expires_at} for c in codes],
            "scene": scene, "refresh_after": max(1, count * cfg.CODE_TTL - margin), "server_time": now}


def image(*, principal: Principal, scene: str, fmt: str, now: int,
          dependent: str | None = None) -> tuple[bytes, str, int]:
    """(image bytes, media type, expires_at) of one fresh code."""
    issued = issue(principal=principal, scene=scene, count=1, now=now, dependent=dependent)["codes"][0]
    body, media_type = render(issued["payload"], fmt)
    return body, media_type, issued["expires_at"]


# --------------------------------------------------------------------------- verifying

_reload_lock = threading.Lock()
_last_reload = [0.0]


def _published(ring: KeyRing, now: int) -> KeyRing:
    cache = getattr(ring, "_ssb_published", None)
    if cache is not None and cache[0] == now:
        return cache[1]
    published = KeyRing(ring.published(now))
    ring._ssb_published = (now, published)
    return published


def _verify_claims(payload: str, now: int) -> dict:
    cfg = get_config()
    try:
        return verify_code(payload, _published(get_keyring(), now), now, leeway=cfg.CLOCK_SKEW,
                           issuer=cfg.TOKEN_ISSUER)
    except CodeError as exc:
        if exc.code != "CODE_UNKNOWN_KEY":
            raise
    # Another process may have rotated in a new key before this one reloaded (every 10 s):
    # re-read KEYS_DIR now, at most once a second per process, and try again.
    with _reload_lock:
        if time.monotonic() - _last_reload[0] > 1.0:
            _last_reload[0] = time.monotonic()
            get_keyring(reload=True)
    return verify_code(payload, _published(get_keyring(), now), now, leeway=cfg.CLOCK_SKEW, issuer=cfg.TOKEN_ISSUER)


def replay_key(holder_id: str, jti: str) -> str:
    return f"code:{{{holder_id}}}:{jti}"


def _claim_code(redis, key: str, *, scene: str, venue_id: str, until: int) -> str | None:
    """Bind the code to this venue for its lifetime: single-use scenes accept it once; the others
    again at the same venue (a scanner retry, a second look) but at no other (a forwarded
    screenshot). Raises CODE_REPLAYED; returns the key when this scan set it (to release it if
    the scan is not recorded)."""
    if scene in SINGLE_USE_SCENES:
        if not redis.set(key, venue_id, nx=True, exat=until):
            raise AppError("CODE_REPLAYED")
        return key
    bound = _bind_script(redis)(keys=[key], args=[venue_id, until])   # one command, first scan or not
    if bound == 1:
        return key
    if bound is not None and bound.decode() != venue_id:
        raise AppError("CODE_REPLAYED")
    return None


# KEYS: the code's key. ARGV: venue, expiry (unix s). 1 if this scan bound it, else the venue it is bound to.
_BIND = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EXAT', ARGV[2]) then return 1 end
return redis.call('GET', KEYS[1])
"""


def _bind_script(redis):
    """redis-py's Script (EVALSHA, loading it again after a Redis restart), one per app."""
    script = current_app.extensions.get("ssb.code_bind_script")
    if script is None or script.registered_client is not redis:
        script = current_app.extensions["ssb.code_bind_script"] = redis.register_script(_BIND)
    return script


def usable_before_replay_keys_were_lost(claims: dict) -> bool:
    """A single-use code that could have been shown before Redis's current data set began
    (api.redis_epoch: a restart, failover or wipe may have lost its replay key) cannot be
    proven unused: refused, and the resident's app shows a fresh code. Prefetched codes whose
    window opens later, and codes issued since, are unaffected. Times are whole seconds: a
    code of the very second the loss was noticed counts as before it."""
    since = redis_epoch.current().since
    first_usable = max(int(claims["iat"]), int(claims["nbf"]) - get_config().CLOCK_SKEW)
    return first_usable <= since


def _lookups(redis, venue_id: str, user_id: int, holder_id: str | None):
    """((venue, staff scenes), holder info or False or None) from this process's copies, with one
    pipelined Redis round trip for whatever they lack (api.localcache)."""
    staff = venues.local_staff_lookup(venue_id, user_id)
    holder = holder_cache.local(holder_id) if holder_id else None
    if staff is not LocalCache.MISSING and holder is not LocalCache.MISSING:
        return staff, holder
    staff_token, holder_token = venues.staff_fill_token(), holder_cache.fill_token()
    pipe = redis.pipeline(transaction=False)
    if staff is LocalCache.MISSING:
        venues.staff_lookup_commands(pipe, venue_id, user_id)
    if holder is LocalCache.MISSING:
        pipe.get(holder_cache.holder_key(holder_id))
    results = iter(pipe.execute())
    if staff is LocalCache.MISSING:
        staff = venues.staff_lookup_result(venue_id, user_id, next(results))
        venues.remember_staff_lookup(venue_id, user_id, staff, staff_token)
    if holder is LocalCache.MISSING:
        holder = holder_cache.parse(next(results))
        if holder is not None:
            holder_cache.remember(holder_id, holder, holder_token)
    return staff, holder


def verify(*, principal: Principal, payload: str, venue_id: str, now: int) -> dict:
    try:
        claims, code_error = _verify_claims(payload, now), None
    except CodeError as exc:
        claims, code_error = None, exc.code
    redis = get_redis()
    (venue, staff_scenes), cached_holder = _lookups(redis, venue_id, principal.user_id,
                                                    claims["sub"] if claims is not None else None)
    # Staff first: someone who may not scan here learns nothing about the code.
    if venue is None:
        raise AppError("VENUE_NOT_FOUND")
    if staff_scenes is None:
        raise AppError("NOT_STAFF_OF_VENUE")
    if code_error is not None:
        # Not a code of ours: it may be a trusted peer platform's (长三角互认, api/trust).
        answer = verify_peer_code_at_venue(principal=principal, payload=payload, venue=venue,
                                           staff_scenes=staff_scenes, now=now)
        if answer is not None:
            return answer
        raise AppError(code_error if code_error in SUISHEN_CODE_ERRORS else "MALFORMED_CODE")
    scene = claims["scn"]
    if scene not in venue["scenes"] or scene not in staff_scenes:
        raise AppError("SCENE_NOT_ALLOWED")
    acting = hooks.ask(hooks.DEPENDENT_OF_CODE, claims, now) if ACT_CLAIM in claims else None
    info = cached_holder if acting is None else acting.holder()
    if info is None:
        info = holder_cache.load(claims["sub"])
    if not info or not info.active:
        raise AppError("CODE_REVOKED")
    refusal = scene_refusal(info, scene, {"enterprise": True} if scene == "enterprise" else None)
    if refusal:
        raise AppError(refusal)
    burned = _claim_code(redis, replay_key(info.holder_id, claims["jti"]), scene=scene, venue_id=venue["id"],
                         until=int(claims["exp"]) + get_config().CLOCK_SKEW + 1)
    # After the claim, not before: its command is what reconnects to a restarted Redis, and so
    # what makes the epoch check below notice the loss; a refused code also stays burned.
    if scene in SINGLE_USE_SCENES and usable_before_replay_keys_were_lost(claims):
        raise AppError("CODE_REFRESH_REQUIRED")
    try:
        accessor = {"type": "venue", "venue_id": venue["id"], "venue_name": venue["name"],
                    "district": venue["district"]}
        if acting is None:   # the scan's only write: a Core INSERT, committed before we answer
            record_access_now(user_id=info.user_id, kind="code_scan", scene=scene, now=now, accessor=accessor)
        else:   # the dependent's log, naming the guardian who showed the code
            acting.record("code_scan", scene=scene, now=now, accessor=accessor)
            commit()
    except Exception:
        db.session.rollback()
        if burned:   # the scan was not recorded: let the resident present the code again
            try:
                redis.delete(burned)
            except Exception:
                log.warning("could not release replay key", exc_info=True)
        raise
    result = {"valid": True, "verdict": "accepted", "scene": scene,
              "holder": {"name": info.masked_name, "real_name_verified": info.verified},
              "entitlement": entitlement(info, scene, claims, now),
              "venue": {"id": venue["id"], "name": venue["name"]},
              "expires_at": int(claims["exp"]), "checked_at": now, "shown_by_guardian": acting is not None}
    if acting is not None:
        result["guardian"] = acting.guardian_summary
    return result


def list_revocations(*, since: int | None, limit: int) -> dict:
    return venues.list_revocations(since=since, limit=limit)


__all__ = ["SCENES", "issue", "image", "verify", "list_revocations"]
