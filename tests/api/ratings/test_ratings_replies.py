"""The rated venue's staff reply publicly, once; nobody else can (operators for mini-programs)."""
from tests.api.ratings.conftest import STAFF


def test_staff_reply_once_and_the_reply_is_public(client, resident, staff, venue, check_in, rate):
    rating = rate(resident, check_in(resident, venue), stars=3, comment="一般").json
    r = client.post(f"/v1/ratings/{rating['id']}/reply", headers=staff, json={"text": "感谢您的意见，我们会改进。"})
    assert r.status_code == 200, r.json
    assert r.json["reply"]["text"] == "感谢您的意见，我们会改进。"
    item = client.get(f"/v1/venues/{venue['id']}/ratings").json["items"][0]
    assert item["reply"] == r.json["reply"] and set(item["reply"]) == {"text", "replied_on"}   # never who replied
    again = client.post(f"/v1/ratings/{rating['id']}/reply", headers=staff, json={"text": "再次回复"})
    assert again.status_code == 409 and again.json["error"] == "ALREADY_REPLIED"
    assert client.get(f"/v1/venues/{venue['id']}/ratings").json["items"][0]["reply"]["text"] == "感谢您的意见，我们会改进。"


def test_staff_of_another_venue_residents_and_operators_cannot_reply(client, resident, operator, staff, other_staff,
                                                                     venue, check_in, rate):
    rating = rate(resident, check_in(resident, venue), stars=1).json
    for headers in (other_staff, resident, operator):
        r = client.post(f"/v1/ratings/{rating['id']}/reply", headers=headers, json={"text": "我们来回复"})
        assert r.status_code == 403 and r.json["error"] == "NOT_RATING_RESPONDER"
    assert client.get(f"/v1/venues/{venue['id']}/ratings").json["items"][0]["reply"] is None


def test_a_revoked_grant_stops_replies_at_once(client, resident, operator, staff, venue, check_in, rate):
    rating = rate(resident, check_in(resident, venue), stars=2).json
    user_id = client.get("/v1/me", headers=staff).json["id"]
    assert client.delete(f"/v1/admin/venues/{venue['id']}/staff/{user_id}", headers=operator).status_code == 204
    r = client.post(f"/v1/ratings/{rating['id']}/reply", headers=staff, json={"text": "已处理"})
    assert r.status_code == 403


def test_operators_answer_for_a_miniprogram_and_venue_staff_cannot(client, resident, operator, staff, miniprogram,
                                                                   miniprogram_read, rate):
    rating = rate(resident, miniprogram_read(resident), stars=2, tags=["too_much_data"]).json
    assert client.post(f"/v1/ratings/{rating['id']}/reply", headers=staff, json={"text": "x"}).status_code == 403
    r = client.post(f"/v1/ratings/{rating['id']}/reply", headers=operator, json={"text": "已要求开发者整改"})
    assert r.status_code == 200, r.json
    summary = client.get(f"/v1/miniprograms/{miniprogram['appid']}/ratings/summary").json
    assert summary["replied"] == 1.0


def test_unknown_rating_and_blank_reply(client, resident, staff, venue, check_in, rate):
    assert client.post("/v1/ratings/rt_0000000000000000/reply", headers=staff,
                       json={"text": "x"}).json["error"] == "RATING_NOT_FOUND"
    rating = rate(resident, check_in(resident, venue)).json
    r = client.post(f"/v1/ratings/{rating['id']}/reply", headers=staff, json={"text": "   "})
    assert r.status_code == 422


def test_reply_masks_the_raters_name(client, resident, staff, venue, check_in, rate):
    rating = rate(resident, check_in(resident, venue), stars=2).json
    r = client.post(f"/v1/ratings/{rating['id']}/reply", headers=staff,
                    json={"text": "张三先生您好，请拨 13812345678 联系我们"})
    assert r.json["reply"]["text"] == "*三先生您好，请拨 138****5678 联系我们"


def test_staff_login_phone_is_not_in_public_replies(client, resident, staff, venue, check_in, rate):
    rating = rate(resident, check_in(resident, venue)).json
    client.post(f"/v1/ratings/{rating['id']}/reply", headers=staff, json={"text": "谢谢"})
    body = client.get(f"/v1/venues/{venue['id']}/ratings").get_data(as_text=True)
    assert STAFF not in body and STAFF[-4:] not in body
