"""GET /v1/me/venues: staff see the venues (and scenes) granted to them, nobody else's."""
from tests.api.codes.conftest import STAFF
from tests.conftest import bearer


def _grant(client, operator, venue_id: str, phone: str, scenes: list[str]):
    r = client.post(f"/v1/admin/venues/{venue_id}/staff", headers=operator, json={"phone": phone, "scenes": scenes})
    assert r.status_code == 200, r.json
    return r.json


def test_staff_see_each_venue_they_were_granted_with_its_scenes(client, operator, make_venue, staff, venue):
    other = make_venue(kind="hospital", name="瑞金医院")
    _grant(client, operator, other["id"], STAFF, ["medical"])
    items = client.get("/v1/me/venues", headers=staff).json["items"]
    assert [(i["id"], i["name"], i["granted_scenes"]) for i in items] == [
        (venue["id"], "人民广场站", ["general", "transport", "veteran"]), (other["id"], "瑞金医院", ["medical"])]
    assert items[1]["scenes"] == ["general", "medical"] and items[1]["kind"] == "hospital"


def test_a_grant_counts_at_once_without_a_new_token(client, operator, venue, login):
    before = bearer(login("13900000008", device_id="scanner"))   # signed in before being granted
    assert client.get("/v1/me/venues", headers=before).json == {"items": []}
    _grant(client, operator, venue["id"], "13900000008", ["general"])
    assert [i["id"] for i in client.get("/v1/me/venues", headers=before).json["items"]] == [venue["id"]]


def test_a_revoked_grant_disappears(client, operator, venue, staff):
    user_id = client.get(f"/v1/admin/venues/{venue['id']}/staff", headers=operator).json[0]["user_id"]
    assert client.delete(f"/v1/admin/venues/{venue['id']}/staff/{user_id}", headers=operator).status_code == 204
    assert client.get("/v1/me/venues", headers=staff).json == {"items": []}


def test_residents_see_nothing_and_the_list_needs_a_sign_in(client, resident, staff, venue):
    assert client.get("/v1/me/venues", headers=resident).json == {"items": []}
    r = client.get("/v1/me/venues")
    assert r.status_code == 401 and r.json["error"] == "UNAUTHENTICATED"


def test_an_operator_sees_only_their_own_grants_not_every_venue(client, operator, venue):
    assert client.get("/v1/me/venues", headers=operator).json == {"items": []}
