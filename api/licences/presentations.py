"""One-time selective disclosure: the resident presents chosen fields; staff verify once."""
from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import date

from sqlalchemy import update

import qr
from api import hooks
from api.access import records as access_log
from api.db import from_timestamp
from api.errors import AppError
from api.extensions import db, get_config, get_keyring, get_redis
from api.identity.models import User
from api.licences.catalogue import (
    CATALOGUE,
    REGIONS,
)
from api.licences.common import (
    PRESENTATION_AUDIENCE,
    PRESENTATION_TTL,
    PRESENTATION_TYPE,
    TOKEN_ERRORS,
    canonical_json,
    cipher,
    licence_status,
    sensitive_values,
)
from api.licences.models import Licence, LicencePresentation
from api.licences.wallet import acting_for, issuer_names, own_licence
from api.localtime import local_today
from api.pii import PiiCipher, mask_phone
from api.ratelimits import enforce
from api.unit_of_work import commit
from qr.tokens import b64url

log = logging.getLogger(__name__)


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
                secret = sensitive_values(pii, licence)
            out[name] = secret.get(name)
    return out


def _commitment(salt: str, disclosed: dict) -> str:
    return b64url(hashlib.sha256(f"{salt}.{canonical_json(disclosed)}".encode()).digest())


def create_presentation(principal, licence_id: int, *, fields: list[str], purpose: str | None,
                        now: int, dependent: str | None = None) -> dict:
    """A one-time `ssb-licence+jwt` (3 minutes) disclosing only the chosen fields.

    The payload carries the presentation id (jti), the licence type, the disclosed field names and
    a salted hash commitment of the disclosed values; never a value, never an identity number.
    With `dependent` (a guardian showing a dependent's licence) it also carries `act: {sub}`, the
    guardian's holder id, and the dependent's log records the presentation."""
    acting = acting_for(principal, dependent, now)
    licence = own_licence(principal, licence_id, now=now, acting=acting)
    spec = CATALOGUE[licence.type]
    chosen = list(dict.fromkeys(fields))
    unknown = [f for f in chosen if f not in spec.disclosable]
    if unknown or not chosen:
        raise AppError("DISCLOSURE_INVALID",
                       errors={"fields": [f"unknown for {licence.type}: {', '.join(unknown)}" if unknown
                                          else "choose at least one field"]})
    _refuse_unusable(licence, local_today(now))
    enforce(f"{get_config().LICENCE_PRESENTATIONS_PER_MINUTE}/minute", "licence-present", str(principal.user_id))
    pii = cipher()
    salt = secrets.token_urlsafe(16)
    presentation = LicencePresentation(
        id=secrets.token_urlsafe(16), licence_id=licence.id, user_id=principal.user_id, fields=chosen,
        purpose=purpose, commitment_salt=salt, created_at=from_timestamp(now),
        expires_at=from_timestamp(now + PRESENTATION_TTL))
    db.session.add(presentation)
    if acting is not None:
        acting.record("guardian_act", action="licence_presented", now=now, fields=chosen, purpose=purpose,
                      subject_ref=str(licence.id))
    commit()
    cfg = get_config()
    claims = {"iss": cfg.TOKEN_ISSUER, "aud": PRESENTATION_AUDIENCE, "jti": presentation.id, "iat": now,
              "exp": now + PRESENTATION_TTL, "lt": licence.type, "fld": chosen,
              "cmt": _commitment(salt, _disclosed_values(pii, licence, chosen))}
    if acting is not None:
        claims["act"] = {"sub": acting.guardian_holder_id}
    return {"payload": qr.sign(claims, typ=PRESENTATION_TYPE, ring=get_keyring()),
            "expires_at": presentation.expires_at, "presentation_id": presentation.id, "fields": chosen}



def _used_key(jti: str) -> str:
    return f"licence:presentation:used:{jti}"


