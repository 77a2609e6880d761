"""The Suishenban API: `create_app(config)` wires configuration, stores, blueprints and errors."""
from __future__ import annotations

import logging

import flask_smorest
import redis as redis_lib
from flask import Flask, g, request
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from werkzeug.middleware.proxy_fix import ProxyFix

from api.config import Config
from api.errors import AppError, envelope, prefers_chinese
from api.pii import PiiCipher

log = logging.getLogger("ssb")

API_DESCRIPTION = """Backend of the Suishenban (随申办) super-app: residents sign in by SMS code, show
their 随申码 and e-licences, read their inbox; venue staff verify; departments issue; mini-programs
integrate through a WeChat-compatible API.

**Signing in**: `POST /v1/auth/otp` then `POST /v1/auth/login` answer an access token; send it as
`Authorization: Bearer ...` (the `bearerAuth` scheme). Each operation says who may call it.
Departments use their own issuer tokens (`issuerAuth`); the WeChat-compatible paths use WeChat's
`appid`/`secret` and `access_token` query parameters.

**Errors**: every failure answers one envelope, `{code, status, error, message, errors,
request_id}`; `error` is a stable machine code clients branch on, `message` is zh-CN or en by
`Accept-Language`. Each operation lists the codes it answers (also as `x-error-codes`). Any
operation may also answer `PAYLOAD_TOO_LARGE` (413), `UNSUPPORTED_MEDIA_TYPE` (415, bodies are
JSON), `RATE_LIMITED` (429, with Retry-After), `INTERNAL_ERROR` (500) and `DATABASE_UNAVAILABLE`
or `REDIS_UNAVAILABLE` (503, with Retry-After)."""

# The capabilities' route modules; each exposes `blp`, or `blueprints` for several.
BLUEPRINT_MODULES = (
    "api.identity.routes", "api.identity.me_routes", "api.enterprises.routes", "api.codes.routes",
    "api.codes.venue_routes", "api.keys.routes", "api.licences.routes", "api.notifications.routes",
    "api.ops.routes", "api.family.routes", "api.ratings.routes", "api.trust.routes", "api.proofs.routes",
)


def create_app(config: Config | None = None, plugins: tuple = ()) -> Flask:
    """The API with every capability. `plugins` (push delivery, the mini-program adapter, web
    pages: see wsgi.py) each get `init_app(app, api)` before jobs bind and limits apply."""
    from api.cli import register_cli
    from api.codes import holder_cache
    from api.extensions import apply_route_limits, init_database, init_rate_limiter
    from api.jobs import init_broker
    from api.observability import configure_logging, init_request_tracking
    from api.ops import invalidations
    from api.unit_of_work import install as install_unit_of_work

    config = config or Config.from_env()
    configure_logging(config.LOG_LEVEL)
    app = _flask_app(config)
    _init_stores(app, config)
    init_database(app, config)
    init_rate_limiter(app)
    init_request_tracking(app)
    api = _init_api(app)
    install_unit_of_work(app, flush_collectors=(holder_cache.collect_changes,))
    invalidations.init_app(app)
    _init_services(app, config)

    for plugin in plugins:
        plugin.init_app(app, api)
    apply_route_limits(app)
    app.extensions["ssb.broker"] = init_broker(
        app, config.BROKER_URL or config.REDIS_URL,
        connection_class=None if config.BROKER_URL else app.extensions["ssb.redis_connection_class"],
        heartbeat_timeout_ms=config.BROKER_HEARTBEAT_TIMEOUT_MS, maintenance_chance=config.BROKER_MAINTENANCE_CHANCE)
    _register_error_handlers(app, api)
    _register_json_only(app)
    _register_response_headers(app)
    register_cli(app)
    return app


def _flask_app(config: Config) -> Flask:
    """Flask with the configuration's settings; Redis embedded when no REDIS_URL is set, started
    on first use by whichever of the app's clients connects first (api.embedded_redis): a
    command that needs no Redis starts none."""
    from api import embedded_redis
    from api.extensions import ApiSessionInterface, BoundedJSONProvider, redis_options

    embedded = None
    if not config.REDIS_URL:
        config.REDIS_URL = embedded_redis.url_for(config.INSTANCE_DIR)
        embedded = embedded_redis.connection_class(config.INSTANCE_DIR)

    app = ApiFlask(__name__, instance_path=config.INSTANCE_DIR)
    app.session_interface = ApiSessionInterface()     # bearer tokens only: no cookie session on the API
    app.json = BoundedJSONProvider(app)      # bounded parsing (qr.json_limits); Chinese as is
    app.config.update(config.flask_settings())
    app.config["RATELIMIT_STORAGE_URI"] = limits_storage_uri(config.REDIS_URL)
    # Flask-Limiter and `limits` build their own Redis client: the same timeouts and breaker as ours.
    app.config["RATELIMIT_STORAGE_OPTIONS"] = redis_options(config.REDIS_URL, embedded)
    app.extensions["ssb.redis_connection_class"] = embedded
    if config.TRUST_PROXY_HOPS:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=config.TRUST_PROXY_HOPS)  # type: ignore[method-assign]
    return app


