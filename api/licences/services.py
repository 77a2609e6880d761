"""E-licences: department upserts and revocation, the resident's wallet, one-time presentations,
staff verification (an access record each time) and expiry reminders.

Holder matching: a licence stores the keyed blind index of its holder's identity number
(`PiiCipher.blind_index(id_type, number)`, the same as `users.id_number_bidx`) and the wallet joins
on it at read time, so a resident who verifies their real name after the push finds the licence.
Business licences are held by an enterprise: the blind index of its credit code.
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import date, timedelta, timezone

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

import qr
from api.access import records as access_log
from api.db import from_timestamp
from api.errors import AppError
from api.extensions import db, get_config, get_keyring, get_redis
from api.identity.identity_numbers import ID_TYPES, normalise
from api.identity.models import User
from api.jobs import job
from api.licences.catalogue import (
    CATALOGUE,
    REGIONS,
    LicenceType,
    get_type,
    mask_value,
    normalise_region,
    validate_fields,
)
from api.licences.issuers import IssuerPrincipal
from api.licences.models import Issuer, Licence, LicencePresentation, LicenceReminder
from api.notifications.inbox import deliver_to_user
from api.pii import PiiCipher, mask_id_number, mask_name, mask_phone
from api.ratelimits import enforce
from api.unit_of_work import commit

log = logging.getLogger(__name__)

PRESENTATION_TYPE = "ssb-licence+jwt"
PRESENTATION_AUDIENCE = "ssb-licence-verify"
PRESENTATION_TTL = 3 * 60
REMINDER_THRESHOLDS = (30, 7, 1)
CREDIT_CODE = "credit_code"
SHANGHAI = timezone(timedelta(hours=8))     # no DST in China: a fixed offset is exact


_TOKEN_ERRORS = {
    "EXPIRED": "PRESENTATION_EXPIRED",
    "WRONG_TYPE": "PRESENTATION_WRONG_TYPE",
    "BAD_SIGNATURE": "PRESENTATION_BAD_SIGNATURE",
    "UNKNOWN_KEY": "PRESENTATION_BAD_SIGNATURE",
    "WRONG_ISSUER": "PRESENTATION_BAD_SIGNATURE",
    "WRONG_AUDIENCE": "PRESENTATION_WRONG_TYPE",
}
_NUMBER = re.compile(r"^[0-9A-Za-z\u4e00-\u9fff()（）\-_.]{1,64}$")
_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def cipher() -> PiiCipher:
    return PiiCipher(get_config().DATA_KEY)


def shanghai_today(now: int) -> date:
    return from_timestamp(now).astimezone(SHANGHAI).date()


def normalise_credit_code(code: str) -> str:
    """统一社会信用代码 (GB 32100-2015): 18 characters with a mod-31 check character."""
    value = (code or "").strip().upper().replace(" ", "")
    if len(value) != 18 or any(c not in _CREDIT_CHARS for c in value):
        raise AppError("INVALID_ID_NUMBER", errors={"id_number": ["not a unified social credit code"]})
    total = sum(_CREDIT_CHARS.index(c) * w for c, w in zip(value[:17], _CREDIT_WEIGHTS))
    if _CREDIT_CHARS[(31 - total % 31) % 31] != value[17]:
        raise AppError("INVALID_ID_NUMBER", errors={"id_number": ["check character does not match (GB 32100)"]})
    return value


def _canonical(value) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _number_bidx(pii: PiiCipher, licence_type: str, number: str) -> str:
    return pii.blind_index(f"licence:{licence_type}", number)


# --- departments ---------------------------------------------------------------------------

def _writable_type(issuer: IssuerPrincipal, licence_type: str) -> LicenceType:
    spec = get_type(licence_type)
    if spec is None:
        raise AppError("LICENCE_TYPE_NOT_FOUND")
    if not issuer.may_issue(licence_type):
        raise AppError("LICENCE_TYPE_NOT_ALLOWED")
    return spec


def _normalise_number(number: str) -> str:
    value = (number or "").strip().upper()
    if not _NUMBER.fullmatch(value):
        raise AppError("INVALID_LICENCE_NUMBER")
    return value


def upsert_licence(issuer: IssuerPrincipal, *, licence_type: str, number: str, holder: dict, fields: dict,
                   valid_from: date, valid_until: date | None, region: str, now: int) -> dict:
    """Create or replace the licence (type, number). Idempotent: the same body changes nothing."""
    spec = _writable_type(issuer, licence_type)
    number = _normalise_number(number)
    errors = validate_fields(spec, fields)
    if errors:
        raise AppError("INVALID_LICENCE_FIELDS", errors={"fields": errors})
    region_code = normalise_region(region)
    if region_code is None:
        raise AppError("INVALID_REGION", errors={"region": [f"one of {', '.join(REGIONS)}"]})
    if valid_until is not None and valid_until < valid_from:
        raise AppError("VALIDATION_ERROR", errors={"valid_until": ["Must not be before valid_from."]})
    id_type = holder["id_type"]
    if spec.holder_kind == "enterprise":
        if id_type != CREDIT_CODE:
            raise AppError("INVALID_ID_NUMBER", errors={"id_type": ["a business licence is held by a credit_code"]})
        id_number = normalise_credit_code(holder["id_number"])
    else:
        if id_type not in ID_TYPES:
            raise AppError("INVALID_ID_NUMBER", errors={"id_type": [f"one of {', '.join(ID_TYPES)}"]})
        id_number = normalise(id_type, holder["id_number"], today=shanghai_today(now))
    name = " ".join(holder["name"].split())

    pii = cipher()
    number_bidx = _number_bidx(pii, licence_type, number)
    clear = {k: v for k, v in fields.items() if not spec.field_map[k].sensitive}
    sensitive = {k: v for k, v in fields.items() if spec.field_map[k].sensitive}
    content_hash = pii.blind_index("licence-content", _canonical(
        [issuer.issuer_id, id_type, id_number, name, fields, valid_from, valid_until, region_code]))

    for attempt in (1, 2):
        licence = db.session.scalar(select(Licence).where(Licence.type == licence_type,
                                                          Licence.number_bidx == number_bidx))
        created = licence is None
        if licence is not None and licence.issuer_id != issuer.issuer_id:
            raise AppError("LICENCE_OWNED_BY_OTHER_ISSUER")
        if licence is not None and licence.content_hash == content_hash and licence.status == "active":
            return _issuer_view(licence, created=False)
        stamp = from_timestamp(now)
        if licence is None:
            licence = Licence(type=licence_type, issuer_id=issuer.issuer_id, number_bidx=number_bidx,
                              number_enc=pii.encrypt(number, context=f"licences.number|{number_bidx}"),
                              number_masked=_mask_number(number), created_at=stamp, version=0)
            db.session.add(licence)
        licence.holder_id_type = id_type
        licence.holder_bidx = pii.blind_index(id_type, id_number)
        licence.holder_id_enc = pii.encrypt(id_number, context=f"licences.holder_id|{number_bidx}")
        licence.holder_id_masked = mask_id_number(id_number)
        licence.holder_name_enc = pii.encrypt(name, context=f"licences.holder_name|{number_bidx}")
        licence.holder_name_masked = mask_name(name)
        licence.fields_clear = clear
        licence.fields_enc = pii.encrypt(_canonical(sensitive), context=f"licences.fields|{number_bidx}") \
            if sensitive else None
        licence.valid_from = valid_from
        licence.valid_until = valid_until
        licence.region = region_code
        licence.status = "active"        # a re-issue after revocation reinstates the licence
        licence.revoked_at = None
        licence.version = (licence.version or 0) + 1
        licence.content_hash = content_hash
        licence.updated_at = stamp
        try:
            commit()
        except IntegrityError:
            # A concurrent first push of the same licence won the insert: apply ours as an update.
            db.session.rollback()
            if attempt == 2:
                raise
            continue
        return _issuer_view(licence, created=created)
    raise AssertionError("unreachable")


def revoke_licence(issuer: IssuerPrincipal, *, licence_type: str, number: str, now: int) -> None:
    """Revoked at once: the wallet shows it revoked and its presentations stop verifying."""
    _writable_type(issuer, licence_type)
    number = _normalise_number(number)
    licence = db.session.scalar(select(Licence).where(
        Licence.type == licence_type, Licence.number_bidx == _number_bidx(cipher(), licence_type, number)))
    if licence is None:
        raise AppError("LICENCE_NOT_FOUND")
    if licence.issuer_id != issuer.issuer_id:
        raise AppError("LICENCE_OWNED_BY_OTHER_ISSUER")
    if licence.status != "revoked":
        licence.status = "revoked"
        licence.revoked_at = from_timestamp(now)
        licence.updated_at = from_timestamp(now)
        licence.version += 1
        commit()


def _mask_number(number: str) -> str:
    return mask_id_number(number) if len(number) >= 15 else mask_value(number)


def _issuer_view(licence: Licence, *, created: bool) -> dict:
    return {"id": licence.id, "type": licence.type, "number": licence.number_masked, "status": licence.status,
            "version": licence.version, "created": created, "valid_from": licence.valid_from,
            "valid_until": licence.valid_until, "region": licence.region, "updated_at": licence.updated_at}


# --- residents -----------------------------------------------------------------------------

def enterprise_credit_code(principal, *, now: int) -> str | None:
    """The credit code of the enterprise the caller acts for (issue 3's act-as token), once
    `require_enterprise_role(principal, "handler")` confirms the delegated role is still held
    (403 otherwise). None when the caller acts for nobody."""
    if not principal.acting_for:
        return None
    from api.enterprises.services import require_enterprise_role
    return require_enterprise_role(principal, "handler", now=now).credit_code.strip().upper()


def _holder_bidx(principal, *, now: int) -> str | None:
    """Whose licences the caller sees: the enterprise's when acting for one, else their own."""
    if principal.acting_for:
        code = enterprise_credit_code(principal, now=now)
        return cipher().blind_index(CREDIT_CODE, code) if code else None
    user = db.session.get(User, principal.user_id)
    if user is None or user.status != "active":
        raise AppError("ACCOUNT_DISABLED")
    return user.id_number_bidx


def licence_status(licence: Licence, today: date) -> str:
    if licence.status == "revoked":
        return "revoked"
    if licence.valid_until is not None and today > licence.valid_until:
        return "expired"
    if today < licence.valid_from:
        return "not_yet_valid"
    return "valid"


def _sensitive_values(pii: PiiCipher, licence: Licence) -> dict:
    if not licence.fields_enc:
        return {}
    return json.loads(pii.decrypt(licence.fields_enc, context=f"licences.fields|{licence.number_bidx}"))


def _issuer_names(issuer_ids) -> dict[int, str]:
    ids = set(issuer_ids)
    if not ids:
        return {}
    return dict(db.session.execute(select(Issuer.id, Issuer.name).where(Issuer.id.in_(ids))).all())


def _wallet_view(licence: Licence, *, pii: PiiCipher, today: date, issuer_name: str) -> dict:
    spec = CATALOGUE[licence.type]
    secret = _sensitive_values(pii, licence)
    fields = []
    for f in spec.fields:
        if f.name in licence.fields_clear:
            fields.append({"name": f.name, "label_zh": f.label_zh, "label_en": f.label_en,
                           "value": str(licence.fields_clear[f.name]), "masked": False})
        elif f.name in secret:
            fields.append({"name": f.name, "label_zh": f.label_zh, "label_en": f.label_en,
                           "value": mask_value(secret[f.name]), "masked": True})
    status = licence_status(licence, today)
    region_zh, region_en = REGIONS[licence.region]
    return {
        "id": licence.id, "type": licence.type, "type_name_zh": spec.name_zh, "type_name_en": spec.name_en,
        "number": licence.number_masked,
        "holder": {"name": licence.holder_name_masked, "id_type": licence.holder_id_type,
                   "id_number": licence.holder_id_masked},
        "issuer": {"name": issuer_name},
        "region": {"code": licence.region, "name_zh": region_zh, "name_en": region_en},
        "fields": fields, "valid_from": licence.valid_from, "valid_until": licence.valid_until,
        "status": status,
        "days_to_expiry": (licence.valid_until - today).days if licence.valid_until and status == "valid" else None,
        "revoked_at": licence.revoked_at, "updated_at": licence.updated_at,
        "disclosable_fields": list(spec.disclosable),
    }


def list_wallet(principal, *, now: int) -> dict:
    bidx = _holder_bidx(principal, now=now)
    if bidx is None:
        return {"items": [], "holder_verified": False}
    licences = list(db.session.scalars(select(Licence).where(Licence.holder_bidx == bidx)
                                       .order_by(Licence.type, Licence.id)))
    names = _issuer_names(lic.issuer_id for lic in licences)
    pii, today = cipher(), shanghai_today(now)
    return {"items": [_wallet_view(lic, pii=pii, today=today, issuer_name=names.get(lic.issuer_id, ""))
                      for lic in licences], "holder_verified": True}


def _own_licence(principal, licence_id: int, *, now: int) -> Licence:
    bidx = _holder_bidx(principal, now=now)
    licence = db.session.get(Licence, licence_id) if 0 < licence_id < 2**63 else None
    if licence is None or bidx is None or licence.holder_bidx != bidx:
        raise AppError("LICENCE_NOT_FOUND")
    return licence


def get_licence(principal, licence_id: int, *, now: int) -> dict:
    licence = _own_licence(principal, licence_id, now=now)
    return _wallet_view(licence, pii=cipher(), today=shanghai_today(now),
                        issuer_name=_issuer_names([licence.issuer_id]).get(licence.issuer_id, ""))


def licence_access_log(principal, licence_id: int, *, before_id: int | None, limit: int, now: int) -> dict:
    licence = _own_licence(principal, licence_id, now=now)
    return access_log.list_access(principal.user_id, before_id=before_id, limit=limit, kind="licence_view",
                                  subject_ref=str(licence.id))


def _refuse_unusable(licence: Licence, today: date) -> None:
    status = licence_status(licence, today)
    if status == "revoked":
        raise AppError("LICENCE_REVOKED")
    if status == "expired":
        raise AppError("LICENCE_EXPIRED")
    if status == "not_yet_valid":
        raise AppError("LICENCE_NOT_YET_VALID")


def _disclosed_values(pii: PiiCipher, licence: Licence, names: list[str]) -> dict:
    secret = None
    out = {}
    for name in names:
        if name == "holder_name":
            out[name] = pii.decrypt(licence.holder_name_enc, context=f"licences.holder_name|{licence.number_bidx}")
        elif name == "licence_number":
            out[name] = pii.decrypt(licence.number_enc, context=f"licences.number|{licence.number_bidx}")
        elif name in licence.fields_clear:
            out[name] = licence.fields_clear[name]
        else:
            if secret is None:
                secret = _sensitive_values(pii, licence)
            out[name] = secret.get(name)
    return out


def _commitment(salt: str, disclosed: dict) -> str:
    return _b64url(hashlib.sha256(f"{salt}.{_canonical(disclosed)}".encode()).digest())


def create_presentation(principal, licence_id: int, *, fields: list[str], purpose: str | None,
                        now: int) -> dict:
    """A one-time `ssb-licence+jwt` (3 minutes) disclosing only the chosen fields.

    The payload carries the presentation id (jti), the licence type, the disclosed field names and
    a salted hash commitment of the disclosed values; never a value, never an identity number."""
    licence = _own_licence(principal, licence_id, now=now)
    spec = CATALOGUE[licence.type]
    chosen = list(dict.fromkeys(fields))
    unknown = [f for f in chosen if f not in spec.disclosable]
    if unknown or not chosen:
        raise AppError("DISCLOSURE_INVALID",
                       errors={"fields": [f"unknown for {licence.type}: {', '.join(unknown)}" if unknown
                                          else "choose at least one field"]})
    _refuse_unusable(licence, shanghai_today(now))
    enforce(f"{get_config().LICENCE_PRESENTATIONS_PER_MINUTE}/minute", "licence-present", str(principal.user_id))
    pii = cipher()
    salt = secrets.token_urlsafe(16)
    presentation = LicencePresentation(
        id=secrets.token_urlsafe(16), licence_id=licence.id, user_id=principal.user_id, fields=chosen,
        purpose=purpose, commitment_salt=salt, created_at=from_timestamp(now),
        expires_at=from_timestamp(now + PRESENTATION_TTL))
    db.session.add(presentation)
    commit()
    cfg = get_config()
    claims = {"iss": cfg.TOKEN_ISSUER, "aud": PRESENTATION_AUDIENCE, "jti": presentation.id, "iat": now,
              "exp": now + PRESENTATION_TTL, "lt": licence.type, "fld": chosen,
              "cmt": _commitment(salt, _disclosed_values(pii, licence, chosen))}
    return {"payload": qr.sign(claims, typ=PRESENTATION_TYPE, ring=get_keyring()),
            "expires_at": presentation.expires_at, "presentation_id": presentation.id, "fields": chosen}


# --- staff ---------------------------------------------------------------------------------

def _used_key(jti: str) -> str:
    return f"licence:presentation:used:{jti}"


def verify_presentation(principal, *, payload: str, venue_id: int | None, now: int) -> dict:
    """Staff verification, valid once: signature and typ, then Redis SET NX on the jti, then the
    presentation row moves issued → verified in the same transaction as the access record."""
    cfg = get_config()
    try:
        claims = qr.verify(payload, typ=PRESENTATION_TYPE, ring=get_keyring(), now=now, leeway=cfg.CLOCK_SKEW,
                           audience=PRESENTATION_AUDIENCE, issuer=cfg.TOKEN_ISSUER,
                           required=("iss", "aud", "exp", "iat", "jti", "lt", "fld", "cmt"))
    except qr.TokenError as exc:
        raise AppError(_TOKEN_ERRORS.get(exc.code, "MALFORMED_PRESENTATION")) from None
    jti = claims["jti"]
    if not isinstance(jti, str) or not 8 <= len(jti) <= 32:
        raise AppError("MALFORMED_PRESENTATION")
    ttl = max(1, int(claims["exp"]) - now + cfg.CLOCK_SKEW + 60)
    if not get_redis().set(_used_key(jti), 1, nx=True, ex=ttl):
        raise AppError("PRESENTATION_REPLAYED")
    presentation = db.session.get(LicencePresentation, jti)
    if presentation is None:
        raise AppError("MALFORMED_PRESENTATION")
    if presentation.status != "issued":
        raise AppError("PRESENTATION_REPLAYED")
    licence = db.session.get(Licence, presentation.licence_id)
    today = shanghai_today(now)
    _refuse_unusable(licence, today)
    pii = cipher()
    disclosed = _disclosed_values(pii, licence, list(presentation.fields))
    if _commitment(presentation.commitment_salt, disclosed) != claims["cmt"]:
        raise AppError("PRESENTATION_STALE")
    stamp = from_timestamp(now)
    consumed = db.session.execute(
        update(LicencePresentation)
        .where(LicencePresentation.id == jti, LicencePresentation.status == "issued")
        .values(status="verified", verified_at=stamp, verified_by=principal.user_id, venue_id=venue_id))
    if consumed.rowcount != 1:
        db.session.rollback()
        raise AppError("PRESENTATION_REPLAYED")
    staff = db.session.get(User, principal.user_id)
    accessor = {"type": "venue_staff", "staff": mask_phone(staff.phone) if staff else "****"}
    if venue_id is not None:
        accessor["venue_id"] = venue_id
    access_log.record_access(user_id=presentation.user_id, kind="licence_view", accessor=accessor, now=now,
                             purpose=presentation.purpose, fields=list(presentation.fields),
                             subject_ref=str(licence.id))
    commit()
    spec = CATALOGUE[licence.type]
    region_zh, region_en = REGIONS[licence.region]
    return {
        "presentation_id": jti, "valid": True, "licence_type": licence.type, "type_name_zh": spec.name_zh,
        "type_name_en": spec.name_en, "status": licence_status(licence, today),
        "valid_from": licence.valid_from, "valid_until": licence.valid_until,
        "issuer": {"name": _issuer_names([licence.issuer_id]).get(licence.issuer_id, ""),
                   "region": {"code": licence.region, "name_zh": region_zh, "name_en": region_en}},
        "fields": disclosed, "purpose": presentation.purpose, "verified_at": stamp,
        "commitment": {"alg": "sha256", "salt": presentation.commitment_salt, "value": claims["cmt"]},
    }


# --- expiry reminders ----------------------------------------------------------------------

@dataclass(frozen=True)
class DueReminder:
    licence_id: int
    user_id: int
    licence_type: str
    threshold_days: int
    valid_until: date
    days_left: int


def due_reminders(now: int) -> list[DueReminder]:
    """Licences of registered residents expiring within 30 days whose current threshold (30, 7 or
    1 day; the tightest one that applies, so a late run never sends a stale 30-day notice) has
    not been recorded yet."""
    today = shanghai_today(now)
    rows = db.session.execute(
        select(Licence.id, Licence.type, Licence.valid_until, User.id)
        .join(User, User.id_number_bidx == Licence.holder_bidx)
        .where(Licence.status == "active", Licence.valid_until.is_not(None),
               Licence.valid_until >= today, Licence.valid_until <= today + timedelta(days=max(REMINDER_THRESHOLDS)))
        .order_by(Licence.id)).all()
    if not rows:
        return []
    recorded = set(db.session.execute(
        select(LicenceReminder.licence_id, LicenceReminder.threshold_days, LicenceReminder.valid_until)
        .where(LicenceReminder.licence_id.in_([r[0] for r in rows]))).all())
    due = []
    for licence_id, licence_type, valid_until, user_id in rows:
        days_left = (valid_until - today).days
        threshold = min(t for t in REMINDER_THRESHOLDS if days_left <= t)
        if (licence_id, threshold, valid_until) not in recorded:
            due.append(DueReminder(licence_id, user_id, licence_type, threshold, valid_until, days_left))
    return due


def reminder_message(due: DueReminder) -> dict:
    """The inbox message: licence type and expiry date only, no PII."""
    spec = CATALOGUE[due.licence_type]
    until = due.valid_until.isoformat()
    return {
        "category": "licence",
        "title": f"{spec.name_zh}即将到期", "title_en": f"Your {spec.name_en.lower()} expires soon",
        "body": f"您的{spec.name_zh}将于{until}到期（还有{due.days_left}天），请及时办理换领。",
        "body_en": f"Your {spec.name_en.lower()} expires on {until} (in {due.days_left} day(s)); please renew it in time.",
        "deep_link": f"ssb://licences/{due.licence_id}",
    }


def deliver_expiry_reminder(due: DueReminder, *, now: int) -> None:
    """Add one reminder's inbox message and push to the caller's unit of work (the reminder row):
    they commit together, and the push relay wakes after the commit."""
    deliver_to_user(due.user_id, now=now, **reminder_message(due))


def run_expiry_reminders(*, now: int) -> int:
    """Claim each due reminder with its unique row (concurrent workers send it once), then deliver
    it in the same transaction: the reminder row and the inbox message commit together, so a failed
    delivery leaves no row and the next run tries again. Returns how many were handed over."""
    sent = 0
    for due in due_reminders(now):
        row = LicenceReminder(licence_id=due.licence_id, user_id=due.user_id, threshold_days=due.threshold_days,
                              valid_until=due.valid_until, status="sent", created_at=from_timestamp(now),
                              sent_at=from_timestamp(now))
        db.session.add(row)
        try:
            db.session.flush()
        except IntegrityError:
            db.session.rollback()       # another worker claimed it
            continue
        try:
            deliver_expiry_reminder(due, now=now)
            commit()
        except IntegrityError:
            db.session.rollback()       # claimed concurrently (the flush raced the other commit)
            continue
        except Exception:
            db.session.rollback()
            log.exception("licence reminder delivery failed", extra={"licence_id": due.licence_id})
            continue
        sent += 1
    return sent


@job(queue_name="licences", max_retries=3)
def send_expiry_reminders() -> int:
    """Dramatiq job (run daily, e.g. `flask --app wsgi licences send-reminders`)."""
    from api.extensions import now
    return run_expiry_reminders(now=now())
