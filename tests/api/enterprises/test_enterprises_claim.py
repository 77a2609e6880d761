"""Claiming an enterprise: only its registered legal representative, real-name verified."""
from sqlalchemy import select

from api.enterprises.models import EnterpriseMember
from api.extensions import db
from tests.api.enterprises.conftest import ACME, OTHER, credit_code
from tests.conftest import bearer


def test_legal_representative_becomes_administrator(client, registry, verified):
    tokens = verified("13800000001")
    r = client.post("/v1/enterprises/claim", headers=bearer(tokens), json={"credit_code": ACME.lower()})
    assert r.status_code == 200, r.json
    body = r.json
    assert body["credit_code"] == ACME and body["name"] == "上海示例科技有限公司"
    assert body["my_role"] == "administrator" and body["founded_on"] == "2015-06-01"
    assert client.get(f"/v1/enterprises/{body['id']}", headers=bearer(tokens)).json["my_role"] == "administrator"
    mine = client.get("/v1/enterprises", headers=bearer(tokens)).json["items"]
    assert [e["id"] for e in mine] == [body["id"]]


def test_claiming_again_is_idempotent(client, acme):
    r = client.post("/v1/enterprises/claim", headers=bearer(acme["admin"]), json={"credit_code": ACME})
    assert r.status_code == 200 and r.json["id"] == acme["id"]
    audit = client.get(f"/v1/enterprises/{acme['id']}/audit", headers=bearer(acme["admin"])).json["items"]
    assert [a["action"] for a in audit] == ["claim"]


def test_someone_else_is_not_the_legal_representative(client, registry, verified):
    r = client.post("/v1/enterprises/claim", headers=bearer(verified("13800000002")), json={"credit_code": ACME})
    assert r.status_code == 403 and r.json["error"] == "NOT_LEGAL_REPRESENTATIVE"


def test_someone_else_cannot_take_over_a_claimed_enterprise(client, acme, verified, app):
    r = client.post("/v1/enterprises/claim", headers=bearer(verified("13800000002")), json={"credit_code": ACME})
    assert r.status_code == 403 and r.json["error"] == "NOT_LEGAL_REPRESENTATIVE"
    with app.app_context():
        members = db.session.scalars(select(EnterpriseMember)).all()
        assert [(m.user_id, m.role) for m in members] == [(acme["admin"]["user_id"], "administrator")]


def test_real_name_verification_is_required(client, registry, login):
    r = client.post("/v1/enterprises/claim", headers=bearer(login("13800000001")), json={"credit_code": ACME})
    assert r.status_code == 403 and r.json["error"] == "REAL_NAME_REQUIRED"


def test_bad_credit_code_is_refused_before_any_lookup(client, registry, login):
    bad = ACME[:-1] + ("0" if ACME[-1] != "0" else "1")
    r = client.post("/v1/enterprises/claim", headers=bearer(login("13800000001")), json={"credit_code": bad})
    assert r.status_code == 422 and r.json["error"] == "INVALID_CREDIT_CODE"
    assert "credit_code" in r.json["errors"]


def test_unknown_enterprise_is_404(client, registry, verified):
    r = client.post("/v1/enterprises/claim", headers=bearer(verified("13800000001")), json={"credit_code": OTHER})
    assert r.status_code == 404 and r.json["error"] == "ENTERPRISE_NOT_FOUND"


def test_non_members_see_nothing(client, acme, verified):
    outsider = verified("13800000002")
    for path in ("", "/members", "/audit"):
        r = client.get(f"/v1/enterprises/{acme['id']}{path}", headers=bearer(outsider))
        assert r.status_code == 404 and r.json["error"] == "ENTERPRISE_NOT_FOUND", path
    assert client.get("/v1/enterprises/99999999", headers=bearer(outsider)).status_code == 404
    assert client.get(f"/v1/enterprises/{2**64}", headers=bearer(outsider)).status_code == 404


def test_claims_are_rate_limited_per_account(client, registry, verified):
    tokens = verified("13800000002")
    codes = {client.post("/v1/enterprises/claim", headers=bearer(tokens),
                         json={"credit_code": credit_code(f"9131010100000{i:04d}")}).status_code for i in range(31)}
    assert codes == {404, 429}
