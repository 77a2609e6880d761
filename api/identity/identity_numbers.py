"""Identity document numbers: validated before any registry look-up, normalised for indexing."""
from __future__ import annotations

import re
from datetime import date

from api.errors import AppError

ID_TYPES = ("resident_id", "passport", "hk_macau_permit", "taiwan_permit")

_GB11643_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_GB11643_CHECK = "10X98765432"
_PATTERNS = {
    "passport": re.compile(r"^[A-Z0-9]{5,17}$"),
    # 港澳居民来往内地通行证: H/M + 8 or 10 digits
    "hk_macau_permit": re.compile(r"^[HM]\d{8}(\d{2})?$"),
    # 台湾居民来往大陆通行证: 8 digits (older permits 10 chars with a letter suffix)
    "taiwan_permit": re.compile(r"^\d{8}([A-Z0-9]{2})?$"),
}


def gb11643_check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _GB11643_WEIGHTS))
    return _GB11643_CHECK[total % 11]


def birth_date_of(resident_id: str) -> date:
    return date(int(resident_id[6:10]), int(resident_id[10:12]), int(resident_id[12:14]))


def normalise(id_type: str, number: str, *, today: date | None = None) -> str:
    """Return the canonical form or raise AppError INVALID_ID_NUMBER."""
    if id_type not in ID_TYPES:
        raise AppError("INVALID_ID_NUMBER", errors={"id_type": [f"must be one of {', '.join(ID_TYPES)}"]})
    value = (number or "").strip().upper().replace(" ", "")
    if id_type == "resident_id":
        if not re.fullmatch(r"\d{17}[\dX]", value):
            raise AppError("INVALID_ID_NUMBER", errors={"id_number": ["18 characters: 17 digits and a check character"]})
        if gb11643_check_char(value[:17]) != value[17]:
            raise AppError("INVALID_ID_NUMBER", errors={"id_number": ["check character does not match (GB 11643)"]})
        try:
            born = birth_date_of(value)
        except ValueError:
            raise AppError("INVALID_ID_NUMBER", errors={"id_number": ["birth date is not a real date"]}) from None
        if born < date(1890, 1, 1) or born > (today or date.today()):
            raise AppError("INVALID_ID_NUMBER", errors={"id_number": ["birth date out of range"]})
        return value
    if not _PATTERNS[id_type].fullmatch(value):
        raise AppError("INVALID_ID_NUMBER", errors={"id_number": [f"not a valid {id_type} number"]})
    return value
