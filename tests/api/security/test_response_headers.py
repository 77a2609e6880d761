"""Responses carrying tokens or secrets are never cached (RFC 6749 section 5.1: Cache-Control:
no-store, Pragma: no-cache); every response says X-Content-Type-Options: nosniff. API responses
are no-store unless an operation opts in to caching (the JWKS does)."""
import re

import pytest

from api.extensions import db
from api.identity.sessions import get_or_create_user, start_session
from tests.conftest import bearer

# Operations that may be cached, with the directive they choose.
CACHEABLE = {"/.well-known/jwks.json": "max-age=", "/.well-known/trust-list.json": "max-age="}


def _no_store(response):
    assert "no-store" in response.headers.get("Cache-Control", ""), (response.request.path, response.headers)
    assert response.headers.get("Pragma") == "no-cache"
    assert response.headers.get("X-Content-Type-Options") == "nosniff"


@pytest.fixture
def operator(app):
    with app.app_context():
        now = int(app.extensions["ssb.clock"]())
        user = get_or_create_user("+8613900139555", now=now)
        user.roles = ["resident", "operator", "staff", "issuer-admin"]
        db.session.commit()
        return bearer(start_session(user, device_id="ops", user_agent="pytest", now=now).access_token)


def test_sign_in_and_refresh_are_not_cacheable(client, sms_file):
    from tests.conftest import last_otp
    _no_store(client.post("/v1/auth/otp", json={"phone": "13800138222"}))
    login = client.post("/v1/auth/login", json={"phone": "13800138222", "otp": last_otp(sms_file, "+8613800138222"),
                                                "device_id": "d"})
    assert login.status_code == 200 and "access_token" in login.json
    _no_store(login)
    refreshed = client.post("/v1/auth/refresh", json={"refresh_token": login.json["refresh_token"]})
    assert refreshed.status_code == 200
    _no_store(refreshed)
    _no_store(client.get("/v1/me", headers=bearer(refreshed.json)))


def test_department_registration_and_token_are_not_cacheable(client, operator):
    created = client.post("/v1/admin/issuers", headers=operator,
                          json={"name": "上海市公安局", "licence_types": ["driving_licence"]})
    assert created.status_code == 201 and "client_secret" in created.json
    _no_store(created)
    token = client.post("/v1/issuer/token", json={"client_id": created.json["client_id"],
                                                  "client_secret": created.json["client_secret"]})
    assert token.status_code == 200 and "access_token" in token.json
    _no_store(token)


def test_mini_program_secrets_and_wechat_tokens_are_not_cacheable(client, operator, login):
    mp = client.post("/v1/admin/miniprograms", headers=operator,
                     json={"name": "Parking", "owner_org": "Org", "scopes": ["scope.userinfo"],
                           "request_domain": "https://mp.example.com"})
    assert mp.status_code == 201 and "secret" in mp.json
    _no_store(mp)
    token = client.get("/cgi-bin/token", query_string={"grant_type": "client_credential", "appid": mp.json["appid"],
                                                       "secret": mp.json["secret"]})
    assert "access_token" in token.json
    _no_store(token)
    resident = bearer(login("13800138333"))
    code = client.post(f"/v1/mp/{mp.json['appid']}/login-code", headers=resident)
    _no_store(code)
    session = client.get("/sns/jscode2session", query_string={"appid": mp.json["appid"], "secret": mp.json["secret"],
                                                              "js_code": code.json["code"],
                                                              "grant_type": "authorization_code"})
    assert "session_key" in session.json
    _no_store(session)


def test_every_operation_is_no_store_unless_it_opts_in(client, operator):
    spec = client.get("/openapi.json").json
    checked = 0
    for path, ops in spec["paths"].items():
        url = re.sub(r"\{[^}]+\}", "1", path)
        for method in ops:
            if method == "parameters":
                continue
            response = client.open(url, method=method.upper(), headers=operator, json={})
            assert response.headers.get("X-Content-Type-Options") == "nosniff", (method, path)
            if path in CACHEABLE and response.status_code == 200:
                assert CACHEABLE[path] in response.headers["Cache-Control"]
            else:
                _no_store(response)
            checked += 1
    assert checked >= 40


def test_errors_and_pages_say_nosniff(client):
    _no_store(client.get("/nope"))
    assert client.get("/scan").headers["X-Content-Type-Options"] == "nosniff"
    jwks = client.get("/.well-known/jwks.json")
    assert "max-age" in jwks.headers["Cache-Control"] and jwks.headers["X-Content-Type-Options"] == "nosniff"
