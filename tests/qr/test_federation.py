"""qr.federation: peers' keys and codes (EdDSA and ES256) with fixed vectors, PyJWT interop, the
strict header rules, and the trust list round trip."""
import json

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from qr.codes import CodeError
from qr.federation import (
    JwksError,
    key_set,
    parse_jwks,
    platform_entry,
    sign_trust_list,
    unverified_issuer,
    verify_peer_code,
    verify_trust_list,
    verify_with_trust_list,
)
from qr.keys import KeyRing, SigningKey, thumbprint_kid
from qr.tokens import TokenError
from tests.fakes.peer_platform import FakeKey, b64, b64json

NOW = 1_700_000_000
JS = "https://zwfw.jiangsu.gov.cn"
ZJ = "https://zlb.zj.gov.cn"
ED_JWK = {"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": "js-2026-01",
          "x": "Kay64UG8yvCyLhqU000LxzYeUm0L_hLIl5S8kyKWbdc"}
EC_JWK = {"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": "zj-2026-01",
          "x": "-evkZBR8wQLZIyTQmdknwaUOQtV6CKEW_-wKKYGdjGU", "y": "cLr30SiIkCpqDB1nrdEDEjyFmrab-OlDHJOEkw1Lfu4"}
ED_VECTOR = (
    "eyJhbGciOiJFZERTQSIsInR5cCI6ImpzLWNvZGUrand0Iiwia2lkIjoianMtMjAyNi0wMSJ9."
    "eyJpc3MiOiJodHRwczovL3p3ZncuamlhbmdzdS5nb3YuY24iLCJzdWIiOiJqcy1ob2xkZXItMDAwMSIsInNjbiI6InRyYW5zcG9ydCIs"
    "ImlhdCI6MTcwMDAwMDAwMCwibmJmIjoxNzAwMDAwMDAwLCJleHAiOjE3MDAwMDAwNjAsImp0aSI6ImpzLWp0aS0wMDAxIn0."
    "6xAsLzzFCoaERlq6ok5UBJl_DfVha2v5pPnRQfAuPTG932uGIIJ9HjvozQ26ZyiUlMv7k5a1B1OGmnUVS-n9Cw")
EC_VECTOR = (
    "eyJhbGciOiJFUzI1NiIsInR5cCI6InpqLWNvZGUrand0Iiwia2lkIjoiemotMjAyNi0wMSJ9."
    "eyJpc3MiOiJodHRwczovL3psYi56ai5nb3YuY24iLCJzdWIiOiJ6ai1ob2xkZXItMDAwMSIsInNjbiI6InRyYW5zcG9ydCIsImlhdCI6"
    "MTcwMDAwMDAwMCwibmJmIjoxNzAwMDAwMDAwLCJleHAiOjE3MDAwMDAwNjAsImp0aSI6InpqLWp0aS0wMDAxIn0."
    "dzHfI_bP6GUB7ZRtvGCNavrfQAjt7huPLzLhLsptNoUzQiuf0CVPBwswLfxLZz4D-K37gaowWoq1J-mncrXvhQ")
ED_KEY = FakeKey(kid="js-2026-01", alg="EdDSA", private=Ed25519PrivateKey.from_private_bytes(bytes(range(32, 64))))
EC_KEY = FakeKey(kid="zj-2026-01", alg="ES256",
                 private=ec.derive_private_key(0x1234567890ABCDEF1234567890ABCDEF, ec.SECP256R1()))
JS_KEYS = key_set([ED_JWK])
ZJ_KEYS = key_set([EC_JWK])


def _claims(iss=JS, **kw):
    return {"iss": iss, "sub": "js-holder-0001", "scn": "transport", "iat": NOW, "nbf": NOW, "exp": NOW + 60,
            "jti": "js-jti-0001", **kw}


def _sign(claims, key=ED_KEY, **header):
    h = b64json({"alg": key.alg, "typ": "js-code+jwt", "kid": key.kid, **header})
    signing_input = h + "." + b64json(claims)
    return signing_input + "." + b64(key.sign(signing_input.encode()))


