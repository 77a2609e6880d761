"""The example backend (wechatpy, base URL changed) against our server on a loopback port."""
import importlib.util

import pytest
from wechatpy.exceptions import WeChatClientException

from api.config import PROJECT_ROOT


def _load_example():
    path = PROJECT_ROOT / "examples" / "miniprogram_backend" / "app.py"
    spec = importlib.util.spec_from_file_location("example_miniprogram_backend", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


example = _load_example()


@pytest.fixture
def backend(live_server, register):
    """(mp, test client of the example backend, its wechatpy client)."""
    mp = register(name="Parking", owner_org="Org A")
    app = example.create_app(base_url=live_server, appid=mp["appid"], secret=mp["secret"])
    return mp, app.test_client(), app.extensions["wechat"]


def _login(client, backend_client, mp, headers):
    code = client.post(f"/v1/mp/{mp['appid']}/login-code", headers=headers).json["code"]
    r = backend_client.post("/api/login", json={"code": code})
    assert r.status_code == 200, r.json
    return r.json


def test_logs_in_and_reads_phone_with_consent(client, backend, resident):
    mp, backend_client, _ = backend
    session = _login(client, backend_client, mp, resident)
    client.post(f"/v1/mp/{mp['appid']}/consents", headers=resident, json={"scopes": ["scope.phone"]})
    phone_code = client.post(f"/v1/mp/{mp['appid']}/phone-code", headers=resident).json["code"]
    r = backend_client.post("/api/phone", json={"code": phone_code}, headers={"X-Session": session["session"]})
    assert r.status_code == 200, r.json
    assert r.json == {"phone": "13800138000", "country_code": "86"}
    log = client.get("/v1/me/access-log", headers=resident).json["items"]
    assert log[0]["accessor"]["appid"] == mp["appid"] and log[0]["fields"] == ["phone"]


def test_without_consent_the_phone_call_gets_the_consent_errcode(client, backend, resident, app_token):
    mp, backend_client, wechat = backend
    session = _login(client, backend_client, mp, resident)
    # A phone code is only issued with consent; consent then revoked before the backend uses it.
    client.post(f"/v1/mp/{mp['appid']}/consents", headers=resident, json={"scopes": ["scope.phone"]})
    phone_code = client.post(f"/v1/mp/{mp['appid']}/phone-code", headers=resident).json["code"]
    assert client.delete(f"/v1/me/consents/{mp['appid']}", headers=resident).status_code == 204
    r = backend_client.post("/api/phone", json={"code": phone_code}, headers={"X-Session": session["session"]})
    assert r.status_code == 400 and r.json["errcode"] == 8800001
    # Without any consent, even the resident side refuses to issue a phone code.
    assert client.post(f"/v1/mp/{mp['appid']}/phone-code", headers=resident).status_code == 403


def test_reused_and_expired_codes(client, clock, backend, resident):
    mp, backend_client, _ = backend
    code = client.post(f"/v1/mp/{mp['appid']}/login-code", headers=resident).json["code"]
    assert backend_client.post("/api/login", json={"code": code}).status_code == 200
    r = backend_client.post("/api/login", json={"code": code})
    assert r.status_code == 400 and r.json["errcode"] == 40163
    code = client.post(f"/v1/mp/{mp['appid']}/login-code", headers=resident).json["code"]
    clock.advance(301)
    assert backend_client.post("/api/login", json={"code": code}).json["errcode"] == 40029


def test_wrong_secret(client, live_server, register, resident):
    mp = register()
    app = example.create_app(base_url=live_server, appid=mp["appid"], secret="0" * 32)
    code = client.post(f"/v1/mp/{mp['appid']}/login-code", headers=resident).json["code"]
    r = app.test_client().post("/api/login", json={"code": code})
    assert r.status_code == 400 and r.json["errcode"] == 40125


def test_expired_access_token(client, clock, live_server, register, resident):
    mp = register()
    wechat = example.MiniProgramClient(mp["appid"], mp["secret"], base_url=live_server, auto_retry=False)
    token = wechat.fetch_access_token()["access_token"]
    stale = example.MiniProgramClient(mp["appid"], mp["secret"], base_url=live_server, access_token=token,
                                      auto_retry=False)
    clock.advance(7201)
    with pytest.raises(WeChatClientException) as err:
        stale.get_user_phone_number("whatever")
    assert err.value.errcode == 42001
    # With wechatpy's default auto_retry, an expired token is refreshed and the call retried.
    retrying = example.MiniProgramClient(mp["appid"], mp["secret"], base_url=live_server, access_token=token)
    with pytest.raises(WeChatClientException) as err:
        retrying.get_user_phone_number("whatever")
    assert err.value.errcode == 40029            # got past the token: the code is what is wrong


def test_two_apps_different_openids_same_owner_same_unionid(client, live_server, register, resident):
    a1, a2 = register(name="A1", owner_org="Org A"), register(name="A2", owner_org="Org A")
    b = register(name="B", owner_org="Org B")
    seen = {}
    for mp in (a1, a2, b):
        backend_client = example.create_app(base_url=live_server, appid=mp["appid"], secret=mp["secret"]).test_client()
        seen[mp["appid"]] = _login(client, backend_client, mp, resident)
    assert len({s["openid"] for s in seen.values()}) == 3
    assert seen[a1["appid"]]["unionid"] == seen[a2["appid"]]["unionid"] != seen[b["appid"]]["unionid"]


def test_userinfo_realname_and_subscribe_message(client, backend, resident, login):
    mp, backend_client, _ = backend
    session = _login(client, backend_client, mp, resident)
    h = {"X-Session": session["session"]}
    client.post(f"/v1/mp/{mp['appid']}/consents", headers=resident,
                json={"scopes": ["scope.userinfo", "scope.subscribe_message"]})
    bundle = client.get(f"/v1/mp/{mp['appid']}/user-info", headers=resident).json
    r = backend_client.post("/api/userinfo", json={k: bundle[k] for k in ("rawData", "signature", "encryptedData", "iv")},
                            headers=h)
    assert r.status_code == 200 and r.json["user"]["openId"] == session["openid"]
    r = backend_client.post("/api/realname", json={}, headers=h)
    assert r.status_code == 400 and r.json["errcode"] == 8800001
    r = backend_client.post("/api/notify", json={"template_id": "TPL", "data": {"thing1": {"value": "hi"}},
                                                 "page": "pages/a"}, headers=h)
    assert r.status_code == 200 and r.json["msgid"] > 0
