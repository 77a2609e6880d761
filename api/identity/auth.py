"""Authentication at the HTTP edge: bearer token → Principal, roles checked, revocation honoured.

Roles are read from the account (one primary-key read) on role-protected operations only, so a
role granted or withdrawn applies to the next request with the token already held; operations
without a role requirement (the hot ones: /v1/me, codes, inbox) never touch the database here.
"""
from __future__ import annotations

import dataclasses

from flask import request

from api.errors import AppError
from api.extensions import db, now
from api.identity.models import User
from api.identity.sessions import is_session_denied
from api.identity.tokens import Principal, decode_access_token


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authenticate_access_token(*, required_roles: frozenset = frozenset()) -> Principal:
    token = bearer_token()
    if token is None:
        raise AppError("UNAUTHENTICATED")
    principal = decode_access_token(token, now=now())
    if is_session_denied(principal.session_id):
        raise AppError("INVALID_TOKEN")
    if required_roles:
        principal = with_current_roles(principal)
        if not (required_roles & principal.roles):
            raise AppError("ROLE_REQUIRED", detail=" / ".join(sorted(required_roles)))
    return principal


def with_current_roles(principal: Principal) -> Principal:
    """The principal with the account's roles as they are now (the token's claim may be stale)."""
    user = db.session.get(User, principal.user_id)
    if user is None or user.status != "active":
        raise AppError("INVALID_TOKEN")
    return dataclasses.replace(principal, roles=frozenset(user.roles or ()))
