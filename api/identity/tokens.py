"""Access tokens (`at+jwt`) and the principal they carry."""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field

import qr
from api.errors import AppError
from api.extensions import get_config, get_keyring

ACCESS_TYPE = "at+jwt"


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "Bearer"

    def as_json(self) -> dict:
        """As TokenPairSchema dumps it, for a ready response."""
        return {"access_token": self.access_token, "refresh_token": self.refresh_token,
                "token_type": self.token_type, "expires_in": self.expires_in}


@dataclass(frozen=True)
class Principal:
    """Who is calling: the resident, their session and roles, and whom they act for."""

    user_id: int
    session_id: str
    roles: frozenset = frozenset()
    jti: str = ""
    expires_at: int = 0
    acting_for: dict | None = None          # {"enterprise_id": .., "role": ..} when acting for one
    claims: dict = field(default_factory=dict, compare=False, repr=False)

    def has_role(self, role: str) -> bool:
        return role in self.roles


def issue_access_token(*, user_id: int, session_id: str, roles: list[str], now: int,
                       acting_for: dict | None = None, holder_id: str | None = None) -> tuple[str, int]:
    cfg = get_config()
    claims = {"iss": cfg.TOKEN_ISSUER, "aud": cfg.ACCESS_TOKEN_AUDIENCE, "sub": str(user_id),
              "sid": session_id, "jti": secrets.token_urlsafe(12), "iat": now,
              "exp": now + cfg.ACCESS_TOKEN_TTL, "roles": sorted(roles)}
    if acting_for:
        claims["act"] = acting_for
    if holder_id:   # the pseudonymous holder id, so issuing a 随申码 needs no look-up
        claims["hid"] = holder_id
    return qr.sign(claims, typ=ACCESS_TYPE, ring=get_keyring()), cfg.ACCESS_TOKEN_TTL


def decode_access_token(token: str, *, now: int) -> Principal:
    """Signature, typ, audience, issuer and expiry; revocation is checked by the caller."""
    cfg = get_config()
    try:
        claims = qr.verify(token, typ=ACCESS_TYPE, ring=get_keyring(), now=now, leeway=cfg.CLOCK_SKEW,
                           audience=cfg.ACCESS_TOKEN_AUDIENCE, issuer=cfg.TOKEN_ISSUER,
                           required=("iss", "aud", "sub", "sid", "exp", "iat", "jti"))
        user_id = int(claims["sub"])
        roles = frozenset(str(r) for r in claims.get("roles") or ())
        session_id = str(claims["sid"])
    except (qr.TokenError, ValueError, TypeError):
        raise AppError("INVALID_TOKEN") from None
    act = claims.get("act") if isinstance(claims.get("act"), dict) else None
    return Principal(user_id, session_id, roles, str(claims["jti"]), int(claims["exp"]), act, claims)
