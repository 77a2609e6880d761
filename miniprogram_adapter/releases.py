"""Releases of a resident's data to a mini-program, each with its consent checked again, a rate
limit per resident and an access record the resident can read: user info (resident side), phone
number, verified real name and e-licences (WeChat-compatible side)."""
from __future__ import annotations

import json
import re

from api.access.records import record_access
from api.errors import AppError
from api.extensions import db, pii_cipher
from api.identity.models import User
from api.identity.tokens import Principal
from api.licences.wallet import list_wallet
from api.unit_of_work import commit
from miniprogram_adapter import crypto
from miniprogram_adapter import wechat_errors as wx
from miniprogram_adapter.apps import resolve_access_token
from miniprogram_adapter.common import (
    accessor,
    active_user,
    get_app,
    limit_release,
    openid_for,
    resolve_openid,
    session_key_of,
)
from miniprogram_adapter.consents import has_consent, require_consent
from miniprogram_adapter.login import consume_code
from miniprogram_adapter.wechat_errors import WeChatError

LICENCE_TYPE_RE = re.compile(r"^[a-z0-9_\-]{1,40}$")
# E.164 country codes are 1–3 digits; the common ones suffice here
COUNTRY_CODES = {"1", "7", "44", "49", "33", "81", "82", "852", "853", "886", "65", "60", "61"}


def user_info_bundle(*, user_id: int, appid: str, now: int) -> dict:
    """What `wx.getUserProfile` hands the mini-program: userInfo, rawData + signature, and the
    same data encrypted with the session_key its backend got from jscode2session."""
    app = get_app(appid)
    if not has_consent(user_id, appid, "scope.userinfo"):
        raise AppError("MP_CONSENT_REQUIRED", detail="scope.userinfo")
    session_key = session_key_of(appid, user_id)
    if session_key is None:
        raise AppError("MP_SESSION_REQUIRED")
    limit_release(appid, user_id)
    user = db.session.get(User, user_id)
    info = {"nickName": (user.masked_name if user and user.masked_name else "随申办用户"), "avatarUrl": "",
            "gender": 0, "country": "", "province": "", "city": "", "language": "zh_CN"}
    raw = json.dumps(info, ensure_ascii=False, separators=(",", ":"))
    encrypted, iv = crypto.encrypt_data(info | {"openId": openid_for(appid, user_id)}, session_key=session_key,
                                        appid=appid, now=now)
    record_access(user_id=user_id, kind="miniprogram_release", accessor=accessor(app), now=now,
                  fields=["nickName", "avatarUrl"], purpose="wx.getUserProfile")
    commit()
    return {"userInfo": info, "rawData": raw, "signature": crypto.sign_raw_data(raw, session_key),
            "encryptedData": encrypted, "iv": iv}


def get_phone_number(*, access_token: str | None, code: str | None, now: int) -> dict:
    """POST /wxa/business/getuserphonenumber: the phone, only with `scope.phone` consent (checked
    again here, so a revocation after the code was issued still refuses)."""
    app = resolve_access_token(access_token, now=now, api="getuserphonenumber")
    if not code:
        raise WeChatError(wx.MISSING_CODE)
    user_id = consume_code("phone", code, appid=app.appid, now=now)
    require_consent(app, user_id, "scope.phone")
    limit_release(app.appid, user_id)
    user = active_user(user_id)
    country, pure = _split_phone(user.phone)
    record_access(user_id=user_id, kind="miniprogram_release", accessor=accessor(app), now=now,
                  fields=["phone"], purpose="getuserphonenumber")
    commit()
    return {"errcode": 0, "errmsg": "ok",
            "phone_info": {"phoneNumber": pure if country == "86" else f"+{country}{pure}",
                           "purePhoneNumber": pure, "countryCode": country,
                           "watermark": {"appid": app.appid, "timestamp": now}}}


def _split_phone(e164: str) -> tuple[str, str]:
    if e164.startswith("+86"):
        return "86", e164[3:]
    digits = e164.lstrip("+")
    for size in (1, 2, 3):
        if digits[:size] in COUNTRY_CODES:
            return digits[:size], digits[size:]
    return "", digits


def get_realname(*, access_token: str | None, openid: str | None, now: int) -> dict:
    """POST /ssb/realname/get: verified name and masked identity number, with `scope.realname`."""
    app = resolve_access_token(access_token, now=now, api="realname")
    user_id = resolve_openid(app, openid)
    require_consent(app, user_id, "scope.realname")
    limit_release(app.appid, user_id)
    user = active_user(user_id)
    if not user.is_verified or user.real_name_enc is None:
        raise WeChatError(wx.NOT_REAL_NAME_VERIFIED)
    name = pii_cipher().decrypt(user.real_name_enc, context="users.real_name")
    record_access(user_id=user_id, kind="miniprogram_release", accessor=accessor(app), now=now,
                  fields=["real_name", "id_number_masked"], purpose="realname")
    commit()
    return {"errcode": 0, "errmsg": "ok",
            "realname_info": {"name": name, "id_type": user.id_type, "id_number": user.id_number_masked,
                              "verified_at": int(user.real_name_verified_at.timestamp()),
                              "watermark": {"appid": app.appid, "timestamp": now}}}


def get_licence(*, access_token: str | None, openid: str | None, licence_type: str | None, now: int) -> dict:
    """POST /ssb/licence/get: one e-licence of the resident, with `scope.licence.<type>`."""
    app = resolve_access_token(access_token, now=now, api="licence")
    user_id = resolve_openid(app, openid)
    if not licence_type or not LICENCE_TYPE_RE.match(licence_type):
        raise WeChatError(wx.INVALID_ARGS, "invalid type")
    require_consent(app, user_id, f"scope.licence.{licence_type}")
    limit_release(app.appid, user_id)
    active_user(user_id)
    licence = licence_lookup(user_id=user_id, licence_type=licence_type, now=now)
    record_access(user_id=user_id, kind="miniprogram_release", accessor=accessor(app), now=now,
                  fields=[f"licence.{licence_type}"], purpose="licence", subject_ref=str(licence.get("id") or "")[:64] or None)
    commit()
    return {"errcode": 0, "errmsg": "ok", "licence_info": licence | {"watermark": {"appid": app.appid, "timestamp": now}}}


def licence_lookup(*, user_id: int, licence_type: str, now: int) -> dict:
    """The resident's licence of a type, masked as in their wallet (read as the resident);
    8800003 when they hold none. A valid licence is preferred over an expired or revoked one."""
    wallet = list_wallet(Principal(user_id=user_id, session_id="miniprogram"), now=now)
    found = sorted((i for i in wallet.get("items", []) if i.get("type") == licence_type),
                   key=lambda i: i.get("status") != "valid")
    if not found:
        raise WeChatError(wx.LICENCE_NOT_FOUND)
    return _plain(_licence_view(found[0]))


def _licence_view(item: dict) -> dict:
    keep = ("id", "type", "type_name_zh", "type_name_en", "number", "holder", "issuer", "fields",
            "valid_from", "valid_until", "status")
    view = {k: item.get(k) for k in keep}
    view["fields"] = [{"name": f.get("name"), "value": f.get("value"), "masked": f.get("masked")}
                      for f in item.get("fields") or []]
    return view


def _plain(value):
    """JSON-ready: dates as ISO 8601 (Flask would write them as HTTP dates)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
