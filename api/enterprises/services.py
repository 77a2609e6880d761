"""Enterprise (legal-person) accounts: claim by the legal representative, delegated roles
(法人多级授权), acting for an enterprise, and the audit trail of all of it.

Roles, lowest to highest: viewer < handler < manager < administrator. The registry's legal
representative holds `administrator` (source "legal_rep") for as long as the registry names
them; administrators grant any role, managers grant handler and viewer only.

Other services that act on an enterprise's behalf call `require_enterprise_role(principal,
"handler", now=now)`: it checks the act-as token AND the membership in the database, so a
revocation takes effect on the very next request.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from api.db import from_timestamp
from api.enterprises.credit_codes import normalise_credit_code
from api.enterprises.models import ENTERPRISE_ROLES, Enterprise, EnterpriseAudit, EnterpriseMember, RegistryEnterprise
from api.enterprises.registry import EnterpriseRegistry, RegistryEntry, RegistryUnavailable
from api.errors import AppError
from api.extensions import db, pii_cipher
from api.identity.accounts import get_user
from api.identity.identity_numbers import normalise as normalise_id_number
from api.identity.models import User
from api.identity.tokens import Principal, issue_access_token
from api.pii import PiiCipher, mask_phone
from api.ratelimits import enforce
from api.unit_of_work import commit

ROLE_RANK = {role: rank for rank, role in enumerate(ENTERPRISE_ROLES, start=1)}
ADMIN = "administrator"


@dataclass(frozen=True)
class Membership:
    """What `require_enterprise_role` vouches for: this resident acts for this enterprise, now."""

    enterprise_id: int
    credit_code: str
    enterprise_name: str
    user_id: int
    role: str            # the effective role: the lower of the token's and the current membership's
    source: str


def cipher() -> PiiCipher:
    return pii_cipher()


def _rank(role: str | None) -> int:
    return ROLE_RANK.get(role or "", 0)


def _audit(enterprise_id: int, action: str, *, now: int, actor: int | None, subject: int | None = None,
           role: str | None = None, previous_role: str | None = None, **details) -> None:
    db.session.add(EnterpriseAudit(enterprise_id=enterprise_id, action=action, actor_user_id=actor,
                                   subject_user_id=subject, role=role, previous_role=previous_role,
                                   details=details, created_at=from_timestamp(now)))


MAX_ID = 2**63 - 1     # ids beyond BIGINT cannot exist: answer "not found" without asking the database


def _membership(enterprise_id: int, user_id: int) -> EnterpriseMember | None:
    if not (0 < enterprise_id <= MAX_ID and 0 < user_id <= MAX_ID):
        return None
    return db.session.scalar(select(EnterpriseMember).where(EnterpriseMember.enterprise_id == enterprise_id,
                                                            EnterpriseMember.user_id == user_id))


def _member_or_404(enterprise_id: int, user_id: int, minimum_role: str = "viewer") -> EnterpriseMember:
    """Non-members learn nothing (404); members below `minimum_role` get 403."""
    member = _membership(enterprise_id, user_id)
    if member is None:
        raise AppError("ENTERPRISE_NOT_FOUND")
    if _rank(member.role) < _rank(minimum_role):
        raise AppError("ENTERPRISE_ROLE_REQUIRED")
    return member


def enterprise_view(enterprise: Enterprise, role: str | None) -> dict:
    return {"id": enterprise.id, "credit_code": enterprise.credit_code, "name": enterprise.name,
            "district": enterprise.district, "industry": enterprise.industry, "size": enterprise.size,
            "founded_on": enterprise.founded_on, "my_role": role, "created_at": enterprise.created_at}


# -- the registry and the legal representative ---------------------------------------------------

def _copy_facts(enterprise: Enterprise, entry: RegistryEntry | RegistryEnterprise) -> None:
    enterprise.name = entry.name
    enterprise.district = entry.district
    enterprise.industry = entry.industry
    enterprise.size = entry.size
    enterprise.founded_on = entry.founded_on


def _change_legal_rep(enterprise: Enterprise, new_bidx: str, *, now: int, actor: int | None) -> None:
    """The registry names someone else: the old representative loses the administrator role
    they held as representative; the new one gets it if they are a verified resident (else on
    their claim). Roles others granted stay until an administrator changes them."""
    when = from_timestamp(now)
    old = list(db.session.scalars(select(EnterpriseMember).where(EnterpriseMember.enterprise_id == enterprise.id,
                                                                 EnterpriseMember.source == "legal_rep")))
    for member in old:
        _audit(enterprise.id, "revoke", now=now, actor=actor, subject=member.user_id, previous_role=member.role,
               reason="legal_rep_changed")
        db.session.delete(member)
    enterprise.legal_rep_bidx = new_bidx
    enterprise.updated_at = when
    _audit(enterprise.id, "legal_rep_changed", now=now, actor=actor)
    db.session.flush()
    new_rep = db.session.scalar(select(User).where(User.id_number_bidx == new_bidx,
                                                   User.real_name_verified_at.is_not(None)))
    if new_rep is not None and new_rep.status == "active":
        _make_legal_rep_admin(enterprise, new_rep.id, now=now, actor=actor, action="grant")


def _make_legal_rep_admin(enterprise: Enterprise, user_id: int, *, now: int, actor: int | None,
                          action: str) -> bool:
    member = _membership(enterprise.id, user_id)
    if member is not None and member.role == ADMIN and member.source == "legal_rep":
        return False
    previous = member.role if member is not None else None
    if member is None:
        member = EnterpriseMember(enterprise_id=enterprise.id, user_id=user_id)
        db.session.add(member)
    member.role, member.source, member.granted_by, member.granted_at = ADMIN, "legal_rep", None, from_timestamp(now)
    _audit(enterprise.id, action, now=now, actor=actor, subject=user_id, role=ADMIN, previous_role=previous,
           reason="legal_representative")
    db.session.flush()
    return True


def _text(row: dict, key: str, max_len: int) -> str | None:
    value = (row.get(key) or "").strip()
    if len(value) > max_len:
        raise ValueError(f"{key} longer than {max_len}")
    return value or None


def import_registry_row(row: dict, *, pii: PiiCipher, now: int) -> str:
    """Upsert one registry row (from the CSV import) and apply a change of legal representative
    to the enterprise account if it exists. Raises ValueError/AppError for a bad row. The
    caller commits. Returns "created", "updated" or "legal_rep_changed"."""
    credit_code = normalise_credit_code(row.get("credit_code"))
    id_type = (row.get("legal_rep_id_type") or "resident_id").strip()
    number = normalise_id_number(id_type, row.get("legal_rep_id_number") or "", today=from_timestamp(now).date())
    name = _text(row, "name", 200)
    if not name:
        raise ValueError("name is empty")
    district, industry, size = _text(row, "district", 32), _text(row, "industry", 64), _text(row, "size", 32)
    founded = date.fromisoformat(row["founded_on"].strip()) if (row.get("founded_on") or "").strip() else None
    bidx = pii.blind_index(id_type, number)
    entry = db.session.scalar(select(RegistryEnterprise).where(RegistryEnterprise.credit_code == credit_code))
    status = "updated"
    if entry is None:
        entry = RegistryEnterprise(credit_code=credit_code)
        db.session.add(entry)
        status = "created"
    if entry.legal_rep_bidx != bidx:
        entry.legal_rep_enc = pii.encrypt(number, context="enterprise_registry.legal_rep_id_number")
    entry.legal_rep_id_type, entry.legal_rep_bidx = id_type, bidx
    entry.name = name
    entry.district, entry.industry, entry.size = district, industry, size
    entry.founded_on = founded
    known = {"credit_code", "name", "legal_rep_id_number", "legal_rep_id_type", "district", "industry", "size",
             "founded_on"}
    entry.attributes = {k: v for k, v in row.items() if k and k not in known}
    entry.updated_at = from_timestamp(now)
    enterprise = db.session.scalar(select(Enterprise).where(Enterprise.credit_code == credit_code))
    if enterprise is not None:
        _copy_facts(enterprise, entry)
        if enterprise.legal_rep_bidx != bidx:
            _change_legal_rep(enterprise, bidx, now=now, actor=None)
            status = "legal_rep_changed"
    db.session.flush()
    return status


def claim(user_id: int, *, credit_code: str, now: int, registry: EnterpriseRegistry) -> dict:
    """The registry's legal representative (matched by blind index) becomes the administrator."""
    code = normalise_credit_code(credit_code)
    user = get_user(user_id)
    if not user.is_verified or not user.id_number_bidx:
        raise AppError("REAL_NAME_REQUIRED")
    enforce("30/hour", "enterprise-claim", str(user_id))
    try:
        entry = registry.lookup(code)
    except RegistryUnavailable:
        raise AppError("UPSTREAM_UNAVAILABLE") from None
    if entry is None:
        raise AppError("ENTERPRISE_NOT_FOUND")
    enterprise = db.session.scalar(select(Enterprise).where(Enterprise.credit_code == code))
    if enterprise is not None:
        _copy_facts(enterprise, entry)
        if enterprise.legal_rep_bidx != entry.legal_rep_bidx:
            # Learnt from the registry now (an HTTP registry has no import): apply it first.
            _change_legal_rep(enterprise, entry.legal_rep_bidx, now=now, actor=None)
        commit()
    if user.id_number_bidx != entry.legal_rep_bidx:
        raise AppError("NOT_LEGAL_REPRESENTATIVE")
    if enterprise is None:
        enterprise = Enterprise(credit_code=code, legal_rep_bidx=entry.legal_rep_bidx,
                                created_at=from_timestamp(now), updated_at=from_timestamp(now))
        _copy_facts(enterprise, entry)
        db.session.add(enterprise)
        try:
            db.session.flush()
        except IntegrityError:   # a concurrent claim created it: use that account
            db.session.rollback()
            enterprise = db.session.scalar(select(Enterprise).where(Enterprise.credit_code == code))
            if enterprise is None:
                raise
    _make_legal_rep_admin(enterprise, user.id, now=now, actor=user.id, action="claim")
    try:
        commit()
    except IntegrityError:       # the same representative claiming twice at once
        db.session.rollback()
    return enterprise_view(enterprise, ADMIN)


