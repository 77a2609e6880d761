"""E-licence fixtures: operators, staff, departments and residents, all through the real API."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.conftest import bearer
from tests.factories import import_persons, resident_id

ZHANG = resident_id("310101", "19900307", "123")
LI = resident_id("320102", "19851111", "456")
CREDIT_CODE = "91310000MA1FL3XA97"   # GB 32100 check character valid


def _promote(app, phone: str, role: str) -> None:
    result = app.test_cli_runner().invoke(args=["create-admin", "--phone", phone, "--role", role])
    assert result.exit_code == 0, (result.output, result.exception)


@pytest.fixture
def today(clock):
    from api.localtime import local_today
    return lambda: local_today(int(clock()))


@pytest.fixture
def operator(app, login):
    _promote(app, "13911110000", "operator")
    return bearer(login("13911110000", "op-device"))


@pytest.fixture
def staff(app, login):
    _promote(app, "13922220000", "staff")
    return bearer(login("13922220000", "staff-device"))


@pytest.fixture
def register_issuer(client, operator):
    def _register(name="上海市公安局交通警察总队", types=("driving_licence", "vehicle_licence")) -> dict:
        r = client.post("/v1/admin/issuers", headers=operator, json={"name": name, "licence_types": list(types)})
        assert r.status_code == 201, r.json
        return r.json
    return _register


@pytest.fixture
def issuer_token(client):
    def _token(creds: dict) -> dict:
        r = client.post("/v1/issuer/token", json={"client_id": creds["client_id"],
                                                  "client_secret": creds["client_secret"]})
        assert r.status_code == 200, r.json
        return bearer(r.json["access_token"])
    return _token


@pytest.fixture
def police(register_issuer, issuer_token) -> dict:
    """Headers of the traffic police department (driving + vehicle licences)."""
    return issuer_token(register_issuer())


def driving_body(today: date, *, id_number: str = ZHANG, name: str = "张三", region: str = "310000",
                 valid_until: date | None = None, **fields) -> dict:
    return {
        "holder": {"id_type": "resident_id", "id_number": id_number, "name": name},
        "fields": {"vehicle_class": "C1", "first_issue_date": "2012-05-01", "file_number": "310012345678",
                   "address": "上海市黄浦区人民大道200号", **fields},
        "valid_from": (today - timedelta(days=365)).isoformat(),
        "valid_until": (valid_until or today + timedelta(days=365 * 5)).isoformat(),
        "region": region,
    }


@pytest.fixture
def push(client, police, today):
    """push(number="310101...", **overrides) -> response of the department's PUT."""
    def _push(number: str = "DL" + ZHANG, headers=None, licence_type="driving_licence", body=None, **kwargs):
        return client.put(f"/v1/issuer/licences/{licence_type}/{number}", headers=headers or police,
                          json=body or driving_body(today(), **kwargs))
    return _push


@pytest.fixture
def registry(app, tmp_path):
    import_persons(app, tmp_path, [
        {"id_type": "resident_id", "id_number": ZHANG, "name": "张三", "birth_date": "1990-03-07",
         "district": "黄浦区", "hukou": "true"},
        {"id_type": "resident_id", "id_number": LI, "name": "李四", "birth_date": "1985-11-11",
         "district": "", "hukou": "false"},
    ])


@pytest.fixture
def resident(client, login, registry):
    """Zhang San: signed in and real-name verified; returns auth headers."""
    headers = bearer(login("13800138000", "zhang-phone"))
    r = client.post("/v1/me/real-name", headers=headers,
                    json={"name": "张三", "id_type": "resident_id", "id_number": ZHANG})
    assert r.status_code == 200, r.json
    return headers


@pytest.fixture
def other_resident(client, login, registry):
    headers = bearer(login("13700137001", "li-phone"))
    r = client.post("/v1/me/real-name", headers=headers,
                    json={"name": "李四", "id_type": "resident_id", "id_number": LI})
    assert r.status_code == 200, r.json
    return headers


@pytest.fixture
def licence_id(client, push, resident):
    assert push().status_code == 200
    items = client.get("/v1/licences", headers=resident).json["items"]
    assert len(items) == 1
    return items[0]["id"]


@pytest.fixture
def present(client, resident):
    def _present(licence_id: int, fields=("vehicle_class", "holder_name"), purpose="交通执法检查", headers=None):
        r = client.post(f"/v1/licences/{licence_id}/presentations", headers=headers or resident,
                        json={"fields": list(fields), "purpose": purpose})
        assert r.status_code == 201, r.json
        return r.json
    return _present
