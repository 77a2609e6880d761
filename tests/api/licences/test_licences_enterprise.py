"""Enterprise accounts (act-as) see the enterprise's business licence; residents see their own."""
import csv

import pytest

from tests.api.licences.conftest import CREDIT_CODE, ZHANG
from tests.conftest import bearer


@pytest.fixture
def market(register_issuer, issuer_token):
    return issuer_token(register_issuer("上海市市场监督管理局", ["business_licence"]))


@pytest.fixture
def enterprise(app, client, tmp_path, resident):
    """CREDIT_CODE in the enterprise registry with 张三 as legal representative, claimed by him."""
    path = tmp_path / "enterprises.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["credit_code", "name", "legal_rep_id_number", "district", "industry", "size"])
        writer.writerow([CREDIT_CODE, "上海某某科技有限公司", ZHANG, "黄浦区", "软件和信息技术服务业", "small"])
    result = app.test_cli_runner().invoke(args=["registry", "import-enterprises", str(path)])
    assert result.exit_code == 0, (result.output, result.exception)
    r = client.post("/v1/enterprises/claim", headers=resident, json={"credit_code": CREDIT_CODE})
    assert r.status_code == 200, r.json
    r = client.post("/v1/auth/act-as", headers=resident, json={"enterprise_id": r.json["id"]})
    assert r.status_code == 200, r.json
    return bearer(r.json)


def test_acting_for_the_enterprise_shows_its_business_licence(client, market, enterprise, resident, present, staff):
    body = {"holder": {"id_type": "credit_code", "id_number": CREDIT_CODE, "name": "上海某某科技有限公司"},
            "fields": {"enterprise_name": "上海某某科技有限公司", "legal_representative": "张三"},
            "valid_from": "2020-01-01", "valid_until": None, "region": "上海"}
    assert client.put(f"/v1/issuer/licences/business_licence/{CREDIT_CODE}", headers=market, json=body).status_code == 200
    wallet = client.get("/v1/licences", headers=enterprise).json
    [licence] = wallet["items"]
    assert licence["type"] == "business_licence" and licence["status"] == "valid" and licence["valid_until"] is None
    assert client.get("/v1/licences", headers=resident).json["items"] == []      # not in the personal wallet
    shown = present(licence["id"], fields=["enterprise_name"], headers=enterprise)
    r = client.post("/v1/presentations/verify", headers=staff, json={"payload": shown["payload"]})
    assert r.status_code == 200 and r.json["fields"] == {"enterprise_name": "上海某某科技有限公司"}
