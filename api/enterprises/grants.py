"""Delegating enterprise roles by phone number, without telling the administrator who uses it.

Granting to a current member changes their role at once (the administrator sees members
anyway). Granting to any other number makes an invitation, answered identically whether the
number belongs to a real-name verified resident, an unverified account or nobody: otherwise
an administrator could probe phone numbers for verified residents (and their masked names).
The number's holder sees the invitation in their own app and accepts (real-name verified, the
membership starts) or declines; it expires after INVITATION_TTL.
"""
from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from api.db import from_timestamp
from api.enterprises.models import EnterpriseInvitation, EnterpriseMember
from api.enterprises.services import (
    ROLE_RANK,
    _audit,
    _may_manage,
    _member_or_404,
    _member_view,
    _membership,
    enterprise_view,
)
from api.errors import AppError
from api.extensions import db
from api.identity.accounts import get_user
from api.identity.models import User
from api.pii import mask_phone
from api.unit_of_work import commit

INVITATION_TTL = 7 * 24 * 3600
MAX_ID = 2**63 - 1


def grant_role(actor_id: int, enterprise_id: int, *, phone: str, role: str, now: int) -> dict:
    """Change a member's role (`status: "member"`), or invite a number that is not a member
    (`status: "invited"`, the same answer whoever holds the number)."""
    from api.identity.phones import normalise_phone

    if role not in ROLE_RANK:
        raise AppError("VALIDATION_ERROR", errors={"role": ["unknown role"]})
    actor = _member_or_404(enterprise_id, actor_id, minimum_role="manager")
    if not _may_manage(actor, role):
        raise AppError("ROLE_ESCALATION")
    phone = normalise_phone(phone)
    grantee = db.session.scalar(select(User).where(User.phone == phone))
    member = _membership(enterprise_id, grantee.id) if grantee is not None else None
    if member is None:
        return _invite(actor_id, enterprise_id, phone=phone, role=role, now=now)
    if grantee.id == actor_id:
        raise AppError("SELF_ROLE_CHANGE")
    if not _may_manage(actor, member.role):
        raise AppError("ROLE_ESCALATION")
    if member.source == "legal_rep":
        raise AppError("LEGAL_REP_PROTECTED")
    previous = member.role
    member.role, member.granted_by, member.granted_at = role, actor_id, from_timestamp(now)
    _audit(enterprise_id, "grant", now=now, actor=actor_id, subject=grantee.id, role=role, previous_role=previous)
    commit()
    return {"status": "member", **_member_view(member, {grantee.id: grantee})}


def _invite(actor_id: int, enterprise_id: int, *, phone: str, role: str, now: int) -> dict:
    invitation = db.session.scalar(select(EnterpriseInvitation).where(
        EnterpriseInvitation.enterprise_id == enterprise_id, EnterpriseInvitation.phone == phone))
    if invitation is None:
        invitation = EnterpriseInvitation(enterprise_id=enterprise_id, phone=phone)
        db.session.add(invitation)
    invitation.role, invitation.invited_by = role, actor_id
    invitation.created_at, invitation.expires_at = from_timestamp(now), from_timestamp(now + INVITATION_TTL)
    _audit(enterprise_id, "invite", now=now, actor=actor_id, role=role, phone=mask_phone(phone))
    commit()
    return {"status": "invited", "phone": mask_phone(phone), "role": role, "expires_at": invitation.expires_at}


def _pending(user: User, now: int):
    return (select(EnterpriseInvitation).where(EnterpriseInvitation.phone == user.phone,
                                               EnterpriseInvitation.expires_at > from_timestamp(now)))


def my_invitations(user_id: int, *, now: int) -> dict:
    """The invitations waiting for my phone number, newest first."""
    user = get_user(user_id)
    rows = db.session.scalars(_pending(user, now).order_by(EnterpriseInvitation.id.desc())).all()
    inviters = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_({r.invited_by for r in rows})))}
    return {"items": [{"id": r.id, "enterprise": enterprise_view(r.enterprise, None), "role": r.role,
                       "invited_by": _masked(inviters.get(r.invited_by)), "expires_at": r.expires_at}
                      for r in rows]}


def _masked(user: User | None) -> dict | None:
    return None if user is None else {"phone": mask_phone(user.phone), "name": user.masked_name}


def _mine(user: User, invitation_id: int, now: int) -> EnterpriseInvitation:
    invitation = db.session.scalar(_pending(user, now).where(EnterpriseInvitation.id == invitation_id)) \
        if 0 < invitation_id <= MAX_ID else None
    if invitation is None:
        raise AppError("INVITATION_NOT_FOUND")
    return invitation


def accept_invitation(user_id: int, invitation_id: int, *, now: int) -> dict:
    """The invited resident, real-name verified, becomes a member with the offered role."""
    user = get_user(user_id)
    invitation = _mine(user, invitation_id, now)
    if not user.is_verified:
        raise AppError("REAL_NAME_REQUIRED")
    enterprise_id, inviter = invitation.enterprise_id, invitation.invited_by
    member = _membership(enterprise_id, user.id)
    if member is None:
        member = EnterpriseMember(enterprise_id=enterprise_id, user_id=user.id, source="grant")
        db.session.add(member)
    if member.source != "legal_rep":
        member.role, member.granted_by, member.granted_at = invitation.role, inviter, from_timestamp(now)
    _audit(enterprise_id, "grant", now=now, actor=inviter, subject=user.id, role=member.role, invitation=invitation.id)
    db.session.execute(delete(EnterpriseInvitation).where(EnterpriseInvitation.id == invitation.id))
    try:
        commit()
    except IntegrityError:       # accepted twice at once: the first one won
        db.session.rollback()
        raise AppError("INVITATION_NOT_FOUND") from None
    return _member_view(member, {user.id: user})


def decline_invitation(user_id: int, invitation_id: int, *, now: int) -> None:
    """The invitation goes away, unaudited: to the administrator a decline looks like no answer."""
    user = get_user(user_id)
    invitation = _mine(user, invitation_id, now)
    db.session.execute(delete(EnterpriseInvitation).where(EnterpriseInvitation.id == invitation.id))
    commit()
