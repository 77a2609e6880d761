"""The WeChat-compatible server API, in-process: shapes, errcodes, pairwise ids, consent, access log."""
import importlib.util

import pytest

from tests.conftest import bearer


def _code(client, mp, headers):
    return client.post(f"/v1/mp/{mp['appid']}/login-code", headers=headers).json["code"]


def _session(client, mp, code, **over):
    q = {"appid": mp["appid"], "secret": mp["secret"], "js_code": code, "grant_type": "authorization_code"} | over
    return client.get("/sns/jscode2session", query_string=q)


def test_jscode2session_shape(client, register, resident, wx_login):
    s = wx_login(register(), resident)
    assert set(s) == {"openid", "session_key", "unionid"}
    assert len(s["openid"]) == 28 and len(s["session_key"]) == 24


def test_openid_is_pairwise_and_unionid_per_owner(client, register, resident, wx_login):
    a1, a2, b = register(name="A1", owner_org="Org A"), register(name="A2", owner_org="Org A"), \
        register(name="B", owner_org="Org B")
    s1, s2, s3 = wx_login(a1, resident), wx_login(a2, resident), wx_login(b, resident)
    assert len({s1["openid"], s2["openid"], s3["openid"]}) == 3
    assert s1["unionid"] == s2["unionid"] != s3["unionid"]
    assert wx_login(a1, resident)["openid"] == s1["openid"]          # stable


def test_two_residents_get_different_openids(client, register, resident, login, wx_login):
    mp = register()
    assert wx_login(mp, resident)["openid"] != wx_login(mp, bearer(login("13700137002")))["openid"]


def test_code_works_once(client, register, resident):
    mp = register()
    code = _code(client, mp, resident)
    assert "openid" in _session(client, mp, code).json
    r = _session(client, mp, code)
    assert r.status_code == 200 and r.json["errcode"] == 40163


def test_expired_code(client, clock, register, resident):
    mp = register()
    code = _code(client, mp, resident)
    clock.advance(301)
    assert _session(client, mp, code).json["errcode"] == 40029


def test_unknown_code_and_other_apps_code(client, register, resident):
    a, b = register(name="A"), register(name="B")
    assert _session(client, a, "f" * 32).json["errcode"] == 40029
    assert _session(client, a, _code(client, b, resident)).json["errcode"] == 40029


@pytest.mark.parametrize("override, errcode", [
    ({"secret": "0" * 32}, 40125), ({"appid": "ssb0000000000000000"}, 40013), ({"appid": ""}, 41002),
    ({"secret": ""}, 41004), ({"grant_type": "password"}, 40002), ({"js_code": ""}, 41008)])
def test_jscode2session_errcodes(client, register, resident, override, errcode):
    mp = register()
    r = _session(client, mp, _code(client, mp, resident), **override)
    assert r.status_code == 200
    assert r.json["errcode"] == errcode and isinstance(r.json["errmsg"], str)
    assert "error" not in r.json and "code" not in r.json            # never our envelope


def test_access_token_and_expiry(client, clock, register, app_token):
    mp = register()
    r = client.get("/cgi-bin/token", query_string={"grant_type": "client_credential", "appid": mp["appid"],
                                                   "secret": mp["secret"]})
    assert r.json["expires_in"] == 7200 and len(r.json["access_token"]) > 32
    token = r.json["access_token"]
    send = lambda: client.post("/wxa/business/getuserphonenumber", query_string={"access_token": token},  # noqa: E731
                               json={"code": "nope"}).json["errcode"]
    assert send() == 40029                      # token fine, code unknown
    clock.advance(7201)
    assert send() == 42001
    assert client.post("/wxa/business/getuserphonenumber", query_string={"access_token": "bogus"},
                       json={"code": "x"}).json["errcode"] == 40001
    assert client.post("/wxa/business/getuserphonenumber", json={"code": "x"}).json["errcode"] == 41001


