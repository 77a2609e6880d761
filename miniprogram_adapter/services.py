"""Mini-program use cases: registration, consent, login codes, and the WeChat-compatible
server API (jscode2session, access tokens, phone numbers, real name, subscription messages).

Platform- and resident-side verbs raise `AppError` (our envelope). The WeChat-compatible verbs
raise `WeChatError` (WeChat's envelope); shared helpers that raise `AppError` there (rate limits)
are translated by the blueprint's error handler. Identity and `now` come in as arguments.

Redis keys (all single-key operations, so Redis Cluster is fine):
  mp:code:<code>        login code → {appid, uid, exp}            (5 minutes, single use)
  mp:phone:<code>       phone-number code → {appid, uid, exp}     (5 minutes, single use)
  mp:used:<code>        marks a consumed code, to answer 40163 rather than 40029
  mp:sk:<appid>:<uid>   the resident's current session_key for the app
  mp:at:<sha256(tok)>   access token → {appid, exp, ver}          (kept a day past expiry → 42001)
  mp:stable:<appid>     the current stable_token
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from api.access.records import record_access
from api.db import from_timestamp
from api.errors import AppError
from api.extensions import db, get_config, get_redis, pii_cipher
from api.identity.models import User
from api.identity.tokens import Principal
from api.licences.wallet import list_wallet
from api.miniprograms.models import MiniProgram, MiniProgramConsent, MiniProgramMessage, MiniProgramUser
from api.notifications.inbox import deliver_to_user
from api.ops import invalidations
from api.ratelimits import enforce
from api.unit_of_work import commit
from miniprogram_adapter import crypto
from miniprogram_adapter import wechat_errors as wx
from miniprogram_adapter.wechat_errors import WeChatError

SCOPE_RE = re.compile(r"^scope\.(userinfo|phone|realname|subscribe_message|licence\.[a-z0-9_\-]{1,40})$")
FIXED_SCOPES = ("scope.userinfo", "scope.phone", "scope.realname", "scope.subscribe_message")

CODE_TTL = 300
SESSION_KEY_TTL = 3 * 86400
ACCESS_TOKEN_TTL = 7200
TOKEN_GRACE = 86400            # how long an expired token is still recognised (42001, not 40001)

# Limits (the `limits` notation). Per app and API for server calls; per resident for releases
# and for the codes the resident side issues.
RATES = {
    "app": "2000/minute",
    "resident_release": "60/minute",
    "resident_codes": "30/minute",
}


# ---------------------------------------------------------------------------- helpers

def _key(label: str) -> bytes:
    return hmac.new(get_config().SECRET_KEY.encode(), f"ssb miniprogram {label} v1".encode(), hashlib.sha256).digest()


def openid_for(appid: str, user_id: int) -> str:
    return crypto.pairwise_id(_key("openid"), appid, str(user_id), prefix="o")


def unionid_for(owner_org: str, user_id: int) -> str:
    return crypto.pairwise_id(_key("unionid"), owner_org, str(user_id), prefix="u")


def _hash_secret(secret: str) -> str:
    return crypto.hash_secret(_key("secret"), secret)


def _new_appid() -> str:
    return "ssb" + secrets.token_hex(8)


def _new_secret() -> str:
    return secrets.token_hex(16)


def _accessor(app: MiniProgram) -> dict:
    return {"type": "miniprogram", "appid": app.appid, "name": app.name}


APPID_RE = re.compile(r"^ssb[0-9a-f]{16}$")
OPENID_RE = re.compile(r"^o[A-Za-z0-9_\-]{27}$")


def get_app(appid: str) -> MiniProgram:
    app = db.session.get(MiniProgram, appid) if appid and APPID_RE.match(appid) else None
    if app is None or app.status != "active":
        raise AppError("MP_NOT_FOUND")
    return app


def has_consent(user_id: int, appid: str, scope: str) -> bool:
    return db.session.scalar(select(MiniProgramConsent.id).where(
        MiniProgramConsent.user_id == user_id, MiniProgramConsent.appid == appid,
        MiniProgramConsent.scope == scope)) is not None


def _store_code(prefix: str, *, appid: str, user_id: int, now: int) -> dict:
    code = secrets.token_hex(16)
    get_redis().set(f"mp:{prefix}:{code}", json.dumps({"appid": appid, "uid": user_id, "exp": now + CODE_TTL}),
                    ex=CODE_TTL + 60)
    return {"code": code, "expires_in": CODE_TTL}


def _consume_code(prefix: str, code: str, *, appid: str, now: int) -> int:
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


def _limit_app(appid: str, api: str) -> None:
    enforce(RATES["app"], "mp-app", appid, api)


def _limit_release(appid: str, user_id: int) -> None:
    enforce(RATES["resident_release"], "mp-release", appid, str(user_id))


# ---------------------------------------------------------------------------- platform side

def _check_scopes(scopes: list[str]) -> list[str]:
    bad = [s for s in scopes if not SCOPE_RE.match(s)]
    if bad:
        raise AppError("VALIDATION_ERROR", errors={"scopes": [f"unknown scope: {s}" for s in bad]})
    return sorted(set(scopes))


def register_miniprogram(*, name: str, owner_org: str, scopes: list[str], request_domain: str | None,
                         created_by: int | None, now: int) -> dict:
    """A new app; the secret is returned here once and only its keyed hash is kept."""
    secret = _new_secret()
    app = MiniProgram(appid=_new_appid(), name=name.strip(), owner_org=owner_org.strip(),
                      scopes=_check_scopes(scopes), request_domain=request_domain, secret_hash=_hash_secret(secret),
                      secret_version=1, status="active", created_by=created_by, created_at=from_timestamp(now))
    db.session.add(app)
    commit()
    return _app_view(app) | {"secret": secret}


def rotate_secret(*, appid: str, now: int) -> dict:
    """A new secret; the old one and every access token issued with it stop working at once."""
    app = get_app(appid)
    secret = _new_secret()
    app.secret_hash = _hash_secret(secret)
    app.secret_version += 1
    app.secret_rotated_at = from_timestamp(now)
    commit()
    invalidations.apply("keys", {"keys": [f"mp:stable:{appid}"]})   # now, or when Redis is back
    return {"appid": app.appid, "secret": secret}


def _app_view(app: MiniProgram) -> dict:
    return {"appid": app.appid, "name": app.name, "owner_org": app.owner_org, "scopes": list(app.scopes),
            "request_domain": app.request_domain, "created_at": app.created_at}


# ---------------------------------------------------------------------------- resident side

def issue_login_code(*, user_id: int, appid: str, now: int) -> dict:
    """What `wx.login()` gives the mini-program: a code its backend exchanges once, within 5 minutes."""
    get_app(appid)
    enforce(RATES["resident_codes"], "mp-codes", str(user_id))
    return _store_code("code", appid=appid, user_id=user_id, now=now)


def issue_phone_code(*, user_id: int, appid: str, now: int) -> dict:
    """What the `getPhoneNumber` button gives: a code for /wxa/business/getuserphonenumber."""
    get_app(appid)
    if not has_consent(user_id, appid, "scope.phone"):
        raise AppError("MP_CONSENT_REQUIRED", detail="scope.phone")
    enforce(RATES["resident_codes"], "mp-codes", str(user_id))
    return _store_code("phone", appid=appid, user_id=user_id, now=now)


def grant_consent(*, user_id: int, appid: str, scopes: list[str], now: int) -> dict:
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
    # The app's session with the resident ends too (now, or when Redis is back).
    invalidations.apply("keys", {"keys": [f"mp:sk:{appid}:{user_id}"]})


def user_info_bundle(*, user_id: int, appid: str, now: int) -> dict:
    """What `wx.getUserProfile` hands the mini-program: userInfo, rawData + signature, and the
    same data encrypted with the session_key its backend got from jscode2session."""
    app = get_app(appid)
    if not has_consent(user_id, appid, "scope.userinfo"):
        raise AppError("MP_CONSENT_REQUIRED", detail="scope.userinfo")
    session_key = get_redis().get(f"mp:sk:{appid}:{user_id}")
    if session_key is None:
        raise AppError("MP_SESSION_REQUIRED")
    session_key = session_key.decode() if isinstance(session_key, bytes) else session_key
    enforce(RATES["resident_release"], "mp-release", appid, str(user_id))
    user = db.session.get(User, user_id)
    info = {"nickName": (user.masked_name if user and user.masked_name else "随申办用户"), "avatarUrl": "",
            "gender": 0, "country": "", "province": "", "city": "", "language": "zh_CN"}
    raw = json.dumps(info, ensure_ascii=False, separators=(",", ":"))
    encrypted, iv = crypto.encrypt_data(info | {"openId": openid_for(appid, user_id)}, session_key=session_key,
                                        appid=appid, now=now)
    record_access(user_id=user_id, kind="miniprogram_release", accessor=_accessor(app), now=now,
                  fields=["nickName", "avatarUrl"], purpose="wx.getUserProfile")
    commit()
    return {"userInfo": info, "rawData": raw, "signature": crypto.sign_raw_data(raw, session_key),
            "encryptedData": encrypted, "iv": iv}


# ---------------------------------------------------------------------------- WeChat-compatible side

def _authenticate_app(appid: str | None, secret: str | None, *, api: str) -> MiniProgram:
    if not appid:
        raise WeChatError(wx.MISSING_APPID)
    if not secret:
        raise WeChatError(wx.MISSING_SECRET)
    app = db.session.get(MiniProgram, appid) if APPID_RE.match(appid) else None
    if app is None or app.status != "active":
        raise WeChatError(wx.INVALID_APPID)
    _limit_app(appid, api)
    if not hmac.compare_digest(app.secret_hash, _hash_secret(secret)):
        raise WeChatError(wx.INVALID_APPSECRET)
    return app


def code_to_session(*, appid: str | None, secret: str | None, js_code: str | None, grant_type: str | None,
                    now: int) -> dict:
    """GET /sns/jscode2session: the resident's pairwise openid, a fresh session_key, the unionid."""
    app = _authenticate_app(appid, secret, api="jscode2session")
    if grant_type != "authorization_code":
        raise WeChatError(wx.INVALID_GRANT_TYPE)
    if not js_code:
        raise WeChatError(wx.MISSING_CODE)
    user_id = _consume_code("code", js_code, appid=app.appid, now=now)
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
    get_redis().set(f"mp:sk:{app.appid}:{user_id}", session_key, ex=SESSION_KEY_TTL)
    return {"openid": openid, "session_key": session_key, "unionid": unionid}


