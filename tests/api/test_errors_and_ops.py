"""The error envelope on every failure, languages, body limits; health, readiness, metrics."""
import pytest

ENVELOPE_KEYS = {"code", "status", "error", "message", "request_id"}


def _is_envelope(r, status, error):
    assert r.status_code == status, r.data[:300]
    body = r.get_json()
    assert set(body) >= ENVELOPE_KEYS, body
    assert body["code"] == status and body["error"] == error
    assert body["request_id"] == r.headers["X-Request-ID"]
    return body


def test_404_405_413_415_422(client):
    _is_envelope(client.get("/nope"), 404, "NOT_FOUND")
    _is_envelope(client.get("/v1/auth/otp"), 405, "METHOD_NOT_ALLOWED")
    _is_envelope(client.post("/v1/auth/otp", data="x" * (70 * 1024), content_type="application/json"),
                 413, "PAYLOAD_TOO_LARGE")
    _is_envelope(client.post("/v1/auth/otp", data="phone=1", content_type="application/x-www-form-urlencoded"),
                 415, "UNSUPPORTED_MEDIA_TYPE")
    body = _is_envelope(client.post("/v1/auth/otp", json={"phone": 5, "extra": 1}), 422, "VALIDATION_ERROR")
    assert set(body["errors"]) == {"phone", "extra"}


def test_invalid_json_is_400(client):
    _is_envelope(client.post("/v1/auth/otp", data="{not json", content_type="application/json"), 400, "BAD_REQUEST")


def test_429_has_retry_after(client):
    for _ in range(20):
        client.post("/v1/auth/login", json={"phone": "13800138000", "otp": "000000", "device_id": "d"})
    statuses = [client.post("/v1/auth/login", json={"phone": "13800138000", "otp": "000000",
                                                    "device_id": "d"}) for _ in range(11)]
    limited = [r for r in statuses if r.status_code == 429]
    assert limited, "login is limited per IP"
    _is_envelope(limited[0], 429, "RATE_LIMITED")
    assert int(limited[0].headers["Retry-After"]) > 0


def test_500_never_leaks_internals(base_config):
    from wsgi import create_app
    fresh = create_app(base_config)

    @fresh.route("/__boom")
    def boom():
        raise RuntimeError("secret internal detail")

    body = _is_envelope(fresh.test_client().get("/__boom"), 500, "INTERNAL_ERROR")
    assert "secret" not in body["message"]


@pytest.mark.parametrize("header,expected", [
    ("zh-CN,zh;q=0.9,en;q=0.8", "zh"), ("en-US,en;q=0.9", "en"), (None, "en"), ("en;q=0.5, zh-TW", "zh")])
def test_message_language_follows_accept_language(client, header, expected):
    headers = {"Accept-Language": header} if header else {}
    msg = client.get("/nope", headers=headers).json["message"]
    assert (any("\u4e00" <= ch <= "\u9fff" for ch in msg)) == (expected == "zh")


def test_request_id_is_echoed_when_sane(client):
    assert client.get("/healthz", headers={"X-Request-ID": "abc12345-xyz"}).headers["X-Request-ID"] == "abc12345-xyz"
    assert client.get("/healthz", headers={"X-Request-ID": "bad id!"}).headers["X-Request-ID"] != "bad id!"


def test_health_ready_metrics(client, app, monkeypatch):
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["checks"] == {"database": "ok", "redis": "ok"}
    client.get("/v1/me")
    monkeypatch.setattr(app.extensions["ssb.config"], "METRICS_TOKEN", "operators-only")
    metrics = client.get("/metrics", headers={"Authorization": "Bearer operators-only"}).get_data(as_text=True)
    assert 'ssb_http_requests_total{endpoint="/v1/me",method="GET",status="401"}' in metrics
    assert "ssb_http_request_duration_seconds_bucket" in metrics


def test_readyz_names_redis_when_it_is_down(base_config):
    import dataclasses

    from wsgi import create_app
    dead = create_app(dataclasses.replace(base_config, REDIS_URL="redis://127.0.0.1:1/0"))
    client = dead.test_client()
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.json["checks"]["database"] == "ok" and r.json["checks"]["redis"].startswith("unreachable")
    # Requests that need Redis get the envelope with 503, not a 500 and not a hang.
    _is_envelope(client.post("/v1/auth/otp", json={"phone": "13800138000"}), 503, "REDIS_UNAVAILABLE")
    _is_envelope(client.get("/v1/me", headers={"Authorization": "Bearer x.y.z"}), 401, "INVALID_TOKEN")


def test_openapi_documents_every_operation(client):
    spec = client.get("/openapi.json").json
    assert spec["openapi"].startswith("3.")
    assert "bearerAuth" in spec["components"]["securitySchemes"]
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if method == "parameters":
                continue
            assert op.get("summary"), (method, path)
    assert spec["paths"]["/v1/me"]["get"]["security"] == [{"bearerAuth": []}]
    assert "401" in spec["paths"]["/v1/me"]["get"]["responses"]
    assert client.get("/docs").status_code == 200


@pytest.mark.parametrize("escaped", ["a\\u0000b", "a\\udbfbb"])
def test_text_no_database_can_store_is_a_422_not_a_500(client, escaped):
    raw = '{"phone": "%s"}' % escaped          # JSON escapes, as a client would send them
    body = _is_envelope(client.post("/v1/auth/otp", data=raw, content_type="application/json"),
                        422, "VALIDATION_ERROR")
    assert "phone" in body["errors"]


def test_values_the_database_refuses_in_paths_are_client_errors(client, login):
    from tests.conftest import bearer
    headers = bearer(login())
    for path in ["/v1/auth/sessions/%00", "/v1/inbox/99999999999999999999999"]:
        r = client.delete(path, headers=headers) if "sessions" in path else client.get(path, headers=headers)
        assert 400 <= r.status_code < 500, (path, r.status_code)


def test_readyz_and_requests_name_a_database_that_cannot_be_reached(base_config, tmp_path, login):
    """A database that refuses us (here a SQLite file that cannot be opened; on PostgreSQL a
    stopped server) is a 503 envelope on every route, the hot ones included, and readiness says
    which store it is."""
    import dataclasses

    from wsgi import create_app
    unreachable = f"sqlite:///{tmp_path}/no-such-dir/ssb.db" if base_config.DATABASE_URL.startswith("sqlite") \
        else "postgresql+psycopg://ssb:ssb@127.0.0.1:1/ssb"
    tokens = login()
    dead = create_app(dataclasses.replace(base_config, DATABASE_URL=unreachable))
    client = dead.test_client()
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.json["checks"]["database"].startswith("unreachable") and r.json["checks"]["redis"] == "ok"
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    for response in (client.get("/v1/me", headers=auth), client.get("/v1/inbox/unread-count", headers=auth),
                     client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})):
        _is_envelope(response, 503, "DATABASE_UNAVAILABLE")