def test_token_errcodes(client, register):
    mp = register()
    q = {"grant_type": "client_credential", "appid": mp["appid"], "secret": "f" * 32}
    assert client.get("/cgi-bin/token", query_string=q).json["errcode"] == 40125
    assert client.get("/cgi-bin/token", query_string=q | {"grant_type": "x"}).json["errcode"] == 40002


def test_stable_token_is_stable_until_forced(client, register):
    mp = register()
    body = {"grant_type": "client_credential", "appid": mp["appid"], "secret": mp["secret"]}
    t1 = client.post("/cgi-bin/stable_token", json=body).json["access_token"]
    assert client.post("/cgi-bin/stable_token", json=body).json["access_token"] == t1
    assert client.post("/cgi-bin/stable_token", json=body | {"force_refresh": True}).json["access_token"] != t1


def _phone_code(client, mp, headers):
    r = client.post(f"/v1/mp/{mp['appid']}/phone-code", headers=headers)
    assert r.status_code == 201, r.json
    return r.json["code"]


def test_phone_number_with_consent(client, register, resident, wx_login, app_token):
    mp = register()
    wx_login(mp, resident)
    client.post(f"/v1/mp/{mp['appid']}/consents", headers=resident, json={"scopes": ["scope.phone"]})
    r = client.post("/wxa/business/getuserphonenumber", query_string={"access_token": app_token(mp)},
                    json={"code": _phone_code(client, mp, resident)})
    assert r.json["errcode"] == 0 and r.json["errmsg"] == "ok"
    info = r.json["phone_info"]
    assert info["phoneNumber"] == info["purePhoneNumber"] == "13800138000" and info["countryCode"] == "86"
    assert info["watermark"]["appid"] == mp["appid"]
    log = client.get("/v1/me/access-log", headers=resident).json["items"]
    assert log[0]["kind"] == "miniprogram_release" and log[0]["fields"] == ["phone"]
    assert log[0]["accessor"] == {"type": "miniprogram", "appid": mp["appid"], "name": "Parking"}


def test_phone_refused_after_revocation(client, register, resident, app_token):
    mp = register()
    client.post(f"/v1/mp/{mp['appid']}/consents", headers=resident, json={"scopes": ["scope.phone"]})
    code = _phone_code(client, mp, resident)
    client.delete(f"/v1/me/consents/{mp['appid']}", headers=resident)
    r = client.post("/wxa/business/getuserphonenumber", query_string={"access_token": app_token(mp)},
                    json={"code": code})
    assert r.json["errcode"] == 8800001
    assert client.get("/v1/me/access-log", headers=resident).json["items"] == []


def test_phone_code_is_single_use_and_per_app(client, register, resident, app_token):
    a, b = register(name="A"), register(name="B")
    for mp in (a, b):
        client.post(f"/v1/mp/{mp['appid']}/consents", headers=resident, json={"scopes": ["scope.phone"]})
    code = _phone_code(client, a, resident)
    assert client.post("/wxa/business/getuserphonenumber", query_string={"access_token": app_token(b)},
                       json={"code": code}).json["errcode"] == 40029
    code = _phone_code(client, a, resident)
    token = app_token(a)
    assert client.post("/wxa/business/getuserphonenumber", query_string={"access_token": token},
                       json={"code": code}).json["errcode"] == 0
    assert client.post("/wxa/business/getuserphonenumber", query_string={"access_token": token},
                       json={"code": code}).json["errcode"] == 40163


def test_body_without_content_type_is_read_as_json(client, register, app_token):
    """WeChat SDKs post JSON without a Content-Type; WeChat reads it anyway."""
    mp = register()
    r = client.post("/wxa/business/getuserphonenumber", query_string={"access_token": app_token(mp)},
                    data=b'{"code": "abc"}')
    assert r.json["errcode"] == 40029
    r = client.post("/wxa/business/getuserphonenumber", query_string={"access_token": app_token(mp)})
    assert r.status_code == 200 and r.json["errcode"] == 41008           # no body at all
    r = client.post("/wxa/business/getuserphonenumber", query_string={"access_token": app_token(mp)},
                    data=b'{not json')
    assert r.status_code == 400 and r.json["errcode"] == 47001


