"""In-person agreement: at a community service (or government) centre, a clerk with a grant at
the venue checks the elder's identity document and records that the elder agrees to a pending
guardian's request. For elders who have no phone or do not use the app."""
from __future__ import annotations

from sqlalchemy import select

from api.codes.models import Venue, VenueStaff
from api.db import from_timestamp
from api.errors import AppError
from api.extensions import db, pii_cipher
from api.family import activity, links, messages, store
from api.family.models import FamilyDependent, FamilyLink
from api.family.policy import CLERK_CONSENTS, CONSENT_VENUE_KINDS
from api.identity.identity_numbers import normalise
from api.identity.models import User
from api.identity.phones import normalise_phone
from api.identity.tokens import Principal
from api.localtime import local_today
from api.pii import mask_phone
from api.ratelimits import enforce
from api.unit_of_work import commit


def _clerk_venue(principal: Principal, venue_id: str) -> Venue:
    venue = db.session.scalar(select(Venue).where(Venue.public_id == venue_id))
    if venue is None or venue.status != "active":
        raise AppError("VENUE_NOT_FOUND")
    granted = db.session.scalar(select(VenueStaff.id).where(
        VenueStaff.venue_id == venue.id, VenueStaff.user_id == principal.user_id, VenueStaff.revoked_at.is_(None)))
    if granted is None:
        raise AppError("NOT_STAFF_OF_VENUE")
    if venue.kind not in CONSENT_VENUE_KINDS:
        raise AppError("FAMILY_VENUE_NOT_ALLOWED")
    return venue


def _pending_link(bidx: str, *, link_id: str | None, guardian_phone: str | None) -> tuple[FamilyLink, FamilyDependent]:
    """The elder's link named by its id or by the guardian's phone; 404 unless it is this elder's."""
    if link_id:
        return store.link_of_dependent(bidx, link_id)
    phone = normalise_phone(guardian_phone or "")
    row = db.session.execute(
        select(FamilyLink, FamilyDependent).join(FamilyDependent, FamilyLink.dependent_id == FamilyDependent.id)
        .join(User, FamilyLink.guardian_user_id == User.id)
        .where(User.phone == phone, FamilyDependent.id_number_bidx == bidx, FamilyLink.status == "pending")).first()
    if row is None:
        raise AppError("FAMILY_LINK_NOT_FOUND")
    return row[0], row[1]


def record_elder_consent(principal: Principal, venue_id: str, *, id_type: str, id_number: str,
                         link_id: str | None, guardian_phone: str | None, now: int) -> dict:
    """The clerk records that the elder, present with their identity document (checked by the
    clerk), agrees to the guardian's pending request. The elder's log shows the venue and clerk;
    the elder (with an account) and the guardian are told in their inbox."""
    venue = _clerk_venue(principal, venue_id)
    number = normalise(id_type, id_number, today=local_today(now))
    enforce(CLERK_CONSENTS, "family-clerk", str(principal.user_id))
    bidx = pii_cipher().blind_index(id_type, number)
    link, dependent = _pending_link(bidx, link_id=link_id, guardian_phone=guardian_phone)
    if link.relation != "elder" or store.settle(link, dependent, now) != "pending":
        raise AppError("FAMILY_LINK_NOT_PENDING")
    clerk = db.session.get(User, principal.user_id)
    place = {"type": "venue", "venue_id": venue.public_id, "venue_name": venue.name, "district": venue.district,
             "staff": mask_phone(clerk.phone)}
    links.activate(link, dependent, via="clerk", now=now,
                   consent={"venue_id": venue.public_id, "clerk_user_id": clerk.id, "document_checked": True,
                            "at": from_timestamp(now).isoformat()})
    guardian = db.session.get(User, link.guardian_user_id)
    account = store.account_of(dependent)
    activity.record(link=link, dependent=dependent, guardian=guardian, account=account, kind=activity.CONSENT,
                    action="consent_recorded", accessor=place, now=now)
    if account is not None:
        messages.consent_recorded(account.id, guardian_name=guardian.masked_name or "", venue_name=venue.name, now=now)
    messages.elder_agreed(guardian.id, elder_name=dependent.masked_name, in_person=True, now=now)
    commit()
    view = store.guardian_view(link, dependent, guardian, now)
    view["dependent"] = {"name": dependent.masked_name, "id_type": dependent.id_type,
                         "id_number": dependent.id_number_masked, "has_account": account is not None}
    return view
