"""qr.proofs: a fixed vector, strict offline verification, interop with PyJWT, fuzzed payloads."""
import base64
import json

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from qr.codes import CODE_TYP, sign_compact
from qr.keys import KeyRing, SigningKey, thumbprint_kid
from qr.proofs import PROOF_CLAIMS, PROOF_TYP, ProofError, decode_proof, sign_proof, verify_proof

ISS = "https://ssb.sh.gov.cn"
NOW = 1_700_000_000
PRIV = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
KEY = SigningKey(thumbprint_kid(PRIV.public_key()), PRIV.public_key(), PRIV, created_at=1)
JWKS = KeyRing([KEY]).jwks(NOW)
CLAIMS = {"iss": ISS, "jti": "ZM20231114ABCDEFGHJK", "pt": "marital_status", "iat": NOW, "nbf": NOW,
          "exp": NOW + 90 * 86400, "hn": "*三", "dep": "上海市民政局",
          "fld": {"status": "unmarried", "as_of": "2023-11-14"}}
VECTOR = ("eyJhbGciOiJFZERTQSIsInR5cCI6InNzYi1wcm9vZitqd3QiLCJraWQiOiIxSUcydE1IN0oyd2JKWm5PZjhMSnpRIn0."
          "eyJpc3MiOiJodHRwczovL3NzYi5zaC5nb3YuY24iLCJqdGkiOiJaTTIwMjMxMTE0QUJDREVGR0hKSyIsInB0IjoibWFyaXRhbF9z"
          "dGF0dXMiLCJpYXQiOjE3MDAwMDAwMDAsIm5iZiI6MTcwMDAwMDAwMCwiZXhwIjoxNzA3Nzc2MDAwLCJobiI6IirkuIkiLCJkZXAi"
          "OiLkuIrmtbfluILmsJHmlL_lsYAiLCJmbGQiOnsic3RhdHVzIjoidW5tYXJyaWVkIiwiYXNfb2YiOiIyMDIzLTExLTE0In19."
          "9h1QMMPo3j6XtLDpWuMv93pps2segpsGzrUvt6y-eeAHAesWNN4i6gRwZ_tvUN58ja-cdLH5ymo1N00lWTHmAw")


def _b64(obj) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj, ensure_ascii=False).encode()).rstrip(b"=").decode()


def _refused(payload, now=NOW, **kwargs) -> str:
    with pytest.raises(ProofError) as refused:
        verify_proof(payload, JWKS, now, **kwargs)
    return refused.value.code


def test_signing_is_deterministic_and_matches_the_fixed_vector():
    assert sign_proof(CLAIMS, key=KEY) == VECTOR
    assert verify_proof(VECTOR, JWKS, NOW, issuer=ISS) == CLAIMS


def test_pyjwt_verifies_our_proofs():
    key = jwt.PyJWKSet.from_dict(JWKS).keys[0].key
    assert jwt.get_unverified_header(VECTOR)["typ"] == PROOF_TYP
    claims = jwt.decode(VECTOR, key, algorithms=["EdDSA"], issuer=ISS, options={"require": list(PROOF_CLAIMS),
                                                                                   "verify_exp": False})
    assert claims == CLAIMS


def test_validity_window_and_revocation():
    assert _refused(VECTOR, now=NOW + 90 * 86400 + 10) == "PROOF_EXPIRED"
    assert _refused(VECTOR, now=NOW - 11) == "PROOF_NOT_YET_VALID"
    assert _refused(VECTOR, revoked={"ZM20231114ABCDEFGHJK"}) == "PROOF_REVOKED"
    assert _refused(VECTOR, issuer="https://elsewhere.example") == "PROOF_WRONG_ISSUER"


def test_other_token_kinds_are_refused():
    code = sign_compact({**CLAIMS, "sub": "x", "scn": "general"}, typ=CODE_TYP, key=KEY)
    assert _refused(code) == "PROOF_WRONG_TYPE"
    licence = sign_compact(CLAIMS, typ="ssb-licence+jwt", key=KEY)
    assert _refused(licence) == "PROOF_WRONG_TYPE"


def test_tampering_and_foreign_keys_are_refused():
    header, _, signature = VECTOR.split(".")
    assert _refused(f"{header}.{_b64({**CLAIMS, 'fld': {'status': 'married'}})}.{signature}") == "PROOF_BAD_SIGNATURE"
    stranger = Ed25519PrivateKey.generate()
    forged_key = SigningKey(KEY.kid, stranger.public_key(), stranger, created_at=1)
    assert _refused(sign_proof(CLAIMS, key=forged_key)) == "PROOF_BAD_SIGNATURE"
    unknown = SigningKey(thumbprint_kid(stranger.public_key()), stranger.public_key(), stranger, created_at=1)
    assert _refused(sign_proof(CLAIMS, key=unknown)) == "PROOF_UNKNOWN_KEY"


@pytest.mark.parametrize("change", [
    {"exp": "soon"}, {"nbf": True}, {"fld": ["status"]}, {"jti": ""}, {"hn": 3},
    {"exp": NOW - 1}, {"exp": NOW + 401 * 86400},
])
def test_claims_of_the_wrong_shape_are_refused(change):
    assert _refused(sign_proof({**CLAIMS, **change}, key=KEY)) == "MALFORMED_PROOF"


def test_missing_claims_are_refused():
    for name in PROOF_CLAIMS:
        claims = {k: v for k, v in CLAIMS.items() if k != name}
        assert _refused(sign_proof(claims, key=KEY)) == "MALFORMED_PROOF", name


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_is_refused_with_a_machine_code(text):
    with pytest.raises(ProofError) as refused:
        decode_proof(text, KeyRing([KEY]))
    assert refused.value.code in {"MALFORMED_PROOF", "PROOF_WRONG_TYPE", "PROOF_BAD_SIGNATURE", "PROOF_UNKNOWN_KEY"}
