"""The enterprise registry: the CSV import (local backend), the HTTP client against a loopback
fake registry, and a change of legal representative moving the administrator role."""
import pytest
from sqlalchemy import select, text

from api.config import Config
from api.enterprises.models import EnterpriseMember, RegistryEnterprise
from api.enterprises.registry import HttpEnterpriseRegistry, LocalEnterpriseRegistry, enterprise_registry_from_config
from api.extensions import db
from tests.api.enterprises.conftest import ACME, LI, OTHER, WANG, ZHANG, acme_row, act_as, credit_code, grant
from tests.conftest import bearer
from tests.fakes.enterprise_registry_server import FakeEnterpriseRegistry

API_KEY = "enterprise-registry-test-key"


# -- CSV import ------------------------------------------------------------------------------------

def test_import_stores_the_legal_representative_encrypted(app, import_enterprises):
    result = import_enterprises([acme_row(), {**acme_row(), "credit_code": OTHER, "name": "另一家公司",
                                              "founded_on": ""}])
    assert "imported 2 enterprises (2 new" in result.output
    with app.app_context():
        rows = {r.credit_code: r for r in db.session.scalars(select(RegistryEnterprise))}
        assert rows[ACME].founded_on.isoformat() == "2015-06-01" and rows[OTHER].founded_on is None
        assert rows[ACME].industry == "软件和信息技术服务业" and rows[ACME].size == "small"
        dump = repr(db.session.execute(text("SELECT * FROM enterprise_registry")).all())
        assert ZHANG not in dump and ZHANG[:17] not in dump
        blobs = b"".join(bytes(v) for r in db.session.execute(text("SELECT legal_rep_enc FROM enterprise_registry"))
                         for v in r)
        assert ZHANG.encode() not in blobs


def test_import_skips_bad_rows_with_their_line_numbers(app, import_enterprises):
    bad_code = ACME[:-1] + ("0" if ACME[-1] != "0" else "1")
    result = import_enterprises([
        {**acme_row(), "credit_code": bad_code},
        {**acme_row(), "legal_rep_id_number": ZHANG[:-1] + ("0" if ZHANG[-1] != "0" else "1")},
        {**acme_row(), "founded_on": "2015-13-01"},
        {**acme_row(), "name": ""},
        acme_row(),
    ])
    assert "imported 1 enterprises" in result.output and "skipped 4" in result.output
    assert "line 2: INVALID_CREDIT_CODE" in result.output and "line 3: INVALID_ID_NUMBER" in result.output
    with app.app_context():
        assert db.session.scalar(select(RegistryEnterprise.credit_code)) == ACME