def _new_access_token(app: MiniProgram, *, now: int) -> dict:
    token = secrets.token_urlsafe(48)
    record = {"appid": app.appid, "exp": now + ACCESS_TOKEN_TTL, "ver": app.secret_version}
    get_redis().set(_token_key(token), json.dumps(record), ex=ACCESS_TOKEN_TTL + TOKEN_GRACE)
    return {"access_token": token, "expires_in": ACCESS_TOKEN_TTL}


def _token_key(token: str) -> str:
    return "mp:at:" + hashlib.sha256(token.encode()).hexdigest()


def get_access_token(*, grant_type: str | None, appid: str | None, secret: str | None, now: int) -> dict:
    """GET /cgi-bin/token: an opaque app access token for 7200 s (earlier ones stay valid until
    they expire, as WeChat's do for a while)."""
    if grant_type != "client_credential":
        raise WeChatError(wx.INVALID_GRANT_TYPE)
    app = _authenticate_app(appid, secret, api="token")
    return _new_access_token(app, now=now)


def get_stable_token(*, grant_type: str | None, appid: str | None, secret: str | None, force_refresh: bool,
                     now: int) -> dict:
    """POST /cgi-bin/stable_token: the same token until it expires (or force_refresh)."""
    if grant_type != "client_credential":
        raise WeChatError(wx.INVALID_GRANT_TYPE)
    app = _authenticate_app(appid, secret, api="stable_token")
    redis = get_redis()
    current = redis.get(f"mp:stable:{app.appid}")
    if current is not None and not force_refresh:
        token = current.decode() if isinstance(current, bytes) else current
        raw = redis.get(_token_key(token))
        if raw is not None:
            record = json.loads(raw)
            if record["exp"] - now > 300 and record["ver"] == app.secret_version:
                return {"access_token": token, "expires_in": int(record["exp"] - now)}
    issued = _new_access_token(app, now=now)
    redis.set(f"mp:stable:{app.appid}", issued["access_token"], ex=ACCESS_TOKEN_TTL)
    return issued


