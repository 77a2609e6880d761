"""The resident's own account: profile (masked) and real-name verification."""
from __future__ import annotations

from sqlalchemy import bindparam, select

from api.db import from_timestamp
from api.errors import AppError
from api.extensions import db, pii_cipher
from api.identity.identity_numbers import normalise
from api.identity.models import User
from api.identity.population import RegistryUnavailable
from api.pii import PiiCipher, mask_id_number, mask_name, mask_phone
from api.prepared import Prepared, connection
from api.ratelimits import enforce
from api.unit_of_work import commit


def cipher() -> PiiCipher:
    return pii_cipher()


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise AppError("USER_NOT_FOUND")
    if user.status != "active":
        raise AppError("ACCOUNT_DISABLED")
    return user


# A prebuilt statement on a plain connection (api.prepared), not an ORM session: /v1/me is read on every
# app start (issue 14: the ORM's session and cache-key work cost ~10x the query itself).
_PROFILE = Prepared(select(User.id, User.phone, User.roles, User.status, User.created_at, User.masked_name, User.id_type,
                  User.id_number_masked, User.real_name_verified_at).where(User.id == bindparam("user_id")))


def profile(user_id: int) -> dict:
    with connection(read_only=True) as conn:
        user = conn.one(_PROFILE, user_id=user_id)
    if user is None:
        raise AppError("USER_NOT_FOUND")
    if user.status != "active":
        raise AppError("ACCOUNT_DISABLED")
    return {
        "id": user.id,
        "phone": mask_phone(user.phone),
        "roles": sorted(user.roles),
        "created_at": user.created_at,
        "real_name": {
            "verified": user.real_name_verified_at is not None,
            "name": user.masked_name,
            "id_type": user.id_type,
            "id_number": user.id_number_masked,
            "verified_at": user.real_name_verified_at,
        },
    }


def verify_real_name(user_id: int, *, name: str, id_type: str, id_number: str, now: int, registry) -> dict:
    """Check name + number against the population registry and bind them to the account.

    A wrong name and an unknown number get the same answer so the endpoint cannot be used to
    learn who is in the registry; attempts are capped per account."""
    user = get_user(user_id)
    if user.is_verified:
        raise AppError("ALREADY_VERIFIED")
    number = normalise(id_type, id_number, today=from_timestamp(now).date())
    enforce("5/day", "real-name", str(user_id))
    pii = cipher()
    bidx = pii.blind_index(id_type, number)
    try:
        person = registry.lookup(id_type=id_type, id_number=number, blind_index=bidx)
    except RegistryUnavailable:
        raise AppError("UPSTREAM_UNAVAILABLE", detail="registry") from None
    clean_name = " ".join((name or "").split())
    if person is None or person.name != clean_name:
        raise AppError("REAL_NAME_MISMATCH")
    taken = db.session.scalar(select(User.id).where(User.id_number_bidx == bidx, User.id != user.id))
    if taken is not None:
        raise AppError("REAL_NAME_TAKEN")
    user.real_name_enc = pii.encrypt(clean_name, context="users.real_name")
    user.masked_name = mask_name(clean_name)
    user.id_type = id_type
    user.id_number_enc = pii.encrypt(number, context="users.id_number")
    user.id_number_bidx = bidx
    user.id_number_masked = mask_id_number(number)
    user.real_name_verified_at = from_timestamp(now)
    commit()
    return profile(user_id)


def grant_roles(phone: str, roles: list[str] | tuple[str, ...], *, now: int) -> User:
    """Create (or find) the account of `phone` and add `roles` to it (operators' CLI, demo data).

    Roles travel in access tokens: a session started before the grant sees them after its next
    refresh or sign-in."""
    from api.identity.sessions import get_or_create_user

    user = get_or_create_user(phone, now=now)
    user.roles = sorted(set(user.roles) | {"resident", *roles})
    commit()
    return user
