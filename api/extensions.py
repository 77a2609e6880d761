"""Project subclasses of flask-smorest's Api/Blueprint and the shared clients (db, redis, limiter).

Everything here is created unbound at import and bound to an app in `create_app`, so importing
a module never opens a connection.
"""
from __future__ import annotations

import copy
import functools
import time
from collections.abc import Callable, Iterable

import flask_smorest
import marshmallow as ma
import redis as redis_lib
from flask import current_app, g, request
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter
from flask_sqlalchemy import SQLAlchemy
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import ImmutableMultiDict

from api.breaker import Breaker
from api.db import Base
from api.errors import envelope, prefers_chinese
from qr import json_limits

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
        storage_from_string(app.config["RATELIMIT_STORAGE_URI"], **app.config.get("RATELIMIT_STORAGE_OPTIONS", {})))


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
    endpoints) set EXCLUDE themselves.

    Bodies are parsed with bounded nesting and number length (qr.json_limits): a hostile body
    is a 400 before it costs a stack overflow or a huge integer conversion."""

    DEFAULT_UNKNOWN_BY_LOCATION: dict = {}

    def _raw_load_json(self, req):
        from webargs import core
        from webargs.flaskparser import is_json_request
        if not is_json_request(req):
            return core.missing
        return json_limits.loads(req.get_data(cache=True))

    # Parsing a query string is a pure function of its bytes for a given schema, and the hot GETs
    # repeat a handful (`?scene=general`, `?limit=20`): their results are remembered, per schema
    # instance (built once per operation), bounded. Failures are never remembered (they raise).
    QUERY_MEMO_ENTRIES = 256
    QUERY_MEMO_MAX_LENGTH = 200

    def parse(self, argmap, req=None, *, location=None, **kwargs):
        if location != "query" or not isinstance(argmap, ma.Schema) or kwargs.get("validate") is not None:
            return super().parse(argmap, req, location=location, **kwargs)
        raw = (req or request).query_string
        if len(raw) > self.QUERY_MEMO_MAX_LENGTH:
            return super().parse(argmap, req, location=location, **kwargs)
        memo = _query_memo(argmap, self.QUERY_MEMO_ENTRIES)
        key = (raw, kwargs.get("unknown"))
        parsed = memo.get(key)
        if parsed is None:
            parsed = super().parse(argmap, req, location=location, **kwargs)
            if type(parsed) is dict and all(type(v) in _IMMUTABLE for v in parsed.values()):
                memo[key] = parsed
            else:
                return parsed
        return dict(parsed)   # the view may change its copy

    def load_querystring(self, req, schema):
        # werkzeug's MultiDict.get builds an HTTP exception for every absent key (an optional
        # query parameter left out): ~10 µs each on the hot GETs (issue 14).
        return self._makeproxy(_QueryArgs(req.args), schema)


class BoundedJSONProvider(DefaultJSONProvider):
    """`request.get_json()` (and anything else reading JSON through the app) with the same
    bounds as the argument parser: too deep or too long a number is invalid JSON (400)."""

    ensure_ascii = False    # Chinese as is in responses

    def loads(self, s, **kwargs):
        return json_limits.loads(s)



_IMMUTABLE = frozenset({str, int, bool, type(None)})
_query_memos: dict[int, tuple[object, dict]] = {}


def _query_memo(schema, entries: int) -> dict:
    """The remembered parses of one schema instance (emptied when full: the hot ones return)."""
    held = _query_memos.get(id(schema))
    if held is None or held[0] is not schema:
        held = _query_memos[id(schema)] = (schema, {})
    memo = held[1]
    if len(memo) >= entries:
        memo.clear()
    return memo


class _QueryArgs(ImmutableMultiDict):
    def get(self, key, default=None, type=None):  # type: ignore[override]
        return super().get(key, default, type) if key in self else default


class Blueprint(flask_smorest.Blueprint):
    """Adds `auth` (authentication + role check + the OpenAPI security requirement and 401/403)
    and `errors` (the failures an operation can answer, by machine code from api/error_codes.py,
    rendered into its response descriptions and an `x-error-codes` extension)."""

    ARGUMENTS_PARSER = StrictParser()
    # Failures answer our error envelope; a blueprint speaking another protocol (WeChat's
    # errcodes) sets this False and documents its own.
    ENVELOPE_ERRORS = True

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._prepare_doc_cbks.append(_document_error_codes)

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
            codes = ("UNAUTHENTICATED", "INVALID_TOKEN", *(("ROLE_REQUIRED",) if required else ()))
            return _with_error_codes(wrapper, codes)

        return decorator

    def arguments(self, schema, **kwargs):
        """flask-smorest's, plus VALIDATION_ERROR among the operation's error codes, and with a
        schema class instantiated once here: webargs would build a new instance of a class on
        every request (issue 14: ~100 µs). Same OpenAPI document."""
        decorator = super().arguments(schema() if isinstance(schema, type) else schema, **kwargs)
        if not self.ENVELOPE_ERRORS:
            return decorator
        return lambda func: _with_error_codes(decorator(func), ("VALIDATION_ERROR",))

    def errors(self, *failures: int | str):
        """Document the failures an operation can answer: machine codes of the catalogue
        (`"VENUE_NOT_FOUND"`, each under its HTTP status with its en and zh-CN messages), or bare
        HTTP statuses (`404`) where no code is more precise."""

        def decorator(func):
            for status in (f for f in failures if isinstance(f, int)):
                func = self.alt_response(status, schema=ErrorSchema, description=_describe(status))(func)
            return _with_error_codes(func, [f for f in failures if isinstance(f, str)])

        return decorator


def _with_error_codes(func, names: Iterable[str]):
    names = list(names)
    if names:
        func._apidoc = copy.deepcopy(getattr(func, "_apidoc", {}))
        func._apidoc["error_codes"] = list(func._apidoc.get("error_codes", [])) + names
    return func


def _document_error_codes(doc: dict, doc_info: dict, **_kwargs) -> dict:
    """Render an operation's machine codes: one line per code in the description of its status's
    response (created with the envelope schema if missing) and `x-error-codes` for tools. A name
    missing from the catalogue is listed with `status: null` (tests/api/test_openapi_docs.py
    fails on it) rather than breaking the whole document."""
    from api.errors import CATALOGUE

    names = list(dict.fromkeys(doc_info.get("error_codes", ())))
    if not names:
        return doc
    responses = doc.setdefault("responses", {})
    known = [CATALOGUE[n] for n in names if n in CATALOGUE]
    for status in sorted({c.status for c in known}):
        key = next((k for k in responses if str(k) == str(status)), status)
        response = responses.get(key)
        if not isinstance(response, dict):   # absent, or a shared component's name
            response = {"description": _describe(status),
                        "content": {"application/json": {"schema": ErrorSchema}}}
        lines = "\n".join(f"- `{c.name}`: {c.en} {c.zh}" for c in known if c.status == status)
        response["description"] = f"{response.get('description') or _describe(status)}\n\n{lines}"
        responses[key] = response
    doc["x-error-codes"] = [
        {"code": n, "status": CATALOGUE[n].status, "en": CATALOGUE[n].en, "zh-CN": CATALOGUE[n].zh}
        if n in CATALOGUE else {"code": n, "status": None} for n in names]
    return doc


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


def init_database(app, config) -> None:
    db.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg"):
        from api import db_deadline, db_ping

        with app.app_context():
            db_deadline.install(app, db.engine, request_deadline_ms=config.DB_REQUEST_DEADLINE_MS,
                                client_timeout_ms=config.DB_CLIENT_TIMEOUT_MS)
            db_ping.install(db.engine)
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


# Redis commands must fail fast when Redis hangs: 2 s per command, and no retry of a timed-out
# command (redis-py's default retries 3 times with backoff: 15 s and more against a frozen
# server). One retry on a connection error re-dials a connection that died with a restart.
REDIS_TIMEOUT = 2


def redis_options(url: str, base_class: type | None = None, **extra) -> dict:
    """Client options for every Redis client of the app on `url` (ours, rate limits, the job
    broker): timeouts, retries, and a connection class that fails fast while Redis does not
    answer (api.breaker), the process's breaker for that URL shared by all of them.
    `base_class`: the embedded Redis's connection class, which starts the server on first use."""
    from redis.backoff import NoBackoff
    from redis.retry import Retry
    options = {"socket_timeout": REDIS_TIMEOUT, "socket_connect_timeout": REDIS_TIMEOUT, "health_check_interval": 30,
               "retry": Retry(NoBackoff(), 1, supported_errors=(redis_lib.exceptions.ConnectionError,)), **extra}
    if not url.startswith("redis+cluster://"):
        options["connection_class"] = breaker_connection_class(url, base_class)
    return options


