"""Reading and settling family links: the queries every family use case shares, and the views."""
from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import func, select

from api.db import from_timestamp
from api.errors import AppError
from api.extensions import db
from api.family.models import FamilyDependent, FamilyLink
from api.family.policy import comes_of_age_on, effective_status
from api.identity.models import User
from api.localtime import LOCAL_TZ
from api.pii import mask_phone

LIVE = ("pending", "active")


def status_of(link: FamilyLink, dependent: FamilyDependent, now: int) -> tuple[str, str | None]:
    status, reason = effective_status(link.status, link.relation, dependent.birth_date, now)
    return status, reason or link.ended_reason


def settle(link: FamilyLink, dependent: FamilyDependent, now: int) -> str:
    """Write down an end that time brought (a minor came of age); returns the status now."""
    status, reason = status_of(link, dependent, now)
    if status != link.status:
        end(link, reason=reason, when=_adult_since(dependent) or from_timestamp(now))
    return status


def _adult_since(dependent: FamilyDependent) -> datetime | None:
    """Midnight (Shanghai) of the dependent's 18th birthday."""
    adult_on = comes_of_age_on(dependent.birth_date)
    return datetime.combine(adult_on, time(), LOCAL_TZ) if adult_on else None


def end(link: FamilyLink, *, reason: str, when: datetime, refused: bool = False) -> None:
    link.status = "refused" if refused else "ended"
    link.ended_reason = reason
    link.ended_at = when
    link.live_key = None


def live_key(guardian_user_id: int, dependent_id: int) -> str:
    return f"{guardian_user_id}:{dependent_id}"


def dependent_by_bidx(bidx: str | None) -> FamilyDependent | None:
    if not bidx:
        return None
    return db.session.scalar(select(FamilyDependent).where(FamilyDependent.id_number_bidx == bidx))


def account_of(dependent: FamilyDependent) -> User | None:
    """The dependent's own (real-name verified) account, if they have one."""
    return db.session.scalar(select(User).where(User.id_number_bidx == dependent.id_number_bidx))


def link_of_guardian(guardian_user_id: int, public_id: str) -> tuple[FamilyLink, FamilyDependent]:
    row = db.session.execute(
        select(FamilyLink, FamilyDependent).join(FamilyDependent, FamilyLink.dependent_id == FamilyDependent.id)
        .where(FamilyLink.public_id == public_id, FamilyLink.guardian_user_id == guardian_user_id)).first()
    if row is None:
        raise AppError("FAMILY_LINK_NOT_FOUND")
    return row[0], row[1]


def link_of_dependent(bidx: str | None, public_id: str) -> tuple[FamilyLink, FamilyDependent]:
    row = None
    if bidx:
        row = db.session.execute(
            select(FamilyLink, FamilyDependent).join(FamilyDependent, FamilyLink.dependent_id == FamilyDependent.id)
            .where(FamilyLink.public_id == public_id, FamilyDependent.id_number_bidx == bidx)).first()
    if row is None:
        raise AppError("FAMILY_LINK_NOT_FOUND")
    return row[0], row[1]


def live_links_of_guardian(guardian_user_id: int) -> list[tuple[FamilyLink, FamilyDependent]]:
    return list(db.session.execute(
        select(FamilyLink, FamilyDependent).join(FamilyDependent, FamilyLink.dependent_id == FamilyDependent.id)
        .where(FamilyLink.guardian_user_id == guardian_user_id, FamilyLink.status.in_(LIVE))).tuples())


def active_guardian_count(dependent_id: int) -> int:
    return int(db.session.scalar(select(func.count()).select_from(FamilyLink).where(
        FamilyLink.dependent_id == dependent_id, FamilyLink.status == "active")) or 0)


# --------------------------------------------------------------------------- views


def _common(link: FamilyLink, dependent: FamilyDependent, now: int) -> dict:
    status, reason = status_of(link, dependent, now)
    return {"id": link.public_id, "relation": link.relation, "status": status,
            "ended_reason": reason if status in ("ended", "refused") else None,
            "approved_via": link.approved_via, "created_at": link.created_at, "approved_at": link.approved_at,
            "ended_at": _ended_at(link, dependent, status),
            "adult_on": comes_of_age_on(dependent.birth_date) if link.relation == "minor_child" else None}


def _ended_at(link: FamilyLink, dependent: FamilyDependent, status: str) -> datetime | None:
    if status not in ("ended", "refused"):
        return None
    return link.ended_at or _adult_since(dependent)   # came of age, not written down yet


def dependent_view(link: FamilyLink, dependent: FamilyDependent, now: int, *, has_account: bool) -> dict:
    """What the guardian sees of one of their links."""
    view = _common(link, dependent, now)
    view["dependent"] = {"name": dependent.masked_name, "id_type": dependent.id_type,
                         "id_number": dependent.id_number_masked, "has_account": has_account}
    return view


def guardian_view(link: FamilyLink, dependent: FamilyDependent, guardian: User, now: int) -> dict:
    """What the dependent sees of one of their guardians."""
    view = _common(link, dependent, now)
    view["guardian"] = {"name": guardian.masked_name, "phone": mask_phone(guardian.phone)}
    return view


def has_accounts(bidxs) -> set[str]:
    bidxs = [b for b in bidxs if b]
    if not bidxs:
        return set()
    return set(db.session.scalars(select(User.id_number_bidx).where(User.id_number_bidx.in_(bidxs))))
