"""Adding a member never tells the administrator whether a phone number belongs to a real-name
verified resident: a phone that is not yet a member gets an invitation, answered the same for a
verified resident, an unverified account and a number nobody uses. The resident sees it in their
own app and accepts (real-name verified) or declines; only then is the administrator told."""
from tests.api.enterprises.conftest import ACME
from tests.conftest import bearer

INVITE_KEYS = {"status", "phone", "role", "expires_at"}


def invite(client, tokens, enterprise_id, phone, role="viewer"):
    return client.post(f"/v1/enterprises/{enterprise_id}/members", headers=bearer(tokens),
                       json={"phone": phone, "role": role})


def test_the_answer_is_the_same_for_verified_unverified_and_unknown_phones(client, acme, verified, login):
    verified("13800000002")                 # a real-name verified resident
    login("13800000003")                    # an account without a real name
    answers = [invite(client, acme["admin"], acme["id"], phone) for phone in
               ("13800000002", "13800000003", "13900009999")]
    assert [a.status_code for a in answers] == [202, 202, 202], [a.json for a in answers]
    assert all(set(a.json) == INVITE_KEYS for a in answers)
    assert {(a.json["status"], a.json["role"]) for a in answers} == {("invited", "viewer")}
    assert [a.json["phone"] for a in answers] == ["138****0002", "138****0003", "139****9999"]
    # Nobody joined: the member list is the administrator alone until someone accepts.
    members = client.get(f"/v1/enterprises/{acme['id']}/members", headers=bearer(acme["admin"])).json["items"]
    assert [m["user_id"] for m in members] == [acme["admin"]["user_id"]]


def test_the_invited_resident_accepts_and_then_acts_for_the_enterprise(client, acme, verified):
    li = verified("13800000002")
    assert invite(client, acme["admin"], acme["id"], "13800000002", "handler").status_code == 202
    [mine] = client.get("/v1/enterprises/invitations", headers=bearer(li)).json["items"]
    assert mine["enterprise"]["credit_code"] == ACME and mine["role"] == "handler"
    accepted = client.post(f"/v1/enterprises/invitations/{mine['id']}/accept", headers=bearer(li))
    assert accepted.status_code == 201, accepted.json
    assert accepted.json["user_id"] == li["user_id"] and accepted.json["role"] == "handler"
    assert accepted.json["granted_by"] == acme["admin"]["user_id"]
    assert client.post("/v1/auth/act-as", headers=bearer(li), json={"enterprise_id": acme["id"]}).status_code == 200
    assert client.get("/v1/enterprises/invitations", headers=bearer(li)).json["items"] == []
    again = client.post(f"/v1/enterprises/invitations/{mine['id']}/accept", headers=bearer(li))
    assert again.status_code == 404 and again.json["error"] == "INVITATION_NOT_FOUND"


def test_an_unverified_invitee_must_verify_before_accepting(client, acme, login):
    tokens = login("13800000003")
    invite(client, acme["admin"], acme["id"], "13800000003")
    [mine] = client.get("/v1/enterprises/invitations", headers=bearer(tokens)).json["items"]
    r = client.post(f"/v1/enterprises/invitations/{mine['id']}/accept", headers=bearer(tokens))
    assert r.status_code == 403 and r.json["error"] == "REAL_NAME_REQUIRED"


def test_the_invitee_declines_and_nobody_else_can_touch_the_invitation(client, acme, verified):
    li, wang = verified("13800000002"), verified("13800000003")
    invite(client, acme["admin"], acme["id"], "13800000002")
    [mine] = client.get("/v1/enterprises/invitations", headers=bearer(li)).json["items"]
    for method in ("post", "delete"):
        url = f"/v1/enterprises/invitations/{mine['id']}" + ("/accept" if method == "post" else "")
        r = getattr(client, method)(url, headers=bearer(wang))
        assert r.status_code == 404 and r.json["error"] == "INVITATION_NOT_FOUND"
    assert client.delete(f"/v1/enterprises/invitations/{mine['id']}", headers=bearer(li)).status_code == 204
    assert client.get("/v1/enterprises/invitations", headers=bearer(li)).json["items"] == []


def test_an_invitation_expires(client, acme, verified, clock, login):
    li = verified("13800000002")
    invite(client, acme["admin"], acme["id"], "13800000002")
    [mine] = client.get("/v1/enterprises/invitations", headers=bearer(li)).json["items"]
    clock.advance(8 * 24 * 3600)
    li = login("13800000002", device_id="a-week-later")
    assert client.get("/v1/enterprises/invitations", headers=bearer(li)).json["items"] == []
    r = client.post(f"/v1/enterprises/invitations/{mine['id']}/accept", headers=bearer(li))
    assert r.status_code == 404


def test_a_members_role_changes_at_once(client, acme, verified):
    li = verified("13800000002")
    invite(client, acme["admin"], acme["id"], "13800000002", "viewer")
    [mine] = client.get("/v1/enterprises/invitations", headers=bearer(li)).json["items"]
    client.post(f"/v1/enterprises/invitations/{mine['id']}/accept", headers=bearer(li))
    r = invite(client, acme["admin"], acme["id"], "13800000002", "manager")   # already a member: no secret
    assert r.status_code == 201 and r.json["role"] == "manager" and r.json["user_id"] == li["user_id"]


def test_the_audit_names_the_invitation_and_the_acceptance(client, acme, verified):
    li = verified("13800000002")
    invite(client, acme["admin"], acme["id"], "13800000002", "handler")
    [mine] = client.get("/v1/enterprises/invitations", headers=bearer(li)).json["items"]
    client.post(f"/v1/enterprises/invitations/{mine['id']}/accept", headers=bearer(li))
    items = client.get(f"/v1/enterprises/{acme['id']}/audit", headers=bearer(acme["admin"])).json["items"]
    actions = [i["action"] for i in items]
    assert actions[:2] == ["grant", "invite"]
    assert items[0]["subject"]["user_id"] == li["user_id"] and items[1]["subject"] is None
