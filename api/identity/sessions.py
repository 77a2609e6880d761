"""Login, refresh-token rotation with family reuse detection, logout and remote sign-out."""
from __future__ import annotations

import secrets

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from api import redis_epoch
from api.db import from_timestamp
from api.errors import AppError
from api.extensions import db, get_config, get_redis
from api.extensions import now as clock_now
from api.identity import revocations, rotation
from api.identity.models import AuthSession, RefreshToken, User
from api.identity.tokens import Principal, TokenPair, issue_access_token
from api.unit_of_work import commit


def revocation_view() -> revocations.RevocationView:
    """This process's copy of the signed-out sessions (api.identity.revocations)."""
    view = current_app.extensions.get("ssb.revocations")
    if view is None:
        view = current_app.extensions.setdefault("ssb.revocations", revocations.RevocationView(get_redis()))
    return view


def is_session_denied(session_id: str, *, now: int | None = None) -> bool:
    """The per-request check, against this process's copy of the deny-list (no round trip while
    the copy is provably current; Redis otherwise). A miss is trusted only while Redis's data set
    is known to be continuous (api.redis_epoch): after a restart, failover or wipe the deny-list
    is first re-derived from the database (`rebuild_deny_list`), and a miss read before that
    verification is read again, from Redis (the copy may not have heard the rebuild yet)."""
    now = clock_now() if now is None else now
    if revocation_view().is_denied(session_id, now):
        return True
    if redis_epoch.current().verified_now:
        return revocations.denied_in_redis(get_redis(), session_id, now)
    return False


# --------------------------------------------------------------------------- durable revocation
# The database is the record of signed-out sessions (auth_sessions.revoked_at, written in the
# same transaction as the sign-out); the Redis deny-list is a fast copy of its last
# ACCESS_TOKEN_TTL + CLOCK_SKEW seconds (older access tokens have expired anyway).


def session_revoked_durably(session_id: str) -> bool:
    """True when the database says this session is signed out (or does not exist)."""
    revoked_at = db.session.execute(select(AuthSession.revoked_at).where(AuthSession.id == session_id)).first()
    return revoked_at is None or revoked_at[0] is not None


def recently_revoked_session_ids(now: int) -> list[str]:
    """Sessions signed out recently enough for one of their access tokens to be still alive:
    what a deny-list (in Redis or in a process) must hold after it was lost or (re)started."""
    cfg = get_config()
    cutoff = from_timestamp(now - cfg.ACCESS_TOKEN_TTL - cfg.CLOCK_SKEW)
    return list(db.session.scalars(select(AuthSession.id).where(AuthSession.revoked_at >= cutoff)))


@redis_epoch.on_new_epoch
def rebuild_deny_list(now: int) -> None:
    """Re-derive the Redis deny-list from the database (a new Redis epoch began)."""
    _deny_sessions(recently_revoked_session_ids(now), now=now)


def _deny_sessions(session_ids: list[str], *, now: int) -> None:
    """Access tokens of these sessions stop working at once, in every process (until they would
    expire anyway)."""
    cfg = get_config()
    revocations.deny(get_redis(), session_ids, expires_at=now + cfg.ACCESS_TOKEN_TTL + cfg.CLOCK_SKEW, now=now)


def get_or_create_user(phone: str, *, now: int) -> User:
    user = db.session.scalar(select(User).where(User.phone == phone))
    if user is not None:
        return user
    user = User(phone=phone, roles=["resident"], holder_id=secrets.token_hex(16), created_at=from_timestamp(now))
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:
        # A concurrent first login for the same phone won the insert: use that account.
        db.session.rollback()
        user = db.session.scalar(select(User).where(User.phone == phone))
        if user is None:
            raise
    return user


