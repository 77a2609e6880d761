"""What every mini-program use case shares: pairwise identifiers, app lookup, rate limits, and
the resident's session_key for an app.

Platform- and resident-side verbs raise `AppError` (our envelope). The WeChat-compatible verbs
raise `WeChatError` (WeChat's envelope); shared helpers that raise `AppError` there (rate limits)
are translated by the blueprint's error handler. Identity and `now` come in as arguments.

Redis keys (all single-key operations, so Redis Cluster is fine):
  mp:code:<code>        login code → {appid, uid, exp}            (5 minutes, single use; login.py)
  mp:phone:<code>       phone-number code → {appid, uid, exp}     (5 minutes, single use; login.py)
  mp:used:<code>        marks a consumed code, to answer 40163 rather than 40029
  mp:sk:<appid>:<uid>   the resident's current session_key for the app (here)
  mp:at:<sha256(tok)>   access token → {appid, exp, ver}          (kept a day past expiry → 42001; apps.py)
  mp:stable:<appid>     the current stable_token (apps.py)
"""
from __future__ import annotations

import hashlib
import hmac
import re

from api.errors import AppError
from api.extensions import db, get_config, get_redis
from api.identity.models import User
from api.miniprograms.models import MiniProgram, MiniProgramUser
from api.ops import invalidations
from api.ratelimits import enforce
from miniprogram_adapter import crypto
from miniprogram_adapter import wechat_errors as wx
from miniprogram_adapter.wechat_errors import WeChatError

SESSION_KEY_TTL = 3 * 86400

# Limits (the `limits` notation). Per app and API for server calls; per resident for releases
# and for the codes the resident side issues.
RATES = {
    "app": "2000/minute",
    "resident_release": "60/minute",
    "resident_codes": "30/minute",
}

APPID_RE = re.compile(r"^ssb[0-9a-f]{16}$")
OPENID_RE = re.compile(r"^o[A-Za-z0-9_\-]{27}$")


def _key(label: str) -> bytes:
    return hmac.new(get_config().SECRET_KEY.encode(), f"ssb miniprogram {label} v1".encode(), hashlib.sha256).digest()


def openid_for(appid: str, user_id: int) -> str:
    return crypto.pairwise_id(_key("openid"), appid, str(user_id), prefix="o")


def unionid_for(owner_org: str, user_id: int) -> str:
    return crypto.pairwise_id(_key("unionid"), owner_org, str(user_id), prefix="u")


def hash_secret(secret: str) -> str:
    return crypto.hash_secret(_key("secret"), secret)


def accessor(app: MiniProgram) -> dict:
    """The app as an access record names it."""
    return {"type": "miniprogram", "appid": app.appid, "name": app.name}


def get_app(appid: str) -> MiniProgram:
    """An active app by appid; MP_NOT_FOUND (our envelope) otherwise."""
    app = db.session.get(MiniProgram, appid) if appid and APPID_RE.match(appid) else None
    if app is None or app.status != "active":
        raise AppError("MP_NOT_FOUND")
    return app


def limit_app(appid: str, api: str) -> None:
    enforce(RATES["app"], "mp-app", appid, api)


def limit_release(appid: str, user_id: int) -> None:
    enforce(RATES["resident_release"], "mp-release", appid, str(user_id))


def limit_codes(user_id: int) -> None:
    enforce(RATES["resident_codes"], "mp-codes", str(user_id))


def resolve_openid(app: MiniProgram, openid: str | None) -> int:
    """The user id behind an openid of this app; 40003 otherwise."""
    if not openid or not OPENID_RE.match(openid):
        raise WeChatError(wx.INVALID_OPENID)
    row = db.session.get(MiniProgramUser, openid)
    if row is None or row.appid != app.appid:
        raise WeChatError(wx.INVALID_OPENID)
    return row.user_id


def active_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or user.status != "active":
        raise WeChatError(wx.INVALID_OPENID)
    return user


# ---------------------------------------------------------------------------- session_key

def _session_key_name(appid: str, user_id: int) -> str:
    return f"mp:sk:{appid}:{user_id}"


def store_session_key(appid: str, user_id: int, session_key: str) -> None:
    get_redis().set(_session_key_name(appid, user_id), session_key, ex=SESSION_KEY_TTL)


def session_key_of(appid: str, user_id: int) -> str | None:
    raw = get_redis().get(_session_key_name(appid, user_id))
    return raw.decode() if isinstance(raw, bytes) else raw


def end_session(appid: str, user_id: int) -> None:
    """After the commit that ended it: now, or once Redis answers again (api.ops.invalidations)."""
    invalidations.apply("keys", {"keys": [_session_key_name(appid, user_id)]})