def _refused(payload, keys=JS_KEYS, issuer=JS, types=("js-code+jwt",), **kw) -> str:
    with pytest.raises(CodeError) as exc:
        verify_peer_code(payload, keys=keys, types=types, issuer=issuer, now=kw.pop("now", NOW), **kw)
    return exc.value.code


def test_fixed_vectors_verify_eddsa_and_es256():
    assert _sign(_claims()) == ED_VECTOR   # Ed25519 is deterministic
    assert verify_peer_code(ED_VECTOR, keys=JS_KEYS, types={"js-code+jwt"}, issuer=JS, now=NOW)["sub"] == \
        "js-holder-0001"
    claims = verify_peer_code(EC_VECTOR, keys=ZJ_KEYS, types=["zj-code+jwt"], issuer=ZJ, now=NOW + 30)
    assert claims["sub"] == "zj-holder-0001"


def test_the_jwks_of_the_vectors_normalises_to_what_it_was():
    assert [k.jwk for k in parse_jwks({"keys": [ED_JWK, EC_JWK]})[0]] == [ED_JWK, EC_JWK]


def test_pyjwt_signed_peer_codes_verify_and_ours_verify_in_pyjwt():
    for key, jwk, issuer, typ in ((ED_KEY, ED_JWK, JS, "js-code+jwt"), (EC_KEY, EC_JWK, ZJ, "zj-code+jwt")):
        token = jwt.encode(_claims(iss=issuer), key.private, algorithm=key.alg, headers={"kid": key.kid, "typ": typ})
        keys = key_set([jwk])
        assert verify_peer_code(token, keys=keys, types=[typ], issuer=issuer, now=NOW)["iss"] == issuer
        assert jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=[key.alg], options={"verify_exp": False})


def test_only_the_selected_issuers_keys_are_tried():
    assert _refused(ED_VECTOR, keys=ZJ_KEYS) == "CODE_UNKNOWN_KEY"
    assert _refused(ED_VECTOR, issuer=ZJ) == "CODE_WRONG_ISSUER"


@pytest.mark.parametrize("member", ["jku", "jwk", "x5u", "x5c", "x5t", "x5t#S256", "crit"])
def test_key_carrying_headers_are_refused(member):
    assert _refused(_sign(_claims(), **{member: "x"})) == "CODE_HEADER_NOT_ALLOWED"


def test_other_header_members_and_types_are_refused():
    assert _refused(_sign(_claims(), cty="JWT")) == "MALFORMED_CODE"
    assert _refused(ED_VECTOR, types=["zj-code+jwt"]) == "CODE_WRONG_TYPE"
    assert _refused(_sign(_claims(), typ=["js-code+jwt"])) == "CODE_WRONG_TYPE"


def test_algorithm_confusion_is_refused():
    assert _refused(ED_VECTOR, algorithms=["ES256"]) == "CODE_BAD_SIGNATURE"
    for alg in ("none", "HS256", "RS256", "ES384", None, ["EdDSA"]):
        assert _refused(_sign(_claims(), alg=alg)) == "CODE_BAD_SIGNATURE"
    # An EdDSA key presented as ES256 (and the reverse) never verifies.
    assert _refused(_sign(_claims(), alg="ES256")) == "CODE_BAD_SIGNATURE"
    both = {**JS_KEYS, **key_set([{**EC_JWK, "kid": "js-2026-01-ec"}])}
    assert _refused(_sign(_claims(), kid="js-2026-01-ec"), keys=both) == "CODE_BAD_SIGNATURE"


def test_claims_follow_our_profile():
    assert _refused(ED_VECTOR, now=NOW + 71) == "CODE_EXPIRED"
    assert _refused(ED_VECTOR, now=NOW - 11) == "CODE_NOT_YET_VALID"
    assert _refused(ED_VECTOR, scenes=["general"]) == "CODE_SCENE_NOT_TRUSTED"
    for bad in (_claims(exp=NOW + 4000), _claims(iat=NOW + 1), _claims(scn="casino"), _claims(sub=""),
                _claims(exp=True), {k: v for k, v in _claims().items() if k != "jti"}):
        assert _refused(_sign(bad)) == "MALFORMED_CODE", bad