# -- reading --------------------------------------------------------------------------------------

def get_enterprise(user_id: int, enterprise_id: int) -> dict:
    member = _member_or_404(enterprise_id, user_id)
    return enterprise_view(member.enterprise, member.role)


def list_my_enterprises(user_id: int) -> dict:
    rows = db.session.scalars(select(EnterpriseMember).where(EnterpriseMember.user_id == user_id)
                              .order_by(EnterpriseMember.enterprise_id))
    return {"items": [enterprise_view(m.enterprise, m.role) for m in rows]}


def _people(user_ids: set[int]) -> dict[int, User]:
    ids = {u for u in user_ids if u is not None}
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


def _member_view(member: EnterpriseMember, people: dict[int, User]) -> dict:
    person = people.get(member.user_id)
    return {"user_id": member.user_id, "phone": mask_phone(person.phone) if person else None,
            "name": person.masked_name if person else None, "role": member.role,
            "source": member.source, "granted_by": member.granted_by, "granted_at": member.granted_at}


def list_members(user_id: int, enterprise_id: int) -> dict:
    _member_or_404(enterprise_id, user_id, minimum_role="manager")
    rows = list(db.session.scalars(select(EnterpriseMember).where(EnterpriseMember.enterprise_id == enterprise_id)
                                   .order_by(EnterpriseMember.id)))
    people = _people({m.user_id for m in rows})
    return {"items": [_member_view(m, people) for m in rows]}


