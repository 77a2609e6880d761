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


def run(quick: bool) -> list[MicroResult]:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    from qr.federation import key_set, verify_peer_code
    from qr.tokens import b64url as b64
    from qr.tokens import json_bytes

    def b64json(obj) -> str:
        return b64(json_bytes(obj))

    def new_key(alg: str):
        """(private key, public JWK, sign(data) -> JWS signature bytes)."""
        if alg == "EdDSA":
            private = Ed25519PrivateKey.generate()
            jwk = {"kty": "OKP", "crv": "Ed25519", "alg": alg, "kid": "k1", "x": b64(private.public_key().public_bytes_raw())}
            return private, jwk, private.sign
        private = ec.generate_private_key(ec.SECP256R1())
        numbers = private.public_key().public_numbers()
        jwk = {"kty": "EC", "crv": "P-256", "alg": alg, "kid": "k1", "x": b64(numbers.x.to_bytes(32, "big")),
               "y": b64(numbers.y.to_bytes(32, "big"))}

        def sign(data: bytes) -> bytes:
            r, s = decode_dss_signature(private.sign(data, ec.ECDSA(hashes.SHA256())))
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return private, jwk, sign

    seconds = 0.6 if quick else 3.0
    repeats = 2 if quick else 5
    results = []
    for alg, typ in (("EdDSA", "js-code+jwt"), ("ES256", "zj-code+jwt")):
        private, jwk, sign = new_key(alg)
        jwks = [jwk]
        keys = key_set(jwks)
        claims = {"iss": "https://peer.example", "sub": "holder-1", "scn": "general", "iat": NOW, "nbf": NOW,
                  "exp": NOW + 60, "jti": "j-1"}
        signing_input = b64json({"alg": alg, "typ": typ, "kid": "k1"}) + "." + b64json(claims)
        signature = sign(signing_input.encode())
        payload = signing_input + "." + b64(signature)
        public = private.public_key()
        data = signing_input.encode()
        if alg == "EdDSA":
            def raw():
                public.verify(signature, data)
        else:
            der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))

            def raw():
                public.verify(der, data, ec.ECDSA(hashes.SHA256()))

        def parsed(keys=keys, typ=typ):
            verify_peer_code(payload, keys=keys, types=[typ], issuer="https://peer.example", now=NOW)

        def from_stored(jwks=jwks, typ=typ):
            verify_peer_code(payload, keys=key_set(jwks), types=[typ], issuer="https://peer.example", now=NOW)

        o, b = _pair(parsed, raw, seconds, repeats)
        results.append(MicroResult(f"qr.federation peer code {alg}", o, f"raw {alg} verify", b, aim=0.8))
        o, b = _pair(from_stored, raw, seconds, repeats)
        results.append(MicroResult(f"  + key set from stored JWKs {alg}", o, f"raw {alg} verify", b))
    return results


if __name__ == "__main__":
    for r in run(quick=False):
        print(f"{r.name:38} {r.ours_per_s:10.0f} {r.unit:6} vs {r.baseline_name:18} {r.baseline_per_s:10.0f}  "
              f"ratio {r.ratio:.2f}" + (f" (aim {r.aim})" if r.aim else ""))
