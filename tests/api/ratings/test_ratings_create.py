"""A resident rates a service they received: once, their own, within 15 days, with fitting tags."""
from api.access.records import record_access
from api.extensions import db
from api.ratings.subjects import Subject, subject_of
from tests.api.ratings.conftest import RESIDENT
from tests.conftest import bearer

FIFTEEN_DAYS = 15 * 24 * 3600


def test_rate_a_check_in(client, resident, venue, check_in, rate):
    access_id = check_in(resident, venue)
    r = rate(resident, access_id, stars=4, tags=["quick", "courteous"], comment="办事很快")
    assert r.status_code == 201, r.json
    assert r.json["stars"] == 4 and r.json["tags"] == ["quick", "courteous"] and r.json["comment"] == "办事很快"
    assert r.json["access_id"] == access_id and r.json["service"] == "checkin" and r.json["case"] is None
    assert r.json["subject"] == {"type": "venue", "id": venue["id"], "name": venue["name"]}
    assert r.json["id"].startswith("rt_") and r.json["reply"] is None
    mine = client.get("/v1/me/ratings", headers=resident).json["items"]
    assert [m["id"] for m in mine] == [r.json["id"]]
    assert client.get(f"/v1/me/ratings/{r.json['id']}", headers=resident).json["stars"] == 4


def test_rate_a_code_scan(client, resident, venue, code_scan, rate):
    r = rate(resident, code_scan(resident), stars=5, tags=["scan_smooth"])
    assert r.status_code == 201, r.json
    assert r.json["service"] == "code_scan" and r.json["subject"]["id"] == venue["id"]


def test_rate_a_miniprogram_read(client, resident, miniprogram, miniprogram_read, rate):
    r = rate(resident, miniprogram_read(resident), stars=3, tags=["too_much_data"])
    assert r.status_code == 201, r.json
    assert r.json["subject"] == {"type": "miniprogram", "id": miniprogram["appid"], "name": "停车缴费"}
    listing = client.get(f"/v1/miniprograms/{miniprogram['appid']}/ratings").json["items"]
    assert [i["id"] for i in listing] == [r.json["id"]]
    summary = client.get(f"/v1/miniprograms/{miniprogram['appid']}/ratings/summary").json
    assert summary["count"] == 1 and summary["average"] == 3.0


def test_one_rating_per_service(resident, venue, check_in, rate):
    access_id = check_in(resident, venue)
    assert rate(resident, access_id).status_code == 201
    r = rate(resident, access_id, stars=1)
    assert r.status_code == 409 and r.json["error"] == "ALREADY_RATED"


def test_each_service_is_rated_on_its_own(resident, venue, check_in, rate):
    assert rate(resident, check_in(resident, venue)).status_code == 201
    assert rate(resident, check_in(resident, venue)).status_code == 201


def test_another_residents_service_is_not_found_like_a_missing_one(resident, other_resident, venue, check_in, rate):
    theirs = check_in(other_resident, venue)
    stolen = rate(resident, theirs, stars=1, comment="差")
    missing = rate(resident, theirs + 1000)
    assert stolen.status_code == missing.status_code == 404
    assert stolen.json["error"] == missing.json["error"] == "RATING_TARGET_NOT_FOUND"
    assert stolen.json["message"] == missing.json["message"]
    assert rate(other_resident, theirs).status_code == 201      # still theirs to rate


def test_after_fifteen_days_the_window_is_closed(client, login, clock, resident, venue, check_in, rate):
    late = check_in(resident, venue)
    clock.advance(FIFTEEN_DAYS - 60)
    fresh = bearer(login(RESIDENT, device_id="later"))     # the first token has long expired
    just_in_time = check_in(fresh, venue)
    clock.advance(120)
    r = rate(fresh, late)
    assert r.status_code == 410 and r.json["error"] == "RATING_WINDOW_CLOSED"
    assert rate(fresh, just_in_time).status_code == 201


def test_tags_must_fit_the_kind_of_service(resident, venue, check_in, rate):
    access_id = check_in(resident, venue)
    r = rate(resident, access_id, tags=["quick", "too_much_data"])      # a mini-program tag on a check-in
    assert r.status_code == 422 and r.json["error"] == "UNKNOWN_RATING_TAG"
    assert r.json["errors"] == {"tags": ["too_much_data"]}
    assert rate(resident, access_id, tags=["quick"]).status_code == 201   # nothing was half-written


