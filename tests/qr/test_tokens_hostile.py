"""qr.tokens against hostile but validly signed tokens: claim types, nesting, long numbers.

Fixed key (bytes 0..31), fixed claims: every token here is a fixed vector (Ed25519 signatures
are deterministic)."""
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from qr.json_limits import loads, nesting_depth_exceeds
from qr.keys import KeyRing, SigningKey, thumbprint_kid
from qr.tokens import TokenError, b64url, sign_with_key, verify

NOW = 1_700_000_000
PRIV = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
KEY = SigningKey(thumbprint_kid(PRIV.public_key()), PRIV.public_key(), PRIV, created_at=1)
RING = KeyRing([KEY])
TYP = "at+jwt"
GOOD = {"iss": "https://ssb.sh.gov.cn", "sub": "1", "jti": "j-0001", "iat": NOW, "exp": NOW + 60}
# The good claims above, signed: a pinned vector so a change in encoding shows here first.
GOOD_VECTOR = ("eyJhbGciOiJFZERTQSIsInR5cCI6ImF0K2p3dCIsImtpZCI6IjFJRzJ0TUg3SjJ3Ykpabk9mOExKelEifQ."
               "eyJpc3MiOiJodHRwczovL3NzYi5zaC5nb3YuY24iLCJzdWIiOiIxIiwianRpIjoiai0wMDAxIiwiaWF0IjoxNzAwMDAwMDAwLC"
               "JleHAiOjE3MDAwMDAwNjB9.")


def _signed_raw(claims_json: bytes) -> str:
    """A correctly signed token over arbitrary claim bytes (what a compromised or careless peer,
    or a bug of ours, could produce)."""
    head = b64url(json.dumps({"alg": "EdDSA", "typ": TYP, "kid": KEY.kid}, separators=(",", ":")).encode())
    signing_input = head + "." + b64url(claims_json)
    return signing_input + "." + b64url(PRIV.sign(signing_input.encode()))


def _refusal(token: str) -> str:
    with pytest.raises(TokenError) as exc:
        verify(token, typ=TYP, ring=RING, now=NOW)
    return exc.value.code


def test_the_good_vector_verifies():
    token = sign_with_key(GOOD, typ=TYP, key=KEY)
    assert token.startswith(GOOD_VECTOR)
    assert verify(token, typ=TYP, ring=RING, now=NOW) == GOOD


@pytest.mark.parametrize("name", ["exp", "iat", "nbf"])
@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "true", "false", '"1700000060"',
                                     "1700000060.5", "1.7e9", "null", "[1700000060]", "-1",
                                     "1" + "0" * 30, "1" + "0" * 5000])
def test_time_claims_must_be_plain_integers(name, literal):
    claims = {k: v for k, v in GOOD.items() if k != name}
    body = json.dumps(claims, separators=(",", ":"))[:-1] + f',"{name}":{literal}}}'
    assert _refusal(_signed_raw(body.encode())) == "MALFORMED_TOKEN"


def test_a_deeply_nested_header_is_malformed_not_a_crash():
    head = b64url(b"[" * 3000)
    assert _refusal(head + "." + b64url(b"{}") + ".") == "MALFORMED_TOKEN"


def test_deeply_nested_signed_claims_are_malformed_not_a_crash():
    token = _signed_raw(b'{"x":' + b"[" * 1400 + b"]" * 1400 + b"}")
    assert len(token) <= 4096
    assert _refusal(token) == "MALFORMED_TOKEN"


def test_json_limits_depth_scan_ignores_brackets_in_strings():
    assert not nesting_depth_exceeds('["' + "[" * 500 + '"]', 64)
    assert not nesting_depth_exceeds('["\\"' + "[" * 500 + '"]', 64)
    assert nesting_depth_exceeds('["\\\\"' + "," + "[" * 500, 64)      # an escaped backslash ends no string
    assert nesting_depth_exceeds("[" * 65 + "]" * 65, 64)
    assert not nesting_depth_exceeds("[" * 64 + "]" * 64, 64)
    assert loads("[" * 64 + "]" * 64) is not None


@pytest.mark.parametrize("text", ["[" * 100_000, '{"a":' * 10_000, "1" * 5000, "[NaN]", "[Infinity]", "1e999",
                                  '{"n": -' + "9" * 41 + "}", b"\xff\xfe"])
def test_json_limits_refuse_hostile_documents_with_a_decode_error(text):
    with pytest.raises(json.JSONDecodeError):
        loads(text)


def test_json_limits_accept_ordinary_documents():
    assert loads('{"phone": "13800138000", "n": -12, "f": 1.5, "s": "[[[{{{", "deep": [[[[1]]]]}') == {
        "phone": "13800138000", "n": -12, "f": 1.5, "s": "[[[{{{", "deep": [[[[1]]]]}
    assert loads(b'{"id": 9223372036854775807}') == {"id": 9223372036854775807}


@pytest.mark.parametrize("suffix", ["\n", "\r\n", " "])
def test_a_token_with_trailing_whitespace_is_malformed(suffix):
    # `$` in a regular expression also matches before a final newline: the parser must not.
    token = sign_with_key(GOOD, typ=TYP, key=KEY)
    assert _refusal(token + suffix) != ""
