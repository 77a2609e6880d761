"""A role granted (create-admin, a venue staff grant) or withdrawn applies to the very next
request with the token already held: roles are read from the account on role-protected
operations, not from the token's claim."""
from sqlalchemy import select

from api.extensions import db
from api.identity.models import User
from tests.api.security.conftest import promote
from tests.conftest import bearer

NEWCOMER = "13900000321"


def test_create_admin_applies_to_the_token_already_held(app, client, login):
    held = bearer(login(NEWCOMER))
    r = client.get("/v1/admin/venues", headers=held)
    assert r.status_code == 403 and r.json["error"] == "ROLE_REQUIRED"
    promote(app, NEWCOMER, "operator")
    assert client.get("/v1/admin/venues", headers=held).status_code == 200


def test_a_staff_grant_applies_to_the_token_already_held(client, login, operator, venue):
    held = bearer(login(NEWCOMER))
    assert client.get("/v1/codes/revocations", headers=held).status_code == 403
    r = client.post(f"/v1/admin/venues/{venue['id']}/staff", headers=operator,
                    json={"phone": NEWCOMER, "scenes": ["general"]})
    assert r.status_code == 200, r.json
    assert client.get("/v1/codes/revocations", headers=held).status_code == 200


def test_a_withdrawn_role_stops_working_at_once(app, client, login):
    promote(app, NEWCOMER, "operator")
    held = bearer(login(NEWCOMER))
    assert client.get("/v1/admin/venues", headers=held).status_code == 200
    with app.app_context():     # an operator tool withdraws the role
        user = db.session.scalar(select(User).where(User.phone == "+86" + NEWCOMER))
        user.roles = ["resident"]
        db.session.commit()
    r = client.get("/v1/admin/venues", headers=held)
    assert r.status_code == 403 and r.json["error"] == "ROLE_REQUIRED"


def test_the_refusal_names_the_role_it_needs(client, login):
    r = client.get("/v1/admin/venues", headers=bearer(login(NEWCOMER)), )
    assert r.status_code == 403 and "operator" in r.json["message"]
    zh = client.get("/v1/admin/venues", headers={**bearer(login(NEWCOMER, device_id="d2")), "Accept-Language": "zh-CN"})
    assert "operator" in zh.json["message"]
