"""qr.codes: fixed vectors, strict offline verification, interop with PyJWT, fuzzed payloads."""
import base64
import json

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from qr.codes import (
    CODE_TYP,
    PLACE_TYP,
    CodeError,
    issue_codes,
    issue_place_code,
    sign_compact,
    verify_code,
    verify_place_code,
)
from qr.keys import KeyRing, SigningKey, thumbprint_kid

ISS = "https://ssb.sh.gov.cn"
NOW = 1_700_000_000
PRIV = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
KEY = SigningKey(thumbprint_kid(PRIV.public_key()), PRIV.public_key(), PRIV, created_at=1)
RING = KeyRing([KEY])
JWKS = RING.jwks(NOW)
CLAIMS = {"iss": ISS, "sub": "0123456789abcdef0123456789abcdef", "scn": "transport", "iat": NOW, "nbf": NOW,
          "exp": NOW + 60, "jti": "fixed-jti-0001"}
VECTOR = ("eyJhbGciOiJFZERTQSIsInR5cCI6InNzYi1jb2RlK2p3dCIsImtpZCI6IjFJRzJ0TUg3SjJ3Ykpabk9mOExKelEifQ."
          "eyJpc3MiOiJodHRwczovL3NzYi5zaC5nb3YuY24iLCJzdWIiOiIwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZiIsInNj"
          "biI6InRyYW5zcG9ydCIsImlhdCI6MTcwMDAwMDAwMCwibmJmIjoxNzAwMDAwMDAwLCJleHAiOjE3MDAwMDAwNjAsImp0aSI6ImZpeGVk"
          "LWp0aS0wMDAxIn0."
          "2tdRBnU5n74jwpYhs_EZqMa_bd4sOPrRHR40j6X-Y5RapNcT4CPLU69UTICjXueDLEHO4fi6qgKkk1ZI9goFDg")


def _b64(obj) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def _code_error(payload, jwks=JWKS, now=NOW, **kw) -> str:
    with pytest.raises(CodeError) as exc:
        verify_code(payload, jwks, now, **kw)
    return exc.value.code


def test_fixed_vector_signs_deterministically():
    assert KEY.kid == "1IG2tMH7J2wbJZnOf8LJzQ"
    assert sign_compact(CLAIMS, typ=CODE_TYP, key=KEY) == VECTOR


def test_fixed_vector_verifies_with_jwks_dict_and_key_ring():
    assert verify_code(VECTOR, JWKS, NOW) == CLAIMS
    assert verify_code(VECTOR, RING, NOW + 30, issuer=ISS) == CLAIMS


def test_pyjwt_interop_both_ways():
    key = jwt.PyJWK(JWKS["keys"][0]).key
    assert jwt.decode(VECTOR, key, algorithms=["EdDSA"], options={"verify_exp": False}) == CLAIMS
    assert jwt.get_unverified_header(VECTOR) == {"alg": "EdDSA", "typ": CODE_TYP, "kid": KEY.kid}
    by_pyjwt = jwt.encode(CLAIMS, PRIV, algorithm="EdDSA", headers={"typ": CODE_TYP, "kid": KEY.kid})
    assert verify_code(by_pyjwt, JWKS, NOW) == CLAIMS


def test_time_window_with_leeway():
    assert verify_code(VECTOR, JWKS, NOW + 69)
    assert _code_error(VECTOR, now=NOW + 70) == "CODE_EXPIRED"
    assert verify_code(VECTOR, JWKS, NOW - 10)
    assert _code_error(VECTOR, now=NOW - 11) == "CODE_NOT_YET_VALID"
    assert _code_error(VECTOR, now=NOW + 60, leeway=0) == "CODE_EXPIRED"


def test_revoked_holder():
    assert _code_error(VECTOR, revoked=frozenset({CLAIMS["sub"]})) == "CODE_REVOKED"


def test_unknown_key_and_foreign_key():
    other = KeyRing([SigningKey.generate(created_at=2)])
    assert _code_error(VECTOR, jwks=other.jwks(NOW)) == "CODE_UNKNOWN_KEY"
    forged = jwt.encode(CLAIMS, Ed25519PrivateKey.generate(), algorithm="EdDSA",
                        headers={"typ": CODE_TYP, "kid": KEY.kid})
    assert _code_error(forged) == "CODE_BAD_SIGNATURE"


