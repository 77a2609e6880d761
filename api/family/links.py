"""Guardian links: a resident asks to act for a child or an elder; the elder agrees, refuses or
ends it; either side ends it. Use cases: each commits once and raises AppError."""
from __future__ import annotations

import secrets
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from api.db import from_timestamp
from api.errors import AppError
from api.extensions import db, pii_cipher
from api.family import messages, store
from api.family.models import FamilyDependent, FamilyLink
from api.family.policy import ADULT_AGE, ELDER_AGE, LINK_ATTEMPTS, MAX_DEPENDENTS, MAX_GUARDIANS, age_on
from api.identity.identity_numbers import birth_date_of, normalise
from api.identity.models import User
from api.identity.population import RegistryPerson, RegistryUnavailable
from api.identity.tokens import Principal
from api.localtime import local_today
from api.pii import mask_id_number, mask_name
from api.ratelimits import enforce
from api.unit_of_work import commit


def personal_user(principal: Principal) -> User:
    """The caller's own active account (not an enterprise act-as token)."""
    if principal.acting_for:
        raise AppError("FAMILY_PERSONAL_TOKEN_REQUIRED")
    user = db.session.get(User, principal.user_id)
    if user is None or user.status != "active":
        raise AppError("ACCOUNT_DISABLED")
    return user


# --------------------------------------------------------------------------- asking


def request_link(principal: Principal, *, name: str, id_type: str, id_number: str, relation: str, now: int,
                 registry) -> dict:
    """A guardian asks to act for someone. A minor the registry names them guardian of is linked
    at once; an elder's link waits for the elder's agreement. Attempts are capped per guardian,
    failures included, so the endpoint cannot be used to probe the registry."""
    guardian = personal_user(principal)
    if not guardian.is_verified:
        raise AppError("FAMILY_REAL_NAME_REQUIRED")
    today = local_today(now)
    number = normalise(id_type, id_number, today=today)
    enforce(LINK_ATTEMPTS, "family-link", str(guardian.id))
    pii = pii_cipher()
    bidx = pii.blind_index(id_type, number)
    if bidx == guardian.id_number_bidx:
        raise AppError("FAMILY_SELF")
    person = _registry_person(registry, id_type=id_type, number=number, bidx=bidx, name=name)
    born = person.birth_date or (birth_date_of(number) if id_type == "resident_id" else None)
    _check_relation(relation, person, born, today, guardian)
    _lock(guardian)
    _check_guardian_capacity(guardian.id, now)
    dependent = _dependent(bidx, id_type=id_type, number=number, person=person, born=born)
    if relation == "elder" and store.active_guardian_count(dependent.id) >= MAX_GUARDIANS:
        raise AppError("FAMILY_TOO_MANY_GUARDIANS")
    link = _new_link(guardian, dependent, relation, now)
    elder_account = store.account_of(dependent) if relation == "elder" else None
    if elder_account is not None:
        messages.guardian_requested(elder_account.id, guardian_name=guardian.masked_name or "", now=now)
    try:
        commit()
    except IntegrityError:
        db.session.rollback()
        raise AppError("FAMILY_LINK_EXISTS") from None
    return store.dependent_view(link, dependent, now, has_account=store.account_of(dependent) is not None)


def _registry_person(registry, *, id_type: str, number: str, bidx: str, name: str) -> RegistryPerson:
    """The registry's person; a wrong name and an unknown number get the same answer."""
    try:
        person = registry.lookup(id_type=id_type, id_number=number, blind_index=bidx)
    except RegistryUnavailable:
        raise AppError("UPSTREAM_UNAVAILABLE") from None
    if person is None or person.name != " ".join((name or "").split()):
        raise AppError("REAL_NAME_MISMATCH")
    return person


def _check_relation(relation: str, person: RegistryPerson, born: date | None, today: date, guardian: User) -> None:
    age = age_on(born, today) if born else None
    if relation == "minor_child":
        if age is None or age >= ADULT_AGE:
            raise AppError("FAMILY_NOT_A_MINOR")
        if guardian.id_number_bidx not in (person.guardian_bidxs or ()):
            raise AppError("FAMILY_NOT_REGISTERED_GUARDIAN")
    elif age is None or age < ELDER_AGE:
        raise AppError("FAMILY_NOT_AN_ELDER")


def _lock(guardian: User) -> None:
    """Serialise one guardian's link requests (PostgreSQL row lock; SQLite writes serialise anyway)."""
    db.session.execute(select(User.id).where(User.id == guardian.id).with_for_update())


def _check_guardian_capacity(guardian_user_id: int, now: int) -> None:
    live = [pair for pair in store.live_links_of_guardian(guardian_user_id)
            if store.settle(pair[0], pair[1], now) in store.LIVE]
    if len(live) >= MAX_DEPENDENTS:
        raise AppError("FAMILY_TOO_MANY_DEPENDENTS")


def _dependent(bidx: str, *, id_type: str, number: str, person: RegistryPerson, born: date | None) -> FamilyDependent:
    """The dependent's row, created on first link and refreshed from the registry on each."""
    dependent = store.dependent_by_bidx(bidx)
    if dependent is None:
        dependent = FamilyDependent(id_type=id_type, id_number_bidx=bidx, holder_id=secrets.token_hex(16))
        db.session.add(dependent)
    dependent.id_number_masked = mask_id_number(number)
    dependent.masked_name = mask_name(person.name)
    dependent.birth_date = born
    try:
        db.session.flush()
    except IntegrityError:   # another guardian created it at the same moment
        db.session.rollback()
        raise AppError("CONFLICT") from None
    return dependent


