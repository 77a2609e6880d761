"""What was done for a dependent: written with the act (a composed writer, never commits), read
by the guardian (what I did for whom) and by the dependent (what my guardians did for me)."""
from __future__ import annotations

from sqlalchemy import select

from api.access.records import record_access
from api.db import from_timestamp
from api.extensions import db
from api.family import store
from api.family.models import FamilyActivity, FamilyDependent, FamilyLink
from api.identity.models import User
from api.identity.tokens import Principal

GUARDIAN_ACT = "guardian_act"   # access-record kind: the guardian's own acts (a code shown, the wallet opened)
CONSENT = "family_consent"      # access-record kind: a clerk recorded the elder's agreement in person


def guardian_named(guardian: User, link: FamilyLink) -> dict:
    """How a dependent's log names the guardian: masked, with the link."""
    return {"name": guardian.masked_name, "relation": link.relation, "link_id": link.public_id}


def record(*, link: FamilyLink, dependent: FamilyDependent, guardian: User, account: User | None, kind: str,
           now: int, action: str | None = None, scene: str | None = None, accessor: dict | None = None,
           fields: list | None = None, purpose: str | None = None, subject_ref: str | None = None) -> None:
    """Add the activity row and, if the dependent has an account, an access record in their log
    naming the guardian (`accessor.guardian`). `accessor` is who looked (a venue, staff); None for
    the guardian's own act, which the access record describes as {"type": "guardian", "action"}."""
    named = guardian_named(guardian, link)
    shown = dict(accessor) if accessor else {"type": "guardian", "action": action}
    shown["guardian"] = named
    db.session.add(FamilyActivity(link_id=link.id, dependent_id=dependent.id, kind=kind, action=action, scene=scene,
                                  accessor=shown, fields=fields or [], purpose=purpose, subject_ref=subject_ref,
                                  created_at=from_timestamp(now)))
    if account is not None:
        record_access(user_id=account.id, kind=kind, accessor=shown, now=now, scene=scene,
                      purpose=purpose, fields=fields, subject_ref=subject_ref)


def _page(query, *, before_id: int | None, limit: int) -> dict:
    if before_id:
        query = query.where(FamilyActivity.id < before_id)
    rows = list(db.session.scalars(query.order_by(FamilyActivity.id.desc()).limit(limit + 1)))
    more, rows = len(rows) > limit, rows[:limit]
    return {"items": [_view(r) for r in rows], "next_cursor": str(rows[-1].id) if more and rows else None}


def _view(row: FamilyActivity) -> dict:
    return {"id": row.id, "kind": row.kind, "action": row.action, "scene": row.scene, "accessor": row.accessor,
            "fields": list(row.fields or []), "purpose": row.purpose, "subject_ref": row.subject_ref,
            "created_at": row.created_at}


def for_guardian(principal: Principal, link_id: str, *, before_id: int | None, limit: int) -> dict:
    """What the caller did for one of their dependents (and what others did with it), newest first."""
    link, _ = store.link_of_guardian(principal.user_id, link_id)
    return _page(select(FamilyActivity).where(FamilyActivity.link_id == link.id), before_id=before_id, limit=limit)


def for_dependent(principal: Principal, link_id: str, *, before_id: int | None, limit: int) -> dict:
    """What one guardian did for the caller, newest first: also before the caller had an account."""
    user = db.session.get(User, principal.user_id)
    link, _ = store.link_of_dependent(user.id_number_bidx if user else None, link_id)
    return _page(select(FamilyActivity).where(FamilyActivity.link_id == link.id), before_id=before_id, limit=limit)
