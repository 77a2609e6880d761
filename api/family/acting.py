"""Acting for a dependent: the answers api.family gives the capabilities that serve a person.

Codes and licences sit below family and cannot import it; they ask through `api.hooks`
(DEPENDENT_FOR_CALLER, DEPENDENT_OF_CODE, DEPENDENT_OF_PRESENTATION) and get an `Acting`, or an
AppError when the link is unknown, someone else's, pending, refused or ended. The link is checked
on every use, a minor's age included, so an ended link stops working at once.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from api import hooks
from api.codes import holder_cache
from api.codes.holder_cache import HolderInfo
from api.errors import AppError
from api.extensions import db, get_redis
from api.family import activity, store
from api.family.links import personal_user
from api.family.models import FamilyDependent, FamilyLink
from api.identity.models import User
from api.identity.tokens import Principal
from qr.codes import actor_of

SHOWN_WINDOW = 600


@dataclass
class Acting:
    """A guardian acting, right now, for a dependent under an active link."""

    link: FamilyLink
    dependent: FamilyDependent
    guardian: User
    account: User | None      # the dependent's own account, if they have one

    @property
    def bidx(self) -> str:
        return self.dependent.id_number_bidx

    @property
    def guardian_holder_id(self) -> str:
        return self.guardian.holder_id

    @property
    def guardian_summary(self) -> dict:
        """What staff see of who showed the code or licence: masked."""
        return {"name": self.guardian.masked_name, "relation": self.link.relation}

    def holder(self) -> HolderInfo:
        """The dependent as a code holder: their account's cached entry, or, without one, built
        from the registry (identity checked against it when the link was made)."""
        if self.account is not None:
            info = holder_cache.get(self.account.holder_id)
            if info is None:
                raise AppError("CODE_REVOKED")
            return info
        dep = self.dependent
        info = HolderInfo(user_id=None, holder_id=dep.holder_id, status="active", masked_name=dep.masked_name,
                          verified=True, birth_year=dep.birth_date.year if dep.birth_date else None,
                          bidx=dep.id_number_bidx)
        holder_cache.apply_registry(info, dep.id_number_bidx)
        if info.birth_year is None and dep.birth_date:
            info.birth_year = dep.birth_date.year
        return info

    def note_code_shown(self, *, scene: str, now: int) -> bool:
        """Composed writer: the guardian opened the dependent's code. Noted once per scene per
        SHOWN_WINDOW (the app fetches a fresh code every minute while it is on screen)."""
        key = f"fam:shown:{{{self.link.public_id}}}:{scene}"
        if not get_redis().set(key, 1, nx=True, ex=SHOWN_WINDOW):
            return False
        self.record(activity.GUARDIAN_ACT, action="code_shown", scene=scene, now=now)
        return True

    def record(self, kind: str, *, now: int, **details) -> None:
        """Composed writer: the act in the dependent's log (and their access log, with an account)."""
        activity.record(link=self.link, dependent=self.dependent, guardian=self.guardian, account=self.account,
                        kind=kind, now=now, **details)


def _require_active(link: FamilyLink, dependent: FamilyDependent, now: int) -> None:
    status, _ = store.status_of(link, dependent, now)
    if status == "pending":
        raise AppError("FAMILY_LINK_PENDING")
    if status != "active":
        raise AppError("FAMILY_LINK_ENDED")


def _live_link(guardian_user_id: int, dependent: FamilyDependent) -> FamilyLink:
    link = db.session.scalar(select(FamilyLink).where(
        FamilyLink.live_key == store.live_key(guardian_user_id, dependent.id)))
    if link is None:
        raise AppError("FAMILY_LINK_ENDED")
    return link


def for_caller(principal: Principal, dependent_id: str, now: int) -> Acting:
    """The caller acts for the dependent of their link `dependent_id` (`for=`). Someone else's
    link is 404, as if it did not exist."""
    guardian = personal_user(principal)
    link, dependent = store.link_of_guardian(guardian.id, dependent_id)
    _require_active(link, dependent, now)
    return Acting(link, dependent, guardian, store.account_of(dependent))


def of_code(claims: dict, now: int) -> Acting:
    """A verified code carrying `act`: its guardian must still act for its holder, now."""
    guardian = db.session.scalar(select(User).where(User.holder_id == actor_of(claims)))
    if guardian is None or guardian.status != "active":
        raise AppError("CODE_REVOKED")
    dependent, account = _dependent_of_holder(claims["sub"])
    link = _live_link(guardian.id, dependent)
    _require_active(link, dependent, now)
    return Acting(link, dependent, guardian, account)


def _dependent_of_holder(holder_id: str) -> tuple[FamilyDependent, User | None]:
    """The dependent a code's `sub` names: their own pseudonym, or their account's holder id."""
    dependent = db.session.scalar(select(FamilyDependent).where(FamilyDependent.holder_id == holder_id))
    if dependent is not None:
        return dependent, store.account_of(dependent)
    account = db.session.scalar(select(User).where(User.holder_id == holder_id))
    dependent = store.dependent_by_bidx(account.id_number_bidx if account else None)
    if dependent is None:
        raise AppError("FAMILY_LINK_ENDED")
    return dependent, account


def of_presentation(guardian_user_id: int, holder_bidx: str, now: int) -> Acting:
    """A licence presentation a guardian made for a dependent: the link must still be active."""
    guardian = db.session.get(User, guardian_user_id)
    dependent = store.dependent_by_bidx(holder_bidx)
    if guardian is None or guardian.status != "active" or dependent is None:
        raise AppError("FAMILY_LINK_ENDED")
    link = _live_link(guardian.id, dependent)
    _require_active(link, dependent, now)
    return Acting(link, dependent, guardian, store.account_of(dependent))


def install(app) -> None:
    """Answer the lower capabilities' questions (called when the family blueprint registers)."""
    hooks.answer(app, hooks.DEPENDENT_FOR_CALLER, for_caller)
    hooks.answer(app, hooks.DEPENDENT_OF_CODE, of_code)
    hooks.answer(app, hooks.DEPENDENT_OF_PRESENTATION, of_presentation)
