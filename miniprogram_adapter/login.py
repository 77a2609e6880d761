"""Single-use codes the resident side hands a mini-program (wx.login, getPhoneNumber) and the
exchange of a login code for the resident's openid and a session_key (jscode2session)."""
from __future__ import annotations

import json
import secrets

from sqlalchemy.exc import IntegrityError

from api.db import from_timestamp
from api.errors import AppError
from api.extensions import db, get_redis
from api.identity.models import User
from api.miniprograms.models import MiniProgramUser
from api.unit_of_work import commit
from miniprogram_adapter import crypto
from miniprogram_adapter import wechat_errors as wx
from miniprogram_adapter.apps import authenticate_app
from miniprogram_adapter.common import get_app, limit_codes, openid_for, store_session_key, unionid_for
from miniprogram_adapter.consents import has_consent
from miniprogram_adapter.wechat_errors import WeChatError

CODE_TTL = 300


def _store_code(prefix: str, *, appid: str, user_id: int, now: int) -> dict:
    code = secrets.token_hex(16)
    get_redis().set(f"mp:{prefix}:{code}", json.dumps({"appid": appid, "uid": user_id, "exp": now + CODE_TTL}),
                    ex=CODE_TTL + 60)
    return {"code": code, "expires_in": CODE_TTL}


def consume_code(prefix: str, code: str, *, appid: str, now: int) -> int:
    """The user id a single-use code was issued for; WeChatError 40029/40163 otherwise."""
    if not code or len(code) > 128:
        raise WeChatError(wx.INVALID_CODE)
    redis = get_redis()
    pipe = redis.pipeline(transaction=True)
    pipe.get(f"mp:{prefix}:{code}")
    pipe.delete(f"mp:{prefix}:{code}")
    raw, _ = pipe.execute()
    if raw is None:
        raise WeChatError(wx.CODE_BEEN_USED if redis.exists(f"mp:used:{code}") else wx.INVALID_CODE)
    redis.set(f"mp:used:{code}", "1", ex=CODE_TTL + 60)
    data = json.loads(raw)
    if data["appid"] != appid or int(data["exp"]) < now:
        raise WeChatError(wx.INVALID_CODE)
    return int(data["uid"])


def issue_login_code(*, user_id: int, appid: str, now: int) -> dict:
    """What `wx.login()` gives the mini-program: a code its backend exchanges once, within 5 minutes."""
    get_app(appid)
    limit_codes(user_id)
    return _store_code("code", appid=appid, user_id=user_id, now=now)


def issue_phone_code(*, user_id: int, appid: str, now: int) -> dict:
    """What the `getPhoneNumber` button gives: a code for /wxa/business/getuserphonenumber."""
    get_app(appid)
    if not has_consent(user_id, appid, "scope.phone"):
        raise AppError("MP_CONSENT_REQUIRED", detail="scope.phone")
    limit_codes(user_id)
    return _store_code("phone", appid=appid, user_id=user_id, now=now)


def code_to_session(*, appid: str | None, secret: str | None, js_code: str | None, grant_type: str | None,
                    now: int) -> dict:
    """GET /sns/jscode2session: the resident's pairwise openid, a fresh session_key, the unionid."""
    app = authenticate_app(appid, secret, api="jscode2session")
    if grant_type != "authorization_code":
        raise WeChatError(wx.INVALID_GRANT_TYPE)
    if not js_code:
        raise WeChatError(wx.MISSING_CODE)
    user_id = consume_code("code", js_code, appid=app.appid, now=now)
    user = db.session.get(User, user_id)
    if user is None or user.status != "active":
        raise WeChatError(wx.INVALID_CODE)
    openid, unionid = openid_for(app.appid, user_id), unionid_for(app.owner_org, user_id)
    if db.session.get(MiniProgramUser, openid) is None:
        db.session.add(MiniProgramUser(openid=openid, appid=app.appid, user_id=user_id, unionid=unionid,
                                       first_login_at=from_timestamp(now)))
        try:
            commit()
        except IntegrityError:      # a concurrent first login inserted it: same deterministic row
            db.session.rollback()
    session_key = crypto.new_session_key()
    store_session_key(app.appid, user_id, session_key)
    return {"openid": openid, "session_key": session_key, "unionid": unionid}