def resolve_access_token(access_token: str | None, *, now: int, api: str) -> MiniProgram:
    if not access_token:
        raise WeChatError(wx.MISSING_ACCESS_TOKEN)
    raw = get_redis().get(_token_key(access_token)) if len(access_token) <= 512 else None
    if raw is None:
        raise WeChatError(wx.INVALID_CREDENTIAL)
    record = json.loads(raw)
    app = db.session.get(MiniProgram, record["appid"])
    if app is None or app.status != "active" or app.secret_version != record["ver"]:
        raise WeChatError(wx.INVALID_CREDENTIAL)
    if int(record["exp"]) <= now:
        raise WeChatError(wx.EXPIRED_ACCESS_TOKEN)
    _limit_app(app.appid, api)
    return app


def _resolve_openid(app: MiniProgram, openid: str | None) -> int:
    if not openid or not OPENID_RE.match(openid):
        raise WeChatError(wx.INVALID_OPENID)
    row = db.session.get(MiniProgramUser, openid)
    if row is None or row.appid != app.appid:
        raise WeChatError(wx.INVALID_OPENID)
    return row.user_id


def _require_consent(app: MiniProgram, user_id: int, scope: str, *, errcode: int = wx.CONSENT_REQUIRED) -> None:
    if scope not in app.scopes:
        raise WeChatError(wx.API_UNAUTHORIZED)
    if not has_consent(user_id, app.appid, scope):
        raise WeChatError(errcode)


