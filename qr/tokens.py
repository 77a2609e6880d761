"""Typed compact JWS (RFC 7515, EdDSA/Ed25519): the one signer and strict verifier for every
token kind we issue (`at+jwt`, `ssb-code+jwt`, `ssb-licence+jwt`, `ssb-place+jwt`, `ssb-proof+jwt`, ...).

Token kinds never interchange: `verify` checks `typ`, pins `alg` to EdDSA, accepts only
`alg`/`typ`/`kid` in the header and takes the key only from the ring by `kid`. Time checks use
the `now` passed in, so offline scanners and tests control the clock.

Signing and parsing are done here with json + base64 + `cryptography` rather than PyJWT: on the
hot paths (every authenticated request, every code shown or scanned) PyJWT's generic checks
cost more than the Ed25519 operation itself. The tokens stay standard: any JWT library verifies
them with our JWKS (tests check PyJWT both ways).
"""
from __future__ import annotations

import base64
import binascii
import json
import re

from cryptography.exceptions import InvalidSignature

from qr import json_limits
from qr.keys import KeyRing, SigningKey

ALGORITHM = "EdDSA"
HEADER_MEMBERS = frozenset({"alg", "typ", "kid"})
MAX_TOKEN_LENGTH = 4096
# NumericDate claims (exp, nbf, iat) are integers from the epoch to the end of year 9999 (the
# range datetime and Redis expiries accept): a float, NaN, a bool or a string is malformed.
MAX_NUMERIC_DATE = 253_402_300_799
TIME_CLAIMS = ("exp", "nbf", "iat")

_SEGMENT = re.compile(r"^[A-Za-z0-9_-]+\Z")
_COMPACT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\Z")


class TokenError(Exception):
    """A token was refused. `code` is a stable machine code: MALFORMED_TOKEN, WRONG_TYPE,
    UNKNOWN_KEY, BAD_SIGNATURE, EXPIRED, NOT_YET_VALID, WRONG_AUDIENCE, WRONG_ISSUER, MISSING_CLAIM."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64url_decode(segment: str) -> bytes:
    if not _SEGMENT.match(segment) or len(segment) % 4 == 1:
        raise TokenError("MALFORMED_TOKEN", "not base64url")
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as exc:
        raise TokenError("MALFORMED_TOKEN", "not base64url") from exc


def json_bytes(obj: dict) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


_header_segments: dict[tuple[str, str], str] = {}


def header_segment(typ: str, kid: str) -> str:
    seg = _header_segments.get((typ, kid))
    if seg is None:
        seg = b64url(json_bytes({"alg": ALGORITHM, "typ": typ, "kid": kid}))
        if len(_header_segments) < 64:
            _header_segments[(typ, kid)] = seg
    return seg


def sign_with_key(claims: dict, *, typ: str, key: SigningKey) -> str:
    """A compact JWS over `claims` with header {alg: EdDSA, typ, kid}."""
    if key.private_key is None:
        raise ValueError("this key has no private half")
    signing_input = header_segment(typ, key.kid) + "." + b64url(json_bytes(claims))
    return signing_input + "." + b64url(key.private_key.sign(signing_input.encode("ascii")))


def sign(claims: dict, *, typ: str, ring: KeyRing) -> str:
    """Sign with the ring's newest active key."""
    return sign_with_key(claims, typ=typ, key=ring.signing_key())


_parsed_headers: dict[str, dict] = {}


