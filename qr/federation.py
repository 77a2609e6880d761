"""Yangtze River Delta trust federation (长三角互认): peer platforms' codes and the signed trust list.

Pure: documents, keys and `now` in, values out; no I/O, nothing imported from `api/`. Offline
scanners can vendor this module (with `qr/keys.py`, `qr/tokens.py`, `qr/codes.py`) and verify
the code of any trusted province with one download of our trust list:

    trust_list = verify_trust_list(download["payload"], our_jwks, now=now)
    claims, platform = verify_with_trust_list(payload, trust_list, now=now)

A peer signs codes with our claim profile (`iss`, `sub`, `scn`, `iat`, `nbf`, `exp`, `jti`)
under its own `typ`, with EdDSA (Ed25519) or ES256 (P-256). The verifier is as strict as ours:

- the unverified `iss` only chooses WHICH registered key set to try; the key comes from that
  set by `kid`, so a peer can never sign as us or as another peer;
- headers that point at or carry keys (`jku`, `jwk`, `x5u`, `x5c`, ...) are refused outright,
  never fetched or used; only `alg`/`typ`/`kid` are accepted;
- `alg` must be one the key itself is for (no ES256/EdDSA confusion, no `none`, no HMAC);
- `typ` must be one the peer registered; time checks use the verifier's leeway.
"""
from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from qr.codes import CODE_CLAIMS, CODE_TYP, MAX_CODE_WINDOW, MAX_PAYLOAD, SCENES, CodeError
from qr.keys import KeyRing
from qr.tokens import TokenError, b64url, b64url_decode, decode_verified, sign

PEER_ALGORITHMS = ("EdDSA", "ES256")
TRUST_LIST_TYP = "ssb-trust-list+jwt"
HEADER_MEMBERS = frozenset({"alg", "typ", "kid"})
# Header members that name or carry a key (RFC 7515 4.1) or demand extensions: a verifier that
# honoured any of them would let the token choose the key that verifies it.
KEY_CARRYING_HEADERS = frozenset({"jku", "jwk", "x5u", "x5c", "x5t", "x5t#S256", "crit"})
MAX_JWKS_KEYS = 32
MAX_KID = 128
MAX_TRUST_LIST = 512 * 1024
TRUST_LIST_CLAIMS = ("iss", "iat", "exp", "jti", "self", "peers")

_COMPACT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\Z")
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "k"})


class JwksError(ValueError):
    """A JWKS document is unusable as a whole (not an object, too many keys, duplicate kids)."""


# --------------------------------------------------------------------------- peer keys


@dataclass(frozen=True)
class PeerKey:
    kid: str
    alg: str                      # "EdDSA" or "ES256": the only algorithm this key verifies
    jwk: dict = field(hash=False)  # public members only, normalised
    public_key: Ed25519PublicKey | ec.EllipticCurvePublicKey = field(hash=False, repr=False)

    def verify(self, signature: bytes, signing_input: bytes) -> bool:
        if len(signature) != 64:
            return False
        try:
            if isinstance(self.public_key, Ed25519PublicKey):
                self.public_key.verify(signature, signing_input)
            else:   # ES256: JWS carries r || s, cryptography wants DER
                der = encode_dss_signature(int.from_bytes(signature[:32], "big"),
                                           int.from_bytes(signature[32:], "big"))
                self.public_key.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return False
        return True


def _coordinate(jwk: dict, name: str) -> bytes:
    value = jwk.get(name)
    if not isinstance(value, str):
        raise ValueError(f"missing {name}")
    try:
        raw = b64url_decode(value)
    except TokenError:
        raise ValueError(f"{name} is not base64url") from None
    if len(raw) != 32:
        raise ValueError(f"{name} has the wrong length")
    return raw


