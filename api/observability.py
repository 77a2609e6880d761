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

# Safety net: nothing secret should ever be logged, but if a message carries one it is masked.
_SECRETS = [
    (re.compile(r"eyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]{5,}"), "[jwt]"),               # any JWS/JWT
    (re.compile(r"\brt_[\w-]{20,}"), "[refresh-token]"),
    (re.compile(r"\b\d{17}[\dXx]\b"), "[id-number]"),                             # resident id
    (re.compile(r"(?<![\d.])\d{6}(?![\d.])"), "[6-digits]"),                      # OTPs
    (re.compile(r"(?i)(secret|password|token|session_key|otp|code)=([^&\s]+)"), r"\1=[redacted]"),
]


def redact(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class RedactingJsonFormatter(JsonFormatter):
    def process_log_record(self, log_record):
        for key, value in list(log_record.items()):
            if isinstance(value, str):
                log_record[key] = redact(value)
        return super().process_log_record(log_record)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            record.request_id = getattr(g, "request_id", None)
        except RuntimeError:      # outside a request
            record.request_id = None
        return True


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingJsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                                                rename_fields={"levelname": "level", "asctime": "time"}))
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


access_logger = logging.getLogger("ssb.access")


def init_request_tracking(app: Flask) -> None:
    @app.before_request
    def _start():
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response):
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        elapsed = time.perf_counter() - getattr(g, "started", time.perf_counter())
        REQUESTS.labels(request.method, endpoint, str(response.status_code)).inc()
        LATENCY.labels(endpoint).observe(elapsed)
        response.headers["X-Request-ID"] = getattr(g, "request_id", "")
        # The path only: query strings can carry credentials (WeChat-style access_token=...).
        access_logger.info("request", extra={"method": request.method, "path": request.path,
                                             "endpoint": endpoint, "status": response.status_code,
                                             "duration_ms": round(elapsed * 1000, 2)})
        return response


def render_metrics() -> tuple[bytes, str]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # gunicorn: every worker writes its own files; aggregate them per scrape.
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
