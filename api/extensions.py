"""Project subclasses of flask-smorest's Api/Blueprint and the shared clients (db, redis, limiter).

Everything here is created unbound at import and bound to an app in `create_app`, so importing
a module never opens a connection.
"""
from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable

import flask_smorest
import marshmallow as ma
import redis as redis_lib
from flask import current_app, g, request
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter
from flask_sqlalchemy import SQLAlchemy
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import ImmutableMultiDict

from api.db import Base
from api.errors import envelope, prefers_chinese

# Models subclass the plain declarative Base (no Flask in models); db only provides the session.
db = SQLAlchemy(metadata=Base.metadata, session_options={"expire_on_commit": False})


def client_ip() -> str:
    # ProxyFix (configured by TRUST_PROXY_HOPS) has already rewritten remote_addr.
    return request.remote_addr or "unknown"


def rate_limit(*rates: str):
    """Declare per-client-IP limits on a view; create_app applies them with the app's own
    Flask-Limiter, so several apps (tests, workers) never share limiter state."""

    def decorator(view):
        view.rate_limits = tuple(getattr(view, "rate_limits", ())) + rates
        return view

    return decorator


def init_rate_limiter(app) -> None:
    """The `limits` strategy for use-case limits (per phone, account, app): they hold even when
    route limits are switched off."""
    from limits.storage import storage_from_string
    from limits.strategies import MovingWindowRateLimiter
    app.extensions["ssb.rate_limiter"] = MovingWindowRateLimiter(
        storage_from_string(app.config["RATELIMIT_STORAGE_URI"]))


def apply_route_limits(app) -> Limiter:
    """Per-client-IP limits declared with `rate_limit` on views, applied by the app's own
    Flask-Limiter (after every blueprint is registered)."""
    limiter = Limiter(key_func=client_ip, strategy="moving-window", app=app)
    for endpoint, view in list(app.view_functions.items()):
        for rate in getattr(view, "rate_limits", ()):
            app.view_functions[endpoint] = view = limiter.limit(rate)(view)
    app.extensions["ssb.limiter"] = limiter
    return limiter


def get_rate_limiter():
    """The `limits` strategy on the app's Redis, for limits keyed by phone, account or app."""
    return current_app.extensions["ssb.rate_limiter"]


class ErrorSchema(ma.Schema):
    """The error envelope (DESIGN.md): documented on every operation."""

    code = ma.fields.Integer(required=True, metadata={"description": "HTTP status"})
    status = ma.fields.String(required=True, metadata={"description": "HTTP reason phrase"})
    error = ma.fields.String(required=True, metadata={"description": "Stable machine code"})
    message = ma.fields.String(required=True, metadata={"description": "Human message (zh-CN or en)"})
    errors = ma.fields.Dict(metadata={"description": "Field-level detail"})
    request_id = ma.fields.String(allow_none=True)


_HTTP_NAMES = {400: "BAD_REQUEST", 401: "UNAUTHENTICATED", 403: "FORBIDDEN", 404: "NOT_FOUND",
               405: "METHOD_NOT_ALLOWED", 409: "CONFLICT", 413: "PAYLOAD_TOO_LARGE",
               415: "UNSUPPORTED_MEDIA_TYPE", 422: "VALIDATION_ERROR", 429: "RATE_LIMITED"}


class Api(flask_smorest.Api):
    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):
        status = error.code or 500
        name = _HTTP_NAMES.get(status, "INTERNAL_ERROR")
        data = getattr(error, "data", None) or {}
        errors = data.get("errors") or data.get("messages")
        if status == 422 and isinstance(errors, dict) and set(errors) <= {"json", "query", "path", "headers",
                                                                          "form", "files", "cookies"}:
            # webargs nests field errors under the location; one location is the common case.
            errors = errors.get("json") or errors.get("query") or errors
        body = envelope(name, status=status, chinese=prefers_chinese(request.headers.get("Accept-Language")),
                        request_id=getattr(g, "request_id", None), errors=errors if status == 422 else None)
        headers = dict(data.get("headers") or {})
        if status == 405 and getattr(error, "valid_methods", None):
            headers["Allow"] = ", ".join(error.valid_methods)   # RFC 9110
        if status == 429 and getattr(error, "limit", None) is not None:
            retry = getattr(error, "retry_after", None)
            headers.setdefault("Retry-After", str(retry or 60))
        return body, status, headers


