"""A unique-key race the use case did not foresee answers 409 CONFLICT in the envelope, with
nothing half-written, never a 500.

The race is made deterministic: just before the use case's INSERT reaches the database, a
second connection commits the same row (what a concurrent request on another worker does)."""
from __future__ import annotations

from sqlalchemy import select

from api.codes.models import Venue, VenueStaff
from api.extensions import db
from tests.api.security.conftest import promote
from tests.races import concurrent_insert_before

STAFF = "13900000123"


def test_a_concurrent_staff_grant_is_409_not_500(app, client, operator, venue, login):
    promote(app, STAFF, "staff")          # an existing staff account: the grant only inserts its row
    staff_id = login(STAFF)
    with app.app_context():
        venue_pk = db.session.scalar(select(Venue.id).where(Venue.public_id == venue["id"]))
        from api.identity.models import User
        user_id = db.session.scalar(select(User.id).where(User.phone == "+86" + STAFF))
    assert staff_id
    with concurrent_insert_before(app, "venue_staff",
                                  "INSERT INTO venue_staff (venue_id, user_id, scenes, granted_at) "
                                  "VALUES (:v, :u, '[\"general\"]', CURRENT_TIMESTAMP)",
                                  {"v": venue_pk, "u": user_id}) as fired:
        r = client.post(f"/v1/admin/venues/{venue['id']}/staff", headers=operator,
                        json={"phone": STAFF, "scenes": ["general"]})
    assert fired, "the race was not staged"
    assert r.status_code == 409, r.json
    assert r.json["error"] == "CONFLICT" and r.json["request_id"] == r.headers["X-Request-ID"]
    with app.app_context():   # the concurrent writer's row, and only it
        assert db.session.scalar(select(db.func.count()).select_from(VenueStaff)) == 1
    # Asked again, the grant simply updates the row that won.
    again = client.post(f"/v1/admin/venues/{venue['id']}/staff", headers=operator,
                        json={"phone": STAFF, "scenes": ["general"]})
    assert again.status_code == 200, again.json
