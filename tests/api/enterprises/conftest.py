"""Enterprise fixtures: a population registry with four residents, an enterprise registry
loaded through the real CLI, and residents verified through the real API."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from api.enterprises.credit_codes import check_char
from tests.conftest import bearer
from tests.factories import import_persons, resident_id


def credit_code(first17: str) -> str:
    return first17 + check_char(first17)


ACME = credit_code("91310101MA1FL0001")       # 上海示例科技有限公司
OTHER = credit_code("91310115MA1K3YJ12")
ZHANG = resident_id(seq="123")   # ACME's legal representative
LI = resident_id(seq="234")
WANG = resident_id(seq="345")
ZHAO = resident_id(seq="456")
PEOPLE = {"13800000001": ("张三", ZHANG), "13800000002": ("李四", LI), "13800000003": ("王五", WANG),
          "13800000004": ("赵六", ZHAO)}
ENTERPRISE_COLUMNS = ["credit_code", "name", "legal_rep_id_number", "district", "industry", "size"]


def write_enterprises_csv(path: Path, rows: list[dict]) -> Path:
    columns = ENTERPRISE_COLUMNS + sorted({k for r in rows for k in r} - set(ENTERPRISE_COLUMNS))
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def acme_row(legal_rep: str = ZHANG, **extra) -> dict:
    return {"credit_code": ACME, "name": "上海示例科技有限公司", "legal_rep_id_number": legal_rep,
            "district": "黄浦区", "industry": "软件和信息技术服务业", "size": "small", "founded_on": "2015-06-01",
            **extra}


@pytest.fixture
def import_enterprises(app, tmp_path):
    counter = iter(range(1000))

    def _import(rows: list[dict]):
        path = write_enterprises_csv(tmp_path / f"enterprises-{next(counter)}.csv", rows)
        result = app.test_cli_runner().invoke(args=["registry", "import-enterprises", str(path)])
        assert result.exit_code == 0, (result.output, result.exception)
        return result

    return _import


@pytest.fixture
def population(app, tmp_path):
    import_persons(app, tmp_path, [
        {"id_type": "resident_id", "id_number": number, "name": name, "birth_date": "1990-03-07",
         "district": "黄浦区", "hukou": "true"} for name, number in PEOPLE.values()])


@pytest.fixture
def registry(population, import_enterprises):
    import_enterprises([acme_row()])


@pytest.fixture
def verified(client, login, population):
    """verified(phone) -> token pair of a real-name verified resident."""

    def _verified(phone: str) -> dict:
        tokens = login(phone)
        name, number = PEOPLE[phone]
        r = client.post("/v1/me/real-name", headers=bearer(tokens),
                        json={"name": name, "id_type": "resident_id", "id_number": number})
        assert r.status_code == 200, r.json
        tokens["user_id"] = r.json["id"]
        return tokens

    return _verified


@pytest.fixture
def acme(client, registry, verified):
    """ACME claimed by 张三 (13800000001): {"id", "admin": tokens}."""
    admin = verified("13800000001")
    r = client.post("/v1/enterprises/claim", headers=bearer(admin), json={"credit_code": ACME})
    assert r.status_code == 200, r.json
    return {"id": r.json["id"], "admin": admin}


def grant(client, tokens: dict, enterprise_id: int, phone: str, role: str):
    """Grant a role by phone; a number that is not a member is invited, and the invitation is
    accepted at once by its holder (signed in on another device): returns the answer that made
    the membership (201), or the refusal."""
    r = client.post(f"/v1/enterprises/{enterprise_id}/members", headers=bearer(tokens),
                    json={"phone": phone, "role": role})
    if r.status_code != 202:
        return r
    invitee = _signed_in(client.application, phone)
    [invitation] = [i for i in client.get("/v1/enterprises/invitations", headers=invitee).json["items"]
                    if i["enterprise"]["id"] == enterprise_id]
    return client.post(f"/v1/enterprises/invitations/{invitation['id']}/accept", headers=invitee)


def _signed_in(app, phone: str) -> dict:
    from api.identity.sessions import get_or_create_user, start_session
    with app.app_context():
        now = int(app.extensions["ssb.clock"]())
        user = get_or_create_user("+86" + phone, now=now)
        return bearer(start_session(user, device_id="invitee", user_agent="pytest", now=now).access_token)


def act_as(client, tokens: dict, enterprise_id: int):
    return client.post("/v1/auth/act-as", headers=bearer(tokens), json={"enterprise_id": enterprise_id})