def _init_stores(app: Flask, config: Config) -> None:
    """Configuration, the PII cipher, Redis and the signing key ring on app.extensions."""
    from api.extensions import init_redis
    from api.keyring import KeyRingProvider, ensure_dev_key
    from api.redis_epoch import EpochWatch

    app.extensions["ssb.config"] = config
    app.extensions["ssb.pii"] = PiiCipher(config.DATA_KEY)
    app.extensions["ssb.redis_epoch"] = epoch_watch = EpochWatch()
    app.extensions["ssb.redis"] = init_redis(config.REDIS_URL,
                                             connection_class=app.extensions["ssb.redis_connection_class"],
                                             on_connect=epoch_watch.connected)
    if config.KEYS_DIR.startswith(config.INSTANCE_DIR) or config.TESTING:
        ensure_dev_key(config.KEYS_DIR)
    app.extensions["ssb.keyring"] = KeyRingProvider(config.KEYS_DIR)


def _init_api(app: Flask):
    """The OpenAPI-documented API with every capability's blueprints."""
    from api.extensions import Api

    config = app.extensions["ssb.config"]
    api = Api(app, spec_kwargs={"info": {"description": API_DESCRIPTION},
                                "servers": [{"url": config.PUBLIC_BASE_URL, "description": "PUBLIC_BASE_URL"}]})
    api.spec.components.security_scheme("bearerAuth", {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        "description": "Access token (typ at+jwt) from POST /v1/auth/login or /v1/auth/refresh"})
    register_blueprints(app, api, BLUEPRINT_MODULES)
    app.extensions["ssb.api"] = api
    return api


def _init_services(app: Flask, config: Config) -> None:
    """The services use cases reach through the extensions' accessors: OTP (with its SMS
    sender), the authenticator and the population and enterprise registries."""
    from api.enterprises.registry import enterprise_registry_from_config
    from api.extensions import db
    from api.identity.auth import authenticate_access_token
    from api.identity.otp import OtpService
    from api.identity.population import registry_from_config
    from api.identity.sms import sms_from_config

    blind_index = app.extensions["ssb.pii"].blind_index
    app.extensions["ssb.otp"] = OtpService(
        redis=app.extensions["ssb.redis"], rate_limiter=app.extensions["ssb.rate_limiter"],
        sms=sms_from_config(config.SMS_BACKEND, config.SMS_GATEWAY_KEY),
        secret_key=config.SECRET_KEY, ttl=config.OTP_TTL, max_attempts=config.OTP_MAX_ATTEMPTS,
        cooldown=config.OTP_RESEND_COOLDOWN, daily_cap_per_phone=config.OTP_DAILY_CAP_PER_PHONE,
        hourly_cap_per_ip=config.OTP_HOURLY_CAP_PER_IP, reveal_codes=config.DEV_SHOW_OTP)
    app.extensions["ssb.authenticate"] = authenticate_access_token
    app.extensions["ssb.enterprise_registry"] = enterprise_registry_from_config(
        config.ENTERPRISE_REGISTRY_BACKEND, config.ENTERPRISE_REGISTRY_API_KEY or config.REGISTRY_API_KEY,
        session_factory=lambda: db.session, blind_index=blind_index)
    app.extensions["ssb.population_registry"] = registry_from_config(
        config.REGISTRY_BACKEND, config.REGISTRY_API_KEY, lambda: db.session, blind_index=blind_index)


class ApiFlask(Flask):
    """Flask, remembering which callables are plain functions: `ensure_sync` runs for every view,
    hook and decorator layer of every request (a dozen `inspect` calls per request otherwise)."""

    _sync_callables: dict = {}

    def ensure_sync(self, func):
        key = getattr(func, "__func__", func)
        try:
            plain = self._sync_callables[key]
        except (KeyError, TypeError):
            plain = super().ensure_sync(func) is func
            if len(self._sync_callables) < 10_000:
                try:
                    self._sync_callables[key] = plain
                except TypeError:     # unhashable callable: not remembered
                    pass
        return func if plain else super().ensure_sync(func)


