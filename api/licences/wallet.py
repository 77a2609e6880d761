"""The resident's wallet: their licences (or their enterprise's), masked, and who viewed them."""
from __future__ import annotations

import logging
from datetime import date

from sqlalchemy import select

from api import hooks
from api.access import records as access_log
from api.errors import AppError
from api.extensions import db
from api.identity.models import User
from api.licences.catalogue import (
    CATALOGUE,
    REGIONS,
    mask_value,
)
from api.licences.common import CREDIT_CODE, cipher, licence_status, sensitive_values
from api.licences.models import Issuer, Licence
from api.localtime import local_today
from api.pii import PiiCipher
from api.unit_of_work import commit

log = logging.getLogger(__name__)


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


def issuer_names(issuer_ids) -> dict[int, str]:
    ids = set(issuer_ids)
    if not ids:
        return {}
    return dict(db.session.execute(select(Issuer.id, Issuer.name).where(Issuer.id.in_(ids))).all())


def _wallet_view(licence: Licence, *, pii: PiiCipher, today: date, issuer_name: str) -> dict:
    spec = CATALOGUE[licence.type]
    secret = sensitive_values(pii, licence)
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


def acting_for(principal, dependent: str | None, now: int):
    """The dependent the caller acts for with `for=` (api.family answers, or refuses with 403/404);
    None without `for`."""
    return hooks.ask(hooks.DEPENDENT_FOR_CALLER, principal, dependent, now) if dependent is not None else None


def _note_guardian_act(acting, action: str, *, now: int, **details) -> None:
    """The guardian's act in the dependent's log; this use case's single commit."""
    acting.record("guardian_act", action=action, now=now, **details)
    commit()


def list_wallet(principal, *, now: int, dependent: str | None = None) -> dict:
    acting = acting_for(principal, dependent, now)
    bidx = acting.bidx if acting else _holder_bidx(principal, now=now)
    if bidx is None:
        return {"items": [], "holder_verified": False}
    licences = list(db.session.scalars(select(Licence).where(Licence.holder_bidx == bidx)
                                       .order_by(Licence.type, Licence.id)))
    names = issuer_names(lic.issuer_id for lic in licences)
    pii, today = cipher(), local_today(now)
    items = [_wallet_view(lic, pii=pii, today=today, issuer_name=names.get(lic.issuer_id, "")) for lic in licences]
    if acting is not None:
        _note_guardian_act(acting, "wallet_opened", now=now)
    return {"items": items, "holder_verified": True}


def own_licence(principal, licence_id: int, *, now: int, acting=None) -> Licence:
    """The caller's licence, or with `acting` (see acting_for) their dependent's; else 404."""
    bidx = acting.bidx if acting else _holder_bidx(principal, now=now)
    licence = db.session.get(Licence, licence_id) if 0 < licence_id < 2**63 else None
    if licence is None or bidx is None or licence.holder_bidx != bidx:
        raise AppError("LICENCE_NOT_FOUND")
    return licence


def get_licence(principal, licence_id: int, *, now: int, dependent: str | None = None) -> dict:
    acting = acting_for(principal, dependent, now)
    licence = own_licence(principal, licence_id, now=now, acting=acting)
    view = _wallet_view(licence, pii=cipher(), today=local_today(now),
                        issuer_name=issuer_names([licence.issuer_id]).get(licence.issuer_id, ""))
    if acting is not None:
        _note_guardian_act(acting, "licence_opened", now=now, subject_ref=str(licence.id))
    return view


def licence_access_log(principal, licence_id: int, *, before_id: int | None, limit: int, now: int) -> dict:
    licence = own_licence(principal, licence_id, now=now)
    return access_log.list_access(principal.user_id, before_id=before_id, limit=limit, kind="licence_view",
                                  subject_ref=str(licence.id))
