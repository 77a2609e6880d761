"""A change committed while Redis does not answer cannot evict the cache entries it makes stale.
The eviction is recorded in the database and applied when Redis answers again, so a lost
entitlement or a revoked staff grant does not live on for the entries' whole expiry."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from tests.api.codes.conftest import LAO_LI
from tests.factories import import_persons
from tests.fakes.freezing_proxy import proxied_app


@pytest.fixture
def behind_proxy(app, stores, base_config):
    with proxied_app(base_config, stores["redis"], app.extensions["ssb.clock"]) as (other, proxies):
        yield other, proxies["redis"]


def _once_ready(app, within: float = 10.0):
    """/readyz until Redis answers again (the breaker's cooldown, api.breaker)."""
    client, deadline = app.test_client(), time.monotonic() + within
    while True:
        r = client.get("/readyz")
        if r.status_code == 200 or time.monotonic() > deadline:
            return r
        r.close()
        time.sleep(0.2)


def pending(app) -> list[str]:
    with app.app_context():
        from api.extensions import db
        from api.ops.models import PendingInvalidation
        kinds = list(db.session.scalars(select(PendingInvalidation.kind).order_by(PendingInvalidation.id)))
        db.session.remove()
        return kinds


def test_a_lost_entitlement_reaches_the_cache_once_redis_answers(app, client, veteran, behind_proxy, tmp_path):
    other, redis_proxy = behind_proxy
    assert client.get("/v1/codes/suishen?scene=veteran", headers=veteran).status_code == 200   # cached

    redis_proxy.freeze()
    import_persons(other, tmp_path, [   # committed; its eviction cannot reach Redis
        {"id_type": "resident_id", "id_number": LAO_LI, "name": "李老汉", "birth_date": "1950-01-01",
         "district": "徐汇区", "hukou": "1", "veteran": "false", "medical_insurance": "suspended"}])
    assert pending(app) == ["holder"]
    assert client.get("/v1/codes/suishen?scene=veteran", headers=veteran).status_code == 200   # stale, for now

    redis_proxy.thaw()
    r = _once_ready(other)
    r.close()   # the server closes the response; the recorded eviction is applied then
    assert pending(app) == []
    r = client.get("/v1/codes/suishen?scene=veteran", headers=veteran)
    assert r.status_code == 403 and r.json["error"] == "NOT_A_VETERAN"


def test_a_revoked_staff_grant_is_evicted_by_the_relay_when_redis_returns(app, client, operator, venue, staff,
                                                                          verify, get_code, resident,
                                                                          behind_proxy):
    other, redis_proxy = behind_proxy
    assert verify(get_code(resident)).status_code == 200        # the venue's staff are cached
    staff_id = client.get(f"/v1/admin/venues/{venue['id']}/staff", headers=operator).json[0]["user_id"]

    redis_proxy.freeze()
    # Redis stops answering between the revocation's commit and its eviction (a request would
    # fail its sign-in check first if Redis were already gone: the use case itself, then).
    with other.test_request_context():
        from api.codes import venues
        from api.extensions import now
        venues.revoke_staff(venue_id=venue["id"], user_id=staff_id, now=now())
    assert pending(app) == ["venue_staff"]
    assert verify(get_code(resident)).status_code == 200        # stale, for now

    redis_proxy.thaw()
    result = app.test_cli_runner().invoke(args=["push", "relay"])   # the periodic safety net
    assert result.exit_code == 0 and "cache_invalidations=1" in result.output, result.output
    r = verify(get_code(resident))
    assert r.status_code == 403 and r.json["error"] == "NOT_STAFF_OF_VENUE"


def test_nothing_is_recorded_when_redis_answers(app, client, veteran, tmp_path):
    import_persons(app, tmp_path, [
        {"id_type": "resident_id", "id_number": LAO_LI, "name": "李老汉", "birth_date": "1950-01-01",
         "district": "徐汇区", "hukou": "1", "veteran": "false", "medical_insurance": "suspended"}])
    assert pending(app) == []
    with app.app_context():
        from api.extensions import db
        from api.ops.models import PendingInvalidation
        assert db.session.scalar(select(func.count()).select_from(PendingInvalidation)) == 0