def register_blueprints(app: Flask, api, module_names) -> None:
    """Register every blueprint the modules expose. flask-smorest blueprints join the OpenAPI
    document; plain Flask ones (HTML pages) do not."""
    import importlib
    for name in module_names:
        module = importlib.import_module(name)
        for blp in getattr(module, "blueprints", None) or [module.blp]:
            if isinstance(blp, flask_smorest.Blueprint):
                api.register_blueprint(blp)
            else:
                app.register_blueprint(blp)


def limits_storage_uri(redis_url: str) -> str:
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url[len("unix://"):]
    if redis_url.startswith(("redis+cluster://", "redis://", "rediss://")):
        return redis_url
    raise ValueError(f"unsupported REDIS_URL scheme: {redis_url}")


def _respond(name: str, *, status: int | None = None, errors=None, detail=None, headers=None):
    body = envelope(name, status=status, chinese=prefers_chinese(request.headers.get("Accept-Language")),
                    request_id=getattr(g, "request_id", None), errors=errors, detail=detail)
    return body, body["code"], headers or {}


def _register_error_handlers(app: Flask, api) -> None:
    from api.extensions import db

    @app.errorhandler(AppError)
    def _app_error(exc: AppError):
        db.session.rollback()
        return _respond(exc.error.name, errors=exc.errors, detail=exc.detail, headers=exc.headers)

    @app.errorhandler(redis_lib.exceptions.ConnectionError)
    @app.errorhandler(redis_lib.exceptions.TimeoutError)
    def _redis_down(exc):
        db.session.rollback()
        log.warning("redis unavailable", extra={"error": type(exc).__name__})
        return _respond("REDIS_UNAVAILABLE", headers={"Retry-After": "5"})

    @app.errorhandler(OperationalError)
    @app.errorhandler(DBAPIError)
    def _db_error(exc):
        try:
            db.session.rollback()
        except Exception:  # the connection is gone; the pool discards it
            pass
        if isinstance(exc, DataError):
            # The database refused a value as data (NUL in a path parameter, an integer out of
            # range): the client's bad input, not our failure.
            return _respond("VALIDATION_ERROR")
        if isinstance(exc, IntegrityError):
            # A unique key (or reference) another request changed between our read and our
            # write: the request lost a race, nothing was written; asking again sees the winner.
            log.warning("integrity conflict", extra={"error": type(exc.orig).__name__})
            return _respond("CONFLICT")
        if isinstance(exc, OperationalError) or getattr(exc, "connection_invalidated", False):
            log.warning("database unavailable", extra={"error": type(exc).__name__})
            return _respond("DATABASE_UNAVAILABLE", headers={"Retry-After": "5"})
        log.exception("database error")
        return _respond("INTERNAL_ERROR")

    @app.errorhandler(Exception)
    def _unexpected(exc):
        from werkzeug.exceptions import HTTPException
        if isinstance(exc, HTTPException):
            return api.handle_http_exception(exc)
        db.session.rollback()
        log.exception("unhandled error")
        return _respond("INTERNAL_ERROR")


def _register_json_only(app: Flask) -> None:
    from werkzeug.exceptions import UnsupportedMediaType

    @app.before_request
    def _require_json_body():
        if request.method in ("POST", "PUT", "PATCH") and request.content_length \
                and not request.is_json and not request.path.startswith(FORM_PATHS):
            raise UnsupportedMediaType()


def _register_response_headers(app: Flask) -> None:
    @app.after_request
    def _never_cached_by_default(response):
        """Responses are not stored by any cache unless the operation chose a Cache-Control
        (the JWKS: public, max-age): tokens, secrets and personal data are in most of them
        (RFC 6749 section 5.1). Nothing is sniffed into another content type."""
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        if "Cache-Control" not in headers:
            headers["Cache-Control"] = "no-store"
        if "no-store" in headers["Cache-Control"]:
            headers.setdefault("Pragma", "no-cache")     # HTTP/1.0 caches
        return response


# Paths exempt from the JSON Content-Type check; everything else takes JSON only. The
# WeChat-compatible API (miniprogram_adapter) reads JSON whatever the Content-Type, as WeChat does.
FORM_PATHS: tuple[str, ...] = ("/sns/", "/cgi-bin/", "/wxa/", "/ssb/")
