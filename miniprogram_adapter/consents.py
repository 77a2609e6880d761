"""A resident's consents to a mini-program's scopes: granted and revoked by the resident, checked
before every release of their data."""
from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from api.db import from_timestamp
from api.errors import AppError
from api.extensions import db
from api.miniprograms.models import MiniProgram, MiniProgramConsent
from api.unit_of_work import commit
from miniprogram_adapter import wechat_errors as wx
from miniprogram_adapter.common import end_session, get_app
from miniprogram_adapter.wechat_errors import WeChatError


def has_consent(user_id: int, appid: str, scope: str) -> bool:
    return db.session.scalar(select(MiniProgramConsent.id).where(
        MiniProgramConsent.user_id == user_id, MiniProgramConsent.appid == appid,
        MiniProgramConsent.scope == scope)) is not None


def require_consent(app: MiniProgram, user_id: int, scope: str, *, errcode: int = wx.CONSENT_REQUIRED) -> None:
    """WeChat-side check: the app may ask for the scope and the resident granted it."""
    if scope not in app.scopes:
        raise WeChatError(wx.API_UNAUTHORIZED)
    if not has_consent(user_id, app.appid, scope):
        raise WeChatError(errcode)


def grant_consent(*, user_id: int, appid: str, scopes: list[str], now: int) -> dict:
    """Consent to scopes the app is allowed to ask for; granting one twice changes nothing."""
    app = get_app(appid)
    wanted = sorted(set(scopes))
    not_allowed = [s for s in wanted if s not in app.scopes]
    if not_allowed:
        raise AppError("MP_SCOPE_NOT_ALLOWED", errors={"scopes": not_allowed})
    existing = set(db.session.scalars(select(MiniProgramConsent.scope).where(
        MiniProgramConsent.user_id == user_id, MiniProgramConsent.appid == appid)))
    for scope in wanted:
        if scope not in existing:
            db.session.add(MiniProgramConsent(user_id=user_id, appid=appid, scope=scope,
                                              granted_at=from_timestamp(now)))
    try:
        commit()
    except IntegrityError:          # the same consent granted concurrently: it is there either way
        db.session.rollback()
    return _consent_view(user_id, app)


def _consent_view(user_id: int, app: MiniProgram) -> dict:
    rows = list(db.session.scalars(select(MiniProgramConsent).where(
        MiniProgramConsent.user_id == user_id, MiniProgramConsent.appid == app.appid).order_by(MiniProgramConsent.scope)))
    return {"appid": app.appid, "name": app.name, "owner_org": app.owner_org,
            "scopes": [r.scope for r in rows],
            "granted_at": min((r.granted_at for r in rows), default=None)}


def list_consents(*, user_id: int) -> dict:
    """The apps the resident consented to, each with its scopes and first grant."""
    rows = db.session.execute(select(MiniProgramConsent, MiniProgram).join(
        MiniProgram, MiniProgram.appid == MiniProgramConsent.appid).where(
        MiniProgramConsent.user_id == user_id).order_by(MiniProgram.appid, MiniProgramConsent.scope)).all()
    items: dict[str, dict] = {}
    for consent, app in rows:
        item = items.setdefault(app.appid, {"appid": app.appid, "name": app.name, "owner_org": app.owner_org,
                                            "scopes": [], "granted_at": consent.granted_at})
        item["scopes"].append(consent.scope)
        item["granted_at"] = min(item["granted_at"], consent.granted_at)
    return {"items": list(items.values())}


def revoke_consent(*, user_id: int, appid: str) -> None:
    """Every scope for the app, at once: the next server call for this resident is refused."""
    get_app(appid)
    db.session.execute(delete(MiniProgramConsent).where(MiniProgramConsent.user_id == user_id,
                                                         MiniProgramConsent.appid == appid))
    commit()
    end_session(appid, user_id)     # the app's session with the resident ends too
