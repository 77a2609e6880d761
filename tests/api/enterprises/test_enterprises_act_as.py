"""Acting for an enterprise: a token of the same session, within the member's role, checked
against the membership on every use (a revocation or demotion applies at once)."""
import pytest

from api.enterprises.services import require_enterprise_role
from api.errors import AppError
from api.identity.tokens import decode_access_token
from tests.api.enterprises.conftest import ACME, act_as, grant
from tests.conftest import bearer


def _principal(app, token: str):
    with app.app_context():
        from api.extensions import now
        return decode_access_token(token, now=now())


def _require(app, token: str, role: str):
    with app.app_context():
        from api.extensions import now
        return require_enterprise_role(_principal(app, token), role, now=now())


def test_administrator_acts_for_the_enterprise(client, acme, app):
    r = act_as(client, acme["admin"], acme["id"])
    assert r.status_code == 200, r.json
    assert r.json["role"] == "administrator" and r.json["enterprise_id"] == acme["id"]
    assert r.json["token_type"] == "Bearer" and r.json["expires_in"] > 0
    acting = client.get("/v1/enterprises/acting", headers=bearer(r.json["access_token"]))
    assert acting.status_code == 200, acting.json
    assert acting.json == {"enterprise_id": acme["id"], "credit_code": ACME, "name": "上海示例科技有限公司",
                           "role": "administrator", "user_id": acme["admin"]["user_id"]}
    plain = _principal(app, acme["admin"]["access_token"])
    actor = _principal(app, r.json["access_token"])
    assert actor.session_id == plain.session_id and actor.user_id == plain.user_id
    assert actor.acting_for == {"enterprise_id": acme["id"], "role": "administrator"}


def test_a_plain_token_does_not_act_for_anyone(client, acme, app):
    r = client.get("/v1/enterprises/acting", headers=bearer(acme["admin"]))
    assert r.status_code == 403 and r.json["error"] == "NOT_ACTING_FOR_ENTERPRISE"
    with pytest.raises(AppError) as exc:
        _require(app, acme["admin"]["access_token"], "viewer")
    assert exc.value.error.name == "NOT_ACTING_FOR_ENTERPRISE"


def test_role_order_is_enforced(client, acme, verified, app):
    handler = verified("13800000002")
    grant(client, acme["admin"], acme["id"], "13800000002", "handler")
    token = act_as(client, handler, acme["id"]).json["access_token"]
    for role in ("viewer", "handler"):
        membership = _require(app, token, role)
        assert membership.role == "handler" and membership.enterprise_id == acme["id"]
        assert membership.user_id == handler["user_id"] and membership.credit_code == ACME
    for role in ("manager", "administrator"):
        with pytest.raises(AppError) as exc:
            _require(app, token, role)
        assert exc.value.error.name == "ENTERPRISE_ROLE_REQUIRED"


def test_acting_after_revocation_is_refused_at_once(client, acme, verified, app):
    handler = verified("13800000002")
    grant(client, acme["admin"], acme["id"], "13800000002", "handler")
    token = act_as(client, handler, acme["id"]).json["access_token"]
    assert client.get("/v1/enterprises/acting", headers=bearer(token)).status_code == 200
    r = client.delete(f"/v1/enterprises/{acme['id']}/members/{handler['user_id']}", headers=bearer(acme["admin"]))
    assert r.status_code == 204
    r = client.get("/v1/enterprises/acting", headers=bearer(token))
    assert r.status_code == 403 and r.json["error"] == "ENTERPRISE_MEMBERSHIP_REVOKED"
    with pytest.raises(AppError) as exc:
        _require(app, token, "viewer")
    assert exc.value.error.name == "ENTERPRISE_MEMBERSHIP_REVOKED"
    r = act_as(client, handler, acme["id"])
    assert r.status_code == 404 and r.json["error"] == "ENTERPRISE_NOT_FOUND"


def test_a_demotion_applies_to_tokens_already_acting(client, acme, verified, app):
    member = verified("13800000002")
    grant(client, acme["admin"], acme["id"], "13800000002", "manager")
    token = act_as(client, member, acme["id"]).json["access_token"]
    assert _require(app, token, "manager").role == "manager"
    grant(client, acme["admin"], acme["id"], "13800000002", "viewer")
    with pytest.raises(AppError) as exc:
        _require(app, token, "handler")
    assert exc.value.error.name == "ENTERPRISE_ROLE_REQUIRED"
    assert client.get("/v1/enterprises/acting", headers=bearer(token)).json["role"] == "viewer"


