"""Personal data at rest: AES-GCM encryption and a keyed blind index, plus masking for output.

Two subkeys are derived from DATA_KEY with HKDF so the index key never encrypts and the
encryption key never indexes. The blind index is HMAC-SHA256 over type and normalised number:
exact-match look-up without storing the number, and no dictionary attack without the key.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_VERSION = b"\x01"


def _derive(master: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master)


class PiiCipher:
    def __init__(self, data_key: str) -> None:
        master = base64.b64decode(data_key)
        if len(master) < 32:
            raise ValueError("DATA_KEY must be at least 32 bytes, base64-encoded")
        self._aead = AESGCM(_derive(master, b"ssb pii encryption v1"))
        self._index_key = _derive(master, b"ssb pii blind index v1")

    def encrypt(self, plaintext: str, *, context: str) -> bytes:
        """`context` (e.g. "users.id_number") is bound as associated data: a ciphertext copied
        into another column does not decrypt."""
        nonce = os.urandom(12)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext.encode(), context.encode())

    def decrypt(self, blob: bytes, *, context: str) -> str:
        if not blob or blob[:1] != _VERSION:
            raise ValueError("unknown ciphertext version")
        return self._aead.decrypt(blob[1:13], blob[13:], context.encode()).decode()

    def blind_index(self, kind: str, value: str) -> str:
        return hmac.new(self._index_key, f"{kind}\x00{value}".encode(), hashlib.sha256).hexdigest()


def mask_phone(phone: str) -> str:
    """+8613812345678 -> 138****5678; other E.164 numbers keep country code and last 4."""
    if phone.startswith("+86") and len(phone) == 14:
        local = phone[3:]
        return f"{local[:3]}****{local[-4:]}"
    return f"{phone[:4]}****{phone[-4:]}" if len(phone) > 8 else "****"


def mask_id_number(number: str) -> str:
    """310101199001011234 -> 3101**********1234 (region kept, birth date hidden)."""
    if len(number) <= 6:
        return "*" * len(number)
    keep_head = 4 if len(number) >= 15 else 1
    return number[:keep_head] + "*" * (len(number) - keep_head - 4) + number[-4:]


def mask_name(name: str) -> str:
    """张三 -> *三, 欧阳娜娜 -> **娜娜 style: keep the last character(s), hide the surname."""
    if not name:
        return ""
    if name.isascii():
        parts = name.split()
        return " ".join(p[0] + "*" * (len(p) - 1) for p in parts)
    if len(name) == 1:
        return "*"
    return "*" * (len(name) - 1) + name[-1] if len(name) <= 3 else "*" * 2 + name[2:]