_connection_classes: dict[tuple, type] = {}


def redis_breaker() -> Breaker | None:
    """The process's breaker for the app's Redis (None on a cluster)."""
    from api.breaker import for_store
    url = get_config().REDIS_URL
    return None if url.startswith("redis+cluster://") else for_store(url)


def breaker_connection_class(url: str, base: type | None = None) -> type:
    """redis-py's connection class for `url` (or `base`), with the process's breaker for that
    URL in front."""
    key = (url, base)
    if key not in _connection_classes:
        from redis.connection import Connection, SSLConnection, UnixDomainSocketConnection

        from api.breaker import for_store
        if base is None:
            base = UnixDomainSocketConnection if url.startswith(("unix://", "redis+unix://")) else \
                SSLConnection if url.startswith("rediss://") else Connection
        _connection_classes[key] = type("BreakerConnection", (_BreakerMixin, base), {"breaker": for_store(url)})
    return _connection_classes[key]


class _BreakerMixin:
    """Connection errors and timeouts open the breaker; an answer closes it; while it is open,
    commands fail at once with a ConnectionError (the app answers 503 REDIS_UNAVAILABLE)."""

    breaker: Breaker

    def _guard(self) -> None:
        if not self.breaker.allows():
            raise redis_lib.exceptions.ConnectionError(
                f"Redis did not answer; next try in {self.breaker.retry_in:.1f} s")

    def connect(self):
        self._guard()
        try:
            return super().connect()  # type: ignore[misc]
        except (redis_lib.exceptions.ConnectionError, redis_lib.exceptions.TimeoutError):
            self.breaker.failed()
            raise

    def send_packed_command(self, command, check_health=True):
        self._guard()
        try:
            return super().send_packed_command(command, check_health)  # type: ignore[misc]
        except (redis_lib.exceptions.ConnectionError, redis_lib.exceptions.TimeoutError):
            self.breaker.failed()
            raise

    def read_response(self, *args, **kwargs):
        try:
            response = super().read_response(*args, **kwargs)  # type: ignore[misc]
        except (redis_lib.exceptions.ConnectionError, redis_lib.exceptions.TimeoutError):
            self.breaker.failed()
            raise
        self.breaker.succeeded()
        return response


