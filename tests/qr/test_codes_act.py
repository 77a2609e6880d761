"""qr.codes `act`: a code shown by a guardian for a dependent. Pure, with fixed keys and clock."""
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from qr.codes import CODE_TYP, CodeError, act_claim, actor_of, issue_codes, sign_compact, verify_code
from qr.keys import KeyRing, SigningKey, thumbprint_kid

ISS = "https://ssb.sh.gov.cn"
NOW = 1_700_000_000
PRIV = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
KEY = SigningKey(thumbprint_kid(PRIV.public_key()), PRIV.public_key(), PRIV, created_at=1)
RING = KeyRing([KEY])
JWKS = RING.jwks(NOW)
CHILD, PARENT = "c" * 32, "p" * 32
CLAIMS = {"iss": ISS, "sub": CHILD, "scn": "medical", "iat": NOW, "nbf": NOW, "exp": NOW + 60, "jti": "act-jti-0001",
          "act": {"sub": PARENT}}


def _code_error(payload, **kw) -> str:
    with pytest.raises(CodeError) as exc:
        verify_code(payload, JWKS, NOW, **kw)
    return exc.value.code


def test_act_claim_is_rfc8693_shaped():
    assert act_claim(PARENT) == {"act": {"sub": PARENT}}
    with pytest.raises(ValueError):
        act_claim("")


def test_issued_codes_carry_act_and_verify_offline():
    code = issue_codes(ring=RING, issuer=ISS, holder_id=CHILD, scene="medical", now=NOW, ttl=60,
                       extra=act_claim(PARENT))[0]
    claims = verify_code(code.payload, JWKS, NOW, issuer=ISS)
    assert claims["sub"] == CHILD and claims["act"] == {"sub": PARENT} and actor_of(claims) == PARENT
    assert actor_of({"sub": CHILD}) is None
    # Any JWT library reads it with the JWKS alone.
    key = jwt.PyJWK(JWKS["keys"][0]).key
    decoded = jwt.decode(code.payload, key, algorithms=["EdDSA"], issuer=ISS, options={"verify_exp": False})
    assert decoded["act"]["sub"] == PARENT


def test_fixed_vector_with_act_round_trips():
    payload = sign_compact(CLAIMS, typ=CODE_TYP, key=KEY)
    assert sign_compact(CLAIMS, typ=CODE_TYP, key=KEY) == payload       # Ed25519 is deterministic
    assert verify_code(payload, JWKS, NOW)["act"] == {"sub": PARENT}


def test_a_revoked_guardian_revokes_the_code():
    payload = sign_compact(CLAIMS, typ=CODE_TYP, key=KEY)
    assert _code_error(payload, revoked=frozenset({PARENT})) == "CODE_REVOKED"
    assert _code_error(payload, revoked=frozenset({CHILD})) == "CODE_REVOKED"


@pytest.mark.parametrize("act", [{"sub": CHILD}, {"sub": ""}, {"sub": 5}, {}, "x", ["p"], None,
                                 {"sub": PARENT, "act": {"sub": "x"}}, {"sub": "x" * 300}])
def test_malformed_act_is_refused(act):
    payload = sign_compact({**CLAIMS, "act": act}, typ=CODE_TYP, key=KEY)
    assert _code_error(payload) == "MALFORMED_CODE"


def test_act_signed_by_a_foreign_key_is_refused():
    other = Ed25519PrivateKey.generate()
    forged = jwt.encode(CLAIMS, other, algorithm="EdDSA", headers={"typ": CODE_TYP, "kid": KEY.kid})
    assert _code_error(forged) == "CODE_BAD_SIGNATURE"


def test_act_under_another_token_type_is_refused():
    payload = sign_compact(CLAIMS, typ="at+jwt", key=KEY)
    assert _code_error(payload) == "CODE_WRONG_TYPE"
