"""Unified social credit codes (统一社会信用代码, GB 32100-2015): validated before any look-up.

18 characters from the 31-character charset (no I, O, Z, S, V); the last is a check character:
c18 = (31 - Σ value(ci) × wi mod 31) mod 31 over the first 17.
"""
from __future__ import annotations

from api.errors import AppError

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUE = {c: i for i, c in enumerate(CHARSET)}


def check_char(first17: str) -> str:
    total = sum(_VALUE[c] * w for c, w in zip(first17, WEIGHTS))
    return CHARSET[(31 - total % 31) % 31]


def is_valid(code: str) -> bool:
    return (len(code) == 18 and all(c in _VALUE for c in code) and check_char(code[:17]) == code[17])


def normalise_credit_code(raw: str | None) -> str:
    """Canonical form (upper case, no spaces) or AppError INVALID_CREDIT_CODE."""
    value = (raw or "").strip().upper().replace(" ", "")
    if len(value) != 18:
        raise AppError("INVALID_CREDIT_CODE", errors={"credit_code": ["18 characters"]})
    if any(c not in _VALUE for c in value):
        raise AppError("INVALID_CREDIT_CODE", errors={"credit_code": [f"characters must be from {CHARSET}"]})
    if check_char(value[:17]) != value[17]:
        raise AppError("INVALID_CREDIT_CODE", errors={"credit_code": ["check character does not match (GB 32100)"]})
    return value
