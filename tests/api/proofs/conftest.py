"""E-proof fixtures: residents, an operator and departments, all through the real API and CLI."""
from __future__ import annotations

import pytest

from tests.conftest import bearer
from tests.factories import import_persons, resident_id

ZHANG = resident_id("310101", "19900307", "123")    # 黄浦区, Shanghai hukou: instant proofs
LI = resident_id("320102", "19851111", "456")       # no district on record: nothing instant
WANG = resident_id("310104", "19750505", "789")     # signed in, never real-name verified
ZHANG_PHONE, LI_PHONE, WANG_PHONE = "13800138000", "13700137001", "13600136002"


@pytest.fixture
def registry(app, tmp_path):
    import_persons(app, tmp_path, [
        {"id_type": "resident_id", "id_number": ZHANG, "name": "张三", "birth_date": "1990-03-07",
         "district": "黄浦区", "hukou": "true"},
        {"id_type": "resident_id", "id_number": LI, "name": "李四", "birth_date": "1985-11-11",
         "district": "", "hukou": "false"},
        {"id_type": "resident_id", "id_number": WANG, "name": "王五", "birth_date": "1975-05-05",
         "district": "徐汇区", "hukou": "true"},
    ])


def _verified(client, login, phone: str, name: str, number: str) -> dict:
    headers = bearer(login(phone, f"{phone}-device"))
    r = client.post("/v1/me/real-name", headers=headers, json={"name": name, "id_type": "resident_id",
                                                               "id_number": number})
    assert r.status_code == 200, r.json
    return headers


@pytest.fixture
def resident(client, login, registry):
    """Zhang San, real-name verified; auth headers."""
    return _verified(client, login, ZHANG_PHONE, "张三", ZHANG)


@pytest.fixture
def other_resident(client, login, registry):
    """Li Si, real-name verified; auth headers."""
    return _verified(client, login, LI_PHONE, "李四", LI)


@pytest.fixture
def unverified(login, registry):
    return bearer(login(WANG_PHONE, "wang-device"))


@pytest.fixture
def operator(app, login):
    result = app.test_cli_runner().invoke(args=["create-admin", "--phone", "13911110000", "--role", "operator"])
    assert result.exit_code == 0, (result.output, result.exception)
    return bearer(login("13911110000", "op-device"))


@pytest.fixture
def department(client, operator):
    """department(name, proof_types, licence_types=()) -> issuer-token headers of a new department."""
    def _department(name: str, proof_types=(), licence_types=()) -> dict:
        r = client.post("/v1/admin/issuers", headers=operator,
                        json={"name": name, "proof_types": list(proof_types), "licence_types": list(licence_types)})
        assert r.status_code == 201, r.json
        r = client.post("/v1/issuer/token", json={"client_id": r.json["client_id"],
                                                  "client_secret": r.json["client_secret"]})
        assert r.status_code == 200, r.json
        return bearer(r.json["access_token"])
    return _department


@pytest.fixture
def police(department):
    """The public security bureau: decides no-criminal-record and residence proofs."""
    return department("上海市公安局", proof_types=("no_criminal_record", "residence"))


@pytest.fixture
def civil_affairs(department):
    return department("上海市民政局", proof_types=("marital_status",))


def ask(client, headers, proof_type: str, purpose: str = "出国签证") -> dict:
    r = client.post("/v1/proofs/requests", headers=headers, json={"type": proof_type, "purpose": purpose})
    assert r.status_code == 201, r.json
    return r.json


NO_RECORD = {"conclusion": "none_found", "checked_on": "2026-11-30", "destination": "法国"}


def issue(client, headers, request_id: int, fields=None, valid_days=None):
    body = {"fields": NO_RECORD if fields is None else fields}
    if valid_days is not None:
        body["valid_days"] = valid_days
    return client.post(f"/v1/issuer/proof-requests/{request_id}/issue", headers=headers, json=body)


@pytest.fixture
def issued_proof(client, resident, police) -> dict:
    """A no-criminal-record proof the police issued to Zhang San: GET /v1/proofs/{id} answer."""
    request = ask(client, resident, "no_criminal_record")
    r = issue(client, police, request["id"], valid_days=30)
    assert r.status_code == 201, r.json
    r = client.get(f"/v1/proofs/{r.json['id']}", headers=resident)
    assert r.status_code == 200, r.json
    return r.json


def inbox_titles(client, headers) -> list[str]:
    r = client.get("/v1/inbox", headers=headers)
    assert r.status_code == 200, r.json
    return [m["translations"]["zh-CN"]["title"] + " | " + m["translations"]["zh-CN"]["body"] for m in r.json["items"]]


def access_log(client, headers, kind: str) -> list[dict]:
    r = client.get(f"/v1/me/access-log?kind={kind}", headers=headers)
    assert r.status_code == 200, r.json
    return r.json["items"]
