"""Push devices: a token registered by one sign-in session.

A device is reachable while it is active *and* its session is not revoked, so signing out
(logout, remote sign-out, a replaced or reuse-revoked session) silences the device at once
without touching the sessions code; the relay also deactivates such devices when it meets them.
A token the provider reports dead is deactivated.
"""
from __future__ import annotations

from sqlalchemy import and_, select, update

from api.db import from_timestamp
from api.errors import AppError
from api.extensions import db
from api.identity.models import AuthSession
from api.identity.tokens import Principal
from api.notifications.models import Device
from api.unit_of_work import commit


def _view(device: Device) -> dict:
    return {"id": device.id, "platform": device.platform, "token_suffix": device.token[-6:], "active": device.active,
            "created_at": device.created_at}


def register_device(principal: Principal, *, platform: str, token: str, now: int) -> dict:
    """Idempotent per (platform, token): registering a known token moves it to this session."""
    device = db.session.scalar(select(Device).where(Device.platform == platform, Device.token == token))
    if device is None:
        device = Device(platform=platform, token=token)
        db.session.add(device)
    device.user_id = principal.user_id
    device.session_id = principal.session_id
    device.active = True
    device.created_at = from_timestamp(now)
    device.deactivated_at = None
    device.deactivated_reason = None
    commit()
    return _view(device)


def list_devices(principal: Principal) -> dict:
    rows = db.session.scalars(select(Device).join(AuthSession, AuthSession.id == Device.session_id).where(
        Device.user_id == principal.user_id, Device.active.is_(True), AuthSession.revoked_at.is_(None))
        .order_by(Device.id))
    return {"items": [_view(d) for d in rows]}


def delete_device(principal: Principal, device_id: int, *, now: int) -> None:
    n = db.session.execute(update(Device).where(Device.id == device_id, Device.user_id == principal.user_id,
                                                Device.active.is_(True))
                           .values(active=False, deactivated_at=from_timestamp(now),
                                   deactivated_reason="deleted")).rowcount
    if not n:
        db.session.rollback()
        raise AppError("DEVICE_NOT_FOUND")
    commit()


def reachable_devices(user_ids: list[int]) -> list[Device]:
    """Active devices of these residents whose sessions are still signed in."""
    if not user_ids:
        return []
    return list(db.session.scalars(select(Device).join(
        AuthSession, and_(AuthSession.id == Device.session_id, AuthSession.revoked_at.is_(None))).where(
        Device.user_id.in_(user_ids), Device.active.is_(True))))


def deactivate(device_ids: list[int], *, reason: str, now: int) -> None:
    """Adds to the caller's unit of work."""
    if device_ids:
        db.session.execute(update(Device).where(Device.id.in_(device_ids), Device.active.is_(True))
                           .values(active=False, deactivated_at=from_timestamp(now), deactivated_reason=reason))


def deactivate_signed_out(user_ids: list[int], *, now: int) -> None:
    """Housekeeping: devices whose session is revoked (or gone) become inactive for good."""
    if not user_ids:
        return
    revoked = select(AuthSession.id).where(AuthSession.revoked_at.is_not(None))
    db.session.execute(update(Device).where(
        Device.user_id.in_(user_ids), Device.active.is_(True),
        (Device.session_id.is_(None)) | Device.session_id.in_(revoked))
        .values(active=False, deactivated_at=from_timestamp(now), deactivated_reason="signed_out"))
