"""The hot routes answer with ready bytes (orjson, api.responses) instead of flask-smorest's
marshmallow dump: those bytes must be exactly what the documented schema describes. Each body is
loaded with the schema (types, required fields, no unknown field) and dumped back: the round
trip must give the same JSON (so datetimes are formatted as the schema formats them), and the
OpenAPI document must still name that schema for the operation."""
from __future__ import annotations

import json
import time

import pytest

from api.codes.schemas import CodesSchema, CodeVerifyResult
from api.extensions import db
from api.identity import accounts
from api.identity.me_schemas import ProfileSchema
from api.identity.schemas import TokenPairSchema
from api.notifications import inbox
from api.notifications.inbox import deliver_to_user
from api.notifications.schemas import InboxPage, UnreadCountSchema
from api.unit_of_work import commit
from tests.api.codes.conftest import RESIDENT
from tests.conftest import bearer


def _same_as_schema_dump(response, schema_cls) -> dict:
    assert response.status_code == 200, response.json
    assert response.mimetype == "application/json"
    body = json.loads(response.data)
    schema = schema_cls()
    assert schema.dump(schema.load(body)) == body
    return body


def _documented_schema(client, path: str, method: str) -> str:
    spec = client.get("/openapi.json").json
    content = spec["paths"][path][method]["responses"]["200"]["content"]["application/json"]
    return content["schema"]["$ref"].rsplit("/", 1)[-1]


@pytest.fixture
def inbox_messages(app, client, verified_resident):
    me = client.get("/v1/me", headers=verified_resident).json
    with app.app_context():
        deliver_to_user(me["id"], category="policy", title="政策", body="黄浦区", deep_link="ssb://p/1",
                        title_en="Policy", body_en="Huangpu", now=int(time.time()))
        deliver_to_user(me["id"], category="security", title="只有中文", body="正文", deep_link=None,
                        now=int(time.time()))
        commit()
        db.session.remove()
    client.post("/v1/inbox/read-all", headers=verified_resident)
    with app.app_context():
        deliver_to_user(me["id"], category="policy", title="新", body="未读", deep_link=None, now=int(time.time()))
        commit()
    return verified_resident


def test_me_bytes_match_profile_schema(app, client, verified_resident):
    body = _same_as_schema_dump(client.get("/v1/me", headers=verified_resident), ProfileSchema)
    assert body["real_name"]["verified"] and body["real_name"]["verified_at"]
    with app.app_context():   # what flask-smorest would have written for the same data
        assert ProfileSchema().dump(accounts.profile(body["id"])) == body
    assert _documented_schema(client, "/v1/me", "get") == "Profile"


def test_unverified_me_bytes_match_profile_schema(client, login):
    body = _same_as_schema_dump(client.get("/v1/me", headers=bearer(login())), ProfileSchema)
    assert body["real_name"]["verified_at"] is None


def test_inbox_bytes_match_inbox_page_schema(app, client, inbox_messages):
    for language in ("zh-CN", "en"):
        r = client.get("/v1/inbox?limit=2", headers=inbox_messages | {"Accept-Language": language})
        body = _same_as_schema_dump(r, InboxPage)
        assert len(body["items"]) == 2 and body["next_cursor"]
        assert any(item["read_at"] for item in body["items"]) or any(not item["read"] for item in body["items"])
    with app.app_context():   # what flask-smorest would have written for the same data
        user_id = client.get("/v1/me", headers=inbox_messages).json["id"]
        page = inbox.list_inbox(user_id, before_id=None, limit=2, english=True)
        assert InboxPage().dump(page) == body
    r = client.get(f"/v1/inbox?cursor={body['next_cursor']}", headers=inbox_messages)
    assert _same_as_schema_dump(r, InboxPage)["next_cursor"] is None
    assert _documented_schema(client, "/v1/inbox", "get") == "InboxPage"


def test_unread_count_bytes_match_schema(client, inbox_messages):
    body = _same_as_schema_dump(client.get("/v1/inbox/unread-count", headers=inbox_messages), UnreadCountSchema)
    assert body == {"unread": 1}
    assert _documented_schema(client, "/v1/inbox/unread-count", "get") == "UnreadCount"


def test_codes_and_verify_bytes_match_their_schemas(client, verified_resident, staff, venue):
    body = _same_as_schema_dump(client.get("/v1/codes/suishen?scene=general&count=2", headers=verified_resident),
                                CodesSchema)
    assert len(body["codes"]) == 2
    assert _documented_schema(client, "/v1/codes/suishen", "get") == "Codes"
    r = client.post("/v1/verify", headers=staff, json={"payload": body["codes"][0]["payload"], "venue_id": venue["id"]})
    result = _same_as_schema_dump(r, CodeVerifyResult)
    assert result["verdict"] == "accepted" and result["holder"]["real_name_verified"] is True
    assert _documented_schema(client, "/v1/verify", "post") == "CodeVerifyResult"


def test_refresh_bytes_match_token_pair_schema(client, login):
    tokens = login(RESIDENT)
    body = _same_as_schema_dump(client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}),
                                TokenPairSchema)
    assert body["token_type"] == "Bearer"
    assert _documented_schema(client, "/v1/auth/refresh", "post") == "TokenPair"


def test_remembered_query_parses_answer_exactly_as_a_fresh_parse(client, login):
    """Query strings are parsed once per schema and remembered (api.extensions.StrictParser):
    a repeat gets the same answer, an invalid one is still refused every time, and the view's
    copy is its own."""
    auth = bearer(login())
    for _ in range(3):
        r = client.get("/v1/codes/suishen?scene=general&count=2", headers=auth)
        assert r.status_code == 200 and len(r.json["codes"]) == 2
    for _ in range(2):
        r = client.get("/v1/codes/suishen?scene=general&count=11", headers=auth)
        assert r.status_code == 422 and r.json["error"] == "VALIDATION_ERROR"
        r = client.get("/v1/codes/suishen?scene=general&bogus=1", headers=auth)
        assert r.status_code == 422
    assert len(client.get("/v1/codes/suishen?scene=general", headers=auth).json["codes"]) == 1
    assert client.get("/v1/inbox?limit=5", headers=auth).status_code == 200
    assert client.get("/v1/inbox?limit=500", headers=auth).status_code == 422


def test_the_query_memo_is_bounded():
    import marshmallow as ma

    from api.extensions import _query_memo

    schema = ma.Schema()
    memo = _query_memo(schema, 4)
    for i in range(4):
        memo[(str(i).encode(), None)] = {}
    assert len(_query_memo(schema, 4)) == 0, "emptied when full"
