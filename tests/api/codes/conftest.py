"""随申码 fixtures: residents (plain, verified, veteran), an operator, a venue with staff — all made
through the real API, CLI and services."""
from __future__ import annotations

import pytest

from tests.conftest import bearer
from tests.factories import import_persons, resident_id

ZHANG = resident_id(seq="123")     # verified resident, born 1990
LAO_LI = resident_id(birth="19500101", seq="456")   # veteran, born 1950
RESIDENT = "13900000001"
VETERAN = "13900000002"
STAFF = "13900000009"
OPERATOR = "+8613900000099"


def make_operator(app, phone: str = OPERATOR) -> None:
    r = app.test_cli_runner().invoke(args=["create-admin", "--phone", phone])
    assert r.exit_code == 0, r.output


@pytest.fixture
def persons(app, tmp_path):
    import_persons(app, tmp_path, [
        {"id_type": "resident_id", "id_number": ZHANG, "name": "张三", "birth_date": "1990-03-07",
         "district": "黄浦区", "hukou": "1", "veteran": "false", "medical_insurance": "active"},
        {"id_type": "resident_id", "id_number": LAO_LI, "name": "李老汉", "birth_date": "1950-01-01",
         "district": "徐汇区", "hukou": "1", "veteran": "true", "medical_insurance": "suspended"},
    ])


@pytest.fixture
def operator(app, login):
    make_operator(app)
    return bearer(login(OPERATOR[3:], device_id="op"))


@pytest.fixture
def resident(login):
    return bearer(login(RESIDENT))


@pytest.fixture
def verified_resident(client, login, persons):
    headers = bearer(login(RESIDENT))
    r = client.post("/v1/me/real-name", headers=headers,
                    json={"name": "张三", "id_type": "resident_id", "id_number": ZHANG})
    assert r.status_code == 200, r.json
    return headers


@pytest.fixture
def veteran(client, login, persons):
    headers = bearer(login(VETERAN))
    r = client.post("/v1/me/real-name", headers=headers,
                    json={"name": "李老汉", "id_type": "resident_id", "id_number": LAO_LI})
    assert r.status_code == 200, r.json
    return headers


@pytest.fixture
def make_venue(client, operator):
    def _make(kind: str = "transit", name: str = "人民广场站", scenes=None) -> dict:
        body = {"name": name, "address": "人民大道 1 号", "district": "黄浦区", "kind": kind}
        if scenes:
            body["scenes"] = scenes
        r = client.post("/v1/admin/venues", headers=operator, json=body)
        assert r.status_code == 201, r.json
        return r.json

    return _make


@pytest.fixture
def venue(make_venue):
    return make_venue()


@pytest.fixture
def staff(client, login, operator, venue):
    r = client.post(f"/v1/admin/venues/{venue['id']}/staff", headers=operator,
                    json={"phone": STAFF, "scenes": ["general", "transport", "veteran"]})
    assert r.status_code == 200, r.json
    return bearer(login(STAFF, device_id="scanner"))


@pytest.fixture
def get_code(client):
    def _get(headers, scene: str = "general", count: int = 1) -> str | dict:
        r = client.get(f"/v1/codes/suishen?scene={scene}&count={count}", headers=headers)
        assert r.status_code == 200, r.json
        return r.json["codes"][0]["payload"] if count == 1 else r.json

    return _get


@pytest.fixture
def verify(client, staff, venue):
    def _verify(payload, venue_id: str | None = None, headers=None):
        return client.post("/v1/verify", headers=headers or staff,
                           json={"payload": payload, "venue_id": venue_id or venue["id"]})

    return _verify
