"""Real-name verification against the population registry; identity numbers encrypted at rest."""
import pytest
from sqlalchemy import text

from tests.conftest import bearer
from tests.factories import import_persons, resident_id

ZHANG = resident_id("310101", "19900307", "123")


@pytest.fixture
def registry(app, tmp_path):
    import_persons(app, tmp_path, [
        {"id_type": "resident_id", "id_number": ZHANG, "name": "张三", "birth_date": "1990-03-07",
         "district": "黄浦区", "hukou": "true"},
        {"id_type": "passport", "id_number": "E12345678", "name": "John Smith", "birth_date": "1985-01-01",
         "district": "", "hukou": "false"},
    ])


def test_verified_name_and_number_are_masked_in_me(client, login, registry):
    tokens = login()
    r = client.post("/v1/me/real-name", headers=bearer(tokens),
                    json={"name": "张三", "id_type": "resident_id", "id_number": ZHANG})
    assert r.status_code == 200, r.json
    me = client.get("/v1/me", headers=bearer(tokens)).json
    assert me["phone"] == "138****8000"
    assert me["real_name"]["verified"] is True
    assert me["real_name"]["name"] == "*三"
    assert me["real_name"]["id_number"] == "3101**********" + ZHANG[-4:]
    assert ZHANG not in r.text and "张三" not in r.text


def test_passport_holders_verify_too(client, login, registry):
    r = client.post("/v1/me/real-name", headers=bearer(login()),
                    json={"name": "John Smith", "id_type": "passport", "id_number": "e12345678"})
    assert r.status_code == 200, r.json


def test_identity_number_is_not_stored_in_clear(client, login, registry, app):
    client.post("/v1/me/real-name", headers=bearer(login()),
                json={"name": "张三", "id_type": "resident_id", "id_number": ZHANG})
    from api.extensions import db
    with app.app_context():
        for table in ("users", "persons"):
            rows = db.session.execute(text(f"SELECT * FROM {table}")).all()
            dump = repr(rows)
            assert ZHANG not in dump and ZHANG[:17] not in dump, table
            assert ZHANG.encode() not in b"".join(v for r in rows for v in r if isinstance(v, (bytes, memoryview)))


@pytest.mark.parametrize("number,why", [
    (ZHANG[:-1] + ("0" if ZHANG[-1] != "0" else "1"), "check digit"),
    ("310101199002301234", "impossible date"),
    ("31010119900307123", "too short"),
    ("310101300001011234", "future"),
])
def test_bad_resident_ids_are_refused_before_any_lookup(client, login, registry, number, why):
    r = client.post("/v1/me/real-name", headers=bearer(login()),
                    json={"name": "张三", "id_type": "resident_id", "id_number": number})
    assert r.status_code == 422 and r.json["error"] == "INVALID_ID_NUMBER", why


def test_wrong_name_and_unknown_number_look_the_same(client, login, registry):
    tokens = login()
    wrong_name = client.post("/v1/me/real-name", headers=bearer(tokens),
                             json={"name": "李四", "id_type": "resident_id", "id_number": ZHANG})
    unknown = client.post("/v1/me/real-name", headers=bearer(tokens),
                          json={"name": "李四", "id_type": "resident_id", "id_number": resident_id(seq="999")})
    assert wrong_name.status_code == unknown.status_code == 422
    assert wrong_name.json["error"] == unknown.json["error"] == "REAL_NAME_MISMATCH"


def test_attempts_are_capped_per_account(client, login, registry):
    tokens = login()
    codes = [client.post("/v1/me/real-name", headers=bearer(tokens),
                         json={"name": "王五", "id_type": "resident_id", "id_number": ZHANG}).status_code
             for _ in range(6)]
    assert codes == [422] * 5 + [429]


def test_one_identity_one_account(client, login, registry):
    body = {"name": "张三", "id_type": "resident_id", "id_number": ZHANG}
    assert client.post("/v1/me/real-name", headers=bearer(login("13800138000")), json=body).status_code == 200
    r = client.post("/v1/me/real-name", headers=bearer(login("13900139000")), json=body)
    assert r.status_code == 409 and r.json["error"] == "REAL_NAME_TAKEN"
