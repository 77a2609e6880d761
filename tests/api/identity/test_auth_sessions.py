"""Logout and device sessions."""
from tests.conftest import bearer


def test_logout_stops_the_access_token_at_once(client, login):
    tokens = login()
    assert client.post("/v1/auth/logout", headers=bearer(tokens)).status_code == 204
    r = client.get("/v1/me", headers=bearer(tokens))
    assert r.status_code == 401 and r.json["error"] == "INVALID_TOKEN"
    assert client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 401


def test_sessions_are_listed_per_device_and_revocable_remotely(client, login):
    phone_a = login(device_id="phone-a")
    tablet = login(device_id="tablet-b")
    listed = client.get("/v1/auth/sessions", headers=bearer(phone_a)).json
    assert {s["device_id"] for s in listed} == {"phone-a", "tablet-b"}
    assert [s["current"] for s in listed if s["device_id"] == "phone-a"] == [True]
    tablet_session = next(s["id"] for s in listed if s["device_id"] == "tablet-b")
    assert client.delete(f"/v1/auth/sessions/{tablet_session}", headers=bearer(phone_a)).status_code == 204
    assert client.get("/v1/me", headers=bearer(tablet)).status_code == 401
    assert client.get("/v1/me", headers=bearer(phone_a)).status_code == 200
    assert client.delete(f"/v1/auth/sessions/{tablet_session}", headers=bearer(phone_a)).status_code == 404


def test_cannot_sign_out_someone_elses_session(client, login):
    mine = login("13800138000")
    theirs = login("13900139000")
    their_id = client.get("/v1/auth/sessions", headers=bearer(theirs)).json[0]["id"]
    r = client.delete(f"/v1/auth/sessions/{their_id}", headers=bearer(mine))
    assert r.status_code == 404
    assert client.get("/v1/me", headers=bearer(theirs)).status_code == 200


def test_signing_in_again_on_a_device_replaces_its_session(client, login):
    old = login(device_id="phone")
    new = login(device_id="phone")
    assert client.get("/v1/me", headers=bearer(old)).status_code == 401
    assert len(client.get("/v1/auth/sessions", headers=bearer(new)).json) == 1
