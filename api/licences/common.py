"""What the e-licence use cases share: token constants, the cipher, credit codes, a licence's status.

Holder matching: a licence stores the keyed blind index of its holder's identity number
(`PiiCipher.blind_index(id_type, number)`, the same as `users.id_number_bidx`) and the wallet joins
on it at read time, so a resident who verifies their real name after the push finds the licence.
Business licences are held by an enterprise: the blind index of its credit code.
"""
from __future__ import annotations

import json
import logging
import re
from datetime import date

from api.errors import AppError
from api.extensions import pii_cipher
from api.licences.models import Licence
from api.pii import PiiCipher

log = logging.getLogger(__name__)


log = logging.getLogger(__name__)

PRESENTATION_TYPE = "ssb-licence+jwt"
PRESENTATION_AUDIENCE = "ssb-licence-verify"
PRESENTATION_TTL = 3 * 60
REMINDER_THRESHOLDS = (30, 7, 1)
CREDIT_CODE = "credit_code"


TOKEN_ERRORS = {
    "EXPIRED": "PRESENTATION_EXPIRED",
    "WRONG_TYPE": "PRESENTATION_WRONG_TYPE",
    "BAD_SIGNATURE": "PRESENTATION_BAD_SIGNATURE",
    "UNKNOWN_KEY": "PRESENTATION_BAD_SIGNATURE",
    "WRONG_ISSUER": "PRESENTATION_BAD_SIGNATURE",
    "WRONG_AUDIENCE": "PRESENTATION_WRONG_TYPE",
}
LICENCE_NUMBER = re.compile(r"^[0-9A-Za-z\u4e00-\u9fff()（）\-_.]{1,64}$")
_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def cipher() -> PiiCipher:
    return pii_cipher()


def normalise_credit_code(code: str) -> str:
    """统一社会信用代码 (GB 32100-2015): 18 characters with a mod-31 check character."""
    value = (code or "").strip().upper().replace(" ", "")
    if len(value) != 18 or any(c not in _CREDIT_CHARS for c in value):
        raise AppError("INVALID_ID_NUMBER", errors={"id_number": ["not a unified social credit code"]})
    total = sum(_CREDIT_CHARS.index(c) * w for c, w in zip(value[:17], _CREDIT_WEIGHTS))
    if _CREDIT_CHARS[(31 - total % 31) % 31] != value[17]:
        raise AppError("INVALID_ID_NUMBER", errors={"id_number": ["check character does not match (GB 32100)"]})
    return value


def canonical_json(value) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def licence_number_bidx(pii: PiiCipher, licence_type: str, number: str) -> str:
    return pii.blind_index(f"licence:{licence_type}", number)


def licence_status(licence: Licence, today: date) -> str:
    if licence.status == "revoked":
        return "revoked"
    if licence.valid_until is not None and today > licence.valid_until:
        return "expired"
    if today < licence.valid_from:
        return "not_yet_valid"
    return "valid"


def sensitive_values(pii: PiiCipher, licence: Licence) -> dict:
    if not licence.fields_enc:
        return {}
    return json.loads(pii.decrypt(licence.fields_enc, context=f"licences.fields|{licence.number_bidx}"))
