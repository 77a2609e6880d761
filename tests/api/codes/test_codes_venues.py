"""Operators manage venues and staff; venues show a place code residents check in with."""
import jwt

from tests.conftest import bearer


def test_operator_creates_a_venue_with_default_scenes(client, operator):
    r = client.post("/v1/admin/venues", headers=operator,
                    json={"name": "瑞金医院", "address": "瑞金二路 197 号", "district": "黄浦区", "kind": "hospital"})
    assert r.status_code == 201, r.json
    assert r.json["id"].startswith("vn_") and r.json["scenes"] == ["general", "medical"]
    listing = client.get("/v1/admin/venues", headers=operator).json
    assert [v["id"] for v in listing["items"]] == [r.json["id"]]
    assert client.get(f"/v1/admin/venues/{r.json['id']}", headers=operator).json["name"] == "瑞金医院"


def test_only_operators_manage_venues(client, resident, venue):
    r = client.post("/v1/admin/venues", headers=resident,
                    json={"name": "x", "address": "y", "district": "z", "kind": "other"})
    assert r.status_code == 403
    r = client.post(f"/v1/admin/venues/{venue['id']}/staff", headers=resident,
                    json={"phone": "13900000123", "scenes": ["general"]})
    assert r.status_code == 403


def test_venue_input_is_validated(client, operator):
    for body in [{"name": "x", "address": "y", "district": "z", "kind": "castle"},
                 {"name": "", "address": "y", "district": "z", "kind": "other"},
                 {"name": "x", "address": "y", "district": "z", "kind": "other", "scenes": ["party"]},
                 {"name": "x", "address": "y", "district": "z", "kind": "other", "scenes": []}]:
        assert client.post("/v1/admin/venues", headers=operator, json=body).status_code == 422, body


def test_granting_staff_creates_the_account_and_lists_it(client, operator, venue, login):
    r = client.post(f"/v1/admin/venues/{venue['id']}/staff", headers=operator,
                    json={"phone": "13900000321", "scenes": ["transport"]})
    assert r.status_code == 200, r.json
    assert r.json["phone"] == "139****0321" and r.json["scenes"] == ["transport"]
    staff = client.get(f"/v1/admin/venues/{venue['id']}/staff", headers=operator).json
    assert [s["phone"] for s in staff] == ["139****0321"]
    tokens = login("13900000321")
    assert "staff" in jwt.decode(tokens["access_token"], options={"verify_signature": False})["roles"]


def test_granting_scenes_the_venue_does_not_offer(client, operator, venue):
    r = client.post(f"/v1/admin/venues/{venue['id']}/staff", headers=operator,
                    json={"phone": "13900000321", "scenes": ["medical"]})
    assert r.status_code == 422 and r.json["error"] == "SCENES_NOT_OFFERED"


def test_unknown_venue_and_staff(client, operator, venue):
    r = client.post("/v1/admin/venues/vn_0000000000000000/staff", headers=operator,
                    json={"phone": "13900000321", "scenes": ["general"]})
    assert r.status_code == 404 and r.json["error"] == "VENUE_NOT_FOUND"
    r = client.delete(f"/v1/admin/venues/{venue['id']}/staff/424242", headers=operator)
    assert r.status_code == 404 and r.json["error"] == "STAFF_NOT_FOUND"


def test_place_code_shape(client, operator, venue, app):
    r = client.get(f"/v1/venues/{venue['id']}/place-code", headers=operator)
    assert r.status_code == 200, r.json
    header = jwt.get_unverified_header(r.json["payload"])
    assert header["typ"] == "ssb-place+jwt" and header["alg"] == "EdDSA"
    claims = jwt.decode(r.json["payload"], options={"verify_signature": False})
    assert claims["sub"] == venue["id"] and claims["name"] == venue["name"] and claims["district"] == "黄浦区"
    assert claims["exp"] - claims["iat"] >= 365 * 24 * 3600
    assert {"iss", "jti"} <= set(claims)


def test_place_code_is_for_the_venues_staff_and_operators(client, resident, staff, venue):
    r = client.get(f"/v1/venues/{venue['id']}/place-code", headers=resident)
    assert r.status_code == 403 and r.json["error"] == "NOT_VENUE_MANAGER"
    assert client.get(f"/v1/venues/{venue['id']}/place-code", headers=staff).status_code == 200


def test_check_in_records_the_visit(client, operator, venue, resident):
    payload = client.get(f"/v1/venues/{venue['id']}/place-code", headers=operator).json["payload"]
    r = client.post("/v1/checkins", headers=resident, json={"payload": payload})
    assert r.status_code == 201, r.json
    assert r.json["venue"] == {"id": venue["id"], "name": venue["name"], "district": "黄浦区"}
    log = client.get("/v1/me/access-log?kind=checkin", headers=resident).json["items"]
    assert len(log) == 1 and log[0]["accessor"]["venue_id"] == venue["id"] and log[0]["subject_ref"] == venue["id"]


def test_check_in_refuses_bad_place_codes(client, operator, venue, resident, get_code):
    payload = client.get(f"/v1/venues/{venue['id']}/place-code", headers=operator).json["payload"]
    h, c, s = payload.split(".")
    cases = {
        "garbage": "MALFORMED_CODE",
        h + "." + c + "." + s[:-4] + "AAAA": "CODE_BAD_SIGNATURE",
        get_code(resident): "CODE_WRONG_TYPE",
        resident["Authorization"].split()[1]: "CODE_WRONG_TYPE",
    }
    for bad, error in cases.items():
        r = client.post("/v1/checkins", headers=resident, json={"payload": bad})
        assert r.status_code == 422 and r.json["error"] == error, (bad[:20], r.json)


def test_check_in_at_an_expired_place_code(client, operator, venue, login, clock):
    payload = client.get(f"/v1/venues/{venue['id']}/place-code", headers=operator).json["payload"]
    clock.advance(366 * 24 * 3600)
    resident = bearer(login("13900000001", device_id="next-year"))
    r = client.post("/v1/checkins", headers=resident, json={"payload": payload})
    assert r.status_code == 422 and r.json["error"] == "CODE_EXPIRED"


def test_check_in_needs_a_resident(client):
    assert client.post("/v1/checkins", json={"payload": "x"}).status_code == 401


def test_ids_beyond_bigint_are_not_found(client, operator, venue):
    huge = 12075290458176462782765989888
    r = client.post(f"/v1/admin/users/{huge}/disable", headers=operator, json={})
    assert r.status_code == 404 and r.json["error"] == "USER_NOT_FOUND"
    r = client.delete(f"/v1/admin/venues/{venue['id']}/staff/{huge}", headers=operator)
    assert r.status_code == 404 and r.json["error"] == "STAFF_NOT_FOUND"