def test_wrong_types_and_algorithms():
    assert _code_error(sign_compact(CLAIMS, typ="at+jwt", key=KEY)) == "CODE_WRONG_TYPE"
    assert _code_error(sign_compact(CLAIMS, typ="ssb-licence+jwt", key=KEY)) == "CODE_WRONG_TYPE"
    assert _code_error(sign_compact(CLAIMS, typ=PLACE_TYP, key=KEY)) == "CODE_WRONG_TYPE"
    h, c, s = VECTOR.split(".")
    assert _code_error(_b64({"alg": "none", "typ": CODE_TYP, "kid": KEY.kid}) + "." + c + ".") == "CODE_BAD_SIGNATURE"
    assert _code_error(_b64({"alg": "HS256", "typ": CODE_TYP, "kid": KEY.kid}) + "." + c + "." + s) == \
        "CODE_BAD_SIGNATURE"
    no_typ = jwt.encode(CLAIMS, PRIV, algorithm="EdDSA", headers={"kid": KEY.kid})
    assert _code_error(no_typ) == "CODE_WRONG_TYPE"


def test_extra_header_members_are_refused():
    for extra in ({"crit": ["exp"]}, {"jku": "https://evil.example/jwks"}, {"x5u": "x"}, {"jwk": JWKS["keys"][0]}):
        token = jwt.encode(CLAIMS, PRIV, algorithm="EdDSA", headers={"typ": CODE_TYP, "kid": KEY.kid, **extra})
        assert _code_error(token) == "MALFORMED_CODE", extra


@pytest.mark.parametrize("change", [
    {"jti": None}, {"sub": None}, {"scn": None}, {"exp": None}, {"nbf": None}, {"iat": None}, {"iss": None},
    {"exp": "1700000060"}, {"nbf": 1.5}, {"iat": True}, {"scn": "party"}, {"sub": ""}, {"sub": 5},
    {"exp": NOW}, {"exp": NOW + 100_000}, {"iat": NOW + 1},
])
def test_well_signed_but_bad_claims_are_malformed(change):
    claims = {k: v for k, v in {**CLAIMS, **change}.items() if v is not None}
    assert _code_error(sign_compact(claims, typ=CODE_TYP, key=KEY)) == "MALFORMED_CODE"


def test_wrong_issuer():
    assert _code_error(VECTOR, issuer="https://elsewhere") == "CODE_WRONG_ISSUER"


def test_claims_that_are_not_an_object():
    for body in ([], "x", 1, None):
        h = VECTOR.split(".")[0]
        c = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
        s = base64.urlsafe_b64encode(PRIV.sign(f"{h}.{c}".encode())).rstrip(b"=").decode()
        assert _code_error(f"{h}.{c}.{s}") == "MALFORMED_CODE"


@pytest.mark.parametrize("garbage", [None, 5, b"a.b.c", "", "a.b", "a.b.c.d", "a.b.c", "...", "e30.e30.e30",
                                     "W10.e30.", "=.=.=", "a b.c.d", "é.é.é", "x" * 5000, VECTOR + "A",
                                     VECTOR.replace(".", "=.", 1)])
def test_garbage_is_malformed_or_bad_signature(garbage):
    assert _code_error(garbage) in ("MALFORMED_CODE", "CODE_BAD_SIGNATURE", "CODE_WRONG_TYPE")


