"""Anyone reads a venue's or mini-program's ratings and summary; nothing in them names the rater
or links two ratings of one resident."""
import re

from api.extensions import db
from api.ratings.models import Rating, RatingCounters
from tests.api.ratings.conftest import RESIDENT, ZHANG

PUBLIC_KEYS = {"id", "stars", "tags", "comment", "service", "rated_on", "reply"}


def test_summary_counts_average_distribution_and_share_replied(client, resident, other_resident, staff, venue,
                                                               check_in, rate):
    ids = [rate(resident, check_in(resident, venue), stars=s).json["id"] for s in (5, 4, 4)]
    rate(other_resident, check_in(other_resident, venue), stars=1)
    assert client.post(f"/v1/ratings/{ids[0]}/reply", headers=staff, json={"text": "谢谢"}).status_code == 200
    r = client.get(f"/v1/venues/{venue['id']}/ratings/summary")
    assert r.status_code == 200
    assert r.json == {"count": 4, "average": 3.5, "distribution": {"1": 1, "2": 0, "3": 0, "4": 2, "5": 1},
                      "replied": 0.25, "replied_count": 1}


def test_summary_of_a_venue_never_rated(client, venue):
    r = client.get(f"/v1/venues/{venue['id']}/ratings/summary")
    assert r.json == {"count": 0, "average": None, "distribution": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0},
                      "replied": 0.0, "replied_count": 0}


def test_unknown_venue_or_miniprogram_is_404(client):
    for path in ("/v1/venues/vn_0000000000000000/ratings", "/v1/venues/vn_0000000000000000/ratings/summary",
                 "/v1/miniprograms/ssb0000000000000000/ratings", "/v1/miniprograms/nope/ratings/summary"):
        r = client.get(path)
        assert r.status_code == 404 and r.json["error"] in ("VENUE_NOT_FOUND", "MP_NOT_FOUND"), path


def test_counters_agree_with_the_rows(app, client, resident, other_resident, staff, venue, other_venue, check_in,
                                      rate):
    for stars in (1, 2, 5):
        rid = rate(resident, check_in(resident, venue), stars=stars).json["id"]
        client.post(f"/v1/ratings/{rid}/reply", headers=staff, json={"text": "收到"})
    rate(other_resident, check_in(other_resident, other_venue), stars=3)
    with app.app_context():
        for subject in (venue["id"], other_venue["id"]):
            rows = db.session.scalars(db.select(Rating).where(Rating.subject_id == subject)).all()
            counters = db.session.get(RatingCounters, ("venue", subject))
            assert counters.count == len(rows) and counters.stars_sum == sum(r.stars for r in rows)
            assert [getattr(counters, f"star_{n}") for n in range(1, 6)] == \
                [sum(r.stars == n for r in rows) for n in range(1, 6)]
            assert counters.replied == sum(r.reply is not None for r in rows)


def test_listing_is_newest_first_with_opaque_cursors(client, resident, venue, other_venue, check_in, rate):
    ids = [rate(resident, check_in(resident, venue), stars=s).json["id"] for s in (1, 2, 3)]
    page = client.get(f"/v1/venues/{venue['id']}/ratings?limit=2").json
    assert [i["id"] for i in page["items"]] == [ids[2], ids[1]]
    assert page["next_cursor"] == ids[1]                     # a public id, not our sequence
    rest = client.get(f"/v1/venues/{venue['id']}/ratings?limit=2&cursor={page['next_cursor']}").json
    assert [i["id"] for i in rest["items"]] == [ids[0]] and rest["next_cursor"] is None
    # a cursor of another venue's listing, or a made-up one, is refused
    other = rate(resident, check_in(resident, other_venue)).json["id"]
    for cursor in (other, "rt_0000000000000000", "1"):
        r = client.get(f"/v1/venues/{venue['id']}/ratings?cursor={cursor}")
        assert r.status_code == 422, cursor


def test_public_items_never_carry_the_rater(client, resident, venue, other_venue, check_in, rate):
    """Two ratings by one resident, at two venues, in the same minute: nothing in the public
    listings names the rater, and nothing but chance could tie the two together."""
    me = client.get("/v1/me", headers=resident).json
    first = rate(resident, check_in(resident, venue), stars=1, tags=["long_wait"], comment="等太久").json
    second = rate(resident, check_in(resident, other_venue), stars=1, tags=["long_wait"], comment="等太久").json
    a = client.get(f"/v1/venues/{venue['id']}/ratings").json["items"][0]
    b = client.get(f"/v1/venues/{other_venue['id']}/ratings").json["items"][0]
    assert set(a) == set(b) == PUBLIC_KEYS
    assert a["id"] == first["id"] and b["id"] == second["id"]
    assert re.fullmatch(r"rt_[0-9a-f]{16}", a["id"]) and re.fullmatch(r"rt_[0-9a-f]{16}", b["id"])
    assert a["id"][:6] != b["id"][:6] or a["id"][-6:] != b["id"][-6:]     # random, not sequential
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", a["rated_on"])               # the day, not the time
    body = client.get(f"/v1/venues/{venue['id']}/ratings").get_data(as_text=True)
    for secret in (RESIDENT, me["phone"], ZHANG, "张三"):
        assert secret not in body, secret


def test_concurrent_first_ratings_of_a_venue_lose_no_count(app, client, resident, make_venue, check_in):
    """Five ratings at once of a venue nobody rated yet: all race to create its counters row."""
    import threading

    fresh = make_venue("新开的服务点")
    access_ids = [check_in(resident, fresh) for _ in range(5)]
    barrier = threading.Barrier(len(access_ids))
    statuses = []

    def rate_one(access_id):
        with app.test_client() as own_client:
            barrier.wait()
            statuses.append(own_client.post("/v1/ratings", headers=resident,
                                            json={"access_id": access_id, "stars": 4}).status_code)

    threads = [threading.Thread(target=rate_one, args=(a,)) for a in access_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [201] * 5
    summary = client.get(f"/v1/venues/{fresh['id']}/ratings/summary").json
    assert summary["count"] == 5 and summary["distribution"]["4"] == 5
