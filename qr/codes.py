"""随申码 (`ssb-code+jwt`) and place codes (`ssb-place+jwt`): issuing and strict offline verification.

Pure: keys, claims and `now` in, values out; no I/O, nothing imported from `api/`. Scanner
vendors can vendor this module (plus `qr/keys.py`) and verify codes with only the JWKS:

    from qr.codes import verify_code
    claims = verify_code(payload, jwks, now=int(time.time()), revoked=revoked_holder_ids)

The tokens are ordinary compact JWS (RFC 7515) with `alg` EdDSA (Ed25519), so any JWT library
verifies them too. We sign and verify them by hand here (json + base64 + `cryptography`)
because PyJWT's generic path costs more than the Ed25519 operation itself on this hot path;
the verifier is strict: `alg` pinned to EdDSA, `typ` checked, only `alg`/`typ`/`kid` in the
header, `kid` looked up in the given key set only, every required claim present and typed.
"""
from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass

from qr.keys import KeyRing, SigningKey
from qr.tokens import (
    TokenError,
    b64url,
    decode_verified,
    header_segment,
    is_numeric_date,
    json_bytes,
    sign_with_key,
)

CODE_TYP = "ssb-code+jwt"
PLACE_TYP = "ssb-place+jwt"
ALGORITHM = "EdDSA"

SCENES = ("general", "transport", "medical", "culture", "veteran", "home_service", "enterprise")
# Scenes where a code is single-use: a second presentation is refused as a replay.
SINGLE_USE_SCENES = frozenset({"transport"})

MAX_PAYLOAD = 2048
# A code may never claim a validity window longer than this, whatever its signature.
MAX_CODE_WINDOW = 3600

CODE_CLAIMS = ("iss", "sub", "scn", "iat", "nbf", "exp", "jti")
# Optional: a code shown by a guardian for a dependent names the guardian here (see act_claim).
ACT_CLAIM = "act"
PLACE_CLAIMS = ("iss", "sub", "iat", "exp", "jti", "name")


class CodeError(TokenError):
    """A code was refused. `code` is one of: MALFORMED_CODE, CODE_WRONG_TYPE, CODE_UNKNOWN_KEY,
    CODE_BAD_SIGNATURE, CODE_EXPIRED, CODE_NOT_YET_VALID, CODE_WRONG_ISSUER, CODE_REVOKED."""


@dataclass(frozen=True)
class IssuedCode:
    payload: str
    not_before: int
    expires_at: int
    jti: str


# --------------------------------------------------------------------------- encoding


def _b64(raw: bytes) -> str:
    return b64url(raw)


def _dumps(obj: dict) -> bytes:
    return json_bytes(obj)


def sign_compact(claims: dict, *, typ: str, key: SigningKey) -> str:
    """A compact JWS over `claims` with header {alg: EdDSA, typ, kid} (see qr.tokens)."""
    return sign_with_key(claims, typ=typ, key=key)


# --------------------------------------------------------------------------- issuing


_PLAIN = re.compile(r"[A-Za-z0-9_\-.:/]*")   # fullmatch: "$" would let a trailing newline through


def _json_str(value: str) -> str:
    """A JSON string literal; the common all-plain case skips the json module."""
    return '"' + value + '"' if _PLAIN.fullmatch(value) else json.dumps(value, ensure_ascii=False)


