"""The Suishenban API: `create_app(config)` wires configuration, stores, blueprints and errors."""
from __future__ import annotations

import logging

import flask_smorest
import redis as redis_lib
from flask import Flask, g, request
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from werkzeug.middleware.proxy_fix import ProxyFix

from api.config import Config
from api.errors import AppError, envelope, prefers_chinese
from api.pii import PiiCipher

log = logging.getLogger("ssb")

# The capabilities' route modules; each exposes `blp`, or `blueprints` for several.
BLUEPRINT_MODULES = (
    "api.identity.routes", "api.identity.me_routes", "api.enterprises.routes", "api.codes.routes",
    "api.codes.venue_routes", "api.keys.routes", "api.licences.routes", "api.notifications.routes",
    "api.ops.routes", "api.family.routes", "api.ratings.routes", "api.trust.routes", "api.proofs.routes",
)


def create_app(config: Config | None = None, plugins: tuple = ()) -> Flask:
    """The API with every capability. `plugins` (push delivery, the mini-program adapter, web
    pages: see wsgi.py) each get `init_app(app, api)` before jobs bind and limits apply."""
    from api import embedded_redis
    from api.codes import holder_cache
    from api.enterprises.registry import enterprise_registry_from_config
    from api.extensions import (
        Api,
        ApiSessionInterface,
        apply_route_limits,
        db,
        init_database,
        init_rate_limiter,
        init_redis,
    )
    from api.identity.auth import authenticate_access_token
    from api.identity.otp import OtpService
    from api.identity.population import registry_from_config
    from api.identity.sms import sms_from_config
    from api.jobs import init_broker
    from api.keyring import KeyRingProvider, ensure_dev_key
    from api.observability import configure_logging, init_request_tracking
    from api.unit_of_work import install as install_unit_of_work

    config = config or Config.from_env()
    configure_logging(config.LOG_LEVEL)
    if not config.REDIS_URL:
        config.REDIS_URL = embedded_redis.ensure_running(config.INSTANCE_DIR)

    app = ApiFlask(__name__, instance_path=config.INSTANCE_DIR)
    app.session_interface = ApiSessionInterface()
    app.config.update(config.flask_settings())
    app.config["RATELIMIT_STORAGE_URI"] = limits_storage_uri(config.REDIS_URL)
    if config.TRUST_PROXY_HOPS:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=config.TRUST_PROXY_HOPS)  # type: ignore[method-assign]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # DefaultJSONProvider: Chinese as is

    app.extensions["ssb.config"] = config
    app.extensions["ssb.pii"] = PiiCipher(config.DATA_KEY)
    redis_client = init_redis(config.REDIS_URL)
    app.extensions["ssb.redis"] = redis_client
    if config.KEYS_DIR.startswith(config.INSTANCE_DIR) or config.TESTING:
        ensure_dev_key(config.KEYS_DIR)
    app.extensions["ssb.keyring"] = KeyRingProvider(config.KEYS_DIR)

    init_database(app)
    init_rate_limiter(app)
    init_request_tracking(app)
    api = Api(app, spec_kwargs={"info": {"description": "Backend of the Suishenban (随申办) super-app."}})
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    register_blueprints(app, api, BLUEPRINT_MODULES)
    app.extensions["ssb.api"] = api
    install_unit_of_work(app, flush_collectors=(holder_cache.collect_changes,))

    app.extensions["ssb.otp"] = OtpService(
        redis=redis_client, rate_limiter=app.extensions["ssb.rate_limiter"], sms=sms_from_config(config.SMS_BACKEND, config.SMS_GATEWAY_KEY),
        secret_key=config.SECRET_KEY, ttl=config.OTP_TTL, max_attempts=config.OTP_MAX_ATTEMPTS,
        cooldown=config.OTP_RESEND_COOLDOWN, daily_cap_per_phone=config.OTP_DAILY_CAP_PER_PHONE,
        hourly_cap_per_ip=config.OTP_HOURLY_CAP_PER_IP)
    app.extensions["ssb.authenticate"] = authenticate_access_token
    app.extensions["ssb.enterprise_registry"] = enterprise_registry_from_config(
        config.ENTERPRISE_REGISTRY_BACKEND, config.ENTERPRISE_REGISTRY_API_KEY or config.REGISTRY_API_KEY,
        session_factory=lambda: db.session, blind_index=app.extensions["ssb.pii"].blind_index)
    app.extensions["ssb.population_registry"] = registry_from_config(
        config.REGISTRY_BACKEND, config.REGISTRY_API_KEY, lambda: db.session,
        blind_index=app.extensions["ssb.pii"].blind_index)

    for plugin in plugins:
        plugin.init_app(app, api)
    apply_route_limits(app)
    app.extensions["ssb.broker"] = init_broker(app, config.BROKER_URL or config.REDIS_URL)
    _register_error_handlers(app, api)
    _register_json_only(app)
    from api.cli import register_cli
    register_cli(app)
    return app


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


# Paths exempt from the JSON Content-Type check; everything else takes JSON only. The
# WeChat-compatible API (miniprogram_adapter) reads JSON whatever the Content-Type, as WeChat does.
FORM_PATHS: tuple[str, ...] = ("/sns/", "/cgi-bin/", "/wxa/", "/ssb/")
