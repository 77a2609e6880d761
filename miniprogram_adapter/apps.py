"""Mini-program apps: registration and secret rotation by operators, and the app access tokens
their backends get with appid + secret (WeChat's /cgi-bin/token and stable_token)."""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets

from sqlalchemy import select

from api.db import from_timestamp
from api.errors import AppError
from api.extensions import db, get_redis
from api.miniprograms.models import MiniProgram
from api.ops import invalidations
from api.unit_of_work import commit
from miniprogram_adapter import wechat_errors as wx
from miniprogram_adapter.common import APPID_RE, get_app, hash_secret, limit_app
from miniprogram_adapter.wechat_errors import WeChatError

SCOPE_RE = re.compile(r"^scope\.(userinfo|phone|realname|subscribe_message|licence\.[a-z0-9_\-]{1,40})$")

ACCESS_TOKEN_TTL = 7200
TOKEN_GRACE = 86400            # how long an expired token is still recognised (42001, not 40001)
STABLE_REUSE_MARGIN = 300      # a stable token this close to expiry is replaced


# ---------------------------------------------------------------------------- registration

def _new_appid() -> str:
    return "ssb" + secrets.token_hex(8)


def _new_secret() -> str:
    return secrets.token_hex(16)


def _check_scopes(scopes: list[str]) -> list[str]:
    bad = [s for s in scopes if not SCOPE_RE.match(s)]
    if bad:
        raise AppError("VALIDATION_ERROR", errors={"scopes": [f"unknown scope: {s}" for s in bad]})
    return sorted(set(scopes))


def register_miniprogram(*, name: str, owner_org: str, scopes: list[str], request_domain: str | None,
                         created_by: int | None, now: int, secret: str | None = None) -> dict:
    """A new app; the secret is returned here once and only its keyed hash is kept. `secret`:
    a chosen one (the demo data derive theirs from SECRET_KEY); a fresh random one otherwise."""
    secret = secret or _new_secret()
    app = MiniProgram(appid=_new_appid(), name=name.strip(), owner_org=owner_org.strip(),
                      scopes=_check_scopes(scopes), request_domain=request_domain, secret_hash=hash_secret(secret),
                      secret_version=1, status="active", created_by=created_by, created_at=from_timestamp(now))
    db.session.add(app)
    commit()
    return _app_view(app) | {"secret": secret}


def rotate_secret(*, appid: str, now: int, secret: str | None = None) -> dict:
    """A new secret; the old one and every access token issued with it stop working at once."""
    app = get_app(appid)
    secret = secret or _new_secret()
    app.secret_hash = hash_secret(secret)
    app.secret_version += 1
    app.secret_rotated_at = from_timestamp(now)
    commit()
    invalidations.apply("keys", {"keys": [_stable_key(appid)]})   # now, or when Redis is back
    return {"appid": app.appid, "secret": secret}


def miniprogram_named(name: str, *, owner_org: str, created_by: int) -> dict | None:
    """The oldest active app of this name and owner an operator registered (lets scripts be re-run)."""
    app = db.session.scalar(select(MiniProgram).where(
        MiniProgram.name == name, MiniProgram.owner_org == owner_org, MiniProgram.created_by == created_by,
        MiniProgram.status == "active").order_by(MiniProgram.created_at).limit(1))
    return None if app is None else _app_view(app)


def secret_matches(appid: str, secret: str) -> bool:
    app = get_app(appid)
    return hmac.compare_digest(app.secret_hash, hash_secret(secret))


def _app_view(app: MiniProgram) -> dict:
    return {"appid": app.appid, "name": app.name, "owner_org": app.owner_org, "scopes": list(app.scopes),
            "request_domain": app.request_domain, "created_at": app.created_at}


# ---------------------------------------------------------------------------- app credentials

def authenticate_app(appid: str | None, secret: str | None, *, api: str) -> MiniProgram:
    """The app for appid + secret (WeChat's errcodes otherwise); counts against its rate limit."""
    if not appid:
        raise WeChatError(wx.MISSING_APPID)
    if not secret:
        raise WeChatError(wx.MISSING_SECRET)
    app = db.session.get(MiniProgram, appid) if APPID_RE.match(appid) else None
    if app is None or app.status != "active":
        raise WeChatError(wx.INVALID_APPID)
    limit_app(appid, api)
    if not hmac.compare_digest(app.secret_hash, hash_secret(secret)):
        raise WeChatError(wx.INVALID_APPSECRET)
    return app


def _token_key(token: str) -> str:
    return "mp:at:" + hashlib.sha256(token.encode()).hexdigest()


def _stable_key(appid: str) -> str:
    return f"mp:stable:{appid}"


def _new_access_token(app: MiniProgram, *, now: int) -> dict:
    token = secrets.token_urlsafe(48)
    record = {"appid": app.appid, "exp": now + ACCESS_TOKEN_TTL, "ver": app.secret_version}
    get_redis().set(_token_key(token), json.dumps(record), ex=ACCESS_TOKEN_TTL + TOKEN_GRACE)
    return {"access_token": token, "expires_in": ACCESS_TOKEN_TTL}


def get_access_token(*, grant_type: str | None, appid: str | None, secret: str | None, now: int) -> dict:
    """GET /cgi-bin/token: an opaque app access token for 7200 s (earlier ones stay valid until
    they expire, as WeChat's do for a while)."""
    if grant_type != "client_credential":
        raise WeChatError(wx.INVALID_GRANT_TYPE)
    app = authenticate_app(appid, secret, api="token")
    return _new_access_token(app, now=now)


def _reusable_stable_token(app: MiniProgram, *, now: int) -> dict | None:
    """The app's current stable token while it has more than a few minutes left and its secret
    has not been rotated since."""
    redis = get_redis()
    current = redis.get(_stable_key(app.appid))
    if current is None:
        return None
    token = current.decode() if isinstance(current, bytes) else current
    raw = redis.get(_token_key(token))
    if raw is None:
        return None
    record = json.loads(raw)
    if record["exp"] - now > STABLE_REUSE_MARGIN and record["ver"] == app.secret_version:
        return {"access_token": token, "expires_in": int(record["exp"] - now)}
    return None


def get_stable_token(*, grant_type: str | None, appid: str | None, secret: str | None, force_refresh: bool,
                     now: int) -> dict:
    """POST /cgi-bin/stable_token: the same token until it expires (or force_refresh)."""
    if grant_type != "client_credential":
        raise WeChatError(wx.INVALID_GRANT_TYPE)
    app = authenticate_app(appid, secret, api="stable_token")
    if not force_refresh:
        current = _reusable_stable_token(app, now=now)
        if current is not None:
            return current
    issued = _new_access_token(app, now=now)
    get_redis().set(_stable_key(app.appid), issued["access_token"], ex=ACCESS_TOKEN_TTL)
    return issued


def resolve_access_token(access_token: str | None, *, now: int, api: str) -> MiniProgram:
    """The app an access token was issued to (40001/42001 otherwise); counts against its limit."""
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
    limit_app(app.appid, api)
    return app