def test_import_refuses_a_file_without_the_contract_columns(app, tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("credit_code,name\n" + ACME + ",x\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["registry", "import-enterprises", str(path)])
    assert result.exit_code != 0 and "missing columns" in result.output


# -- change of legal representative ----------------------------------------------------------------

def _members(app):
    with app.app_context():
        return sorted((m.user_id, m.role, m.source) for m in db.session.scalars(select(EnterpriseMember)))


def test_reimport_with_a_new_representative_moves_the_administrator_role(client, app, acme, verified,
                                                                         import_enterprises):
    li = verified("13800000002")
    old_token = act_as(client, acme["admin"], acme["id"]).json["access_token"]
    result = import_enterprises([acme_row(legal_rep=LI)])
    assert "1 with a new legal representative" in result.output
    assert _members(app) == [(li["user_id"], "administrator", "legal_rep")]
    assert client.get(f"/v1/enterprises/{acme['id']}", headers=bearer(acme["admin"])).status_code == 404
    r = client.get("/v1/enterprises/acting", headers=bearer(old_token))
    assert r.status_code == 403 and r.json["error"] == "ENTERPRISE_MEMBERSHIP_REVOKED"
    audit = client.get(f"/v1/enterprises/{acme['id']}/audit", headers=bearer(li)).json["items"]
    assert [(a["action"], a["actor"]) for a in audit[:3]] == [("grant", None), ("legal_rep_changed", None),
                                                              ("revoke", None)]
    r = client.post("/v1/enterprises/claim", headers=bearer(acme["admin"]), json={"credit_code": ACME})
    assert r.status_code == 403 and r.json["error"] == "NOT_LEGAL_REPRESENTATIVE"


def test_an_unverified_new_representative_takes_over_on_their_claim(client, app, acme, verified,
                                                                    import_enterprises):
    import_enterprises([acme_row(legal_rep=WANG)])
    assert _members(app) == []
    wang = verified("13800000003")
    r = client.post("/v1/enterprises/claim", headers=bearer(wang), json={"credit_code": ACME})
    assert r.status_code == 200 and r.json["id"] == acme["id"] and r.json["my_role"] == "administrator"
    assert _members(app) == [(wang["user_id"], "administrator", "legal_rep")]


def test_roles_granted_by_the_old_representative_stay(client, app, acme, verified, import_enterprises):
    manager = verified("13800000004")
    grant(client, acme["admin"], acme["id"], "13800000004", "manager")
    import_enterprises([acme_row(legal_rep=WANG)])
    assert _members(app) == [(manager["user_id"], "manager", "grant")]


def test_a_member_named_representative_is_promoted(client, app, acme, verified, import_enterprises):
    li = verified("13800000002")
    grant(client, acme["admin"], acme["id"], "13800000002", "handler")
    import_enterprises([acme_row(legal_rep=LI)])
    assert _members(app) == [(li["user_id"], "administrator", "legal_rep")]
    latest = client.get(f"/v1/enterprises/{acme['id']}/audit", headers=bearer(li)).json["items"][0]
    assert (latest["action"], latest["role"], latest["previous_role"]) == ("grant", "administrator", "handler")


def test_unchanged_reimport_changes_no_role(client, app, acme, import_enterprises):
    result = import_enterprises([acme_row(size="medium")])
    assert "0 new, 0 with a new legal representative" in result.output
    assert _members(app) == [(acme["admin"]["user_id"], "administrator", "legal_rep")]
    assert client.get(f"/v1/enterprises/{acme['id']}", headers=bearer(acme["admin"])).json["size"] == "medium"


# -- HTTP registry ---------------------------------------------------------------------------------

@pytest.fixture
def fake_registry():
    with FakeEnterpriseRegistry(API_KEY) as fake:
        fake.add(ACME, "上海示例科技有限公司", ZHANG, district="黄浦区",
                 industry="软件和信息技术服务业", size="small", founded_on="2015-06-01")
        yield fake


@pytest.fixture
def http_backend(app, fake_registry, monkeypatch):
    """The app configured with ENTERPRISE_REGISTRY_BACKEND=http:<fake>."""
    registry = enterprise_registry_from_config(f"http:{fake_registry.url}", API_KEY,
                                               session_factory=lambda: db.session,
                                               blind_index=app.extensions["ssb.pii"].blind_index)
    monkeypatch.setitem(app.extensions, "ssb.enterprise_registry", registry)
    return registry


def test_backend_is_chosen_by_configuration():
    cfg = Config.from_env({"ENTERPRISE_REGISTRY_BACKEND": "http:http://127.0.0.1:9/", "DATA_KEY": "a" * 44,
                           "SECRET_KEY": "x", "INSTANCE_DIR": "/tmp"})
    assert cfg.ENTERPRISE_REGISTRY_BACKEND == "http:http://127.0.0.1:9/"
    registry = enterprise_registry_from_config(cfg.ENTERPRISE_REGISTRY_BACKEND, "k", session_factory=None,
                                               blind_index=lambda t, n: n)
    assert isinstance(registry, HttpEnterpriseRegistry) and registry.base_url == "http://127.0.0.1:9"
    assert isinstance(enterprise_registry_from_config("local", "", session_factory=None, blind_index=None),
                      LocalEnterpriseRegistry)
    with pytest.raises(ValueError):
        enterprise_registry_from_config("ldap:x", "", session_factory=None, blind_index=None)


def test_claim_through_the_http_registry(client, population, verified, http_backend, fake_registry):
    r = client.post("/v1/enterprises/claim", headers=bearer(verified("13800000001")), json={"credit_code": ACME})
    assert r.status_code == 200, r.json
    assert r.json["my_role"] == "administrator" and r.json["founded_on"] == "2015-06-01"
    sent = fake_registry.requests[-1]
    assert sent["path"] == "/enterprises/lookup" and b'"credit_code": "' + ACME.encode() in sent["body"]


def test_http_registry_refusals(client, population, verified, http_backend, fake_registry):
    li = verified("13800000002")
    r = client.post("/v1/enterprises/claim", headers=bearer(li), json={"credit_code": ACME})
    assert r.status_code == 403 and r.json["error"] == "NOT_LEGAL_REPRESENTATIVE"
    r = client.post("/v1/enterprises/claim", headers=bearer(li), json={"credit_code": OTHER})
    assert r.status_code == 404 and r.json["error"] == "ENTERPRISE_NOT_FOUND"
    before = len(fake_registry.requests)
    r = client.post("/v1/enterprises/claim", headers=bearer(li), json={"credit_code": ACME[:-1] + "I"})
    assert r.status_code == 422 and len(fake_registry.requests) == before   # never asked the registry


def test_registry_outage_is_503(client, population, verified, http_backend, fake_registry):
    fake_registry.fail_next = 1
    r = client.post("/v1/enterprises/claim", headers=bearer(verified("13800000001")), json={"credit_code": ACME})
    assert r.status_code == 503 and r.json["error"] == "UPSTREAM_UNAVAILABLE"


def test_requests_are_signed_with_the_api_key(app, fake_registry):
    with app.app_context():
        good = HttpEnterpriseRegistry(fake_registry.url, API_KEY, blind_index=lambda t, n: f"{t}:{n}")
        assert good.lookup(ACME).legal_rep_bidx == f"resident_id:{ZHANG}"
        assert good.lookup(credit_code("91310101MA1FL0002")) is None
        from api.enterprises.registry import RegistryUnavailable
        with pytest.raises(RegistryUnavailable):
            HttpEnterpriseRegistry(fake_registry.url, "wrong-key", blind_index=lambda t, n: n).lookup(ACME)


def test_a_new_representative_in_the_http_registry_takes_over_on_claim(client, app, population, verified,
                                                                        http_backend, fake_registry):
    zhang = verified("13800000001")
    eid = client.post("/v1/enterprises/claim", headers=bearer(zhang), json={"credit_code": ACME}).json["id"]
    fake_registry.add(ACME, "上海示例科技有限公司", LI)
    li = verified("13800000002")
    r = client.post("/v1/enterprises/claim", headers=bearer(li), json={"credit_code": ACME})
    assert r.status_code == 200 and r.json["id"] == eid
    assert _members(app) == [(li["user_id"], "administrator", "legal_rep")]
    assert client.get(f"/v1/enterprises/{eid}", headers=bearer(zhang)).status_code == 404
