"""Authentication at the HTTP edge: bearer token → Principal, roles checked, revocation honoured."""
from __future__ import annotations

from flask import request

from api.errors import AppError
from api.extensions import now
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
    if required_roles and not (required_roles & principal.roles):
        raise AppError("ROLE_REQUIRED")
    return principal
