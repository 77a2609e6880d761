"""The JSON log: one access line per request naming the route template (never the raw path, which
can carry an identity number), request ids exactly as the client got them, secrets redacted by
field and context. Captured by a handler on the root logger with the app's own formatter, and
from a real gunicorn started the way `make run` starts it."""
from __future__ import annotations

import io
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from api.config import PROJECT_ROOT
from tests.factories import resident_id

NUMBER = resident_id(region="310104", birth="19871231", seq="042")
TEMPLATE = "/v1/issuer/licences/<licence_type>/<number>"


@pytest.fixture
def json_log(app):
    """Lines the app's JSON formatter writes, as dicts, for everything logged at INFO and up."""
    from api.observability import RequestIdFilter, json_formatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    finally:
        root.removeHandler(handler)


def _access_lines(lines):
    return [line for line in lines if line.get("name") == "ssb.access"]


def test_request_ids_in_the_log_are_the_ones_the_client_got(client, json_log):
    returned = [client.get("/healthz").headers["X-Request-ID"] for _ in range(200)]
    logged = [line["request_id"] for line in _access_lines(json_log())]
    assert logged == returned


@pytest.mark.parametrize("path", [f"/v1/issuer/licences/resident_id_card/{NUMBER}",
                                  f"/v1/issuer/licences/driving_licence/DL{NUMBER}",
                                  f"/v1/issuer/licences/passport/E{NUMBER[:8]}"])
def test_the_access_log_names_the_route_template_not_the_path(client, json_log, path):
    response = client.put(path, json={}, headers={"Authorization": "Bearer x"})
    assert response.status_code == 401
    lines = json_log()
    access = _access_lines(lines)
    assert len(access) == 1
    assert access[0]["endpoint"] == TEMPLATE and "path" not in access[0]
    secret = path.rsplit("/", 1)[1]
    assert not [line for line in lines if secret in json.dumps(line, ensure_ascii=False)]


def test_an_unmatched_path_is_logged_without_it(client, json_log):
    assert client.get(f"/v1/issuer/licences/resident_id_card/{NUMBER}/x{NUMBER}").status_code == 404
    (access,) = _access_lines(json_log())
    assert access["endpoint"] == "unmatched" and NUMBER not in json.dumps(access)


def test_the_redactor_works_by_field_and_context():
    from api.observability import redact_record
    record = redact_record({
        "message": "sms code 123456 sent; 验证码：654321; order 123456 shipped; bearer eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
        "request_id": "ab123456cd123456ef", "otp": "112233", "code": 445566, "client_secret": "s3cr3t",
        "detail": f"id {NUMBER}, licence DL{NUMBER} /cgi-bin/token?appid=x&secret=s3cr3t", "duration_ms": 123456})
    assert record["request_id"] == "ab123456cd123456ef"
    assert record["otp"] == record["code"] == record["client_secret"] == "[redacted]"
    assert "123456 sent" not in record["message"] and "654321" not in record["message"]
    assert "order 123456 shipped" in record["message"] and "eyJhbGciOi" not in record["message"]
    assert NUMBER not in record["detail"] and "s3cr3t" not in record["detail"]
    assert record["duration_ms"] == 123456


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_a_real_gunicorn_writes_one_access_line_without_the_identity_number(base_config, app):
    """gunicorn as `make run` starts it (api.devserver.gunicorn_command), on the test stores."""
    from api.devserver import gunicorn_command

    port = _free_port()
    env = {**os.environ, "DATABASE_URL": base_config.DATABASE_URL, "REDIS_URL": base_config.REDIS_URL,
           "INSTANCE_DIR": base_config.INSTANCE_DIR, "KEYS_DIR": base_config.KEYS_DIR,
           "SECRET_KEY": base_config.SECRET_KEY, "DATA_KEY": base_config.DATA_KEY, "SMS_BACKEND": "console",
           "PYTHONUNBUFFERED": "1"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    command = gunicorn_command(os.path.dirname(sys.executable), bind=f"127.0.0.1:{port}", workers=1)
    proc = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(base + "/healthz", timeout=1)
                break
            except httpx.HTTPError:
                assert proc.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        response = httpx.put(f"{base}/v1/issuer/licences/resident_id_card/{NUMBER}", json={},
                             headers={"Authorization": "Bearer x", "X-Request-ID": "gunicorn-log-check"})
        assert response.status_code == 401
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        output = proc.communicate(timeout=20)[0].decode("utf-8", "replace")
    assert NUMBER not in output
    mentions = [line for line in output.splitlines() if "gunicorn-log-check" in line or "/v1/issuer" in line]
    assert len(mentions) == 1, mentions           # one access log: ours
    assert json.loads(mentions[0])["endpoint"] == TEMPLATE
