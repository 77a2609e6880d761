"""`flask --app wsgi demo`: idempotent demo data whose people really work end to end."""
from __future__ import annotations

import dataclasses
import json

import pytest

from tests.conftest import bearer


def run_demo(app, *args: str):
    result = app.test_cli_runner().invoke(args=["demo", *args])
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


@pytest.fixture
def demo(app) -> dict:
    return json.loads(run_demo(app, "--json"))


def _counts(app) -> dict:
    from sqlalchemy import func, select

    from api.codes.models import Venue, VenueStaff
    from api.extensions import db
    from api.identity.models import Person, User
    from api.licences.models import Issuer, Licence
    from api.miniprograms.models import MiniProgram
    from api.notifications.models import Campaign, InboxMessage, Policy

    with app.app_context():
        return {m.__name__: db.session.scalar(select(func.count()).select_from(m))
                for m in (Person, User, Venue, VenueStaff, Issuer, Licence, MiniProgram, Policy, Campaign,
                          InboxMessage)}


def test_the_json_answer_has_the_contracted_keys(demo):
    for who in ("resident", "staff", "operator"):
        assert demo[who]["phone"].isdigit() and len(demo[who]["phone"]) == 11
    assert demo["venue"]["id"].startswith("vn_")
    assert demo["miniprogram"]["appid"].startswith("ssb") and len(demo["miniprogram"]["secret"]) == 32
    assert len({demo["resident"]["phone"], demo["staff"]["phone"], demo["operator"]["phone"]}) == 3


def test_running_it_twice_gives_the_same_people_venue_and_app(app, demo):
    before = _counts(app)
    again = json.loads(run_demo(app, "--json"))
    assert again == demo
    assert _counts(app) == before
    assert before["Person"] == 3 and before["Venue"] == 1 and before["MiniProgram"] == 1 and before["Policy"] == 1


def test_a_rotated_demo_secret_is_set_back_on_the_next_run(app, client, demo, login):
    from miniprogram_adapter import apps

    with app.app_context():
        apps.rotate_secret(appid=demo["miniprogram"]["appid"], now=int(app.extensions["ssb.clock"]()))
    assert json.loads(run_demo(app, "--json"))["miniprogram"] == demo["miniprogram"]
    r = client.get("/cgi-bin/token", query_string={"grant_type": "client_credential", **{
        k: demo["miniprogram"][k] for k in ("appid", "secret")}})
    assert r.status_code == 200 and "access_token" in r.json, r.json


def test_the_text_summary_says_who_to_sign_in_as_and_where_the_code_shows(app, demo):
    text = run_demo(app)
    for who in ("resident", "staff", "operator"):
        assert demo[who]["phone"] in text
    assert demo["venue"]["id"] in text and demo["miniprogram"]["appid"] in text
    assert "codes are appended to" in text   # the test app's SMS backend is file:PATH


def test_the_resident_is_real_name_verified_with_a_licence_a_policy_and_an_inbox_message(client, login, demo):
    resident = bearer(login(demo["resident"]["phone"]))
    me = client.get("/v1/me", headers=resident).json
    assert me["real_name"]["verified"] is True and me["real_name"]["name"] == "*明"
    wallet = client.get("/v1/licences", headers=resident).json
    assert [item["type"] for item in wallet["items"]] == ["driving_licence"]
    assert [p["policy"]["id"] for p in client.get("/v1/policies/for-me", headers=resident).json["items"]] == \
        [demo["policy"]["id"]]
    inbox = client.get("/v1/inbox", headers=resident).json["items"]
    assert [m["category"] for m in inbox] == ["policy"] and demo["inbox"] == {"unread": 1}


def test_staff_verify_the_residents_code_at_the_demo_venue_and_it_shows_in_the_access_log(client, login, demo):
    resident = bearer(login(demo["resident"]["phone"]))
    staff = bearer(login(demo["staff"]["phone"], device_id="scanner"))
    payload = client.get("/v1/codes/suishen?scene=transport", headers=resident).json["codes"][0]["payload"]
    r = client.post("/v1/verify", headers=staff, json={"payload": payload, "venue_id": demo["venue"]["id"]})
    assert r.status_code == 200 and r.json["valid"] is True, r.json
    log = client.get("/v1/me/access-log", headers=resident).json["items"]
    assert log[0]["kind"] == "code_scan" and log[0]["accessor"]["venue_id"] == demo["venue"]["id"]


def test_the_operator_has_the_operator_role_from_the_first_sign_in(client, login, demo):
    operator = bearer(login(demo["operator"]["phone"], device_id="desk"))
    assert client.get("/v1/admin/venues", headers=operator).status_code == 200


def test_the_registry_names_the_resident_guardian_of_the_demo_child(client, login, demo):
    resident = bearer(login(demo["resident"]["phone"]))
    child = demo["child"]
    r = client.post("/v1/me/dependents", headers=resident, json={
        "name": child["name"], "id_type": child["id_type"], "id_number": child["id_number"],
        "relation": "minor_child"})
    assert r.status_code == 201 and r.json["approved_via"] == "registry", r.json


def test_the_demo_refuses_a_real_sms_gateway(session_app, base_config):
    """With real SMS delivery the demo's phone numbers belong to real people: the demo operator's
    number would become an operator account anyone holding it could sign in to."""
    import wsgi

    app = wsgi.create_app(dataclasses.replace(base_config, SMS_BACKEND="http:http://127.0.0.1:9/"))
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code != 0 and "SMS_BACKEND" in result.output