def _public_key(jwk: dict) -> tuple[str, Ed25519PublicKey | ec.EllipticCurvePublicKey, dict]:
    """(alg, public key, normalised public members) of an Ed25519 or P-256 JWK."""
    kty, crv = jwk.get("kty"), jwk.get("crv")
    if kty == "OKP" and crv == "Ed25519":
        x = _coordinate(jwk, "x")
        return "EdDSA", Ed25519PublicKey.from_public_bytes(x), {"kty": kty, "crv": crv, "x": b64url(x)}
    if kty == "EC" and crv == "P-256":
        x, y = _coordinate(jwk, "x"), _coordinate(jwk, "y")
        # from_encoded_point checks that the point is on the curve (invalid-curve attacks).
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b"\x04" + x + y)
        return "ES256", public, {"kty": kty, "crv": crv, "x": b64url(x), "y": b64url(y)}
    raise ValueError(f"key type {kty}/{crv} is not EdDSA or ES256")


def peer_key_from_jwk(jwk) -> PeerKey:
    """One public key of a peer's JWKS; ValueError says why it is not usable."""
    if not isinstance(jwk, dict):
        raise ValueError("not an object")
    kid = jwk.get("kid")
    if not isinstance(kid, str) or not 1 <= len(kid) <= MAX_KID:
        raise ValueError("no usable kid")
    if _PRIVATE_MEMBERS & set(jwk):
        raise ValueError(f"{kid}: private key material published")
    if jwk.get("use", "sig") != "sig":
        raise ValueError(f"{kid}: not a signing key")
    try:
        alg, public, normal = _public_key(jwk)
    except ValueError as exc:
        raise ValueError(f"{kid}: {exc}") from None
    if jwk.get("alg", alg) != alg:
        raise ValueError(f"{kid}: alg {jwk.get('alg')} does not fit a {normal['crv']} key")
    return PeerKey(kid=kid, alg=alg, jwk={**normal, "kid": kid, "alg": alg, "use": "sig"}, public_key=public)


