"""Rectification: 1-2 stars open a case due in 3 working days; the venue's staff resolve it; the
rater is told in the inbox and answers once; operators see what is open and what is overdue."""
from datetime import UTC, date, datetime, timedelta

import pytest

from api.localtime import LOCAL_TZ as SHANGHAI
from api.ratings.deadlines import add_working_days, case_due_on
from tests.api.ratings.conftest import OPERATOR, RESIDENT, STAFF
from tests.conftest import bearer

DAY = 24 * 3600


@pytest.mark.parametrize(("opened", "due"), [
    (date(2024, 1, 1), date(2024, 1, 4)),      # Monday -> Thursday
    (date(2024, 1, 3), date(2024, 1, 8)),      # Wednesday -> Monday
    (date(2024, 1, 5), date(2024, 1, 10)),     # Friday -> Wednesday
    (date(2024, 1, 6), date(2024, 1, 10)),     # Saturday -> Wednesday
    (date(2024, 1, 7), date(2024, 1, 10)),     # Sunday -> Wednesday
])
def test_three_working_days_skip_weekends(opened, due):
    assert add_working_days(opened, 3) == due


def test_the_due_day_counts_from_the_shanghai_date():
    thursday_evening_utc = datetime(2024, 1, 4, 17, 0, tzinfo=UTC)     # Friday 01:00 in Shanghai
    assert case_due_on(thursday_evening_utc.timestamp()) == date(2024, 1, 10)    # as for a Friday
    assert case_due_on(datetime(2024, 1, 4, 23, 59, tzinfo=SHANGHAI).timestamp()) == date(2024, 1, 9)


def _move_to(clock, when: datetime) -> None:
    target = when.timestamp()
    assert target >= clock(), "the clock only moves forward"
    clock.advance(target - clock())


def _next_friday_10am(clock) -> datetime:
    today = datetime.fromtimestamp(clock(), SHANGHAI).date() + timedelta(days=1)
    friday = today + timedelta(days=(4 - today.weekday()) % 7)
    return datetime(friday.year, friday.month, friday.day, 10, 0, tzinfo=SHANGHAI)


def test_bad_ratings_open_a_case_and_good_ones_do_not(client, operator, resident, venue, check_in, rate):
    bad = rate(resident, check_in(resident, venue), stars=2, tags=["long_wait"]).json
    rate(resident, check_in(resident, venue), stars=3)
    assert bad["case"]["status"] == "open" and bad["case"]["overdue"] is False and bad["case"]["note"] is None
    cases = client.get("/v1/admin/rating-cases?status=open", headers=operator).json["items"]
    assert [c["rating"]["id"] for c in cases] == [bad["id"]]
    assert cases[0]["subject"] == {"type": "venue", "id": venue["id"], "name": venue["name"]}
    assert client.get("/v1/admin/rating-cases", headers=resident).status_code == 403


def test_a_case_opened_on_friday_is_overdue_on_thursday(client, login, clock, resident, venue, check_in, rate):
    friday = _next_friday_10am(clock)
    _move_to(clock, friday)
    me = bearer(login(RESIDENT, device_id="friday"))
    case = rate(me, check_in(me, venue), stars=1).json["case"]
    wednesday = friday + timedelta(days=5)
    assert case["due_on"] == wednesday.date().isoformat()
    _move_to(clock, wednesday.replace(hour=23, minute=59))
    ops = bearer(login(OPERATOR[3:], device_id="wed"))
    assert client.get("/v1/admin/rating-cases?overdue=true", headers=ops).json["items"] == []
    assert len(client.get("/v1/admin/rating-cases?overdue=false", headers=ops).json["items"]) == 1
    _move_to(clock, wednesday + timedelta(hours=14, minutes=30))       # Thursday 00:30
    ops = bearer(login(OPERATOR[3:], device_id="thu"))
    overdue = client.get("/v1/admin/rating-cases?status=open&overdue=true", headers=ops).json["items"]
    assert [c["id"] for c in overdue] == [case["id"]] and overdue[0]["overdue"] is True
    assert client.get("/v1/admin/rating-cases?overdue=false", headers=ops).json["items"] == []