def init_redis(url: str, *, connection_class: type | None = None,
               on_connect: Callable | None = None) -> redis_lib.Redis | redis_lib.RedisCluster:
    """The app's Redis client. `on_connect(connection)` runs after every new connection's
    handshake (api.redis_epoch notices a restarted or replaced server that way);
    `connection_class`: the embedded Redis's, which starts the server on first use."""
    options = redis_options(url, connection_class)
    if url.startswith("redis+cluster://"):   # Redis Cluster: any node as the seed (as `limits` spells it)
        from redis.cluster import RedisCluster
        if on_connect is not None:   # the cluster client runs its own handshake, then ours
            options["redis_connect_func"] = on_connect
        return RedisCluster.from_url("redis://" + url[len("redis+cluster://"):], **options)
    if on_connect is not None:       # replaces redis-py's handshake: run it first
        options["redis_connect_func"] = lambda connection: (connection.on_connect(), on_connect(connection))
    return redis_lib.Redis.from_url(url, **options)


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


def get_keyring(*, reload: bool = False):
    """The signing key ring (re-read from KEYS_DIR when it changed, at most every few seconds;
    at once with `reload`, after a rotation this process has not seen yet)."""
    provider = current_app.extensions["ssb.keyring"]
    return provider.reload() if reload else provider.current()


def now() -> int:
    """The clock, replaceable in tests through app.extensions['ssb.clock']."""
    clock = current_app.extensions.get("ssb.clock") or time.time
    return int(clock())
