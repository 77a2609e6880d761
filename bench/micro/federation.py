"""Trust federation micro-benchmarks: verifying a peer platform's code (qr.federation) against a
raw signature verify of the same algorithm, measured in the same run.

- EdDSA and ES256 peer codes with the key set already parsed;
- the same, parsing the peer's stored JWKs each time (what POST /v1/verify does per request:
  building an Ed25519 key is cheap, decoding a P-256 point and checking it is on the curve is not).
"""
from __future__ import annotations

from bench.micro.codes import _pair
from bench.types import MicroResult

NOW = 1_700_000_000
ISSUER = "https://peer.example"


def _b64json(obj) -> str:
    from qr.tokens import b64url, json_bytes
    return b64url(json_bytes(obj))


def _peer_key(alg: str):
    """(public JWK, sign(data) -> JWS signature bytes, raw_verify(signature, data))."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

    from qr.tokens import b64url

    if alg == "EdDSA":
        private = Ed25519PrivateKey.generate()
        public = private.public_key()
        jwk = {"kty": "OKP", "crv": "Ed25519", "alg": alg, "kid": "k1", "x": b64url(public.public_bytes_raw())}
        return jwk, private.sign, public.verify
    ec_private = ec.generate_private_key(ec.SECP256R1())
    ec_public = ec_private.public_key()
    numbers = ec_public.public_numbers()
    jwk = {"kty": "EC", "crv": "P-256", "alg": alg, "kid": "k1", "x": b64url(numbers.x.to_bytes(32, "big")),
           "y": b64url(numbers.y.to_bytes(32, "big"))}

    def sign(data: bytes) -> bytes:
        r, s = decode_dss_signature(ec_private.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def raw_verify(signature: bytes, data: bytes) -> None:
        der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
        ec_public.verify(der, data, ec.ECDSA(hashes.SHA256()))

    return jwk, sign, raw_verify


def _measure(alg: str, typ: str, seconds: float, repeats: int) -> list[MicroResult]:
    from qr.federation import key_set, verify_peer_code
    from qr.tokens import b64url

    jwk, sign, raw_verify = _peer_key(alg)
    claims = {"iss": ISSUER, "sub": "holder-1", "scn": "general", "iat": NOW, "nbf": NOW, "exp": NOW + 60,
              "jti": "j-1"}
    signing_input = _b64json({"alg": alg, "typ": typ, "kid": "k1"}) + "." + _b64json(claims)
    data = signing_input.encode()
    signature = sign(data)
    payload = signing_input + "." + b64url(signature)
    keys = key_set([jwk])

    def raw() -> None:
        raw_verify(signature, data)

    def parsed() -> None:
        verify_peer_code(payload, keys=keys, types=[typ], issuer=ISSUER, now=NOW)

    def from_stored() -> None:
        verify_peer_code(payload, keys=key_set([jwk]), types=[typ], issuer=ISSUER, now=NOW)

    o, b = _pair(parsed, raw, seconds, repeats)
    results = [MicroResult(f"qr.federation peer code {alg}", o, f"raw {alg} verify", b, aim=0.8)]
    o, b = _pair(from_stored, raw, seconds, repeats)
    results.append(MicroResult(f"  + key set from stored JWKs {alg}", o, f"raw {alg} verify", b))
    return results


def run(quick: bool) -> list[MicroResult]:
    seconds = 0.6 if quick else 3.0
    repeats = 2 if quick else 5
    return _measure("EdDSA", "js-code+jwt", seconds, repeats) + _measure("ES256", "zj-code+jwt", seconds, repeats)


if __name__ == "__main__":
    for r in run(quick=False):
        print(f"{r.name:38} {r.ours_per_s:10.0f} {r.unit:6} vs {r.baseline_name:18} {r.baseline_per_s:10.0f}  "
              f"ratio {r.ratio:.2f}" + (f" (aim {r.aim})" if r.aim else ""))