def _new_refresh_token(session_id: str, *, now: int) -> str:
    token = rotation.new_refresh_token()
    idle = get_config().REFRESH_TOKEN_IDLE_TTL
    db.session.add(RefreshToken(token_hash=rotation.token_hash(token), session_id=session_id,
                                issued_at=from_timestamp(now),
                                expires_at=from_timestamp(now + idle)))
    return token


def start_session(user: User, *, device_id: str, user_agent: str | None, now: int) -> TokenPair:
    """One session per device: signing in again on a device replaces its old session."""
    if user.status != "active":
        raise AppError("ACCOUNT_DISABLED")
    old = list(db.session.scalars(select(AuthSession.id).where(
        AuthSession.user_id == user.id, AuthSession.device_id == device_id, AuthSession.revoked_at.is_(None))))
    _deny_sessions(old, now=now)
    if old:
        db.session.execute(update(AuthSession).where(AuthSession.id.in_(old))
                           .values(revoked_at=from_timestamp(now), revoked_reason="replaced"))
    session = AuthSession(id=secrets.token_hex(16), user_id=user.id, device_id=device_id,
                          user_agent=(user_agent or "")[:256] or None, created_at=from_timestamp(now),
                          last_seen_at=from_timestamp(now))
    db.session.add(session)
    db.session.flush()
    refresh = _new_refresh_token(session.id, now=now)
    commit()
    access, ttl = issue_access_token(user_id=user.id, session_id=session.id, roles=user.roles, now=now,
                                     holder_id=user.holder_id)
    return TokenPair(access, refresh, ttl)


def login(*, phone: str, otp: str, device_id: str, user_agent: str | None, now: int, otp_service) -> TokenPair:
    otp_service.check_code(phone, otp)
    user = get_or_create_user(phone, now=now)
    return start_session(user, device_id=device_id, user_agent=user_agent, now=now)


def refresh(*, refresh_token: str, now: int) -> TokenPair:
    """Rotate a refresh token (api.identity.rotation): a retry within REFRESH_REUSE_GRACE gets the
    same pair (409 REFRESH_IN_PROGRESS once that pair was rotated too); reuse after it signs the
    whole session out."""
    try:
        return rotation.rotate(refresh_token=refresh_token or "", now=now)
    except rotation.Reused as reuse:
        _revoke_sessions([reuse.session_id], reason="refresh_reuse", now=now)
        raise AppError("REFRESH_TOKEN_REUSED") from None


def _revoke_sessions(session_ids: list[str], *, reason: str, now: int) -> None:
    _deny_sessions(session_ids, now=now)
    db.session.execute(update(AuthSession).where(AuthSession.id.in_(session_ids), AuthSession.revoked_at.is_(None))
                       .values(revoked_at=from_timestamp(now), revoked_reason=reason))
    commit()


def logout(principal: Principal, *, now: int) -> None:
    _revoke_sessions([principal.session_id], reason="logout", now=now)


def list_sessions(user_id: int, *, current_session_id: str | None = None) -> list[dict]:
    rows = db.session.scalars(select(AuthSession).where(AuthSession.user_id == user_id,
                                                        AuthSession.revoked_at.is_(None))
                              .order_by(AuthSession.last_seen_at.desc()))
    return [{"id": s.id, "device_id": s.device_id, "user_agent": s.user_agent, "created_at": s.created_at,
             "last_seen_at": s.last_seen_at, "current": s.id == current_session_id} for s in rows]


def revoke_session(user_id: int, session_id: str, *, now: int) -> None:
    session = db.session.get(AuthSession, session_id)
    if session is None or session.user_id != user_id or session.revoked_at is not None:
        raise AppError("SESSION_NOT_FOUND")
    _revoke_sessions([session_id], reason="remote_signout", now=now)


def revoke_all_sessions(user_id: int, *, reason: str, now: int) -> None:
    ids = list(db.session.scalars(select(AuthSession.id).where(AuthSession.user_id == user_id,
                                                               AuthSession.revoked_at.is_(None))))
    if ids:
        _revoke_sessions(ids, reason=reason, now=now)