@settings(max_examples=300, deadline=None)
@given(position=st.integers(min_value=0, max_value=len(VECTOR) - 1),
       char=st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \x00é"))
def test_any_single_character_change_is_refused_cleanly(position, char):
    mutated = VECTOR[:position] + char + VECTOR[position + 1:]
    if mutated == VECTOR:
        return
    try:
        claims = verify_code(mutated, JWKS, NOW)
    except CodeError:
        return
    # Only a non-canonical base64 spelling of the same signature bytes can survive.
    assert claims == CLAIMS and position >= len(VECTOR) - 2


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_never_raises_anything_else(text):
    with pytest.raises(CodeError):
        verify_code(text, JWKS, NOW)


def test_issue_codes_consecutive_windows():
    codes = issue_codes(ring=RING, issuer=ISS, holder_id="h" * 32, scene="general", now=NOW, ttl=60, count=3)
    assert [(c.not_before, c.expires_at) for c in codes] == [(NOW, NOW + 60), (NOW + 60, NOW + 120),
                                                             (NOW + 120, NOW + 180)]
    assert verify_code(codes[0].payload, JWKS, NOW)["scn"] == "general"
    assert verify_code(codes[2].payload, JWKS, NOW + 125)["iat"] == NOW
    with pytest.raises(ValueError):
        issue_codes(ring=RING, issuer=ISS, holder_id="h", scene="party", now=NOW, ttl=60)


def test_place_codes():
    code = issue_place_code(ring=RING, issuer=ISS, venue_id="vn_1", name="人民广场站", district="黄浦区", now=NOW,
                            ttl=365 * 86400)
    claims = verify_place_code(code.payload, RING, NOW + 100 * 86400, issuer=ISS)
    assert claims["sub"] == "vn_1" and claims["name"] == "人民广场站"
    with pytest.raises(CodeError) as exc:
        verify_place_code(code.payload, RING, NOW + 366 * 86400)
    assert exc.value.code == "CODE_EXPIRED"
    with pytest.raises(CodeError) as exc:
        verify_place_code(VECTOR, RING, NOW)
    assert exc.value.code == "CODE_WRONG_TYPE"
    with pytest.raises(CodeError) as exc:
        verify_code(code.payload, RING, NOW)
    assert exc.value.code == "CODE_WRONG_TYPE"


def test_place_code_signed_after_its_key_retired_is_refused():
    retired = SigningKey(KEY.kid, KEY.public_key, KEY.private_key, 1, retired_at=NOW, published_until=NOW + 900)
    before = issue_place_code(ring=RING, issuer=ISS, venue_id="vn_1", name="x", district=None, now=NOW - 5, ttl=86400)
    after = issue_place_code(ring=RING, issuer=ISS, venue_id="vn_1", name="x", district=None, now=NOW + 3600,
                             ttl=86400)
    ring = KeyRing([retired])
    assert verify_place_code(before.payload, ring, NOW + 7200)["sub"] == "vn_1"
    with pytest.raises(CodeError) as exc:
        verify_place_code(after.payload, ring, NOW + 7200)
    assert exc.value.code == "CODE_BAD_SIGNATURE"


def test_qr_package_stays_pure():
    import ast
    import pathlib

    import qr
    for path in pathlib.Path(qr.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert node.module.split(".")[0] not in ("api", "flask", "sqlalchemy", "redis"), path
            if isinstance(node, ast.Import):
                for alias in node.names:
                    assert alias.name.split(".")[0] not in ("api", "flask", "sqlalchemy", "redis"), path


@settings(max_examples=150, deadline=None)
@given(issuer=st.text(max_size=40), holder=st.text(min_size=1, max_size=40),
       scene=st.sampled_from(["general", "transport", "veteran"]), now=st.integers(0, 2**40),
       extra=st.one_of(st.none(), st.fixed_dictionaries({"ent": st.fixed_dictionaries(
           {"enterprise_id": st.integers(), "role": st.text(max_size=10)})})))
def test_hand_serialised_claims_are_exactly_compact_json(issuer, holder, scene, now, extra):
    code = issue_codes(ring=RING, issuer=issuer, holder_id=holder, scene=scene, now=now, ttl=60, extra=extra)[0]
    segment = code.payload.split(".")[1]
    raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    claims = json.loads(raw)
    expected = {"iss": issuer, "sub": holder, "scn": scene, "iat": now, "nbf": now, "exp": now + 60,
                "jti": claims["jti"], **(extra or {})}
    assert claims == expected
    assert raw == json.dumps(expected, separators=(",", ":"), ensure_ascii=False).encode()


def test_extra_claims_cannot_override_registered_ones():
    with pytest.raises(ValueError):
        issue_codes(ring=RING, issuer=ISS, holder_id="h", scene="general", now=NOW, ttl=60, extra={"sub": "x"})
