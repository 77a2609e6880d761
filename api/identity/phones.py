"""Phone numbers: mainland mobiles and E.164 numbers from Hong Kong, Macau, Taiwan and abroad."""
from __future__ import annotations

import re

from api.errors import AppError

_MAINLAND = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})\Z")
_REGIONAL = {
    "852": re.compile(r"^[4-9]\d{7}\Z"),   # Hong Kong mobiles
    "853": re.compile(r"^6\d{7}\Z"),       # Macau mobiles
    "886": re.compile(r"^9\d{8}\Z"),       # Taiwan mobiles
}
_E164 = re.compile(r"^\+([1-9]\d{6,14})\Z")


def normalise_phone(raw: str) -> str:
    """Return E.164 (`+8613812345678`) or raise AppError INVALID_PHONE."""
    value = re.sub(r"[\s\-()]", "", raw or "")
    if value.startswith("00"):
        value = "+" + value[2:]
    mainland = _MAINLAND.fullmatch(value)
    if mainland:
        return "+86" + mainland.group(1)
    if not _E164.fullmatch(value) or value.startswith("+86"):
        raise AppError("INVALID_PHONE")
    for prefix, pattern in _REGIONAL.items():
        if value[1:].startswith(prefix):
            if not pattern.fullmatch(value[1 + len(prefix):]):
                raise AppError("INVALID_PHONE")
            return value
    return value
