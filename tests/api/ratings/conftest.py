"""好差评 fixtures: residents, an operator, two venues each with its staff, a mini-program, and
services the residents received (check-ins, code scans, a mini-program's read) — all made
through the real API and CLI, so every access record is a real one."""
from __future__ import annotations

import pytest

from tests.conftest import bearer
from tests.factories import import_persons, resident_id

ZHANG = resident_id(seq="123")
RESIDENT = "13900000001"          # 张三, real-name verified
OTHER_RESIDENT = "13900000002"
STAFF = "13900000009"
OTHER_STAFF = "13900000008"
OPERATOR = "+8613900000099"


@pytest.fixture
def operator(app, login):
    r = app.test_cli_runner().invoke(args=["create-admin", "--phone", OPERATOR])
    assert r.exit_code == 0, r.output
    return bearer(login(OPERATOR[3:], device_id="op"))


@pytest.fixture
def resident(client, app, tmp_path, login):
    import_persons(app, tmp_path, [
        {"id_type": "resident_id", "id_number": ZHANG, "name": "张三", "birth_date": "1990-03-07",
         "district": "黄浦区", "hukou": "1"}])
    headers = bearer(login(RESIDENT))
    r = client.post("/v1/me/real-name", headers=headers,
                    json={"name": "张三", "id_type": "resident_id", "id_number": ZHANG})
    assert r.status_code == 200, r.json
    return headers


@pytest.fixture
def other_resident(login):
    return bearer(login(OTHER_RESIDENT, device_id="other"))


@pytest.fixture
def make_venue(client, operator):
    def _make(name: str) -> dict:
        r = client.post("/v1/admin/venues", headers=operator,
                        json={"name": name, "address": "人民大道 1 号", "district": "黄浦区", "kind": "government"})
        assert r.status_code == 201, r.json
        # The printed place code (valid for a year), fetched while the operator's token lasts.
        code = client.get(f"/v1/venues/{r.json['id']}/place-code", headers=operator).json["payload"]
        return r.json | {"place_code": code}

    return _make


@pytest.fixture
def venue(make_venue):
    return make_venue("黄浦区行政服务中心")


@pytest.fixture
def other_venue(make_venue):
    return make_venue("徐汇区行政服务中心")


def _grant(client, login, operator, venue, phone, device):
    r = client.post(f"/v1/admin/venues/{venue['id']}/staff", headers=operator,
                    json={"phone": phone, "scenes": ["general"]})
    assert r.status_code == 200, r.json
    return bearer(login(phone, device_id=device))


@pytest.fixture
def staff(client, login, operator, venue):
    return _grant(client, login, operator, venue, STAFF, "scanner")


@pytest.fixture
def other_staff(client, login, operator, other_venue):
    return _grant(client, login, operator, other_venue, OTHER_STAFF, "scanner-2")


def newest_access_id(client, headers) -> int:
    items = client.get("/v1/me/access-log", headers=headers).json["items"]
    return items[0]["id"]


@pytest.fixture
def check_in(client):
    """check_in(resident_headers, venue) -> the access-log id of the check-in."""

    def _check_in(headers, venue) -> int:
        r = client.post("/v1/checkins", headers=headers, json={"payload": venue["place_code"]})
        assert r.status_code == 201, r.json
        return newest_access_id(client, headers)

    return _check_in


@pytest.fixture
def code_scan(client, staff, venue):
    """code_scan(resident_headers) -> the access-log id of the venue's staff scanning my code."""

    def _scan(headers) -> int:
        code = client.get("/v1/codes/suishen?scene=general", headers=headers).json["codes"][0]["payload"]
        r = client.post("/v1/verify", headers=staff, json={"payload": code, "venue_id": venue["id"]})
        assert r.status_code == 200 and r.json["valid"], r.json
        return newest_access_id(client, headers)

    return _scan


@pytest.fixture
def miniprogram(client, operator):
    r = client.post("/v1/admin/miniprograms", headers=operator,
                    json={"name": "停车缴费", "owner_org": "Org A", "scopes": ["scope.phone"],
                          "request_domain": "https://mp.example.com"})
    assert r.status_code == 201, r.json
    return r.json


@pytest.fixture
def miniprogram_read(client, miniprogram):
    """miniprogram_read(resident_headers) -> the access-log id of the mini-program reading my phone."""

    def _read(headers) -> int:
        appid = miniprogram["appid"]
        client.post(f"/v1/mp/{appid}/consents", headers=headers, json={"scopes": ["scope.phone"]})
        token = client.get("/cgi-bin/token", query_string={"grant_type": "client_credential", "appid": appid,
                                                           "secret": miniprogram["secret"]}).json["access_token"]
        code = client.post(f"/v1/mp/{appid}/phone-code", headers=headers).json["code"]
        r = client.post("/wxa/business/getuserphonenumber", query_string={"access_token": token},
                        json={"code": code})
        assert r.json["errcode"] == 0, r.json
        return newest_access_id(client, headers)

    return _read


@pytest.fixture
def rate(client):
    def _rate(headers, access_id: int, stars: int = 5, tags=(), comment: str | None = None):
        return client.post("/v1/ratings", headers=headers,
                           json={"access_id": access_id, "stars": stars, "tags": list(tags), "comment": comment})

    return _rate