def test_staff_resolve_and_the_resident_is_told_and_answers_once(client, operator, resident, staff, venue,
                                                                 check_in, rate):
    rating = rate(resident, check_in(resident, venue), stars=1, tags=["unfriendly"]).json
    case_id = rating["case"]["id"]
    early = client.post(f"/v1/ratings/{rating['id']}/feedback", headers=resident, json={"satisfied": True})
    assert early.status_code == 409 and early.json["error"] == "CASE_NOT_RESOLVED"

    r = client.post(f"/v1/rating-cases/{case_id}/resolve", headers=staff, json={"note": "已约谈窗口人员并加强培训"})
    assert r.status_code == 200, r.json
    assert r.json["status"] == "resolved" and r.json["note"] == "已约谈窗口人员并加强培训" and r.json["overdue"] is False
    again = client.post(f"/v1/rating-cases/{case_id}/resolve", headers=staff, json={"note": "再次"})
    assert again.status_code == 409 and again.json["error"] == "CASE_ALREADY_RESOLVED"

    inbox = client.get("/v1/inbox", headers=resident).json["items"]
    assert len(inbox) == 1 and inbox[0]["category"] == "service"
    assert "已约谈窗口人员并加强培训" in inbox[0]["body"] and venue["name"] in inbox[0]["body"]
    assert inbox[0]["deep_link"] == f"ssb://ratings/{rating['id']}"
    assert inbox[0]["translations"]["en"]["title"] == "Your rating has an outcome"

    answer = client.post(f"/v1/ratings/{rating['id']}/feedback", headers=resident, json={"satisfied": False})
    assert answer.status_code == 200 and answer.json["satisfied"] is False and answer.json["answered_at"]
    twice = client.post(f"/v1/ratings/{rating['id']}/feedback", headers=resident, json={"satisfied": True})
    assert twice.status_code == 409 and twice.json["error"] == "FEEDBACK_ALREADY_GIVEN"

    shown = client.get("/v1/admin/rating-cases?status=resolved", headers=operator).json["items"][0]
    assert shown["satisfied"] is False and shown["note"] == "已约谈窗口人员并加强培训"
    mine = client.get(f"/v1/me/ratings/{rating['id']}", headers=resident).json["case"]
    assert mine["status"] == "resolved" and mine["satisfied"] is False


def test_only_the_rater_answers(client, resident, other_resident, staff, venue, check_in, rate):
    rating = rate(resident, check_in(resident, venue), stars=2).json
    client.post(f"/v1/rating-cases/{rating['case']['id']}/resolve", headers=staff, json={"note": "已整改"})
    r = client.post(f"/v1/ratings/{rating['id']}/feedback", headers=other_resident, json={"satisfied": True})
    assert r.status_code == 404 and r.json["error"] == "RATING_NOT_FOUND"
    assert client.get(f"/v1/me/ratings/{rating['id']}", headers=other_resident).status_code == 404


def test_a_good_rating_has_nothing_to_answer(client, resident, venue, check_in, rate):
    rating = rate(resident, check_in(resident, venue), stars=5).json
    r = client.post(f"/v1/ratings/{rating['id']}/feedback", headers=resident, json={"satisfied": True})
    assert r.status_code == 409 and r.json["error"] == "CASE_NOT_RESOLVED"


def test_staff_of_another_venue_cannot_see_or_resolve(client, resident, staff, other_staff, venue, other_venue,
                                                      check_in, rate):
    case_id = rate(resident, check_in(resident, venue), stars=1).json["case"]["id"]
    r = client.post(f"/v1/rating-cases/{case_id}/resolve", headers=other_staff, json={"note": "已处理"})
    assert r.status_code == 403 and r.json["error"] == "NOT_RATING_RESPONDER"
    assert client.post(f"/v1/rating-cases/{case_id}/resolve", headers=resident, json={"note": "x"}).status_code == 403
    assert client.get(f"/v1/venues/{venue['id']}/rating-cases", headers=other_staff).status_code == 403
    own = client.get(f"/v1/venues/{venue['id']}/rating-cases?status=open", headers=staff).json["items"]
    assert [c["id"] for c in own] == [case_id]
    assert client.get(f"/v1/venues/{other_venue['id']}/rating-cases", headers=staff).status_code == 403
    assert client.post("/v1/rating-cases/999999/resolve", headers=staff, json={"note": "x"}).status_code == 404


def test_a_case_resolved_after_its_due_day_stays_marked_overdue(client, login, clock, resident, venue, check_in,
                                                                 rate, staff):
    case_id = rate(resident, check_in(resident, venue), stars=1).json["case"]["id"]
    clock.advance(8 * DAY)                                   # past 3 working days, whatever today is
    late_staff = bearer(login(STAFF, device_id="late"))
    r = client.post(f"/v1/rating-cases/{case_id}/resolve", headers=late_staff, json={"note": "迟到的整改"})
    assert r.status_code == 200 and r.json["overdue"] is True


def test_operators_resolve_a_miniprograms_case(client, resident, operator, staff, miniprogram, miniprogram_read,
                                               rate):
    rating = rate(resident, miniprogram_read(resident), stars=1, tags=["unexpected_use"]).json
    assert client.post(f"/v1/rating-cases/{rating['case']['id']}/resolve", headers=staff,
                       json={"note": "x"}).status_code == 403
    r = client.post(f"/v1/rating-cases/{rating['case']['id']}/resolve", headers=operator,
                    json={"note": "已下架相关功能"})
    assert r.status_code == 200 and r.json["subject"]["type"] == "miniprogram"
    assert client.get("/v1/inbox", headers=resident).json["items"][0]["body"].count("已下架相关功能") == 1
