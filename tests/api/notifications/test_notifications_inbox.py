"""The inbox, `deliver_to_user`, devices and preferences."""
from __future__ import annotations

from sqlalchemy import select

from api.extensions import db
from api.notifications.inbox import deliver_to_user
from api.notifications.models import Device, PushOutbox
from api.unit_of_work import commit
from tests.api.notifications.conftest import register_device


def deliver(app, user_id, n=1, **kw):
    ids = []
    with app.app_context():
        now = int(app.extensions["ssb.clock"]())
        for i in range(n):
            args = {"category": "service", "title": f"办件进度 {i}", "body": "您的申请已受理", "deep_link": f"ssb://cases/{i}"}
            args.update(kw)
            ids.append(deliver_to_user(user_id, now=now, **args).id)
        commit()        # deliver_to_user is a composed writer: the caller owns the commit
    return ids


def test_inbox_pages_newest_first_and_is_stable_under_inserts(app, client, residents):
    [me] = residents([{}])
    ids = deliver(app, me.user_id, n=5)
    r = client.get("/v1/inbox?limit=2", headers=me.headers)
    assert r.status_code == 200
    assert [m["id"] for m in r.json["items"]] == ids[::-1][:2]
    cursor = r.json["next_cursor"]
    deliver(app, me.user_id, n=3)                       # new messages arrive meanwhile
    r = client.get(f"/v1/inbox?limit=2&cursor={cursor}", headers=me.headers)
    assert [m["id"] for m in r.json["items"]] == ids[::-1][2:4]
    r = client.get(f"/v1/inbox?limit=2&cursor={r.json['next_cursor']}", headers=me.headers)
    assert [m["id"] for m in r.json["items"]] == ids[:1] and r.json["next_cursor"] is None


def test_message_shape_and_language_by_accept_language(app, client, residents):
    [me] = residents([{}])
    deliver(app, me.user_id, title="证照即将到期", body="您的驾驶证将于30天后到期", title_en="Licence expiring",
            body_en="Your driving licence expires in 30 days", category="licence")
    zh = client.get("/v1/inbox", headers={**me.headers, "Accept-Language": "zh-CN"}).json["items"][0]
    en = client.get("/v1/inbox", headers={**me.headers, "Accept-Language": "en-GB,en;q=0.9"}).json["items"][0]
    assert (zh["title"], zh["lang"]) == ("证照即将到期", "zh-CN")
    assert (en["title"], en["lang"]) == ("Licence expiring", "en")
    assert en["translations"]["zh-CN"]["body"] == "您的驾驶证将于30天后到期"
    assert zh["category"] == "licence" and zh["deep_link"] == "ssb://cases/0" and zh["read"] is False
    # Without an English text, English readers get the Chinese one.
    deliver(app, me.user_id, title="仅中文")
    first = client.get("/v1/inbox", headers={**me.headers, "Accept-Language": "en"}).json["items"][0]
    assert (first["title"], first["lang"], list(first["translations"])) == ("仅中文", "zh-CN", ["zh-CN"])


def test_unread_count_read_and_read_all(app, client, residents):
    me, other = residents([{}, {}])
    ids = deliver(app, me.user_id, n=3)
    assert client.get("/v1/inbox/unread-count", headers=me.headers).json == {"unread": 3}
    assert client.post(f"/v1/inbox/{ids[0]}/read", headers=me.headers).status_code == 204
    assert client.post(f"/v1/inbox/{ids[0]}/read", headers=me.headers).status_code == 204   # idempotent
    assert client.get("/v1/inbox/unread-count", headers=me.headers).json == {"unread": 2}
    r = client.post(f"/v1/inbox/{ids[1]}/read", headers=other.headers)
    assert (r.status_code, r.json["error"]) == (404, "INBOX_MESSAGE_NOT_FOUND")
    assert client.post("/v1/inbox/read-all", headers=me.headers).json == {"marked": 2, "unread": 0}
    assert client.get("/v1/inbox/unread-count", headers=me.headers).json == {"unread": 0}


def test_inbox_needs_sign_in(client):
    assert client.get("/v1/inbox").status_code == 401


def test_deliver_to_user_writes_inbox_and_outbox_together(app, residents):
    [me] = residents([{}])
    [mid] = deliver(app, me.user_id, urgent=True, category="security", title="新设备登录", body="如非本人操作请立即修改")
    with app.app_context():
        [row] = db.session.scalars(select(PushOutbox).where(PushOutbox.user_id == me.user_id)).all()
        assert (row.inbox_id, row.status, row.urgent, row.category) == (mid, "pending", True, "security")


# -- devices ----------------------------------------------------------------------------------