def test_wrong_method_and_unknown_path_use_wechat_envelope(client):
    r = client.post("/sns/jscode2session")
    assert r.status_code == 405 and r.json["errcode"] == 43001 and r.headers["Allow"]
    r = client.get("/wxa/business/getuserphonenumber")
    assert r.status_code == 405 and r.json["errcode"] == 43002
    r = client.get("/cgi-bin/nope")
    assert r.status_code == 404 and r.json["errcode"] == 40066


def test_rate_limited_is_45011(client, register, resident, monkeypatch):
    from miniprogram_adapter import common
    monkeypatch.setitem(common.RATES, "app", "3/minute")
    mp = register()
    q = {"grant_type": "client_credential", "appid": mp["appid"], "secret": mp["secret"]}
    codes = [client.get("/cgi-bin/token", query_string=q).json.get("errcode", 0) for _ in range(4)]
    assert codes == [0, 0, 0, 45011]


def test_per_resident_release_limit_is_45011(client, register, resident, app_token, monkeypatch):
    from miniprogram_adapter import common
    monkeypatch.setitem(common.RATES, "resident_release", "2/minute")
    mp = register()
    client.post(f"/v1/mp/{mp['appid']}/consents", headers=resident, json={"scopes": ["scope.phone"]})
    token = app_token(mp)
    codes = [client.post("/wxa/business/getuserphonenumber", query_string={"access_token": token},
                         json={"code": _phone_code(client, mp, resident)}).json["errcode"] for _ in range(3)]
    assert codes == [0, 0, 45011]


def test_backing_store_failure_is_system_busy(client, register, app, monkeypatch):
    import redis
    mp = register()

    def down(*a, **k):
        raise redis.exceptions.ConnectionError("down")

    monkeypatch.setattr(app.extensions["ssb.redis"], "set", down)
    r = client.get("/cgi-bin/token", query_string={"grant_type": "client_credential", "appid": mp["appid"],
                                                   "secret": mp["secret"]})
    assert r.status_code == 200 and r.json["errcode"] == -1 and "error" not in r.json


def _verify_real_name(client, resident, tmp_path, app):
    from tests.factories import import_persons, resident_id
    number = resident_id()
    import_persons(app, tmp_path, [{"id_type": "resident_id", "id_number": number, "name": "张三丰",
                                    "birth_date": "1990-01-01", "district": "黄浦区", "hukou": "true"}])
    r = client.post("/v1/me/real-name", headers=resident,
                    json={"name": "张三丰", "id_type": "resident_id", "id_number": number})
    assert r.status_code == 200, r.json
    return number


def test_realname_extension(client, register, resident, wx_login, app_token, tmp_path, app):
    mp = register()
    openid = wx_login(mp, resident)["openid"]
    url, q = "/ssb/realname/get", {"access_token": app_token(mp)}
    assert client.post(url, query_string=q, json={"openid": openid}).json["errcode"] == 8800001
    client.post(f"/v1/mp/{mp['appid']}/consents", headers=resident, json={"scopes": ["scope.realname"]})
    assert client.post(url, query_string=q, json={"openid": openid}).json["errcode"] == 8800002
    number = _verify_real_name(client, resident, tmp_path, app)
    r = client.post(url, query_string=q, json={"openid": openid}).json
    assert r["errcode"] == 0 and r["realname_info"]["name"] == "张三丰"
    assert number not in str(r) and r["realname_info"]["id_number"].endswith(number[-4:])
    assert client.post(url, query_string=q, json={"openid": "o" + "x" * 27}).json["errcode"] == 40003
    log = client.get("/v1/me/access-log", headers=resident).json["items"]
    assert log[0]["fields"] == ["real_name", "id_number_masked"]