def test_a_promotion_needs_a_new_act_as(client, acme, verified, app):
    member = verified("13800000002")
    grant(client, acme["admin"], acme["id"], "13800000002", "viewer")
    token = act_as(client, member, acme["id"]).json["access_token"]
    grant(client, acme["admin"], acme["id"], "13800000002", "manager")
    assert _require(app, token, "viewer").role == "viewer"
    assert _require(app, act_as(client, member, acme["id"]).json["access_token"], "manager").role == "manager"


def test_non_members_cannot_act(client, acme, verified):
    r = act_as(client, verified("13800000002"), acme["id"])
    assert r.status_code == 404 and r.json["error"] == "ENTERPRISE_NOT_FOUND"


@pytest.mark.parametrize("body", [{}, {"enterprise_id": "1"}, {"enterprise_id": 0}, {"enterprise_id": 2**64},
                                  {"enterprise_id": 1, "role": "administrator"}])
def test_bad_act_as_requests_are_422(client, acme, body):
    r = client.post("/v1/auth/act-as", headers=bearer(acme["admin"]), json=body)
    assert r.status_code == 422 and r.json["error"] == "VALIDATION_ERROR"


def test_signing_out_ends_the_acting_token_too(client, acme):
    token = act_as(client, acme["admin"], acme["id"]).json["access_token"]
    assert client.post("/v1/auth/logout", headers=bearer(acme["admin"])).status_code == 204
    r = client.get("/v1/enterprises/acting", headers=bearer(token))
    assert r.status_code == 401 and r.json["error"] == "INVALID_TOKEN"


def test_audit_lists_grants_revocations_and_act_as(client, acme, verified):
    li = verified("13800000002")
    grant(client, acme["admin"], acme["id"], "13800000002", "handler")
    act_as(client, li, acme["id"])
    grant(client, acme["admin"], acme["id"], "13800000002", "viewer")
    client.delete(f"/v1/enterprises/{acme['id']}/members/{li['user_id']}", headers=bearer(acme["admin"]))
    url = f"/v1/enterprises/{acme['id']}/audit"
    items = client.get(url, headers=bearer(acme["admin"])).json["items"]
    assert [(a["action"], a["role"], a["previous_role"]) for a in items] == [
        ("revoke", None, "viewer"), ("grant", "viewer", "handler"), ("act_as", "handler", None),
        ("grant", "handler", None), ("invite", "handler", None), ("claim", "administrator", None)]
    act = items[2]
    assert act["actor"] == {"user_id": li["user_id"], "phone": "138****0002", "name": "*四"}
    assert items[0]["actor"]["user_id"] == acme["admin"]["user_id"] and items[0]["subject"]["user_id"] == li["user_id"]

    first = client.get(url, headers=bearer(acme["admin"]), query_string={"limit": 2}).json
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = client.get(url, headers=bearer(acme["admin"]), query_string={"limit": 2, "cursor": first["next_cursor"]}).json
    third = client.get(url, headers=bearer(acme["admin"]), query_string={"limit": 3, "cursor": second["next_cursor"]}).json
    assert [a["id"] for a in first["items"] + second["items"] + third["items"]] == [a["id"] for a in items]
    assert third["next_cursor"] is None


def test_only_administrators_read_the_audit(client, acme, verified):
    manager = verified("13800000002")
    grant(client, acme["admin"], acme["id"], "13800000002", "manager")
    r = client.get(f"/v1/enterprises/{acme['id']}/audit", headers=bearer(manager))
    assert r.status_code == 403 and r.json["error"] == "ENTERPRISE_ROLE_REQUIRED"


def test_messages_follow_accept_language(client, acme, verified):
    r = client.post("/v1/enterprises/claim", headers={**bearer(verified("13800000002")), "Accept-Language": "zh-CN"},
                    json={"credit_code": ACME})
    assert r.json["error"] == "NOT_LEGAL_REPRESENTATIVE" and r.json["message"] == "仅企业登记的法定代表人可以认领该企业。"
