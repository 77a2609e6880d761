"""A guardian opens a dependent's wallet and shows one of its licences; the dependent's log says so."""
from datetime import date, timedelta

import jwt
import pytest

from tests.api.family.conftest import CHILD, ELDER, shanghai_today
from tests.conftest import bearer


@pytest.fixture
def social_security(client, operator):
    """push(number, name) -> the department's PUT of a social security card."""
    r = client.post("/v1/admin/issuers", headers=operator,
                    json={"name": "上海市人力资源和社会保障局", "licence_types": ["social_security_card"]})
    creds = r.json
    token = client.post("/v1/issuer/token", json={"client_id": creds["client_id"],
                                                  "client_secret": creds["client_secret"]}).json["access_token"]

    def _push(number: str, name: str, card: str):
        today: date = shanghai_today()
        return client.put(f"/v1/issuer/licences/social_security_card/{card}", headers=bearer(token), json={
            "holder": {"id_type": "resident_id", "id_number": number, "name": name},
            "fields": {"card_number": card, "bank": "上海银行", "card_generation": "3"},
            "valid_from": (today - timedelta(days=30)).isoformat(),
            "valid_until": (today + timedelta(days=3650)).isoformat(), "region": "310000"})
    return _push


@pytest.fixture
def staff(app, login):
    r = app.test_cli_runner().invoke(args=["create-admin", "--phone", "13922220000", "--role", "staff"])
    assert r.exit_code == 0
    return bearer(login("13922220000", device_id="staff"))


def test_the_guardian_opens_the_childs_wallet(client, parent, child_link, social_security):
    assert social_security(CHILD, "王小明", "SSC0001").status_code == 200
    r = client.get(f"/v1/licences?for={child_link}", headers=parent)
    assert r.status_code == 200 and r.json["holder_verified"] is True
    assert [i["type"] for i in r.json["items"]] == ["social_security_card"]
    assert r.json["items"][0]["holder"]["name"] == "**明"
    assert client.get("/v1/licences", headers=parent).json["items"] == []   # not mixed with mine
    one = client.get(f"/v1/licences/{r.json['items'][0]['id']}?for={child_link}", headers=parent)
    assert one.status_code == 200
    # Without `for`, the child's licence is not the guardian's.
    assert client.get(f"/v1/licences/{r.json['items'][0]['id']}", headers=parent).status_code == 404
    acts = client.get(f"/v1/me/dependents/{child_link}/activity", headers=parent).json["items"]
    assert [a["action"] for a in acts] == ["licence_opened", "wallet_opened"]


def test_a_stranger_cannot_open_the_childs_wallet(client, stranger, child_link):
    r = client.get(f"/v1/licences?for={child_link}", headers=stranger)
    assert r.status_code == 404 and r.json["error"] == "FAMILY_LINK_NOT_FOUND"


def test_the_guardian_shows_the_elders_licence_and_the_elder_sees_it(client, parent, elder, elder_link,
                                                                       social_security, staff):
    assert social_security(ELDER, "赵建国", "SSC0002").status_code == 200
    licence_id = client.get(f"/v1/licences?for={elder_link}", headers=parent).json["items"][0]["id"]
    r = client.post(f"/v1/licences/{licence_id}/presentations", headers=parent,
                    json={"fields": ["bank"], "purpose": "就医", "for": elder_link})
    assert r.status_code == 201, r.json
    assert jwt.decode(r.json["payload"], options={"verify_signature": False})["act"]["sub"]
    v = client.post("/v1/presentations/verify", headers=staff, json={"payload": r.json["payload"]})
    assert v.status_code == 200, v.json
    assert v.json["fields"] == {"bank": "上海银行"} and v.json["shown_by_guardian"] is True
    assert v.json["guardian"] == {"name": "*芳", "relation": "elder"}
    log = client.get("/v1/me/access-log", headers=elder).json["items"]
    views = [i for i in log if i["kind"] == "licence_view"]
    assert len(views) == 1 and views[0]["accessor"]["guardian"]["name"] == "*芳"
    assert views[0]["fields"] == ["bank"] and views[0]["purpose"] == "就医"
    acts = {i["accessor"]["action"]: i for i in log if i["kind"] == "guardian_act"}
    assert set(acts) == {"wallet_opened", "licence_presented"}
    assert acts["licence_presented"]["purpose"] == "就医" and acts["licence_presented"]["fields"] == ["bank"]


def test_a_presentation_made_before_the_link_ended_is_refused(client, parent, elder, elder_link,
                                                              social_security, staff):
    social_security(ELDER, "赵建国", "SSC0003")
    licence_id = client.get(f"/v1/licences?for={elder_link}", headers=parent).json["items"][0]["id"]
    payload = client.post(f"/v1/licences/{licence_id}/presentations", headers=parent,
                          json={"fields": ["bank"], "for": elder_link}).json["payload"]
    client.delete(f"/v1/me/guardians/{elder_link}", headers=elder)
    r = client.post("/v1/presentations/verify", headers=staff, json={"payload": payload})
    assert r.status_code == 403 and r.json["error"] == "FAMILY_LINK_ENDED"


def test_a_guardian_cannot_present_a_dependents_licence_without_for(client, parent, elder_link, social_security):
    social_security(ELDER, "赵建国", "SSC0004")
    licence_id = client.get(f"/v1/licences?for={elder_link}", headers=parent).json["items"][0]["id"]
    r = client.post(f"/v1/licences/{licence_id}/presentations", headers=parent, json={"fields": ["bank"]})
    assert r.status_code == 404