def _verifier(principal, venue_id: str | None) -> tuple[dict, int | None]:
    """(the accessor recorded in the holder's log, the venue's row id): staff of the named venue,
    or, with no venue, an inspector holding the global `staff` role (read from the account)."""
    staff = db.session.get(User, principal.user_id)
    masked = mask_phone(staff.phone) if staff else "****"
    if venue_id is None:
        if staff is None or "staff" not in (staff.roles or ()):
            raise AppError("ROLE_REQUIRED", detail="staff")
        return {"type": "staff", "staff": masked}, None
    venue = hooks.ask(hooks.VENUE_SERVED_BY, venue_id, principal.user_id)   # api.codes sits above us
    return {"type": "venue_staff", "staff": masked, "venue_id": venue.public_id, "venue_name": venue.name,
            "district": venue.district}, venue.id


def verify_presentation(principal, *, payload: str, venue_id: str | None, now: int) -> dict:
    """Staff verification, valid once: who may verify first (nothing is consumed for others), then
    signature and typ, then Redis SET NX on the jti, then the presentation row moves issued →
    verified in the same transaction as the access record naming the venue."""
    accessor, venue_pk = _verifier(principal, venue_id)
    cfg = get_config()
    try:
        claims = qr.verify(payload, typ=PRESENTATION_TYPE, ring=get_keyring(), now=now, leeway=cfg.CLOCK_SKEW,
                           audience=PRESENTATION_AUDIENCE, issuer=cfg.TOKEN_ISSUER,
                           required=("iss", "aud", "exp", "iat", "jti", "lt", "fld", "cmt"))
    except qr.TokenError as exc:
        raise AppError(TOKEN_ERRORS.get(exc.code, "MALFORMED_PRESENTATION")) from None
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
    today = local_today(now)
    _refuse_unusable(licence, today)
    # Shown by a guardian: the link must still be active, and the dependent's log gets the view.
    acting = hooks.ask(hooks.DEPENDENT_OF_PRESENTATION, presentation.user_id, licence.holder_bidx, now) \
        if "act" in claims else None
    pii = cipher()
    disclosed = _disclosed_values(pii, licence, list(presentation.fields))
    if _commitment(presentation.commitment_salt, disclosed) != claims["cmt"]:
        raise AppError("PRESENTATION_STALE")
    stamp = from_timestamp(now)
    consumed = db.session.execute(
        update(LicencePresentation)
        .where(LicencePresentation.id == jti, LicencePresentation.status == "issued")
        .values(status="verified", verified_at=stamp, verified_by=principal.user_id, venue_id=venue_pk))
    if consumed.rowcount != 1:
        db.session.rollback()
        raise AppError("PRESENTATION_REPLAYED")
    if acting is None:
        access_log.record_access(user_id=presentation.user_id, kind="licence_view", accessor=accessor, now=now,
                                 purpose=presentation.purpose, fields=list(presentation.fields),
                                 subject_ref=str(licence.id))
    else:
        acting.record("licence_view", accessor=accessor, now=now, purpose=presentation.purpose,
                      fields=list(presentation.fields), subject_ref=str(licence.id))
    commit()
    return _verification_view(licence, presentation, disclosed, claims, today=today, stamp=stamp, acting=acting)


def _verification_view(licence: Licence, presentation: LicencePresentation, disclosed: dict, claims: dict, *,
                       today: date, stamp, acting) -> dict:
    spec = CATALOGUE[licence.type]
    region_zh, region_en = REGIONS[licence.region]
    guardian = {"guardian": acting.guardian_summary} if acting is not None else {}
    return {
        "presentation_id": presentation.id, "valid": True, "licence_type": licence.type, "type_name_zh": spec.name_zh,
        "type_name_en": spec.name_en, "status": licence_status(licence, today),
        "valid_from": licence.valid_from, "valid_until": licence.valid_until,
        "issuer": {"name": issuer_names([licence.issuer_id]).get(licence.issuer_id, ""),
                   "region": {"code": licence.region, "name_zh": region_zh, "name_en": region_en}},
        "fields": disclosed, "purpose": presentation.purpose, "verified_at": stamp,
        "commitment": {"alg": "sha256", "salt": presentation.commitment_salt, "value": claims["cmt"]},
        "shown_by_guardian": acting is not None, **guardian,
    }
