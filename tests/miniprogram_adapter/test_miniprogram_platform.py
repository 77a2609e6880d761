"""Operators register mini-programs; residents consent, list and revoke."""
import re

from tests.conftest import bearer


def test_register_returns_appid_and_secret_once(client, register, app):
    mp = register()
    assert re.fullmatch(r"ssb[0-9a-f]{16}", mp["appid"])
    assert re.fullmatch(r"[0-9a-f]{32}", mp["secret"])
    with app.app_context():
        from api.extensions import db
        from api.miniprograms.models import MiniProgram
        row = db.session.get(MiniProgram, mp["appid"])
        assert row.secret_hash != mp["secret"] and mp["secret"] not in row.secret_hash


def test_register_needs_operator_role(client, resident):
    r = client.post("/v1/admin/miniprograms", headers=resident,
                    json={"name": "x", "owner_org": "o", "scopes": ["scope.phone"]})
    assert r.status_code == 403 and r.json["error"] == "ROLE_REQUIRED"


def test_register_rejects_unknown_scope(client, operator):
    r = client.post("/v1/admin/miniprograms", headers=operator,
                    json={"name": "x", "owner_org": "o", "scopes": ["scope.everything"]})
    assert r.status_code == 422 and "scopes" in r.json["errors"]


def test_rotated_secret_replaces_the_old_one(client, register, operator):
    mp = register()
    r = client.post(f"/v1/admin/miniprograms/{mp['appid']}/secret", headers=operator)
    assert r.status_code == 200 and r.json["secret"] != mp["secret"]
    old = client.get("/cgi-bin/token", query_string={"grant_type": "client_credential", "appid": mp["appid"],
                                                     "secret": mp["secret"]})
    assert old.json["errcode"] == 40125
    new = client.get("/cgi-bin/token", query_string={"grant_type": "client_credential", "appid": mp["appid"],
                                                     "secret": r.json["secret"]})
    assert "access_token" in new.json


def test_rotation_revokes_access_tokens(client, register, operator, app_token):
    mp = register()
    token = app_token(mp)
    client.post(f"/v1/admin/miniprograms/{mp['appid']}/secret", headers=operator)
    r = client.post("/wxa/business/getuserphonenumber", query_string={"access_token": token}, json={"code": "x"})
    assert r.json["errcode"] == 40001


def test_rotate_unknown_app_is_404(client, operator):
    r = client.post("/v1/admin/miniprograms/ssb0000000000000000/secret", headers=operator)
    assert r.status_code == 404 and r.json["error"] == "MP_NOT_FOUND"


def test_consent_only_for_allowed_scopes(client, register, resident):
    mp = register(scopes=["scope.phone"])
    r = client.post(f"/v1/mp/{mp['appid']}/consents", headers=resident, json={"scopes": ["scope.realname"]})
    assert r.status_code == 422 and r.json["error"] == "MP_SCOPE_NOT_ALLOWED"
    r = client.post(f"/v1/mp/{mp['appid']}/consents", headers=resident, json={"scopes": ["scope.phone"]})
    assert r.status_code == 200 and r.json["scopes"] == ["scope.phone"]


def test_consents_are_listed_and_revoked(client, register, resident):
    a, b = register(name="A"), register(name="B")
    client.post(f"/v1/mp/{a['appid']}/consents", headers=resident, json={"scopes": ["scope.phone", "scope.userinfo"]})
    client.post(f"/v1/mp/{a['appid']}/consents", headers=resident, json={"scopes": ["scope.phone"]})   # idempotent
    client.post(f"/v1/mp/{b['appid']}/consents", headers=resident, json={"scopes": ["scope.realname"]})
    items = {i["appid"]: i for i in client.get("/v1/me/consents", headers=resident).json["items"]}
    assert items[a["appid"]]["scopes"] == ["scope.phone", "scope.userinfo"]
    assert items[b["appid"]]["scopes"] == ["scope.realname"] and items[b["appid"]]["name"] == "B"
    assert client.delete(f"/v1/me/consents/{a['appid']}", headers=resident).status_code == 204
    items = client.get("/v1/me/consents", headers=resident).json["items"]
    assert [i["appid"] for i in items] == [b["appid"]]


def test_consents_are_per_resident(client, register, resident, login):
    mp = register()
    client.post(f"/v1/mp/{mp['appid']}/consents", headers=resident, json={"scopes": ["scope.phone"]})
    other = bearer(login("13700137001"))
    assert client.get("/v1/me/consents", headers=other).json["items"] == []


def test_login_code_for_unknown_app_is_404(client, resident):
    r = client.post("/v1/mp/ssb0123456789abcdef/login-code", headers=resident)
    assert r.status_code == 404


def test_phone_code_requires_consent(client, register, resident):
    mp = register()
    r = client.post(f"/v1/mp/{mp['appid']}/phone-code", headers=resident)
    assert r.status_code == 403 and r.json["error"] == "MP_CONSENT_REQUIRED"


def test_resident_endpoints_need_a_bearer_token(client, register):
    mp = register()
    assert client.post(f"/v1/mp/{mp['appid']}/login-code").status_code == 401
    assert client.get("/v1/me/consents").status_code == 401