def list_audit(user_id: int, enterprise_id: int, *, before_id: int | None, limit: int) -> dict:
    _member_or_404(enterprise_id, user_id, minimum_role=ADMIN)
    query = select(EnterpriseAudit).where(EnterpriseAudit.enterprise_id == enterprise_id)
    if before_id:
        query = query.where(EnterpriseAudit.id < before_id)
    rows = list(db.session.scalars(query.order_by(EnterpriseAudit.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    people = _people({r.actor_user_id for r in rows} | {r.subject_user_id for r in rows})

    def who(uid):
        p = people.get(uid)
        return None if uid is None else {"user_id": uid, "phone": mask_phone(p.phone) if p else None,
                                         "name": p.masked_name if p else None}

    items = [{"id": r.id, "action": r.action, "actor": who(r.actor_user_id), "subject": who(r.subject_user_id),
              "role": r.role, "previous_role": r.previous_role, "details": r.details or {},
              "created_at": r.created_at} for r in rows]
    return {"items": items, "next_cursor": str(rows[-1].id) if more and rows else None}


# -- delegation -----------------------------------------------------------------------------------

def _may_manage(actor: EnterpriseMember, role: str) -> bool:
    """Administrators manage every role; managers only the roles below their own."""
    return actor.role == ADMIN or (actor.role == "manager" and _rank(role) < _rank("manager"))


def revoke_member(actor_id: int, enterprise_id: int, member_user_id: int, *, now: int) -> None:
    """Administrators revoke anyone but the legal representative, managers handlers and viewers;
    every member may leave (except the representative). Effective at once: see
    `require_enterprise_role`."""
    if member_user_id == actor_id:
        actor = _member_or_404(enterprise_id, actor_id)
        target = actor
    else:
        actor = _member_or_404(enterprise_id, actor_id, minimum_role="manager")
        target = _membership(enterprise_id, member_user_id)
        if target is None:
            raise AppError("MEMBER_NOT_FOUND")
        if not _may_manage(actor, target.role):
            raise AppError("ROLE_ESCALATION")
    if target.source == "legal_rep":
        raise AppError("LEGAL_REP_PROTECTED")
    _audit(enterprise_id, "revoke", now=now, actor=actor_id, subject=target.user_id, previous_role=target.role)
    db.session.execute(delete(EnterpriseMember).where(EnterpriseMember.id == target.id))
    commit()


# -- acting for an enterprise ---------------------------------------------------------------------

def act_as(principal: Principal, enterprise_id: int, *, now: int) -> dict:
    """An access token of the same session that acts for the enterprise within the member's role."""
    user = get_user(principal.user_id)
    member = _member_or_404(enterprise_id, user.id)
    _audit(enterprise_id, "act_as", now=now, actor=user.id, subject=user.id, role=member.role)
    commit()
    token, ttl = issue_access_token(user_id=user.id, session_id=principal.session_id, roles=user.roles, now=now,
                                    acting_for={"enterprise_id": enterprise_id, "role": member.role})
    return {"access_token": token, "token_type": "Bearer", "expires_in": ttl, "enterprise_id": enterprise_id,
            "role": member.role}


def require_enterprise_role(principal: Principal, minimum_role: str, *, now: int) -> Membership:
    """The principal acts for an enterprise (an act-as token) and, right now, is still a member
    with at least `minimum_role` (viewer < handler < manager < administrator). The effective role
    is the lower of the token's and the current membership's, so a revocation or a demotion
    applies at once. Raises AppError NOT_ACTING_FOR_ENTERPRISE, ENTERPRISE_MEMBERSHIP_REVOKED,
    ENTERPRISE_ROLE_REQUIRED (all 403) or INVALID_TOKEN."""
    if minimum_role not in ROLE_RANK:
        raise ValueError(f"unknown enterprise role {minimum_role!r}")
    act = principal.acting_for or {}
    try:
        enterprise_id = int(act.get("enterprise_id"))
    except (TypeError, ValueError):
        raise AppError("NOT_ACTING_FOR_ENTERPRISE") from None
    if principal.expires_at and principal.expires_at < now:
        raise AppError("INVALID_TOKEN")
    member = _membership(enterprise_id, principal.user_id)
    if member is None:
        raise AppError("ENTERPRISE_MEMBERSHIP_REVOKED")
    token_role = str(act.get("role") or "")
    effective = member.role if _rank(member.role) <= _rank(token_role) else token_role
    if _rank(effective) < _rank(minimum_role):
        raise AppError("ENTERPRISE_ROLE_REQUIRED")
    return Membership(enterprise_id, member.enterprise.credit_code, member.enterprise.name, principal.user_id,
                      effective, member.source)


def acting_context(principal: Principal, *, now: int) -> dict:
    m = require_enterprise_role(principal, "viewer", now=now)
    return {"enterprise_id": m.enterprise_id, "credit_code": m.credit_code, "name": m.enterprise_name,
            "role": m.role, "user_id": m.user_id}
