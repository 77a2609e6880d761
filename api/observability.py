"""Request ids, JSON logs (with secrets redacted) and Prometheus metrics."""
from __future__ import annotations

import logging
import os
import re
import sys
import time
import uuid

from flask import Flask, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from pythonjsonlogger.json import JsonFormatter

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{8,64}$")

REQUESTS = Counter("ssb_http_requests_total", "HTTP requests", ["method", "endpoint", "status"])
LATENCY = Histogram("ssb_http_request_duration_seconds", "HTTP request latency", ["endpoint"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))

# Redaction, by field and by context. Nothing secret should be logged in the first place; this
# is the safety net. Fields we write ourselves (request ids, routes, timings) are never rewritten;
# known secret fields are masked whole; other text is masked only where a pattern means a secret.
STRUCTURAL_FIELDS = frozenset({"time", "level", "name", "request_id", "method", "endpoint", "status",
                               "duration_ms", "taskName"})
SECRET_FIELDS = frozenset({"otp", "code", "js_code", "secret", "client_secret", "password", "token",
                           "access_token", "refresh_token", "session_key", "id_number", "authorization"})
REDACTED = "[redacted]"
_SECRETS = [
    (re.compile(r"eyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]{5,}"), "[jwt]"),               # any JWS/JWT
    (re.compile(r"\brt_[\w-]{20,}"), "[refresh-token]"),
    (re.compile(r"(?<!\d)\d{17}[\dXx](?![\dA-Za-z])"), "[id-number]"),  # resident id, even in "DL3101..."
    # A six-digit one-time code only where the text says it is one ("code 123456", "验证码：123456").
    (re.compile(r"(?i)(\botp|\bcode|验证码|passcode)([\s:=：\"'是为]{0,4})\d{6}(?!\d)"), r"\1\2[otp]"),
    (re.compile(r"(?i)(secret|password|token|session_key|otp|code)=([^&\s]+)"), r"\1=[redacted]"),
]


def redact(text: str) -> str:
    """Mask secrets in free text (messages, exception text) by pattern and context."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def redact_record(record: dict) -> dict:
    """A log record's fields: structural ones as they are, secret fields masked whole, other
    text through `redact`."""
    out = {}
    for key, value in record.items():
        if key in STRUCTURAL_FIELDS:
            out[key] = value
        elif key.lower() in SECRET_FIELDS:
            out[key] = REDACTED
        elif isinstance(value, str):
            out[key] = redact(value)
        else:
            out[key] = value
    return out


class RedactingJsonFormatter(JsonFormatter):
    def process_log_record(self, log_record):
        return super().process_log_record(redact_record(log_record))


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            record.request_id = getattr(g, "request_id", None)
        except RuntimeError:      # outside a request
            record.request_id = None
        return True


def json_formatter() -> logging.Formatter:
    return RedactingJsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                                  rename_fields={"levelname": "level", "asctime": "time"})


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(json_formatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


access_logger = logging.getLogger("ssb.access")
_CONVERTER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
_templates: dict[str, str] = {}


def route_template(rule: str) -> str:
    """`/v1/issuer/licences/<string:licence_type>/<string:number>` ->
    `/v1/issuer/licences/<licence_type>/<number>` (the label in logs and metrics)."""
    template = _templates.get(rule)
    if template is None:
        template = _templates[rule] = _CONVERTER.sub(r"<\1>", rule)
    return template


def init_request_tracking(app: Flask) -> None:
    @app.before_request
    def _start():
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response):
        endpoint = route_template(request.url_rule.rule) if request.url_rule else "unmatched"
        elapsed = time.perf_counter() - getattr(g, "started", time.perf_counter())
        REQUESTS.labels(request.method, endpoint, str(response.status_code)).inc()
        LATENCY.labels(endpoint).observe(elapsed)
        response.headers["X-Request-ID"] = getattr(g, "request_id", "")
        # The route template, never the path: paths carry identity and licence numbers
        # (PUT /v1/issuer/licences/resident_id_card/<number>), query strings credentials.
        # This is the one access log (gunicorn's is off: see api.devserver).
        access_logger.info("request", extra={"method": request.method, "endpoint": endpoint,
                                             "status": response.status_code,
                                             "duration_ms": round(elapsed * 1000, 2)})
        return response


def render_metrics() -> tuple[bytes, str]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # gunicorn: every worker writes its own files; aggregate them per scrape.
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