class StrictParser(FlaskParser):
    """Every location obeys the schema's own `unknown` (RAISE in our Schema): an unknown query
    parameter is a 422 like an unknown body field. Schemas for foreign protocols (WeChat-style
    endpoints) set EXCLUDE themselves."""

    DEFAULT_UNKNOWN_BY_LOCATION: dict = {}

    def load_querystring(self, req, schema):
        # werkzeug's MultiDict.get builds an HTTP exception for every absent key (an optional
        # query parameter left out): ~10 µs each on the hot GETs (issue 14).
        return self._makeproxy(_QueryArgs(req.args), schema)


class _QueryArgs(ImmutableMultiDict):
    def get(self, key, default=None, type=None):  # type: ignore[override]
        return super().get(key, default, type) if key in self else default


class Blueprint(flask_smorest.Blueprint):
    """Adds `auth`: authentication + role check + the OpenAPI security requirement and 401/403."""

    ARGUMENTS_PARSER = StrictParser()

    def arguments(self, schema, **kwargs):
        """flask-smorest's, with a schema class instantiated once here: webargs would build a new
        instance of a class on every request (issue 14: ~100 µs). Same OpenAPI document."""
        return super().arguments(schema() if isinstance(schema, type) else schema, **kwargs)

    def auth(self, *, roles: Iterable[str] = (), scheme: str = "bearerAuth",
             authenticate: Callable | None = None):
        required = frozenset(roles)

        def decorator(func):
            @functools.wraps(func)
            def wrapper(*args, **kwargs):
                # The default authenticator (bearer access tokens) is identity's, set by create_app.
                check = authenticate or current_app.extensions["ssb.authenticate"]
                g.principal = check(required_roles=required)
                return func(*args, **kwargs)

            wrapper = self.doc(security=[{scheme: []}])(wrapper)
            wrapper = self.alt_response(401, schema=ErrorSchema, description="Missing or invalid credentials")(wrapper)
            wrapper = self.alt_response(403, schema=ErrorSchema, description="Not allowed")(wrapper)
            return wrapper

        return decorator

    def errors(self, *statuses: int):
        """Document the envelope for the failures an operation can answer with."""

        def decorator(func):
            for status in statuses:
                func = self.alt_response(status, schema=ErrorSchema, description=_describe(status))(func)
            return func

        return decorator


def _describe(status: int) -> str:
    from api.errors import status_phrase
    return status_phrase(status)


class ApiSessionInterface(SecureCookieSessionInterface):
    """No cookie session for the JSON API (bearer tokens only): opening one costs a signing
    serializer per request. Paths outside `API_PREFIXES` (browser pages) keep Flask's default."""

    API_PREFIXES = ("/v1/", "/cgi-bin/", "/sns/", "/wxa/", "/ssb/", "/.well-known/", "/healthz", "/openapi")

    def open_session(self, app, request):
        if request.path.startswith(self.API_PREFIXES):
            return self.null_session_class()
        return super().open_session(app, request)

    def save_session(self, app, session, response) -> None:
        if self.is_null_session(session):
            return
        super().save_session(app, session, response)


def init_database(app) -> None:
    db.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        from sqlalchemy import event

        with app.app_context():
            @event.listens_for(db.engine, "connect")
            def _sqlite_pragmas(dbapi_connection, _record):
                # WAL lets the API workers read while the job worker writes; NORMAL sync is
                # crash-safe in WAL mode and avoids an fsync per commit. Foreign keys on, as in PostgreSQL.
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.close()


def init_redis(url: str) -> redis_lib.Redis | redis_lib.RedisCluster:
    # Short timeouts: a Redis outage must turn into a quick 503, never a hung worker.
    if url.startswith("redis+cluster://"):   # Redis Cluster: any node as the seed (as `limits` spells it)
        from redis.cluster import RedisCluster
        return RedisCluster.from_url("redis://" + url[len("redis+cluster://"):], socket_timeout=2,
                                     socket_connect_timeout=2, health_check_interval=30)
    return redis_lib.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2,
                                    health_check_interval=30, retry_on_timeout=False)


def get_redis() -> redis_lib.Redis:
    return current_app.extensions["ssb.redis"]


def get_config():
    return current_app.extensions["ssb.config"]


def pii_cipher():
    """The app's identity-number cipher (AES-GCM + keyed blind index), built once in create_app."""
    return current_app.extensions["ssb.pii"]


def enterprise_registry():
    return current_app.extensions["ssb.enterprise_registry"]


def otp_service():
    return current_app.extensions["ssb.otp"]


def population_registry():
    return current_app.extensions["ssb.population_registry"]


def get_keyring():
    return current_app.extensions["ssb.keyring"].current()


def now() -> int:
    """The clock, replaceable in tests through app.extensions['ssb.clock']."""
    clock = current_app.extensions.get("ssb.clock") or time.time
    return int(clock())
