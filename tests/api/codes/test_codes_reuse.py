"""A 随申码 is accepted at one venue: within its minute it may be scanned again there (a scanner
retry, a second look), but not at another venue (a forwarded screenshot). Transport codes stay
strictly single-use."""
from tests.conftest import bearer

OTHER_STAFF = "13900000777"


def test_a_general_code_scanned_at_another_venue_within_its_minute_is_refused(client, login, operator, make_venue,
                                                                               verify, get_code, resident, staff,
                                                                               venue):
    museum = make_venue(kind="culture", name="上海博物馆")
    r = client.post(f"/v1/admin/venues/{museum['id']}/staff", headers=operator,
                    json={"phone": OTHER_STAFF, "scenes": ["general"]})
    assert r.status_code == 200, r.json
    museum_staff = bearer(login(OTHER_STAFF, device_id="museum-scanner"))
    code = get_code(resident)
    assert verify(code).status_code == 200
    assert verify(code).status_code == 200                     # the same venue, again
    r = verify(code, venue_id=museum["id"], headers=museum_staff)
    assert r.status_code == 409 and r.json["error"] == "CODE_REPLAYED"
    assert verify(code).status_code == 200                     # still fine where it was first shown
    log = client.get("/v1/me/access-log", headers=resident).json["items"]
    assert {e["accessor"]["venue_id"] for e in log} == {venue["id"]}


def test_a_refused_scan_does_not_bind_the_code_to_its_venue(client, login, operator, make_venue, verify, get_code,
                                                             veteran, staff, venue):
    hospital = make_venue(kind="hospital", name="瑞金医院")
    r = client.post(f"/v1/admin/venues/{hospital['id']}/staff", headers=operator,
                    json={"phone": OTHER_STAFF, "scenes": ["general", "medical"]})
    assert r.status_code == 200, r.json
    hospital_staff = bearer(login(OTHER_STAFF, device_id="hospital-scanner"))
    code = get_code(veteran, "veteran")
    r = verify(code, venue_id=hospital["id"], headers=hospital_staff)     # the hospital takes no veteran scene
    assert r.status_code == 403 and r.json["error"] == "SCENE_NOT_ALLOWED"
    assert verify(code).status_code == 200