def issue_codes(*, ring: KeyRing, issuer: str, holder_id: str, scene: str, now: int, ttl: int,
                count: int = 1, extra: dict | None = None) -> list[IssuedCode]:
    """`count` consecutive codes: code i is valid from now + i*ttl for ttl seconds, so a phone
    without network can keep showing a valid code. `iat` is the real issue time for all."""
    if scene not in SCENES:
        raise ValueError(f"unknown scene {scene!r}")
    if not 1 <= count <= 60 or not 1 <= ttl <= MAX_CODE_WINDOW:
        raise ValueError("count or ttl out of range")
    if extra and set(extra) & set(CODE_CLAIMS):
        raise ValueError("extra claims may not override registered ones")
    key = ring.signing_key()
    if key.private_key is None:
        raise ValueError("this key has no private half")
    sign = key.private_key.sign
    header = header_segment(CODE_TYP, key.kid) + "."
    # The claims are serialised by hand (same JSON as json.dumps with compact separators): on
    # this hot path the json module costs as much as a tenth of the Ed25519 signature.
    head = '{"iss":' + _json_str(issuer) + ',"sub":' + _json_str(holder_id) + ',"scn":"' + scene + '","iat":' + \
        str(int(now))
    tail = ("," + _dumps(extra).decode("utf-8")[1:-1] if extra else "") + "}"
    out = []
    for i in range(count):
        nbf = now + i * ttl
        jti = secrets.token_urlsafe(12)
        body = f'{head},"nbf":{nbf},"exp":{nbf + ttl},"jti":"{jti}"{tail}'
        signing_input = header + _b64(body.encode("utf-8"))
        payload = signing_input + "." + _b64(sign(signing_input.encode("ascii")))
        out.append(IssuedCode(payload, nbf, nbf + ttl, jti))
    return out


def act_claim(actor_holder_id: str) -> dict:
    """The extra claim of a code shown by someone acting for its holder (a guardian for a child
    or an elder), after RFC 8693 §4.1: `sub` stays the holder's, `act.sub` is the actor's
    pseudonymous holder id. Pass it as `issue_codes(..., extra=act_claim(...))`."""
    if not isinstance(actor_holder_id, str) or not actor_holder_id:
        raise ValueError("actor holder id required")
    return {ACT_CLAIM: {"sub": actor_holder_id}}


def actor_of(claims: dict) -> str | None:
    """The actor's holder id of verified claims (None for a code shown by its holder)."""
    act = claims.get(ACT_CLAIM)
    return act["sub"] if isinstance(act, dict) else None


def issue_place_code(*, ring: KeyRing, issuer: str, venue_id: str, name: str, district: str | None,
                     now: int, ttl: int) -> IssuedCode:
    key = ring.signing_key()
    jti = secrets.token_urlsafe(12)
    claims = {"iss": issuer, "sub": venue_id, "iat": now, "exp": now + ttl, "jti": jti, "name": name,
              "district": district}
    return IssuedCode(sign_compact(claims, typ=PLACE_TYP, key=key), now, now + ttl, jti)


# --------------------------------------------------------------------------- verifying


def _keys_from(jwks) -> KeyRing:
    if isinstance(jwks, KeyRing):
        return jwks
    if isinstance(jwks, dict):
        try:
            return KeyRing.from_jwks(jwks)
        except (KeyError, ValueError, TypeError) as exc:
            raise ValueError("not a usable JWKS") from exc
    raise TypeError("jwks must be a JWKS dict or a KeyRing")


def _int_claim(claims: dict, name: str) -> int:
    value = claims.get(name)
    if not isinstance(value, int) or not is_numeric_date(value):
        raise CodeError("MALFORMED_CODE", f"{name} is not an integer NumericDate")
    return value


def _str_claim(claims: dict, name: str, max_len: int = 256) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value or len(value) > max_len:
        raise CodeError("MALFORMED_CODE", f"{name} is not a string")
    return value


# qr.tokens speaks of tokens in general; scanners branch on code-specific machine codes.
_CODE_ERRORS = {"MALFORMED_TOKEN": "MALFORMED_CODE", "MISSING_CLAIM": "MALFORMED_CODE",
                "BAD_SIGNATURE": "CODE_BAD_SIGNATURE", "WRONG_TYPE": "CODE_WRONG_TYPE",
                "UNKNOWN_KEY": "CODE_UNKNOWN_KEY"}