def test_unverified_issuer_is_only_a_lookup_and_never_raises():
    assert unverified_issuer(ED_VECTOR) == JS
    for junk in (None, 7, "", "a.b.c", "x" * 5000, ED_VECTOR.replace(".", "!"), "e30.WzFd.", "e30.eyJpc3MiOjF9."):
        assert unverified_issuer(junk) is None


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300) | st.from_regex(r"^[A-Za-z0-9_-]{0,60}\.[A-Za-z0-9_-]{0,200}\.[A-Za-z0-9_-]{0,90}$"))
def test_fuzzed_payloads_are_refused_with_a_code(payload):
    with pytest.raises(CodeError):
        verify_peer_code(payload, keys=JS_KEYS, types=["js-code+jwt"], issuer=JS, now=NOW)


def test_jwks_documents_that_are_unusable_as_a_whole():
    for doc in (None, [], {"keys": {}}, {"keys": [ED_JWK, ED_JWK]}, {"keys": [{"kty": "OKP"}] * 33}):
        with pytest.raises(JwksError):
            parse_jwks(doc)
    keys, skipped = parse_jwks({"keys": [ED_JWK, {**EC_JWK, "d": "c2VjcmV0"}, "junk", {"kid": 5}]})
    assert [k.kid for k in keys] == ["js-2026-01"] and len(skipped) == 3


# --------------------------------------------------------------------------- the trust list

OUR_PRIV = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OUR_KEY = SigningKey(thumbprint_kid(OUR_PRIV.public_key()), OUR_PRIV.public_key(), OUR_PRIV, created_at=1)
OUR_RING = KeyRing([OUR_KEY])


def _trust_list(peers=None, ttl=86400):
    own = platform_entry(issuer="https://ssb.sh.gov.cn", name="随申办", region="310000", types=["ssb-code+jwt"],
                         scenes=["general", "transport"], keys=OUR_RING.jwks(NOW)["keys"], keys_valid_until=None)
    js = platform_entry(issuer=JS, name="苏服办", region="320000", types=["js-code+jwt"], scenes=["transport"],
                        keys=[ED_JWK], keys_valid_until=NOW + 3600)
    return sign_trust_list(ring=OUR_RING, issuer="https://ssb.sh.gov.cn", own=own,
                           peers=[js] if peers is None else peers, now=NOW, ttl=ttl)


def test_a_trust_list_round_trip_verifies_peer_codes():
    listed = verify_trust_list(_trust_list(), OUR_RING.jwks(NOW), now=NOW + 10, issuer="https://ssb.sh.gov.cn")
    claims, platform = verify_with_trust_list(ED_VECTOR, listed, now=NOW + 10)
    assert platform["name"] == "苏服办" and claims["scn"] == "transport"
    with pytest.raises(CodeError) as exc:
        verify_with_trust_list(EC_VECTOR, listed, now=NOW)
    assert exc.value.code == "CODE_WRONG_ISSUER"
    with pytest.raises(CodeError) as exc:
        verify_with_trust_list(ED_VECTOR, listed, now=NOW + 3601)
    assert exc.value.code == "CODE_ISSUER_KEYS_EXPIRED"


def test_a_trust_list_must_be_ours_and_current():
    payload = _trust_list()
    other = KeyRing([SigningKey.generate(created_at=1)])
    for anchor, now, code in ((other.jwks(NOW), NOW, "UNKNOWN_KEY"), (OUR_RING.jwks(NOW), NOW + 86400 + 61, "EXPIRED")):
        with pytest.raises(TokenError) as exc:
            verify_trust_list(payload, anchor, now=now)
        assert exc.value.code == code
    forged = payload.split(".")
    body = json.loads(jwt.utils.base64url_decode(forged[1]))
    body["peers"][0]["keys"].append(EC_JWK)
    with pytest.raises(TokenError) as exc:
        verify_trust_list(f"{forged[0]}.{b64json(body)}.{forged[2]}", OUR_RING.jwks(NOW), now=NOW)
    assert exc.value.code == "BAD_SIGNATURE"
