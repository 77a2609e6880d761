"""Mini-program fixtures: an operator, registered apps, residents, and our app served on a
loopback port (for the example backend's real WeChat SDK)."""
from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from api.extensions import db
from api.identity.sessions import get_or_create_user, start_session
from tests.conftest import bearer

ALL_SCOPES = ["scope.userinfo", "scope.phone", "scope.realname", "scope.subscribe_message",
              "scope.licence.driving"]


@pytest.fixture
def operator(app):
    with app.app_context():
        now = int(app.extensions["ssb.clock"]())
        user = get_or_create_user("+8613900139000", now=now)
        user.roles = ["resident", "operator"]
        db.session.commit()
        return bearer(start_session(user, device_id="ops", user_agent="pytest", now=now).access_token)


@pytest.fixture
def register(client, operator):
    def _register(name="Parking", owner_org="Org A", scopes=None, request_domain="https://mp.example.com"):
        r = client.post("/v1/admin/miniprograms", headers=operator,
                        json={"name": name, "owner_org": owner_org, "scopes": ALL_SCOPES if scopes is None else scopes,
                              "request_domain": request_domain})
        assert r.status_code == 201, r.json
        return r.json

    return _register


@pytest.fixture
def resident(login):
    return bearer(login("13800138000"))


@pytest.fixture
def wx_login(client):
    """The whole wx.login → jscode2session dance for one resident and one app."""

    def _wx_login(mp: dict, headers: dict) -> dict:
        r = client.post(f"/v1/mp/{mp['appid']}/login-code", headers=headers)
        assert r.status_code == 201, r.json
        r = client.get("/sns/jscode2session", query_string={"appid": mp["appid"], "secret": mp["secret"],
                                                            "js_code": r.json["code"],
                                                            "grant_type": "authorization_code"})
        assert r.status_code == 200 and "openid" in r.json, r.json
        return r.json

    return _wx_login


@pytest.fixture
def app_token(client):
    def _token(mp: dict) -> str:
        r = client.get("/cgi-bin/token", query_string={"grant_type": "client_credential", "appid": mp["appid"],
                                                       "secret": mp["secret"]})
        assert "access_token" in r.json, r.json
        return r.json["access_token"]

    return _token


@pytest.fixture
def live_server(app):
    """Our app on a loopback port, served by werkzeug in a thread: real HTTP for real SDKs."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
