"""The hot paths read Redis, not the database; changes reach the cache at once."""
import contextlib
import dataclasses
import time

import jwt
import pytest
from sqlalchemy import event

from tests.api.codes.conftest import LAO_LI, ZHANG
from tests.conftest import bearer
from tests.factories import import_persons


@contextlib.contextmanager
def statements(app):
    seen = []
    with app.app_context():
        from api.extensions import db
        engine = db.engine

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement.split()[0].upper() + " " + statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_issuing_a_code_touches_no_table(app, client, verified_resident):
    client.get("/v1/codes/suishen?scene=medical", headers=verified_resident)       # warm the cache
    with statements(app) as seen:
        for scene in ("general", "medical", "transport"):
            assert client.get(f"/v1/codes/suishen?scene={scene}&count=3", headers=verified_resident).status_code == 200
    assert seen == []


def test_verifying_writes_only_the_access_record(app, client, verified_resident, verify, get_code):
    verify(get_code(verified_resident))                                              # warm both caches
    code = get_code(verified_resident, "transport")
    with statements(app) as seen:
        assert verify(code).status_code == 200
    tables = [s for s in seen if not s.startswith(("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE"))]
    assert len(tables) == 1 and tables[0].startswith("INSERT") and "access_records" in tables[0], seen


def test_a_registry_import_reaches_the_cache_at_once(app, client, verified_resident, tmp_path):
    assert client.get("/v1/codes/suishen?scene=veteran", headers=verified_resident).status_code == 403
    import_persons(app, tmp_path, [
        {"id_type": "resident_id", "id_number": ZHANG, "name": "张三", "birth_date": "1990-03-07",
         "district": "黄浦区", "hukou": "1", "veteran": "true", "medical_insurance": "active"},
        {"id_type": "resident_id", "id_number": LAO_LI, "name": "李老汉", "birth_date": "1950-01-01",
         "district": "徐汇区", "hukou": "1", "veteran": "true", "medical_insurance": "suspended"},
    ])
    assert client.get("/v1/codes/suishen?scene=veteran", headers=verified_resident).status_code == 200


def test_losing_an_entitlement_refuses_codes_already_issued(app, client, veteran, verify, get_code, tmp_path):
    code = get_code(veteran, "veteran")
    import_persons(app, tmp_path, [
        {"id_type": "resident_id", "id_number": LAO_LI, "name": "李老汉", "birth_date": "1950-01-01",
         "district": "徐汇区", "hukou": "1", "veteran": "false", "medical_insurance": "suspended"}])
    r = verify(code)
    assert r.status_code == 403 and r.json["error"] == "NOT_A_VETERAN"


def test_medical_entitlement_shows_the_insurance_card_status(client, operator, login, veteran, get_code, make_venue):
    hospital = make_venue(kind="hospital", name="瑞金医院")
    client.post(f"/v1/admin/venues/{hospital['id']}/staff", headers=operator,
                json={"phone": "13900000088", "scenes": ["medical"]})
    nurse = bearer(login("13900000088", device_id="desk"))
    r = client.post("/v1/verify", headers=nurse, json={"payload": get_code(veteran, "medical"),
                                                       "venue_id": hospital["id"]})
    assert r.status_code == 200, r.json
    assert r.json["entitlement"] == {"real_name_verified": True, "insurance_card": "suspended"}
    assert r.json["holder"]["name"] == "**汉"


def test_a_token_without_hid_still_gets_codes(app, client, resident):
    """Tokens minted elsewhere (e.g. act-as) may not carry `hid`: the user→holder map serves."""
    from api.identity.tokens import decode_access_token, issue_access_token
    with app.app_context():
        p = decode_access_token(resident["Authorization"].split()[1], now=int(time.time()))
        token, _ = issue_access_token(user_id=p.user_id, session_id=p.session_id, roles=list(p.roles),
                                      now=int(time.time()))
    assert "hid" not in jwt.decode(token, options={"verify_signature": False})
    r = client.get("/v1/codes/suishen", headers=bearer(token))
    assert r.status_code == 200
    assert jwt.decode(r.json["codes"][0]["payload"], options={"verify_signature": False})["sub"] == \
        jwt.decode(resident["Authorization"].split()[1], options={"verify_signature": False})["hid"]


@pytest.fixture
def two_processes(base_config, tmp_path):
    """Two apps sharing one KEYS_DIR, like two gunicorn workers."""
    from tests.conftest import FakeClock
    from wsgi import create_app
    cfg = dataclasses.replace(base_config, KEYS_DIR=str(tmp_path / "shared-keys"))
    apps = [create_app(dataclasses.replace(cfg)) for _ in range(2)]
    for a in apps:
        a.extensions["ssb.clock"] = FakeClock()
    return apps


def test_a_process_that_has_not_reloaded_yet_accepts_codes_signed_with_a_new_key(app, two_processes):
    from api.extensions import db
    from api.identity.sessions import get_or_create_user, start_session

    a, b = two_processes
    with a.app_context():
        resident = get_or_create_user("+8613900000301", now=int(time.time()))
        staff_user = get_or_create_user("+8613900000302", now=int(time.time()))
        operator = get_or_create_user("+8613900000303", now=int(time.time()))
        operator.roles = ["resident", "operator"]
        db.session.commit()
        tokens = {u: start_session(u, device_id="d", user_agent=None, now=int(time.time())).access_token
                  for u in (resident, staff_user, operator)}
    ca, cb = a.test_client(), b.test_client()
    venue = ca.post("/v1/admin/venues", headers=bearer(tokens[operator]),
                    json={"name": "x", "address": "y", "district": "z", "kind": "other"}).json
    assert ca.post(f"/v1/admin/venues/{venue['id']}/staff", headers=bearer(tokens[operator]),
                   json={"phone": "13900000302", "scenes": ["general"]}).status_code == 200
    assert b.extensions["ssb.keyring"].current()    # b has loaded the ring before the rotation

    assert a.test_cli_runner().invoke(args=["keys", "rotate"]).exit_code == 0
    code = ca.get("/v1/codes/suishen", headers=bearer(tokens[resident])).json["codes"][0]["payload"]
    assert jwt.get_unverified_header(code)["kid"] not in {k.kid for k in b.extensions["ssb.keyring"]._ring.keys}
    r = cb.post("/v1/verify", headers=bearer(tokens[staff_user]), json={"payload": code, "venue_id": venue["id"]})
    assert r.status_code == 200, r.json


def test_a_cache_fill_racing_with_an_invalidation_is_not_stored(app, resident):
    """A verify reads the holder row, then (before it stores it) an operator disables the
    account: the stale row must not land in the cache."""
    from api.codes import holder_cache
    from api.extensions import db, get_redis

    hid = jwt.decode(resident["Authorization"].split()[1], options={"verify_signature": False})["hid"]
    invalidated = []

    def someone_invalidates_after_the_read(conn, cursor, statement, parameters, context, executemany):
        if not invalidated and "FROM users" in statement:
            invalidated.append(statement)
            holder_cache.invalidate([hid])      # what the disable's after-commit hook does

    with app.app_context():
        get_redis().delete(holder_cache.holder_key(hid))
        event.listen(db.engine, "after_cursor_execute", someone_invalidates_after_the_read)
        try:
            assert holder_cache.load(hid).holder_id == hid
        finally:
            event.remove(db.engine, "after_cursor_execute", someone_invalidates_after_the_read)
        assert invalidated and get_redis().get(holder_cache.holder_key(hid)) is None
    with app.app_context():
        holder_cache.load(hid)
        assert get_redis().get(holder_cache.holder_key(hid)) is not None
