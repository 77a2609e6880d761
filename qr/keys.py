"""Ed25519 key ring: every key has a `kid`; the newest active key signs, all are published."""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def raw_public_bytes(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def thumbprint_kid(public_key: Ed25519PublicKey) -> str:
    """RFC 7638 thumbprint: a kid derived from the key itself, so it can never be spoofed."""
    canonical = '{"crv":"Ed25519","kty":"OKP","x":"%s"}' % _b64url(raw_public_bytes(public_key))
    return _b64url(hashlib.sha256(canonical.encode()).digest())[:22]


@dataclass(frozen=True)
class SigningKey:
    kid: str
    public_key: Ed25519PublicKey
    private_key: Ed25519PrivateKey | None = None
    # Unix seconds; a retired key no longer signs but stays published until `published_until`.
    created_at: int = 0
    retired_at: int | None = None
    published_until: int | None = None

    @classmethod
    def generate(cls, *, created_at: int) -> SigningKey:
        private = Ed25519PrivateKey.generate()
        public = private.public_key()
        return cls(kid=thumbprint_kid(public), public_key=public, private_key=private, created_at=created_at)

    @classmethod
    def from_private_pem(cls, pem: bytes, *, created_at: int = 0, retired_at: int | None = None,
                         published_until: int | None = None) -> SigningKey:
        private = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(private, Ed25519PrivateKey):
            raise ValueError("signing keys must be Ed25519")
        public = private.public_key()
        return cls(kid=thumbprint_kid(public), public_key=public, private_key=private,
                   created_at=created_at, retired_at=retired_at, published_until=published_until)

    @classmethod
    def from_jwk(cls, jwk: dict) -> SigningKey:
        if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
            raise ValueError("only OKP/Ed25519 keys are accepted")
        public = Ed25519PublicKey.from_public_bytes(_b64url_decode(jwk["x"]))
        return cls(kid=str(jwk["kid"]), public_key=public)

    def private_pem(self) -> bytes:
        assert self.private_key is not None
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def to_jwk(self) -> dict:
        return {"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": self.kid,
                "x": _b64url(raw_public_bytes(self.public_key))}


@dataclass
class KeyRing:
    keys: list[SigningKey] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_kid = {k.kid: k for k in self.keys}

    @classmethod
    def from_jwks(cls, jwks: dict) -> KeyRing:
        return cls([SigningKey.from_jwk(k) for k in jwks.get("keys", []) if k.get("kty") == "OKP"])

    def get(self, kid: str) -> SigningKey | None:
        return self._by_kid.get(kid)

    def signing_key(self) -> SigningKey:
        """The newest key that has a private half and is not retired."""
        candidates = [k for k in self.keys if k.private_key is not None and k.retired_at is None]
        if not candidates:
            raise LookupError("no active signing key in the key ring")
        return max(candidates, key=lambda k: k.created_at)

    def published(self, now: int) -> list[SigningKey]:
        return [k for k in self.keys if k.published_until is None or k.published_until > now]

    def jwks(self, now: int) -> dict:
        return {"keys": [k.to_jwk() for k in self.published(now)]}