def decode_verified(token, *, typ: str, ring: KeyRing, required: tuple[str, ...] = (),
                    max_length: int = MAX_TOKEN_LENGTH) -> tuple[dict, dict]:
    """Structure, header, key and signature; returns (header, claims). No time checks."""
    if not isinstance(token, str) or len(token) > max_length or not _COMPACT.match(token):
        raise TokenError("MALFORMED_TOKEN", "not a compact JWS")
    h_seg, c_seg, s_seg = token.split(".")
    header = _parsed_headers.get(h_seg)
    if header is None:
        try:
            header = json_limits.loads(b64url_decode(h_seg))
        except (ValueError, UnicodeDecodeError) as exc:
            raise TokenError("MALFORMED_TOKEN", "unreadable header") from exc
        if not isinstance(header, dict):
            raise TokenError("MALFORMED_TOKEN", "header is not an object")
        if header.get("alg") == ALGORITHM and set(header) <= HEADER_MEMBERS and len(_parsed_headers) < 256:
            _parsed_headers[h_seg] = header   # our own few headers: parse each once
    if header.get("alg") != ALGORITHM:
        # alg "none", HS256 keyed with our public key, RS256...: only EdDSA is ever accepted.
        raise TokenError("BAD_SIGNATURE", "algorithm not allowed")
    if header.get("typ") != typ:
        raise TokenError("WRONG_TYPE", f"expected typ {typ}")
    if set(header) - HEADER_MEMBERS:
        raise TokenError("MALFORMED_TOKEN", "unexpected header members")
    kid = header.get("kid")
    key = ring.get(kid) if isinstance(kid, str) else None
    if key is None:
        raise TokenError("UNKNOWN_KEY", "kid not in the key set")
    signature = b64url_decode(s_seg) if s_seg else b""
    if len(signature) != 64:
        raise TokenError("BAD_SIGNATURE", "wrong signature length")
    try:
        key.public_key.verify(signature, (h_seg + "." + c_seg).encode("ascii"))
    except InvalidSignature as exc:
        raise TokenError("BAD_SIGNATURE", "signature does not verify") from exc
    try:
        claims = json_limits.loads(b64url_decode(c_seg))
    except (ValueError, UnicodeDecodeError) as exc:
        raise TokenError("MALFORMED_TOKEN", "unreadable claims") from exc
    if not isinstance(claims, dict):
        raise TokenError("MALFORMED_TOKEN", "claims are not an object")
    for name in required:
        if name not in claims:
            raise TokenError("MISSING_CLAIM", name)
    return header, claims


def verify(token: str, *, typ: str, ring: KeyRing, now: int, audience: str | None = None,
           issuer: str | None = None, leeway: int = 0,
           required: tuple[str, ...] = ("iss", "exp", "iat", "jti")) -> dict:
    """Return the claims of a valid token or raise TokenError."""
    _, claims = decode_verified(token, typ=typ, ring=ring, required=required)
    _check_times(claims, now=now, leeway=leeway)
    if audience is not None:
        aud = claims.get("aud")
        if not (aud == audience or (isinstance(aud, list) and audience in aud)):
            raise TokenError("WRONG_AUDIENCE", "token not meant for us")
    if issuer is not None and claims.get("iss") != issuer:
        raise TokenError("WRONG_ISSUER", "unknown issuer")
    return claims


def is_numeric_date(value) -> bool:
    """A whole number of seconds in [0, MAX_NUMERIC_DATE]; never a bool, float or string."""
    return type(value) is int and 0 <= value <= MAX_NUMERIC_DATE


def check_time_claims(claims: dict) -> None:
    """Every time claim present is a NumericDate integer (RFC 7519 section 2, restricted to
    integers: we and our peers issue whole seconds), else MALFORMED_TOKEN."""
    for name in TIME_CLAIMS:
        if name in claims and not is_numeric_date(claims[name]):
            raise TokenError("MALFORMED_TOKEN", f"{name} is not an integer NumericDate")


def _check_times(claims: dict, *, now: int, leeway: int) -> None:
    check_time_claims(claims)
    exp = claims.get("exp")
    if exp is not None and now >= exp + leeway:
        raise TokenError("EXPIRED", "token expired")
    nbf = claims.get("nbf")
    if nbf is not None and now + leeway < nbf:
        raise TokenError("NOT_YET_VALID", "token not valid yet")
