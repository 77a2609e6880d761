"""Who is rated for a service, who may answer for them, and whose names their texts must mask.

The one place that maps an access record to its subject: a venue (code scans, check-ins, licence
views at a venue) or a mini-program (its reads of a resident's data). Venues answer through
their staff; a mini-program has no accounts of its own on our side, so operators answer for it
(after hearing from its owner organisation).
"""
from __future__ import annotations

from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from sqlalchemy import select

from api.access.models import AccessRecord
from api.codes.models import Venue, VenueStaff
from api.errors import AppError
from api.extensions import db, pii_cipher
from api.identity.models import User
from api.identity.tokens import Principal
from api.miniprograms.models import MiniProgram
from api.ratings.catalogue import RATEABLE_KINDS

MAX_ID = 2**63 - 1
MAX_STAFF_NAMES = 500      # bounds the decryptions one write may do


@dataclass(frozen=True)
class Subject:
    type: str      # "venue" | "miniprogram"
    id: str        # the venue's public id | the appid


def subject_of(record: AccessRecord) -> Subject | None:
    """The venue or mini-program that gave the service this access record describes; None
    when it cannot be rated (a kind we have no tags for, or no venue named)."""
    if record.kind not in RATEABLE_KINDS:
        return None
    accessor = record.accessor if isinstance(record.accessor, dict) else {}
    if record.kind == "miniprogram_release":
        appid = accessor.get("appid")
        return Subject("miniprogram", appid) if isinstance(appid, str) and appid else None
    venue_id = _venue_public_id(accessor.get("venue_id"))
    return Subject("venue", venue_id) if venue_id else None


def _venue_public_id(ref) -> str | None:
    """Scans and check-ins name the venue by its public id; a licence view by its row id (when
    the verifying staff gave one)."""
    if isinstance(ref, str) and ref.startswith("vn_"):
        return ref
    if isinstance(ref, int) and not isinstance(ref, bool) and 0 < ref <= MAX_ID:
        return db.session.scalar(select(Venue.public_id).where(Venue.id == ref))
    return None


def require_subject(subject: Subject) -> None:
    """404 unless the venue or mini-program exists (ratings stay public after it closes)."""
    if subject.type == "venue":
        if db.session.scalar(select(Venue.id).where(Venue.public_id == subject.id)) is None:
            raise AppError("VENUE_NOT_FOUND")
    elif db.session.scalar(select(MiniProgram.appid).where(MiniProgram.appid == subject.id)) is None:
        raise AppError("MP_NOT_FOUND")


def subject_names(subjects: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    venue_ids = [sid for kind, sid in subjects if kind == "venue"]
    appids = [sid for kind, sid in subjects if kind == "miniprogram"]
    names: dict[tuple[str, str], str] = {}
    if venue_ids:
        for public_id, name in db.session.execute(select(Venue.public_id, Venue.name)
                                                  .where(Venue.public_id.in_(venue_ids))):
            names[("venue", public_id)] = name
    if appids:
        for appid, name in db.session.execute(select(MiniProgram.appid, MiniProgram.name)
                                              .where(MiniProgram.appid.in_(appids))):
            names[("miniprogram", appid)] = name
    return names


def may_respond(principal: Principal, subject: Subject) -> bool:
    """Venue: an active staff grant at that venue (read from the database, not the token).
    Mini-program: an operator."""
    if subject.type == "miniprogram":
        return principal.has_role("operator")
    grant = db.session.scalar(
        select(VenueStaff.id).join(Venue, Venue.id == VenueStaff.venue_id).join(User, User.id == VenueStaff.user_id)
        .where(Venue.public_id == subject.id, VenueStaff.user_id == principal.user_id,
               VenueStaff.revoked_at.is_(None), User.status == "active"))
    return grant is not None


def require_responder(principal: Principal, subject: Subject) -> None:
    if not may_respond(principal, subject):
        raise AppError("NOT_RATING_RESPONDER")


def names_to_mask(subject: Subject, *user_ids: int | None) -> list[str]:
    """Registered names of the given people and of the venue's active staff, in clear, so texts
    about them can be masked. Only names that passed real-name verification are known."""
    query = select(User.real_name_enc).where(User.real_name_enc.is_not(None))
    ids = [uid for uid in user_ids if uid]
    blobs = list(db.session.scalars(query.where(User.id.in_(ids)))) if ids else []
    if subject.type == "venue":
        blobs += list(db.session.scalars(
            query.join(VenueStaff, VenueStaff.user_id == User.id).join(Venue, Venue.id == VenueStaff.venue_id)
            .where(Venue.public_id == subject.id, VenueStaff.revoked_at.is_(None)).limit(MAX_STAFF_NAMES)))
    pii = pii_cipher()
    names = []
    for blob in blobs:
        try:
            names.append(pii.decrypt(blob, context="users.real_name"))
        except (ValueError, InvalidTag):   # a key rotated away: that name cannot be masked
            continue
    return names
