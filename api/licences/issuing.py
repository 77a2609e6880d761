"""Departments push licences: idempotent upsert by (type, number), and revocation."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from api.db import from_timestamp
from api.errors import AppError
from api.extensions import db
from api.identity.identity_numbers import ID_TYPES, normalise
from api.licences.catalogue import (
    REGIONS,
    LicenceType,
    get_type,
    mask_value,
    normalise_region,
    validate_fields,
)
from api.licences.common import (
    CREDIT_CODE,
    LICENCE_NUMBER,
    canonical_json,
    cipher,
    licence_number_bidx,
    normalise_credit_code,
)
from api.licences.issuers import IssuerPrincipal
from api.licences.models import Licence
from api.localtime import local_today
from api.pii import mask_id_number, mask_name
from api.unit_of_work import commit

log = logging.getLogger(__name__)


def _writable_type(issuer: IssuerPrincipal, licence_type: str) -> LicenceType:
    spec = get_type(licence_type)
    if spec is None:
        raise AppError("LICENCE_TYPE_NOT_FOUND")
    if not issuer.may_issue(licence_type):
        raise AppError("LICENCE_TYPE_NOT_ALLOWED")
    return spec


def _normalise_number(number: str) -> str:
    value = (number or "").strip().upper()
    if not LICENCE_NUMBER.fullmatch(value):
        raise AppError("INVALID_LICENCE_NUMBER")
    return value


@dataclass(frozen=True)
class _Holder:
    id_type: str
    id_number: str
    name: str


def _checked_terms(spec: LicenceType, *, fields: dict, region: str, valid_from: date,
                   valid_until: date | None) -> str:
    """The fields, region and validity an issuer sent, checked; the region's code."""
    errors = validate_fields(spec, fields)
    if errors:
        raise AppError("INVALID_LICENCE_FIELDS", errors={"fields": errors})
    region_code = normalise_region(region)
    if region_code is None:
        raise AppError("INVALID_REGION", errors={"region": [f"one of {', '.join(REGIONS)}"]})
    if valid_until is not None and valid_until < valid_from:
        raise AppError("VALIDATION_ERROR", errors={"valid_until": ["Must not be before valid_from."]})
    return region_code


def _checked_holder(spec: LicenceType, holder: dict, *, now: int) -> _Holder:
    """An enterprise licence is held by a credit code, a personal one by an identity number."""
    id_type = holder["id_type"]
    if spec.holder_kind == "enterprise":
        if id_type != CREDIT_CODE:
            raise AppError("INVALID_ID_NUMBER", errors={"id_type": ["a business licence is held by a credit_code"]})
        id_number = normalise_credit_code(holder["id_number"])
    else:
        if id_type not in ID_TYPES:
            raise AppError("INVALID_ID_NUMBER", errors={"id_type": [f"one of {', '.join(ID_TYPES)}"]})
        id_number = normalise(id_type, holder["id_number"], today=local_today(now))
    return _Holder(id_type, id_number, " ".join(holder["name"].split()))


def _write(licence: Licence, pii, spec: LicenceType, *, holder: _Holder, fields: dict, valid_from: date,
           valid_until: date | None, region_code: str, content_hash: str, stamp) -> None:
    """Every column an issue sets, holder and sensitive fields encrypted under the row's context."""
    bidx = licence.number_bidx
    sensitive = {k: v for k, v in fields.items() if spec.field_map[k].sensitive}
    licence.holder_id_type = holder.id_type
    licence.holder_bidx = pii.blind_index(holder.id_type, holder.id_number)
    licence.holder_id_enc = pii.encrypt(holder.id_number, context=f"licences.holder_id|{bidx}")
    licence.holder_id_masked = mask_id_number(holder.id_number)
    licence.holder_name_enc = pii.encrypt(holder.name, context=f"licences.holder_name|{bidx}")
    licence.holder_name_masked = mask_name(holder.name)
    licence.fields_clear = {k: v for k, v in fields.items() if not spec.field_map[k].sensitive}
    licence.fields_enc = pii.encrypt(canonical_json(sensitive), context=f"licences.fields|{bidx}") \
        if sensitive else None
    licence.valid_from = valid_from
    licence.valid_until = valid_until
    licence.region = region_code
    licence.status = "active"        # a re-issue after revocation reinstates the licence
    licence.revoked_at = None
    licence.version = (licence.version or 0) + 1
    licence.content_hash = content_hash
    licence.updated_at = stamp


def upsert_licence(issuer: IssuerPrincipal, *, licence_type: str, number: str, holder: dict, fields: dict,
                   valid_from: date, valid_until: date | None, region: str, now: int) -> dict:
    """Create or replace the licence (type, number). Idempotent: the same body changes nothing."""
    spec = _writable_type(issuer, licence_type)
    number = _normalise_number(number)
    region_code = _checked_terms(spec, fields=fields, region=region, valid_from=valid_from, valid_until=valid_until)
    person = _checked_holder(spec, holder, now=now)

    pii = cipher()
    number_bidx = licence_number_bidx(pii, licence_type, number)
    content_hash = pii.blind_index("licence-content", canonical_json(
        [issuer.issuer_id, person.id_type, person.id_number, person.name, fields, valid_from, valid_until,
         region_code]))

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
        _write(licence, pii, spec, holder=person, fields=fields, valid_from=valid_from, valid_until=valid_until,
               region_code=region_code, content_hash=content_hash, stamp=stamp)
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
        Licence.type == licence_type, Licence.number_bidx == licence_number_bidx(cipher(), licence_type, number)))
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
