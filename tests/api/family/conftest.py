"""Family fixtures: a registry naming a parent as a child's guardian, elders with and without an
account, a stranger; venues with a clerk and with scanning staff. All through the real CLI and API."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from tests.conftest import bearer
from tests.factories import import_persons, resident_id

SHANGHAI = timezone(timedelta(hours=8))
PARENT = resident_id("310101", "19850505", "111")
OTHER_PARENT = resident_id("310104", "19860606", "222")
STRANGER = resident_id("310105", "19880808", "333")
ELDER = resident_id("310106", "19500101", "444")           # has an account
ELDER_NO_PHONE = resident_id("310107", "19450202", "555")  # no account: agrees in person
ADULT = resident_id("310108", "19800303", "666")           # 40-something: not an elder
PHONES = {"parent": "13900000011", "other_parent": "13900000012", "stranger": "13900000033",
          "elder": "13900000022"}


def shanghai_today() -> date:
    return datetime.now(SHANGHAI).date()


def born_years_ago(years: int, *, days_until_birthday: int = 100) -> date:
    """A birth date whose `years`th birthday is `days_until_birthday` from today (Shanghai)."""
    birthday = shanghai_today() + timedelta(days=days_until_birthday)
    try:
        return birthday.replace(year=birthday.year - years)
    except ValueError:     # 29 February
        return (birthday - timedelta(days=1)).replace(year=birthday.year - years)


CHILD_BORN = born_years_ago(10)
TEEN_BORN = born_years_ago(18, days_until_birthday=3)   # comes of age in three days
CHILD = resident_id("310101", CHILD_BORN.strftime("%Y%m%d"), "771")
TEEN = resident_id("310101", TEEN_BORN.strftime("%Y%m%d"), "772")


def person(number: str, name: str, born: date | str, **extra) -> dict:
    return {"id_type": "resident_id", "id_number": number, "name": name, "birth_date": str(born),
            "district": "黄浦区", "hukou": "1", **extra}


@pytest.fixture
def registry(app, tmp_path):
    import_persons(app, tmp_path, [
        person(PARENT, "王芳", "1985-05-05"),
        person(OTHER_PARENT, "陈刚", "1986-06-06"),
        person(STRANGER, "周强", "1988-08-08"),
        person(ELDER, "赵建国", "1950-01-01", medical_insurance="active"),
        person(ELDER_NO_PHONE, "钱桂英", "1945-02-02", medical_insurance="active"),
        person(ADULT, "孙丽", "1980-03-03"),
        person(CHILD, "王小明", CHILD_BORN, guardian_id_numbers=f"{PARENT};{OTHER_PARENT}", medical_insurance="active"),
        person(TEEN, "王大明", TEEN_BORN, guardian_id_numbers=PARENT),
    ])


def _verified(client, login, phone: str, name: str, number: str) -> dict:
    headers = bearer(login(phone, device_id=f"dev-{phone}"))
    r = client.post("/v1/me/real-name", headers=headers, json={"name": name, "id_type": "resident_id",
                                                                "id_number": number})
    assert r.status_code == 200, r.json
    return headers


@pytest.fixture
def parent(client, login, registry):
    return _verified(client, login, PHONES["parent"], "王芳", PARENT)


@pytest.fixture
def other_parent(client, login, registry):
    return _verified(client, login, PHONES["other_parent"], "陈刚", OTHER_PARENT)


@pytest.fixture
def stranger(client, login, registry):
    return _verified(client, login, PHONES["stranger"], "周强", STRANGER)


@pytest.fixture
def elder(client, login, registry):
    return _verified(client, login, PHONES["elder"], "赵建国", ELDER)


@pytest.fixture
def add_dependent(client):
    """add_dependent(headers, number, name, relation) -> response."""
    def _add(headers, number: str = CHILD, name: str = "王小明", relation: str = "minor_child"):
        return client.post("/v1/me/dependents", headers=headers,
                           json={"name": name, "id_type": "resident_id", "id_number": number, "relation": relation})
    return _add


@pytest.fixture
def child_link(parent, add_dependent) -> str:
    r = add_dependent(parent)
    assert r.status_code == 201, r.json
    return r.json["id"]


@pytest.fixture
def elder_link(client, parent, elder, add_dependent) -> str:
    """The parent acts for the elder (who agreed in the app)."""
    r = add_dependent(parent, ELDER, "赵建国", "elder")
    assert r.status_code == 201, r.json
    r = client.post(f"/v1/me/guardians/{r.json['id']}/approve", headers=elder)
    assert r.status_code == 200, r.json
    return r.json["id"]


@pytest.fixture
def operator(app, login):
    r = app.test_cli_runner().invoke(args=["create-admin", "--phone", "+8613900000099"])
    assert r.exit_code == 0, r.output
    return bearer(login("13900000099", device_id="op"))


@pytest.fixture
def make_venue(client, operator):
    def _make(kind: str, name: str, scenes=None) -> dict:
        body = {"name": name, "address": "人民大道 1 号", "district": "黄浦区", "kind": kind}
        if scenes:
            body["scenes"] = scenes
        r = client.post("/v1/admin/venues", headers=operator, json=body)
        assert r.status_code == 201, r.json
        return r.json
    return _make


def grant(client, operator, venue: dict, phone: str, scenes) -> None:
    r = client.post(f"/v1/admin/venues/{venue['id']}/staff", headers=operator, json={"phone": phone, "scenes": scenes})
    assert r.status_code == 200, r.json


@pytest.fixture
def centre(make_venue):
    return make_venue("community", "黄浦区社区事务受理服务中心")


@pytest.fixture
def clerk(client, login, operator, centre):
    grant(client, operator, centre, "13900000077", ["general"])
    return bearer(login("13900000077", device_id="clerk"))


@pytest.fixture
def station(make_venue):
    return make_venue("transit", "人民广场站")


@pytest.fixture
def hospital(make_venue):
    return make_venue("hospital", "瑞金医院", scenes=["general", "medical"])


@pytest.fixture
def scanner(client, login, operator, station, hospital):
    """Staff who scan at the station (general, transport) and the hospital (medical)."""
    grant(client, operator, station, "13900000088", ["general", "transport"])
    grant(client, operator, hospital, "13900000088", ["general", "medical"])
    return bearer(login("13900000088", device_id="scanner"))


@pytest.fixture
def code_for(client):
    """code_for(headers, link_id, scene) -> the first code's payload (asserts 200)."""
    def _code(headers, link_id: str, scene: str = "general") -> str:
        r = client.get(f"/v1/codes/suishen?scene={scene}&for={link_id}", headers=headers)
        assert r.status_code == 200, r.json
        return r.json["codes"][0]["payload"]
    return _code


@pytest.fixture
def scan(client, scanner, station):
    def _scan(payload: str, venue: dict | None = None):
        return client.post("/v1/verify", headers=scanner, json={"payload": payload,
                                                                "venue_id": (venue or station)["id"]})
    return _scan
