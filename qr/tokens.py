"""Typed compact JWS (EdDSA) tokens.

Every token kind has its own `typ` header (`at+jwt`, `ssb-code+jwt`, `ssb-licence+jwt`,
`ssb-place+jwt`) and they never interchange: `verify` checks `typ`, pins `alg` to EdDSA and
takes the key only from the ring by `kid`. Time checks use the `now` passed in, so offline
scanners and tests control the clock.
"""
from __future__ import annotations

import jwt

from qr.keys import KeyRing

ALGORITHM = "EdDSA"


class TokenError(Exception):
    """A token was refused. `code` is a stable machine code the API maps to its errors."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


def sign(claims: dict, *, typ: str, ring: KeyRing) -> str:
    key = ring.signing_key()
    return jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"typ": typ, "kid": key.kid})


def verify(token: str, *, typ: str, ring: KeyRing, now: int, audience: str | None = None,
           issuer: str | None = None, leeway: int = 0,
           required: tuple[str, ...] = ("iss", "exp", "iat", "jti")) -> dict:
    """Return the claims of a valid token or raise TokenError with one of:
    MALFORMED_TOKEN, WRONG_TYPE, UNKNOWN_KEY, BAD_SIGNATURE, EXPIRED, NOT_YET_VALID,
    WRONG_AUDIENCE, WRONG_ISSUER, MISSING_CLAIM."""
    if not isinstance(token, str) or token.count(".") != 2 or len(token) > 4096:
        raise TokenError("MALFORMED_TOKEN", "not a compact JWS")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise TokenError("MALFORMED_TOKEN", "unreadable header") from exc
    if header.get("alg") != ALGORITHM:
        # Covers alg "none" and HS256-with-the-public-key confusion: only EdDSA is ever accepted.
        raise TokenError("BAD_SIGNATURE", "algorithm not allowed")
    if header.get("typ") != typ:
        raise TokenError("WRONG_TYPE", f"expected typ {typ}")
    kid = header.get("kid")
    key = ring.get(kid) if isinstance(kid, str) else None
    if key is None:
        raise TokenError("UNKNOWN_KEY", "kid not in our key ring")
    try:
        claims = jwt.decode(
            token, key.public_key, algorithms=[ALGORITHM],
            options={"verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_aud": False,
                     "verify_iss": False},
        )
    except jwt.InvalidSignatureError as exc:
        raise TokenError("BAD_SIGNATURE", "signature does not verify") from exc
    except jwt.PyJWTError as exc:
        raise TokenError("MALFORMED_TOKEN", "undecodable token") from exc
    if not isinstance(claims, dict):
        raise TokenError("MALFORMED_TOKEN", "claims are not an object")
    for name in required:
        if name not in claims:
            raise TokenError("MISSING_CLAIM", name)
    _check_times(claims, now=now, leeway=leeway)
    if audience is not None:
        aud = claims.get("aud")
        if not (aud == audience or (isinstance(aud, list) and audience in aud)):
            raise TokenError("WRONG_AUDIENCE", "token not meant for us")
    if issuer is not None and claims.get("iss") != issuer:
        raise TokenError("WRONG_ISSUER", "unknown issuer")
    return claims


def _check_times(claims: dict, *, now: int, leeway: int) -> None:
    for name in ("exp", "nbf", "iat"):
        value = claims.get(name)
        if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool)):
            raise TokenError("MALFORMED_TOKEN", f"{name} is not a number")
    exp = claims.get("exp")
    if exp is not None and now >= exp + leeway:
        raise TokenError("EXPIRED", "token expired")
    nbf = claims.get("nbf")
    if nbf is not None and now + leeway < nbf:
        raise TokenError("NOT_YET_VALID", "token not valid yet")