def test_scope_the_app_was_not_granted_is_unauthorized(client, register, resident, wx_login, app_token):
    mp = register(scopes=["scope.phone"])
    openid = wx_login(mp, resident)["openid"]
    r = client.post("/ssb/realname/get", query_string={"access_token": app_token(mp)}, json={"openid": openid})
    assert r.json["errcode"] == 48001


def test_openid_of_another_app_is_invalid(client, register, resident, wx_login, app_token):
    a, b = register(name="A"), register(name="B")
    openid_a = wx_login(a, resident)["openid"]
    r = client.post("/ssb/realname/get", query_string={"access_token": app_token(b)}, json={"openid": openid_a})
    assert r.json["errcode"] == 40003


def test_subscribe_message_needs_consent_and_is_stored(client, register, resident, wx_login, app_token, app):
    mp = register()
    openid = wx_login(mp, resident)["openid"]
    body = {"touser": openid, "template_id": "TPL1", "page": "pages/index", "data": {"thing1": {"value": "到号提醒"}}}
    q = {"access_token": app_token(mp)}
    assert client.post("/cgi-bin/message/subscribe/send", query_string=q, json=body).json["errcode"] == 43101
    client.post(f"/v1/mp/{mp['appid']}/consents", headers=resident, json={"scopes": ["scope.subscribe_message"]})
    r = client.post("/cgi-bin/message/subscribe/send", query_string=q, json=body).json
    assert r["errcode"] == 0 and r["msgid"] > 0
    assert client.post("/cgi-bin/message/subscribe/send", query_string=q,
                       json=body | {"data": "x"}).json["errcode"] == 40097
    bad = client.post("/cgi-bin/message/subscribe/send", query_string=q, json=body | {"touser": 42})
    assert bad.status_code == 400 and bad.json["errcode"] == 40097
    assert client.post("/cgi-bin/message/subscribe/send", query_string=q,
                       json=body | {"template_id": ""}).json["errcode"] == 40037
    with app.app_context():
        from api.extensions import db
        from api.miniprograms.models import MiniProgramMessage
        msg = db.session.get(MiniProgramMessage, r["msgid"])
        assert msg.template_id == "TPL1" and msg.data == {"thing1": {"value": "到号提醒"}}
    if importlib.util.find_spec("api.notifications.inbox") is not None:
        assert msg.status == "delivered"
        inbox = client.get("/v1/inbox", headers=resident).json["items"]
        assert inbox[0]["title"] == "Parking" and "到号提醒" in inbox[0]["body"]
    else:
        assert msg.status == "stored"


def test_licence_extension_answers_an_errcode(client, register, resident, wx_login, app_token):
    mp = register()
    openid = wx_login(mp, resident)["openid"]
    q = {"access_token": app_token(mp)}
    assert client.post("/ssb/licence/get", query_string=q,
                       json={"openid": openid, "type": "driving"}).json["errcode"] == 8800001
    client.post(f"/v1/mp/{mp['appid']}/consents", headers=resident, json={"scopes": ["scope.licence.driving"]})
    r = client.post("/ssb/licence/get", query_string=q, json={"openid": openid, "type": "driving"}).json
    assert r["errcode"] == 8800003          # no such licence
    assert client.post("/ssb/licence/get", query_string=q,
                       json={"openid": openid, "type": "Bad Type!"}).json["errcode"] == 40097


def test_malformed_identifiers_never_reach_the_database(client, register, resident, app_token):
    """NUL bytes and junk ids are answered before any query (PostgreSQL rejects NUL in text)."""
    mp = register()
    assert _session(client, mp, "x", appid="ssb\x00").json["errcode"] == 40013
    q = {"access_token": app_token(mp)}
    assert client.post("/ssb/realname/get", query_string=q, json={"openid": "o\x00"}).json["errcode"] == 40003
    assert client.post("/v1/mp/ssb%00/login-code", headers=resident).status_code == 404
