"""Delegated roles: administrators grant anything, managers handler and viewer only."""
import pytest

from tests.api.enterprises.conftest import act_as, grant
from tests.conftest import bearer


def test_administrator_grants_a_role_by_phone(client, acme, verified):
    li = verified("13800000002")
    r = grant(client, acme["admin"], acme["id"], "13800000002", "manager")
    assert r.status_code == 201, r.json
    assert r.json["user_id"] == li["user_id"] and r.json["role"] == "manager" and r.json["source"] == "grant"
    assert r.json["phone"] == "138****0002" and r.json["name"] == "*四"
    assert client.get(f"/v1/enterprises/{acme['id']}", headers=bearer(li)).json["my_role"] == "manager"
    members = client.get(f"/v1/enterprises/{acme['id']}/members", headers=bearer(acme["admin"])).json["items"]
    assert [(m["role"], m["source"]) for m in members] == [("administrator", "legal_rep"), ("manager", "grant")]


@pytest.mark.parametrize("role", ["handler", "viewer"])
def test_manager_grants_handler_and_viewer(client, acme, verified, role):
    manager = verified("13800000002")
    verified("13800000003")
    grant(client, acme["admin"], acme["id"], "13800000002", "manager")
    r = grant(client, manager, acme["id"], "13800000003", role)
    assert r.status_code == 201 and r.json["role"] == role and r.json["granted_by"] == manager["user_id"]


@pytest.mark.parametrize("role", ["manager", "administrator"])
def test_manager_cannot_grant_at_or_above_own_level(client, acme, verified, role):
    manager = verified("13800000002")
    verified("13800000003")
    grant(client, acme["admin"], acme["id"], "13800000002", "manager")
    r = grant(client, manager, acme["id"], "13800000003", role)
    assert r.status_code == 403 and r.json["error"] == "ROLE_ESCALATION"


def test_manager_cannot_demote_a_peer_or_the_administrator(client, acme, verified):
    manager = verified("13800000002")
    verified("13800000003")
    grant(client, acme["admin"], acme["id"], "13800000002", "manager")
    grant(client, acme["admin"], acme["id"], "13800000003", "manager")
    r = grant(client, manager, acme["id"], "13800000003", "viewer")
    assert r.status_code == 403 and r.json["error"] == "ROLE_ESCALATION"
    r = grant(client, manager, acme["id"], "13800000001", "viewer")
    assert r.status_code == 403 and r.json["error"] == "ROLE_ESCALATION"


@pytest.mark.parametrize("role", ["handler", "viewer"])
def test_handlers_and_viewers_cannot_grant_or_list(client, acme, verified, role):
    member = verified("13800000002")
    verified("13800000003")
    grant(client, acme["admin"], acme["id"], "13800000002", role)
    r = grant(client, member, acme["id"], "13800000003", "viewer")
    assert r.status_code == 403 and r.json["error"] == "ENTERPRISE_ROLE_REQUIRED"
    r = client.get(f"/v1/enterprises/{acme['id']}/members", headers=bearer(member))
    assert r.status_code == 403 and r.json["error"] == "ENTERPRISE_ROLE_REQUIRED"
    assert client.get(f"/v1/enterprises/{acme['id']}", headers=bearer(member)).json["my_role"] == role


def test_grantee_must_be_a_verified_resident(client, acme, login):
    login("13800000002")    # an account, but not real-name verified: invited, cannot accept
    r = grant(client, acme["admin"], acme["id"], "13800000002", "viewer")
    assert r.status_code == 403 and r.json["error"] == "REAL_NAME_REQUIRED"


def test_the_legal_representatives_role_cannot_be_changed_or_revoked(client, acme, verified):
    other_admin = verified("13800000002")
    grant(client, acme["admin"], acme["id"], "13800000002", "administrator")
    r = grant(client, other_admin, acme["id"], "13800000001", "viewer")
    assert r.status_code == 409 and r.json["error"] == "LEGAL_REP_PROTECTED"
    rep = acme["admin"]["user_id"]
    for who in (other_admin, acme["admin"]):   # revoked by another administrator, or leaving
        r = client.delete(f"/v1/enterprises/{acme['id']}/members/{rep}", headers=bearer(who))
        assert r.status_code == 409 and r.json["error"] == "LEGAL_REP_PROTECTED"


def test_administrator_revokes_and_access_ends_at_once(client, acme, verified):
    li = verified("13800000002")
    grant(client, acme["admin"], acme["id"], "13800000002", "handler")
    r = client.delete(f"/v1/enterprises/{acme['id']}/members/{li['user_id']}", headers=bearer(acme["admin"]))
    assert r.status_code == 204
    assert client.get(f"/v1/enterprises/{acme['id']}", headers=bearer(li)).status_code == 404
    assert act_as(client, li, acme["id"]).status_code == 404
    r = client.delete(f"/v1/enterprises/{acme['id']}/members/{li['user_id']}", headers=bearer(acme["admin"]))
    assert r.status_code == 404 and r.json["error"] == "MEMBER_NOT_FOUND"


def test_manager_revokes_handlers_but_not_managers(client, acme, verified):
    manager = verified("13800000002")
    handler = verified("13800000003")
    peer = verified("13800000004")
    grant(client, acme["admin"], acme["id"], "13800000002", "manager")
    grant(client, acme["admin"], acme["id"], "13800000003", "handler")
    grant(client, acme["admin"], acme["id"], "13800000004", "manager")
    eid = acme["id"]
    assert client.delete(f"/v1/enterprises/{eid}/members/{handler['user_id']}", headers=bearer(manager)).status_code == 204
    r = client.delete(f"/v1/enterprises/{eid}/members/{peer['user_id']}", headers=bearer(manager))
    assert r.status_code == 403 and r.json["error"] == "ROLE_ESCALATION"


def test_a_member_may_leave(client, acme, verified):
    viewer = verified("13800000002")
    grant(client, acme["admin"], acme["id"], "13800000002", "viewer")
    r = client.delete(f"/v1/enterprises/{acme['id']}/members/{viewer['user_id']}", headers=bearer(viewer))
    assert r.status_code == 204
    assert client.get("/v1/enterprises", headers=bearer(viewer)).json["items"] == []


def test_granting_to_oneself_is_refused(client, acme):
    r = grant(client, acme["admin"], acme["id"], "13800000001", "viewer")
    assert r.status_code == 409 and r.json["error"] == "SELF_ROLE_CHANGE"
