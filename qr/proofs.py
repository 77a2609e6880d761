"""E-proof payloads (`ssb-proof+jwt`): signing and strict offline verification.

Pure: keys, claims and `now` in, values out; no I/O, nothing imported from `api/`. A bank clerk's
or an embassy's checker can vendor this module (plus `qr/keys.py` and `qr/tokens.py`) and verify
the QR on a printed proof with only our JWKS and the proof revocation feed:

    from qr.proofs import verify_proof
    claims = verify_proof(payload, jwks, now=int(time.time()), revoked=revoked_numbers)

Claims: `iss`, `jti` (the proof number printed on the document), `pt` (proof type), `iat`, `nbf`
and `exp` (the validity), `hn` (the holder's name, masked), `dep` (the issuing authority) and
`fld` (the proof's fields, as issued). Never an identity number, a phone or an account id.
"""
from __future__ import annotations

from qr.keys import KeyRing, SigningKey
from qr.tokens import TokenError, decode_verified, sign_with_key

PROOF_TYP = "ssb-proof+jwt"
PROOF_CLAIMS = ("iss", "jti", "pt", "iat", "nbf", "exp", "hn", "dep", "fld")
MAX_PAYLOAD = 4096
# A proof may never claim more validity than this, whatever its signature says.
MAX_PROOF_WINDOW = 400 * 86400

_TOKEN_ERRORS = {"MALFORMED_TOKEN": "MALFORMED_PROOF", "MISSING_CLAIM": "MALFORMED_PROOF",
                 "BAD_SIGNATURE": "PROOF_BAD_SIGNATURE", "WRONG_TYPE": "PROOF_WRONG_TYPE",
                 "UNKNOWN_KEY": "PROOF_UNKNOWN_KEY"}


class ProofError(TokenError):
    """A proof payload was refused. `code`: MALFORMED_PROOF, PROOF_WRONG_TYPE, PROOF_UNKNOWN_KEY,
    PROOF_BAD_SIGNATURE, PROOF_WRONG_ISSUER, PROOF_EXPIRED, PROOF_NOT_YET_VALID, PROOF_REVOKED."""


def sign_proof(claims: dict, *, key: SigningKey) -> str:
    """A compact JWS with header {alg: EdDSA, typ: ssb-proof+jwt, kid}."""
    return sign_with_key(claims, typ=PROOF_TYP, key=key)


def decode_proof(payload, keys: KeyRing, *, issuer: str | None = None) -> dict:
    """Structure, header (typ pinned), key, signature and claim types; no time or revocation
    checks (the online verifier answers `expired` or `revoked` instead of refusing)."""
    try:
        _, claims = decode_verified(payload, typ=PROOF_TYP, ring=keys, required=PROOF_CLAIMS,
                                    max_length=MAX_PAYLOAD)
    except TokenError as exc:
        raise ProofError(_TOKEN_ERRORS.get(exc.code, "MALFORMED_PROOF"), exc.detail) from None
    for name in ("iss", "jti", "pt", "hn", "dep"):
        value = claims[name]
        if not isinstance(value, str) or not value or len(value) > 256:
            raise ProofError("MALFORMED_PROOF", f"{name} is not a string")
    iat, nbf, exp = (claims[n] for n in ("iat", "nbf", "exp"))
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (iat, nbf, exp)):
        raise ProofError("MALFORMED_PROOF", "times are not integers")
    if not nbf < exp or exp - nbf > MAX_PROOF_WINDOW:
        raise ProofError("MALFORMED_PROOF", "inconsistent validity window")
    if not isinstance(claims["fld"], dict):
        raise ProofError("MALFORMED_PROOF", "fld is not an object")
    if issuer is not None and claims["iss"] != issuer:
        raise ProofError("PROOF_WRONG_ISSUER", "unknown issuer")
    return claims


def verify_proof(payload, jwks, now: int, revoked=frozenset(), *, leeway: int = 10,
                 issuer: str | None = None) -> dict:
    """Verify a proof offline. `jwks` is the JWKS document (or a KeyRing); `revoked` the proof
    numbers from `GET /v1/proofs/revocations`. Returns the claims or raises ProofError."""
    keys = jwks if isinstance(jwks, KeyRing) else KeyRing.from_jwks(jwks)
    claims = decode_proof(payload, keys, issuer=issuer)
    if now >= claims["exp"] + leeway:
        raise ProofError("PROOF_EXPIRED", "proof expired")
    if now + leeway < claims["nbf"]:
        raise ProofError("PROOF_NOT_YET_VALID", "proof not valid yet")
    if claims["jti"] in revoked:
        raise ProofError("PROOF_REVOKED", "proof revoked")
    return claims
