"""Authentication at the HTTP edge: bearer token → Principal, roles checked, revocation honoured.

Roles are read from the account (one primary-key read) on role-protected operations only, so a
role granted or withdrawn applies to the next request with the token already held; operations
without a role requirement (the hot ones: /v1/me, codes, inbox) never touch the database here.
"""
from __future__ import annotations

import dataclasses
import threading

from flask import current_app, request
from sqlalchemy import bindparam, select

from api.errors import AppError
from api.extensions import get_config, get_keyring, now
from api.identity.models import User
from api.identity.sessions import is_session_denied
from api.identity.tokens import Principal, decode_access_token
from api.prepared import Prepared, connection


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class VerifiedTokenCache:
    """Access tokens this process has already verified (signature, typ, audience, issuer), keyed
    by the exact token text. A hit still honours `exp` and the key ring it was verified with (a
    reloaded ring, e.g. a retired key, verifies afresh); revocation is checked on every request
    by the caller, never cached here. Bounded: when full, the oldest half is dropped."""

    def __init__(self, max_entries: int = 20_000) -> None:
        self.max_entries = max_entries
        self._entries: dict[str, tuple[object, Principal]] = {}
        self._lock = threading.Lock()

    def principal(self, token: str, *, now: int) -> Principal:
        ring = get_keyring()
        hit = self._entries.get(token)
        if hit is not None and hit[0] is ring and now < hit[1].expires_at + get_config().CLOCK_SKEW:
            return hit[1]
        principal = decode_access_token(token, now=now)     # raises INVALID_TOKEN
        with self._lock:
            if len(self._entries) >= self.max_entries:
                for key in list(self._entries)[: self.max_entries // 2]:
                    self._entries.pop(key, None)
            self._entries[token] = (ring, principal)
        return principal


def _token_cache() -> VerifiedTokenCache:
    cache = current_app.extensions.get("ssb.token_cache")
    if cache is None:
        cache = current_app.extensions.setdefault("ssb.token_cache", VerifiedTokenCache())
    return cache


def authenticate_access_token(*, required_roles: frozenset = frozenset()) -> Principal:
    token = bearer_token()
    if token is None:
        raise AppError("UNAUTHENTICATED")
    when = now()
    principal = _token_cache().principal(token, now=when)
    if is_session_denied(principal.session_id, now=when):
        raise AppError("INVALID_TOKEN")
    if required_roles:
        principal = with_current_roles(principal)
        if not (required_roles & principal.roles):
            raise AppError("ROLE_REQUIRED", detail=" / ".join(sorted(required_roles)))
    return principal


_ACCOUNT_ROLES = Prepared(select(User.status, User.roles).where(User.id == bindparam("user_id")))


def with_current_roles(principal: Principal) -> Principal:
    """The principal with the account's roles as they are now (the token's claim may be stale):
    one prebuilt primary-key read (api.prepared), as on the hot routes."""
    with connection(read_only=True) as conn:
        account = conn.one(_ACCOUNT_ROLES, user_id=principal.user_id)
    if account is None or account.status != "active":
        raise AppError("INVALID_TOKEN")
    return dataclasses.replace(principal, roles=frozenset(account.roles or ()))
