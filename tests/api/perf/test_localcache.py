"""Per-process copies of the holder and venue-staff caches: an eviction reaches every process at
once; a lost message, a broken subscription or a racing fill never leaves a stale entry."""
from api.codes import holder_cache, venues
from api.extensions import get_redis
from api.localcache import GEN_KEY, InvalidationView, LocalCache, publish_invalidation


def _other_process(app) -> InvalidationView:
    with app.app_context():
        view = InvalidationView(get_redis())
    assert view.is_current()
    return view


def test_an_eviction_reaches_another_process_copy_at_once(app):
    other = _other_process(app)
    cache = other.cache(holder_cache.HOLDER_LOCAL)
    cache.put("h1", "info", cache.fill_token())
    assert cache.get("h1") == "info"
    with app.app_context():
        holder_cache.invalidate(["h1"])
    assert cache.get("h1") is LocalCache.MISSING


def test_a_venue_staff_change_evicts_every_copy(app, client, operator, venue, staff):
    other = _other_process(app)
    cache = other.cache(venues.STAFF_LOCAL)
    cache.put(venue["id"], ({"id": venue["id"]}, {1: ["general"]}), cache.fill_token())
    r = client.post(f"/v1/admin/venues/{venue['id']}/staff", headers=operator,
                    json={"phone": "13900000123", "scenes": ["general"]})
    assert r.status_code == 200, r.json
    assert cache.get(venue["id"]) is LocalCache.MISSING


def test_a_lost_eviction_empties_the_copy(app):
    other = _other_process(app)
    cache = other.cache("holder")
    cache.put("h2", "info", cache.fill_token())
    with app.app_context():
        redis = get_redis()
        redis.incr(GEN_KEY)                       # an eviction whose message never came
        publish_invalidation(redis, "holder", ["unrelated"])
    assert cache.get("h2") is LocalCache.MISSING


def test_a_fill_that_raced_with_an_eviction_is_not_stored(app):
    other = _other_process(app)
    cache = other.cache("holder")
    token = cache.fill_token()                     # taken before reading Redis
    with app.app_context():
        holder_cache.invalidate(["h3"])             # evicted while we read
    cache.put("h3", "stale", token)
    assert cache.get("h3") is LocalCache.MISSING


def test_a_broken_subscription_bypasses_the_copy(app):
    other = _other_process(app)
    cache = other.cache("holder")
    cache.put("h4", "info", cache.fill_token())
    with app.app_context():
        get_redis().client_kill_filter(_type="pubsub")
    assert cache.get("h4") is LocalCache.MISSING


def test_a_disabled_resident_code_is_refused_at_once(client, operator, verified_resident, staff, venue):
    payload = client.get("/v1/codes/suishen?scene=general", headers=verified_resident).json["codes"][0]["payload"]
    verify = {"payload": payload, "venue_id": venue["id"]}
    assert client.post("/v1/verify", headers=staff, json=verify).status_code == 200     # now cached locally
    me = client.get("/v1/me", headers=verified_resident).json
    r = client.post(f"/v1/admin/users/{me['id']}/disable", headers=operator, json={"reason": "test"})
    assert r.status_code == 200, r.json
    r = client.post("/v1/verify", headers=staff, json=verify)
    assert r.status_code == 403 and r.json["error"] == "CODE_REVOKED"