def test_register_list_and_delete_devices(client, residents):
    me, other = residents([{}, {}])
    device_id = register_device(client, me, "hms-token-0001")
    again = register_device(client, me, "hms-token-0001")          # idempotent per token
    assert again == device_id
    items = client.get("/v1/devices", headers=me.headers).json["items"]
    assert [(d["id"], d["platform"], d["token_suffix"]) for d in items] == [(device_id, "hms", "n-0001")]
    r = client.delete(f"/v1/devices/{device_id}", headers=other.headers)
    assert (r.status_code, r.json["error"]) == (404, "DEVICE_NOT_FOUND")
    assert client.delete(f"/v1/devices/{device_id}", headers=me.headers).status_code == 204
    assert client.get("/v1/devices", headers=me.headers).json["items"] == []


def test_device_validation(client, residents):
    [me] = residents([{}])
    r = client.post("/v1/devices", headers=me.headers, json={"platform": "wns", "token": "abcdefgh"})
    assert r.status_code == 422 and "platform" in r.json["errors"]
    r = client.post("/v1/devices", headers=me.headers, json={"platform": "fcm", "token": "bad token with spaces"})
    assert r.status_code == 422 and "token" in r.json["errors"]


def test_devices_go_away_with_sign_out(app, client, residents):
    me, other = residents([{}, {}])
    register_device(client, me, "hms-token-logout")
    register_device(client, other, "hms-token-remote")
    assert client.post("/v1/auth/logout", headers=me.headers).status_code == 204
    with app.app_context():
        from api.notifications.devices import reachable_devices
        assert [d.token for d in reachable_devices([me.user_id, other.user_id])] == ["hms-token-remote"]
        from api.identity.sessions import revoke_session
        revoke_session(other.user_id, other.session_id, now=int(app.extensions["ssb.clock"]()))
        assert reachable_devices([me.user_id, other.user_id]) == []


def test_a_token_moves_to_the_account_that_registers_it_last(app, client, residents):
    me, other = residents([{}, {}])
    register_device(client, me, "shared-phone-token")
    register_device(client, other, "shared-phone-token")
    with app.app_context():
        [device] = db.session.scalars(select(Device)).all()
        assert device.user_id == other.user_id
    assert client.get("/v1/devices", headers=me.headers).json["items"] == []


# -- preferences ------------------------------------------------------------------------------


def test_preferences_defaults_and_update(client, residents):
    [me] = residents([{}])
    r = client.get("/v1/me/preferences", headers=me.headers)
    assert r.status_code == 200
    assert all(r.json["topics"].values()) and r.json["quiet_hours"] is None and r.json["daily_cap"] == 10
    assert r.json["timezone"] == "Asia/Shanghai"
    r = client.put("/v1/me/preferences", headers=me.headers, json={
        "topics": {"policy": False, "housing": False}, "quiet_hours": {"start": "22:00", "end": "07:30"},
        "daily_cap": 3})
    assert r.status_code == 200, r.json
    assert r.json["topics"]["policy"] is False and r.json["topics"]["housing"] is False
    assert r.json["topics"]["licence"] is True
    assert r.json["quiet_hours"] == {"start": "22:00", "end": "07:30"} and r.json["daily_cap"] == 3
    r = client.put("/v1/me/preferences", headers=me.headers, json={"topics": {"policy": True}, "quiet_hours": None})
    assert r.json["topics"]["policy"] is True and r.json["topics"]["housing"] is False
    assert r.json["quiet_hours"] is None and r.json["daily_cap"] == 3


def test_security_messages_cannot_be_turned_off(client, residents):
    [me] = residents([{}])
    r = client.put("/v1/me/preferences", headers=me.headers, json={"topics": {"security": False}})
    assert (r.status_code, r.json["error"]) == (422, "SECURITY_TOPIC_REQUIRED")
    r = client.put("/v1/me/preferences", headers={**me.headers, "Accept-Language": "zh-CN"},
                   json={"topics": {"security": False}})
    assert r.json["message"] == "安全类消息不能关闭。"


def test_preferences_validation(client, residents):
    [me] = residents([{}])
    for body in ({"topics": {"weather": False}}, {"quiet_hours": {"start": "25:00", "end": "07:00"}},
                 {"daily_cap": -1}, {"quiet_hours": {"start": "22:00"}}):
        r = client.put("/v1/me/preferences", headers=me.headers, json=body)
        assert r.status_code == 422, body
    r = client.put("/v1/me/preferences", headers=me.headers, json={"quiet_hours": {"start": "22:00", "end": "22:00"}})
    assert (r.status_code, r.json["error"]) == (422, "QUIET_HOURS_INVALID")


def test_muted_topic_is_recorded_as_skipped_but_inbox_is_immediate(app, client, residents):
    [me] = residents([{}])
    client.put("/v1/me/preferences", headers=me.headers, json={"topics": {"service": False}})
    deliver(app, me.user_id)
    assert client.get("/v1/inbox/unread-count", headers=me.headers).json == {"unread": 1}
    with app.app_context():
        [row] = db.session.scalars(select(PushOutbox)).all()
        assert (row.status, row.reason) == ("skipped", "topic_off")
