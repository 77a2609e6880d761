"""Refresh-token rotation on prebuilt statements (api.prepared), with reuse detection (RFC 9700 §4.14.2)
and a short grace window for retries.

One transaction per refresh: read the token with its session and user, claim it (`used_at`),
insert its successor, touch the session. Exactly one of any concurrent refreshes with a token
wins the claim. The claim also stores the successor pair sealed (AES-GCM) with a key derived from
the presented token, so for REFRESH_REUSE_GRACE seconds after the rotation a repeat of the same
token (a mobile app retrying, or racing itself) gets the very same pair back and signs nobody
out; if that successor has meanwhile been rotated too, the repeat answers 409
REFRESH_IN_PROGRESS and revokes nothing. A repeat after the window is reuse: the caller
revokes the whole session (`Reused`).
"""
from __future__ import annotations

import hashlib
import os
import secrets
from datetime import timedelta

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import bindparam, func, insert, select, update

from api.db import UTCDateTime, from_timestamp
from api.errors import AppError
from api.extensions import db, get_config
from api.identity.models import AuthSession, RefreshToken, User
from api.identity.tokens import TokenPair, issue_access_token
from api.prepared import Prepared, connection

_rt, _session, _user = RefreshToken.__table__, AuthSession.__table__, User.__table__

_READ = Prepared(select(
    _rt.c.session_id, _rt.c.expires_at, _rt.c.used_at, _rt.c.successor_sealed, _session.c.revoked_at,
    _session.c.created_at.label("session_created_at"), _user.c.id.label("user_id"), _user.c.status, _user.c.roles,
    _user.c.holder_id,
).select_from(_rt.join(_session, _rt.c.session_id == _session.c.id).join(_user, _session.c.user_id == _user.c.id)) \
    .where(_rt.c.token_hash == bindparam("token_hash")))
# (bind names must differ from column names in UPDATE statements)
_CLAIM = Prepared(update(_rt).where(_rt.c.token_hash == bindparam("b_hash"), _rt.c.used_at.is_(None))
                  .values(used_at=bindparam("b_when"), successor_sealed=bindparam("b_sealed")))
_INSERT = Prepared(_rt.insert().values(token_hash=bindparam("b_hash"), session_id=bindparam("b_session"),
                                       issued_at=bindparam("b_when"), expires_at=bindparam("b_expires")))
_TOUCH = Prepared(update(_session).where(_session.c.id == bindparam("b_session"))
                  .values(last_seen_at=bindparam("b_when")))
# PostgreSQL: claim, successor and touch as one statement (data-modifying CTEs), run in
# autocommit: one round trip and one commit instead of BEGIN, three statements and COMMIT.
_claimed = update(_rt).where(_rt.c.token_hash == bindparam("b_hash"), _rt.c.used_at.is_(None)) \
    .values(used_at=bindparam("b_when"), successor_sealed=bindparam("b_sealed")) \
    .returning(_rt.c.session_id).cte("claimed")
_successor = insert(_rt).from_select(
    ["token_hash", "session_id", "issued_at", "expires_at"],
    select(bindparam("n_hash", type_=_rt.c.token_hash.type), _claimed.c.session_id,
           bindparam("n_when", type_=UTCDateTime()), bindparam("n_expires", type_=UTCDateTime()))) \
    .returning(_rt.c.token_hash).cte("successor")
_touched = update(_session).where(_session.c.id.in_(select(_claimed.c.session_id))) \
    .values(last_seen_at=bindparam("t_when")).returning(_session.c.id).cte("touched")
_ROTATE_IN_ONE = Prepared(select(func.count()).select_from(_claimed).add_cte(_successor, _touched))
_USED = Prepared(select(_rt.c.used_at, _rt.c.successor_sealed).where(_rt.c.token_hash == bindparam("token_hash")))


class Reused(Exception):
    """A rotated-away token presented after the grace window: revoke the session (the family)."""

    def __init__(self, session_id: str) -> None:
        super().__init__(session_id)
        self.session_id = session_id


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_refresh_token() -> str:
    return "rt_" + secrets.token_urlsafe(32)


