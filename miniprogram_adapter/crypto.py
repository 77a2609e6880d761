"""What WeChat does with a `session_key` for the JS-side data APIs, byte for byte:

- `signature = sha1(rawData + session_key)` (hex), so a backend can check `rawData`;
- `encryptedData = base64(AES-128-CBC(key=b64decode(session_key), iv, PKCS#7(json)))`, where the
  JSON carries a `watermark {appid, timestamp}` the backend checks against its own appid.

Pure: bytes and keys in, values out, `now` and randomness passed in or drawn here.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def new_session_key() -> str:
    """16 random bytes, base64 (24 characters) like WeChat's."""
    return base64.b64encode(os.urandom(16)).decode()


def sign_raw_data(raw_data: str, session_key: str) -> str:
    return hashlib.sha1((raw_data + session_key).encode("utf-8")).hexdigest()


def check_signature(raw_data: str, session_key: str, signature: str) -> bool:
    return hmac.compare_digest(sign_raw_data(raw_data, session_key), signature)


def encrypt_data(payload: dict, *, session_key: str, appid: str, now: int, iv: bytes | None = None) -> tuple[str, str]:
    """Returns (encryptedData, iv), both base64. The watermark is added to `payload`'s copy."""
    key = base64.b64decode(session_key)
    if len(key) != 16:
        raise ValueError("session_key must be 16 bytes, base64-encoded")
    iv = iv or os.urandom(16)
    body = dict(payload, watermark={"appid": appid, "timestamp": int(now)})
    padder = padding.PKCS7(128).padder()
    plain = padder.update(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    blob = encryptor.update(plain) + encryptor.finalize()
    return base64.b64encode(blob).decode(), base64.b64encode(iv).decode()


def decrypt_data(encrypted_data: str, *, session_key: str, iv: str, appid: str) -> dict:
    """The inverse, as a backend does it: raises ValueError on a bad key, padding or watermark."""
    decryptor = Cipher(algorithms.AES(base64.b64decode(session_key)), modes.CBC(base64.b64decode(iv))).decryptor()
    plain = decryptor.update(base64.b64decode(encrypted_data)) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    data = json.loads(unpadder.update(plain) + unpadder.finalize())
    if (data.get("watermark") or {}).get("appid") != appid:
        raise ValueError("watermark appid mismatch")
    return data


def pairwise_id(key: bytes, *parts: str, prefix: str = "o") -> str:
    """A stable pseudonym: HMAC-SHA256 over the parts, base64url, 28 characters like WeChat's."""
    mac = hmac.new(key, "\x00".join(parts).encode("utf-8"), hashlib.sha256).digest()
    return prefix + base64.urlsafe_b64encode(mac).decode().rstrip("=")[:27]


def hash_secret(key: bytes, secret: str) -> str:
    """App secrets are 128-bit random: a keyed hash is enough to store them."""
    return hmac.new(key, secret.encode("utf-8"), hashlib.sha256).hexdigest()