def test_bad_input_is_refused_at_the_edge(client, resident, venue, check_in, rate):
    access_id = check_in(resident, venue)
    for body in ({"access_id": access_id, "stars": 0}, {"access_id": access_id, "stars": 6},
                 {"access_id": access_id, "stars": 5, "comment": "x" * 501},
                 {"access_id": access_id, "stars": 5, "comment": "bad\x00byte"},
                 {"access_id": access_id, "stars": 5, "tags": ["quick"] * 6},
                 {"access_id": 0, "stars": 5}, {"access_id": 2**63, "stars": 5},
                 {"access_id": access_id, "stars": 5, "rater": "me"}):
        r = client.post("/v1/ratings", headers=resident, json=body)
        assert r.status_code == 422, (body, r.json)
    assert client.post("/v1/ratings", json={"access_id": access_id, "stars": 5}).status_code == 401


def test_a_kind_nobody_mapped_to_a_subject_is_not_rateable(app, client, resident, rate):
    with app.app_context():
        user_id = client.get("/v1/me", headers=resident).json["id"]
        record_access(user_id=user_id, kind="proof_check", accessor={"type": "verifier"},
                      now=int(app.extensions["ssb.clock"]()))
        db.session.commit()
    access_id = client.get("/v1/me/access-log", headers=resident).json["items"][0]["id"]
    r = rate(resident, access_id)
    assert r.status_code == 422 and r.json["error"] == "NOT_RATEABLE"


def test_rating_attempts_are_limited_per_resident(resident, other_resident, venue, check_in, rate):
    access_id = check_in(resident, venue)
    for _ in range(20):                       # probing ids counts too
        assert rate(resident, 10**12).status_code == 404
    r = rate(resident, access_id)
    assert r.status_code == 429 and r.json["error"] == "RATE_LIMITED" and int(r.headers["Retry-After"]) > 0
    assert rate(other_resident, check_in(other_resident, venue)).status_code == 201   # per resident


def test_one_resident_rates_one_venue_at_most_five_times_a_day(resident, venue, other_venue, check_in, rate):
    for _ in range(5):
        assert rate(resident, check_in(resident, venue)).status_code == 201
    r = rate(resident, check_in(resident, venue), stars=1)
    assert r.status_code == 429 and r.json["error"] == "RATE_LIMITED"
    assert rate(resident, check_in(resident, other_venue)).status_code == 201


def test_staff_cannot_rate_their_own_venue(client, staff, venue, other_venue, check_in, rate):
    r = rate(staff, check_in(staff, venue), stars=5, tags=["courteous"])
    assert r.status_code == 403 and r.json["error"] == "OWN_SERVICE_NOT_RATEABLE"
    assert rate(staff, check_in(staff, other_venue)).status_code == 201      # elsewhere they are residents


def test_subject_resolution_for_every_kind(app, venue):
    from api.access.models import AccessRecord
    with app.app_context():
        from api.codes.models import Venue
        row_id = db.session.scalar(db.select(Venue.id).where(Venue.public_id == venue["id"]))
        cases = {
            ("code_scan", (("type", "venue"), ("venue_id", venue["id"])), Subject("venue", venue["id"])),
            ("checkin", (("venue_id", venue["id"]),), Subject("venue", venue["id"])),
            ("licence_view", (("type", "venue_staff"), ("venue_id", row_id)), Subject("venue", venue["id"])),
            ("licence_view", (("type", "venue_staff"),), None),                # no venue named
            ("licence_view", (("venue_id", 10**9),), None),                     # no such venue
            ("licence_view", (("venue_id", True),), None),
            ("miniprogram_release", (("type", "miniprogram"), ("appid", "ssb0123456789abcdef")),
             Subject("miniprogram", "ssb0123456789abcdef")),
            ("miniprogram_release", (), None),
            ("proof_check", (("venue_id", venue["id"]),), None),                # a kind without tags
        }
        for kind, accessor, expected in cases:
            assert subject_of(AccessRecord(kind=kind, accessor=dict(accessor))) == expected, (kind, accessor)