def rotate(*, refresh_token: str, now: int) -> TokenPair:
    cfg = get_config()
    presented = token_hash(refresh_token)
    when = from_timestamp(now)
    in_one = db.engine.dialect.name == "postgresql"
    with connection(autocommit=in_one) as conn:
        row = conn.one(_READ, token_hash=presented)
        if row is None or row.revoked_at is not None or row.status != "active":
            raise AppError("REFRESH_TOKEN_INVALID")
        expired = row.expires_at <= when or \
            row.session_created_at + timedelta(seconds=cfg.REFRESH_TOKEN_ABSOLUTE_TTL) <= when
        pair = None
        if row.used_at is None and not expired:
            access, ttl = issue_access_token(user_id=row.user_id, session_id=row.session_id, roles=row.roles,
                                             now=now, holder_id=row.holder_id)
            pair = TokenPair(access, new_refresh_token(), ttl)
        sealed = seal(refresh_token, pair) if pair else None
        if pair is not None and in_one:
            claimed = conn.scalar(_ROTATE_IN_ONE, b_hash=presented, b_when=when, b_sealed=sealed,
                                  n_hash=token_hash(pair.refresh_token), n_when=when,
                                  n_expires=from_timestamp(now + cfg.REFRESH_TOKEN_IDLE_TTL), t_when=when) == 1
        else:
            claimed = _claim_in_steps(conn, presented, row.session_id, pair, sealed, when=when, now=now)
        if not claimed:      # rotated already (before we read, or by a concurrent refresh that won)
            pair = _repeat(conn, refresh_token, presented, row.session_id, now=now, grace=cfg.REFRESH_REUSE_GRACE)
    if pair is None:
        raise AppError("REFRESH_TOKEN_INVALID")
    return pair


def _claim_in_steps(conn, presented: str, session_id: str, pair: TokenPair | None, sealed: bytes | None, *,
                    when, now: int) -> bool:
    """Claim the token and, with a successor pair, insert it and touch the session: one
    transaction. Without one (the token expired) it is only claimed, so it can never be used
    again, and refused."""
    if conn.run(_CLAIM, b_hash=presented, b_when=when, b_sealed=sealed) != 1:
        return False
    if pair is not None:
        conn.run(_INSERT, b_hash=token_hash(pair.refresh_token), b_session=session_id, b_when=when,
                 b_expires=from_timestamp(now + get_config().REFRESH_TOKEN_IDLE_TTL))
        conn.run(_TOUCH, b_session=session_id, b_when=when)
    conn.commit()
    return True


def _repeat(conn, refresh_token: str, presented: str, session_id: str, *, now: int, grace: int) -> TokenPair:
    used = conn.one(_USED, token_hash=presented)
    if used is None or used.used_at is None or now - used.used_at.timestamp() > grace:
        raise Reused(session_id)
    if used.successor_sealed is None:       # claimed because it had expired: still refused
        raise AppError("REFRESH_TOKEN_INVALID")
    pair = unseal(refresh_token, used.successor_sealed)
    if pair is None:
        raise Reused(session_id)
    successor = conn.one(_USED, token_hash=token_hash(pair.refresh_token))
    if successor is None or successor.used_at is not None:
        raise AppError("REFRESH_IN_PROGRESS")
    return pair


def _key(refresh_token: str) -> bytes:
    return hashlib.sha256(b"ssb refresh successor v1\x00" + refresh_token.encode()).digest()


def seal(refresh_token: str, pair: TokenPair) -> bytes:
    nonce = os.urandom(12)
    body = orjson.dumps([pair.access_token, pair.refresh_token, pair.expires_in])
    return nonce + AESGCM(_key(refresh_token)).encrypt(nonce, body, b"refresh-successor")


def unseal(refresh_token: str, sealed: bytes) -> TokenPair | None:
    try:
        body = AESGCM(_key(refresh_token)).decrypt(sealed[:12], sealed[12:], b"refresh-successor")
    except (InvalidTag, ValueError):
        return None
    access, refresh, expires_in = orjson.loads(body)
    return TokenPair(access, refresh, expires_in)