def verify_compact(payload, *, typ: str, keys: KeyRing, required: tuple[str, ...]) -> tuple[dict, dict]:
    """Structure, header, key and signature; returns (header, claims). No time checks."""
    try:
        return decode_verified(payload, typ=typ, ring=keys, required=required, max_length=MAX_PAYLOAD)
    except TokenError as exc:
        raise CodeError(_CODE_ERRORS.get(exc.code, "MALFORMED_CODE"), exc.detail) from None


def _check_window(*, nbf: int, exp: int, now: int, leeway: int) -> None:
    if now >= exp + leeway:
        raise CodeError("CODE_EXPIRED", "code expired")
    if now + leeway < nbf:
        raise CodeError("CODE_NOT_YET_VALID", "code not valid yet")


def _check_act(claims: dict, revoked) -> None:
    """`act` is exactly {"sub": <holder id>} naming someone other than the holder; a revoked
    actor makes the code refused like a revoked holder."""
    act = claims[ACT_CLAIM]
    if not isinstance(act, dict) or set(act) != {"sub"}:
        raise CodeError("MALFORMED_CODE", "act is not {sub}")
    actor = _str_claim(act, "sub")
    if actor == claims["sub"]:
        raise CodeError("MALFORMED_CODE", "act.sub is the holder")
    if actor in revoked:
        raise CodeError("CODE_REVOKED", "actor revoked")


def verify_code(payload, jwks, now: int, revoked=frozenset(), *, leeway: int = 10,
                issuer: str | None = None) -> dict:
    """Verify a 随申码 offline. `jwks` is the JWKS document (or a KeyRing); `revoked` the holder
    ids from the revocation feed (checked against `sub` and, if present, `act.sub`). Returns
    the claims or raises CodeError."""
    _, claims = verify_compact(payload, typ=CODE_TYP, keys=_keys_from(jwks), required=CODE_CLAIMS)
    for name in ("iss", "sub", "jti"):
        _str_claim(claims, name)
    scene = _str_claim(claims, "scn", 32)
    if scene not in SCENES:
        raise CodeError("MALFORMED_CODE", "unknown scene")
    iat, nbf, exp = (_int_claim(claims, n) for n in ("iat", "nbf", "exp"))
    if not nbf < exp or exp - nbf > MAX_CODE_WINDOW or iat > nbf:
        raise CodeError("MALFORMED_CODE", "inconsistent validity window")
    if issuer is not None and claims["iss"] != issuer:
        raise CodeError("CODE_WRONG_ISSUER", "unknown issuer")
    _check_window(nbf=nbf, exp=exp, now=now, leeway=leeway)
    if claims["sub"] in revoked:
        raise CodeError("CODE_REVOKED", "holder revoked")
    if ACT_CLAIM in claims:
        _check_act(claims, revoked)
    return claims


def verify_place_code(payload, jwks, now: int, *, leeway: int = 10, issuer: str | None = None) -> dict:
    """Verify a place code (场所码); same strictness as verify_code."""
    keys = _keys_from(jwks)
    header, claims = verify_compact(payload, typ=PLACE_TYP, keys=keys, required=PLACE_CLAIMS)
    for name in ("iss", "sub", "jti"):
        _str_claim(claims, name)
    _str_claim(claims, "name", 256)
    iat, exp = _int_claim(claims, "iat"), _int_claim(claims, "exp")
    if not iat < exp:
        raise CodeError("MALFORMED_CODE", "inconsistent validity window")
    key = keys.get(header["kid"])
    if key is not None and key.retired_at is not None and iat > key.retired_at + leeway:
        # A retired key signs nothing new: a later iat means the token was not made by us.
        raise CodeError("CODE_BAD_SIGNATURE", "signed after its key was retired")
    if issuer is not None and claims["iss"] != issuer:
        raise CodeError("CODE_WRONG_ISSUER", "unknown issuer")
    _check_window(nbf=iat, exp=exp, now=now, leeway=leeway)
    return claims