def parse_jwks(document, *, algorithms: Collection[str] = PEER_ALGORITHMS) -> tuple[list[PeerKey], list[str]]:
    """(usable keys, why each other key was skipped). Raises JwksError if the document as a
    whole is unusable; a key that is merely of another kind is skipped, not fatal."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise JwksError("not a JWKS object with a keys array")
    entries = document["keys"]
    if len(entries) > MAX_JWKS_KEYS:
        raise JwksError(f"more than {MAX_JWKS_KEYS} keys")
    kids = [e.get("kid") for e in entries if isinstance(e, dict) and isinstance(e.get("kid"), str)]
    if len(kids) != len(set(kids)):
        raise JwksError("duplicate kid")
    keys, skipped = [], []
    for entry in entries:
        try:
            key = peer_key_from_jwk(entry)
        except (ValueError, TypeError) as exc:
            skipped.append(str(exc))
            continue
        if key.alg not in algorithms:
            skipped.append(f"{key.kid}: {key.alg} is not allowed for this peer")
            continue
        keys.append(key)
    return keys, skipped


def key_set(jwks: Iterable[dict]) -> dict[str, PeerKey]:
    """kid -> key, from already normalised public JWKs (stored or in a trust list)."""
    out = {}
    for jwk in jwks:
        key = peer_key_from_jwk(jwk)
        out[key.kid] = key
    return out


# --------------------------------------------------------------------------- peer codes


def _json_segment(segment: str) -> dict:
    try:
        value = json.loads(b64url_decode(segment))
    except (ValueError, UnicodeDecodeError, TokenError):
        raise CodeError("MALFORMED_CODE", "unreadable segment") from None
    if not isinstance(value, dict):
        raise CodeError("MALFORMED_CODE", "segment is not an object")
    return value


def _split(payload, max_length: int = MAX_PAYLOAD) -> tuple[str, str, str]:
    if not isinstance(payload, str) or len(payload) > max_length or not _COMPACT.match(payload):
        raise CodeError("MALFORMED_CODE", "not a compact JWS")
    h_seg, c_seg, s_seg = payload.split(".")
    return h_seg, c_seg, s_seg


def unverified_issuer(payload) -> str | None:
    """The `iss` a payload claims, unverified: ONLY to choose which key set to try."""
    try:
        _, c_seg, _ = _split(payload)
        iss = _json_segment(c_seg).get("iss")
    except CodeError:
        return None
    return iss if isinstance(iss, str) and 0 < len(iss) <= 255 else None


def verify_signed(payload, *, keys: Mapping[str, PeerKey], types: Collection[str],
                  algorithms: Collection[str] = PEER_ALGORITHMS) -> tuple[dict, dict]:
    """Structure, header, key (from `keys` only) and signature; returns (header, claims)."""
    h_seg, c_seg, s_seg = _split(payload)
    header = _json_segment(h_seg)
    if KEY_CARRYING_HEADERS & set(header):
        raise CodeError("CODE_HEADER_NOT_ALLOWED", "header names or carries a key")
    alg, typ = header.get("alg"), header.get("typ")
    if not isinstance(alg, str) or alg not in algorithms or alg not in PEER_ALGORITHMS:
        raise CodeError("CODE_BAD_SIGNATURE", "algorithm not allowed")
    if not isinstance(typ, str) or typ not in types:
        raise CodeError("CODE_WRONG_TYPE", "typ not registered for this issuer")
    if set(header) - HEADER_MEMBERS:
        raise CodeError("MALFORMED_CODE", "unexpected header members")
    kid = header.get("kid")
    key = keys.get(kid) if isinstance(kid, str) else None
    if key is None:
        raise CodeError("CODE_UNKNOWN_KEY", "kid not in this issuer's key set")
    if key.alg != alg:
        raise CodeError("CODE_BAD_SIGNATURE", "alg does not match the key")
    try:
        signature = b64url_decode(s_seg) if s_seg else b""
    except TokenError:
        raise CodeError("MALFORMED_CODE", "signature is not base64url") from None
    if not key.verify(signature, (h_seg + "." + c_seg).encode("ascii")):
        raise CodeError("CODE_BAD_SIGNATURE", "signature does not verify")
    return header, _json_segment(c_seg)


def _claim_int(claims: dict, name: str) -> int:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise CodeError("MALFORMED_CODE", f"{name} is not an integer")
    return value


def check_code_claims(claims: dict, *, issuer: str, now: int, leeway: int,
                      scenes: Collection[str] | None = None) -> dict:
    """Our claim profile: every claim present and typed, a sane window, the right issuer, the
    time, and (when given) a scene this issuer is trusted for."""
    for name in CODE_CLAIMS:
        if name not in claims:
            raise CodeError("MALFORMED_CODE", f"missing {name}")
    for name in ("iss", "sub", "jti"):
        value = claims[name]
        if not isinstance(value, str) or not 0 < len(value) <= 256:
            raise CodeError("MALFORMED_CODE", f"{name} is not a string")
    if claims["scn"] not in SCENES:
        raise CodeError("MALFORMED_CODE", "unknown scene")
    iat, nbf, exp = (_claim_int(claims, n) for n in ("iat", "nbf", "exp"))
    if not nbf < exp or exp - nbf > MAX_CODE_WINDOW or iat > nbf:
        raise CodeError("MALFORMED_CODE", "inconsistent validity window")
    if claims["iss"] != issuer:
        raise CodeError("CODE_WRONG_ISSUER", "issuer does not own this key set")
    if now >= exp + leeway:
        raise CodeError("CODE_EXPIRED", "code expired")
    if now + leeway < nbf:
        raise CodeError("CODE_NOT_YET_VALID", "code not valid yet")
    if scenes is not None and claims["scn"] not in scenes:
        raise CodeError("CODE_SCENE_NOT_TRUSTED", "scene not trusted for this issuer")
    return claims


def verify_peer_code(payload, *, keys: Mapping[str, PeerKey], types: Collection[str], issuer: str,
                     now: int, leeway: int = 10, algorithms: Collection[str] = PEER_ALGORITHMS,
                     scenes: Collection[str] | None = None) -> dict:
    """Verify a peer platform's code against THAT peer's registration. Returns the claims or
    raises CodeError (codes as in qr.codes, plus CODE_HEADER_NOT_ALLOWED and CODE_SCENE_NOT_TRUSTED)."""
    _, claims = verify_signed(payload, keys=keys, types=types, algorithms=algorithms)
    return check_code_claims(claims, issuer=issuer, now=now, leeway=leeway, scenes=scenes)


def replay_digest(issuer: str, jti: str) -> str:
    """A fixed-size, delimiter-free name for (issuer, jti), e.g. inside a Redis key."""
    return hashlib.sha256(issuer.encode() + b"\0" + jti.encode()).hexdigest()[:32]


# --------------------------------------------------------------------------- the trust list


def platform_entry(*, issuer: str, name: str, region: str, types: Iterable[str], scenes: Iterable[str],
                   keys: Iterable[dict], keys_valid_until: int | None) -> dict:
    """One platform of the trust list (ourselves or a peer)."""
    return {"issuer": issuer, "name": name, "region": region, "typ": list(types), "scenes": list(scenes),
            "keys": list(keys), "keys_valid_until": keys_valid_until}


def sign_trust_list(*, ring: KeyRing, issuer: str, own: dict, peers: list[dict], now: int, ttl: int) -> str:
    """A compact JWS (EdDSA, typ ssb-trust-list+jwt) over our entry and every peer's."""
    claims = {"iss": issuer, "iat": now, "nbf": now, "exp": now + ttl, "jti": secrets.token_urlsafe(12),
              "self": own, "peers": peers}
    return sign(claims, typ=TRUST_LIST_TYP, ring=ring)