def _new_link(guardian: User, dependent: FamilyDependent, relation: str, now: int) -> FamilyLink:
    existing = db.session.scalar(select(FamilyLink).where(
        FamilyLink.live_key == store.live_key(guardian.id, dependent.id)))
    if existing is not None and store.settle(existing, dependent, now) in store.LIVE:
        raise AppError("FAMILY_LINK_EXISTS")
    minor = relation == "minor_child"
    link = FamilyLink(public_id="fl_" + secrets.token_hex(8), guardian_user_id=guardian.id, dependent_id=dependent.id,
                      relation=relation, status="active" if minor else "pending",
                      live_key=store.live_key(guardian.id, dependent.id),
                      approved_via="registry" if minor else None, approved_at=from_timestamp(now) if minor else None,
                      created_at=from_timestamp(now))
    db.session.add(link)
    db.session.flush()
    return link


# --------------------------------------------------------------------------- the guardian's side


def list_dependents(principal: Principal, *, before_id: int | None, limit: int, now: int) -> dict:
    """The caller's links as a guardian (any status), newest first."""
    query = select(FamilyLink, FamilyDependent).join(FamilyDependent, FamilyLink.dependent_id == FamilyDependent.id) \
        .where(FamilyLink.guardian_user_id == principal.user_id)
    if before_id:
        query = query.where(FamilyLink.id < before_id)
    rows = list(db.session.execute(query.order_by(FamilyLink.id.desc()).limit(limit + 1)).tuples())
    more, rows = len(rows) > limit, rows[:limit]
    with_account = store.has_accounts(d.id_number_bidx for _, d in rows)
    return {"items": [store.dependent_view(link, dep, now, has_account=dep.id_number_bidx in with_account)
                      for link, dep in rows],
            "next_cursor": str(rows[-1][0].id) if more and rows else None}


def end_by_guardian(principal: Principal, link_id: str, *, now: int) -> None:
    """The guardian withdraws a request or stops acting for the dependent. Idempotent."""
    link, dependent = store.link_of_guardian(principal.user_id, link_id)
    if store.settle(link, dependent, now) not in store.LIVE:
        commit()
        return
    was_active = link.status == "active"
    store.end(link, reason="guardian", when=from_timestamp(now))
    account = store.account_of(dependent) if was_active and link.relation == "elder" else None
    if account is not None:
        guardian = db.session.get(User, principal.user_id)
        messages.link_ended(account.id, other_name=guardian.masked_name or "", refused=False, now=now)
    commit()


# --------------------------------------------------------------------------- the dependent's side


def _my_bidx(principal: Principal) -> str | None:
    return personal_user(principal).id_number_bidx


def list_guardians(principal: Principal, *, before_id: int | None, limit: int, now: int) -> dict:
    """Who acts or asked to act for the caller (any status), newest first; empty until the
    caller's real name is verified (that is how we know who they are)."""
    dependent = store.dependent_by_bidx(_my_bidx(principal))
    if dependent is None:
        return {"items": [], "next_cursor": None}
    query = select(FamilyLink, User).join(User, FamilyLink.guardian_user_id == User.id) \
        .where(FamilyLink.dependent_id == dependent.id)
    if before_id:
        query = query.where(FamilyLink.id < before_id)
    rows = list(db.session.execute(query.order_by(FamilyLink.id.desc()).limit(limit + 1)).tuples())
    more, rows = len(rows) > limit, rows[:limit]
    return {"items": [store.guardian_view(link, dependent, guardian, now) for link, guardian in rows],
            "next_cursor": str(rows[-1][0].id) if more and rows else None}


def approve(principal: Principal, link_id: str, *, now: int) -> dict:
    """The elder agrees, in their own app, that this guardian acts for them."""
    link, dependent = store.link_of_dependent(_my_bidx(principal), link_id)
    if link.relation != "elder" or store.settle(link, dependent, now) != "pending":
        raise AppError("FAMILY_LINK_NOT_PENDING")
    activate(link, dependent, via="app", consent=None, now=now)
    messages.elder_agreed(link.guardian_user_id, elder_name=dependent.masked_name, in_person=False, now=now)
    guardian = db.session.get(User, link.guardian_user_id)
    commit()
    return store.guardian_view(link, dependent, guardian, now)


def activate(link: FamilyLink, dependent: FamilyDependent, *, via: str, consent: dict | None, now: int) -> None:
    """Composed writer: a pending elder link becomes active, within the elder's guardian cap."""
    if store.active_guardian_count(dependent.id) >= MAX_GUARDIANS:
        raise AppError("FAMILY_TOO_MANY_GUARDIANS")
    link.status = "active"
    link.approved_via = via
    link.consent = consent
    link.approved_at = from_timestamp(now)


def end_by_dependent(principal: Principal, link_id: str, *, now: int) -> None:
    """The elder refuses a request or ends a guardian's link, at any time. Idempotent. A
    registered guardian's link to a minor is not the child's to end (it ends at 18)."""
    link, dependent = store.link_of_dependent(_my_bidx(principal), link_id)
    if link.relation == "minor_child":
        raise AppError("FAMILY_MINOR_LINK_FIXED")
    status = store.settle(link, dependent, now)
    if status in store.LIVE:
        refused = status == "pending"
        store.end(link, reason="refused" if refused else "dependent", when=from_timestamp(now), refused=refused)
        messages.link_ended(link.guardian_user_id, other_name=dependent.masked_name, refused=refused, now=now)
    commit()
