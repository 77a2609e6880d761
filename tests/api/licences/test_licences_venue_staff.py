"""Licence verification is a venue-staff act, like code verification: the clerk at a 车管所 window
names the venue (`venue_id`, a `vn_...` id), must hold an active grant there, and the holder's
access log names the venue. Without a venue, only the global `staff` role (roaming inspectors
designated by operators) may verify, as before."""
import pytest

from tests.conftest import bearer

CLERK = "13933330000"


@pytest.fixture
def make_venue(client, operator):
    def _make(name):
        r = client.post("/v1/admin/venues", headers=operator,
                        json={"name": name, "address": "中山南路 1 号", "district": "黄浦区", "kind": "government"})
        assert r.status_code == 201, r.json
        return r.json
    return _make


@pytest.fixture
def window(make_venue):
    return make_venue("黄浦区车管所")


@pytest.fixture
def clerk(client, login, operator, window):
    """Signed in before the grant: the token held predates it."""
    headers = bearer(login(CLERK, "window-1"))
    r = client.post(f"/v1/admin/venues/{window['id']}/staff", headers=operator,
                    json={"phone": CLERK, "scenes": ["general"]})
    assert r.status_code == 200, r.json
    return headers


def verify(client, headers, payload, **extra):
    return client.post("/v1/presentations/verify", headers=headers, json={"payload": payload, **extra})


def test_a_venue_clerk_verifies_at_their_venue_and_the_log_names_it(client, clerk, window, licence_id, present,
                                                                    resident):
    r = verify(client, clerk, present(licence_id)["payload"], venue_id=window["id"])
    assert r.status_code == 200, r.json
    assert r.json["fields"]["vehicle_class"] == "C1"
    [record] = client.get(f"/v1/licences/{licence_id}/access-log", headers=resident).json["items"]
    assert record["accessor"] == {"type": "venue_staff", "staff": "139****0000", "venue_id": window["id"],
                                  "venue_name": "黄浦区车管所", "district": "黄浦区"}


def test_staff_of_another_venue_are_refused_and_the_code_stays_usable(client, clerk, window, make_venue, licence_id,
                                                                       present):
    elsewhere = make_venue("徐汇区车管所")
    shown = present(licence_id)["payload"]
    r = verify(client, clerk, shown, venue_id=elsewhere["id"])
    assert r.status_code == 403 and r.json["error"] == "NOT_STAFF_OF_VENUE"
    assert "fields" not in r.json
    assert verify(client, clerk, shown, venue_id=window["id"]).status_code == 200


def test_an_unknown_venue_is_404(client, clerk, licence_id, present):
    r = verify(client, clerk, present(licence_id)["payload"], venue_id="vn_0000000000000000")
    assert r.status_code == 404 and r.json["error"] == "VENUE_NOT_FOUND"


def test_a_revoked_grant_stops_licence_checks_at_once(client, clerk, window, operator, licence_id, present, app):
    from sqlalchemy import select

    from api.extensions import db
    from api.identity.models import User
    with app.app_context():
        clerk_id = db.session.scalar(select(User.id).where(User.phone == "+86" + CLERK))
    assert client.delete(f"/v1/admin/venues/{window['id']}/staff/{clerk_id}", headers=operator).status_code == 204
    r = verify(client, clerk, present(licence_id)["payload"], venue_id=window["id"])
    assert r.status_code == 403 and r.json["error"] == "NOT_STAFF_OF_VENUE"


@pytest.mark.parametrize("venue_id", [42, "42", "", "vn_" + "0" * 40])
def test_venue_ids_are_venue_ids(client, clerk, licence_id, present, venue_id):
    r = verify(client, clerk, present(licence_id)["payload"], venue_id=venue_id)
    assert r.status_code == 422 and r.json["error"] == "VALIDATION_ERROR"


def test_without_a_venue_a_resident_is_refused_and_an_inspector_verifies(client, resident, staff, licence_id,
                                                                         present):
    shown = present(licence_id)["payload"]
    r = verify(client, resident, shown)
    assert r.status_code == 403 and r.json["error"] == "ROLE_REQUIRED"
    assert verify(client, staff, shown).status_code == 200
    [record] = client.get(f"/v1/licences/{licence_id}/access-log", headers=resident).json["items"]
    assert record["accessor"] == {"type": "staff", "staff": "139****0000"}