def _active_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or user.status != "active":
        raise WeChatError(wx.INVALID_OPENID)
    return user


def get_phone_number(*, access_token: str | None, code: str | None, now: int) -> dict:
    """POST /wxa/business/getuserphonenumber: the phone, only with `scope.phone` consent (checked
    again here, so a revocation after the code was issued still refuses)."""
    app = resolve_access_token(access_token, now=now, api="getuserphonenumber")
    if not code:
        raise WeChatError(wx.MISSING_CODE)
    user_id = _consume_code("phone", code, appid=app.appid, now=now)
    _require_consent(app, user_id, "scope.phone")
    _limit_release(app.appid, user_id)
    user = _active_user(user_id)
    country, pure = _split_phone(user.phone)
    record_access(user_id=user_id, kind="miniprogram_release", accessor=_accessor(app), now=now,
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
    for size in (1, 2, 3):          # E.164 country codes are 1–3 digits; the common ones suffice here
        if digits[:size] in {"1", "7", "44", "49", "33", "81", "82", "852", "853", "886", "65", "60", "61"}:
            return digits[:size], digits[size:]
    return "", digits


def get_realname(*, access_token: str | None, openid: str | None, now: int) -> dict:
    """POST /ssb/realname/get: verified name and masked identity number, with `scope.realname`."""
    app = resolve_access_token(access_token, now=now, api="realname")
    user_id = _resolve_openid(app, openid)
    _require_consent(app, user_id, "scope.realname")
    _limit_release(app.appid, user_id)
    user = _active_user(user_id)
    if not user.is_verified or user.real_name_enc is None:
        raise WeChatError(wx.NOT_REAL_NAME_VERIFIED)
    name = pii_cipher().decrypt(user.real_name_enc, context="users.real_name")
    record_access(user_id=user_id, kind="miniprogram_release", accessor=_accessor(app), now=now,
                  fields=["real_name", "id_number_masked"], purpose="realname")
    commit()
    return {"errcode": 0, "errmsg": "ok",
            "realname_info": {"name": name, "id_type": user.id_type, "id_number": user.id_number_masked,
                              "verified_at": int(user.real_name_verified_at.timestamp()),
                              "watermark": {"appid": app.appid, "timestamp": now}}}


LICENCE_TYPE_RE = re.compile(r"^[a-z0-9_\-]{1,40}$")


def get_licence(*, access_token: str | None, openid: str | None, licence_type: str | None, now: int) -> dict:
    """POST /ssb/licence/get: one e-licence of the resident, with `scope.licence.<type>`."""
    app = resolve_access_token(access_token, now=now, api="licence")
    user_id = _resolve_openid(app, openid)
    if not licence_type or not LICENCE_TYPE_RE.match(licence_type):
        raise WeChatError(wx.INVALID_ARGS, "invalid type")
    _require_consent(app, user_id, f"scope.licence.{licence_type}")
    _limit_release(app.appid, user_id)
    _active_user(user_id)
    licence = licence_lookup(user_id=user_id, licence_type=licence_type, now=now)
    record_access(user_id=user_id, kind="miniprogram_release", accessor=_accessor(app), now=now,
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


def send_subscribe_message(*, access_token: str | None, touser: str | None, template_id: str | None,
                           data, page: str | None, now: int) -> dict:
    """POST /cgi-bin/message/subscribe/send: into the resident's inbox, with `scope.subscribe_message`."""
    app = resolve_access_token(access_token, now=now, api="subscribe_send")
    user_id = _resolve_openid(app, touser)
    if not template_id or len(template_id) > 128 or "\x00" in template_id:
        raise WeChatError(wx.INVALID_TEMPLATE_ID)
    if not isinstance(data, dict) or not data or len(data) > 20 or not all(
            isinstance(k, str) and 0 < len(k) <= 32 and "\x00" not in k and isinstance(v, dict)
            and isinstance(v.get("value"), (str, int, float)) and "\x00" not in str(v["value"])
            for k, v in data.items()):
        raise WeChatError(wx.INVALID_ARGS, "argument invalid! data.value is required")
    if page is not None and (len(page) > 512 or "\x00" in page):
        raise WeChatError(wx.INVALID_ARGS, "invalid page")
    _require_consent(app, user_id, "scope.subscribe_message", errcode=wx.USER_REFUSED_MESSAGE)
    _limit_release(app.appid, user_id)
    _active_user(user_id)
    message = MiniProgramMessage(appid=app.appid, user_id=user_id, template_id=template_id,
                                 data={k: {"value": str(v["value"])[:200]} for k, v in data.items()},
                                 page=page, status="stored", created_at=from_timestamp(now))
    db.session.add(message)
    db.session.flush()
    ref = deliver_to_inbox(message, app=app, now=now)
    message.status, message.inbox_ref = "delivered", ref[:64]
    commit()
    return {"errcode": 0, "errmsg": "ok", "msgid": message.id}


def deliver_to_inbox(message: MiniProgramMessage, *, app: MiniProgram, now: int) -> str:
    """Add a subscription message to the resident's inbox in this unit of work (category
    "service"; title = the app's name, body = the template's values, deep link = the page) and
    return the inbox message id; the push relay wakes after the caller commits."""
    body = "\n".join(f"{v['value']}" for v in message.data.values())
    link = f"ssb://miniprogram/{app.appid}" + (f"?page={message.page}" if message.page else "")
    delivered = deliver_to_user(message.user_id, category="service", title=app.name, body=body,
                                deep_link=link[:512], now=now)
    return str(delivered.id)
