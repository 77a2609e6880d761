"""Pure token crypto and QR rendering: bytes and keys in, values out, `now` passed in.

Nothing here does I/O or imports from the rest of the project, so scanner vendors can
vendor this package and tests can pin it with fixed vectors.
"""
from qr.keys import KeyRing, SigningKey
from qr.tokens import TokenError, sign, verify

__all__ = ["KeyRing", "SigningKey", "TokenError", "sign", "verify"]