def verify_trust_list(payload, anchor, *, now: int, issuer: str | None = None, leeway: int = 60) -> dict:
    """The claims of a trust list signed by a key of `anchor` (our JWKS, pinned by the scanner).
    Raises TokenError."""
    ring = anchor if isinstance(anchor, KeyRing) else KeyRing.from_jwks(anchor)
    _, claims = decode_verified(payload, typ=TRUST_LIST_TYP, ring=ring, required=TRUST_LIST_CLAIMS,
                                max_length=MAX_TRUST_LIST)
    for name in ("iat", "exp"):
        if isinstance(claims[name], bool) or not isinstance(claims[name], int):
            raise TokenError("MALFORMED_TOKEN", f"{name} is not an integer")
    if now >= claims["exp"] + leeway:
        raise TokenError("EXPIRED", "trust list expired; download a fresh one")
    if now + leeway < claims.get("nbf", claims["iat"]):
        raise TokenError("NOT_YET_VALID", "trust list not valid yet")
    if issuer is not None and claims["iss"] != issuer:
        raise TokenError("WRONG_ISSUER", "trust list from another issuer")
    if not isinstance(claims["self"], dict) or not isinstance(claims["peers"], list):
        raise TokenError("MALFORMED_TOKEN", "self/peers malformed")
    return claims


def _platform_for(trust_list: dict, issuer: str | None) -> dict | None:
    if issuer is None:
        return None
    if trust_list["self"].get("issuer") == issuer:
        return trust_list["self"]
    return next((p for p in trust_list["peers"] if isinstance(p, dict) and p.get("issuer") == issuer), None)


def verify_with_trust_list(payload, trust_list: dict, *, now: int, leeway: int = 10) -> tuple[dict, dict]:
    """Verify our code or any trusted peer's offline with a verified trust list.
    Returns (claims, platform entry) or raises CodeError."""
    issuer = unverified_issuer(payload)
    platform = _platform_for(trust_list, issuer)
    if platform is None or issuer is None:
        raise CodeError("CODE_WRONG_ISSUER", "issuer not in the trust list")
    until = platform.get("keys_valid_until")
    if until is not None and now > until:
        raise CodeError("CODE_ISSUER_KEYS_EXPIRED", "this issuer's keys are too old; refresh the trust list")
    try:
        keys = key_set(platform.get("keys") or [])
    except ValueError:
        raise CodeError("CODE_UNKNOWN_KEY", "unusable key in the trust list") from None
    claims = verify_peer_code(payload, keys=keys, types=platform.get("typ") or (), issuer=issuer, now=now,
                              leeway=leeway, scenes=platform.get("scenes") or ())
    return claims, platform


__all__ = ["CODE_TYP", "JwksError", "KEY_CARRYING_HEADERS", "PEER_ALGORITHMS", "PeerKey", "TRUST_LIST_TYP",
           "check_code_claims", "key_set", "parse_jwks", "peer_key_from_jwk", "platform_entry", "replay_digest",
           "sign_trust_list", "unverified_issuer", "verify_peer_code", "verify_signed", "verify_trust_list",
           "verify_with_trust_list"]
