"""Policies: authoring (rule errors are clear), the catalogue, and "for me" with the reasons."""
from __future__ import annotations

from tests.api.notifications.conftest import HUANGPU_60_LOCAL


def create(client, operator, **kw):
    body = {"title": "高龄老人综合津贴", "body": "黄浦区户籍60岁以上老人可申请", "topic": "elderly",
            "rule": HUANGPU_60_LOCAL}
    body.update(kw)
    return client.post("/v1/admin/policies", headers=operator, json=body)


def test_operator_publishes_a_policy(client, operator):
    r = create(client, operator, title_en="Senior allowance", body_en="For local residents of Huangpu aged 60+")
    assert r.status_code == 201, r.json
    assert r.json["rule"] == HUANGPU_60_LOCAL and r.json["subject"] == "person"
    assert r.json["deep_link"] == f"ssb://policies/{r.json['id']}"
    got = client.get(f"/v1/policies/{r.json['id']}")
    assert got.status_code == 200 and got.json["title_en"] == "Senior allowance"
    listing = client.get("/v1/policies?topic=elderly").json
    assert [p["id"] for p in listing["items"]] == [r.json["id"]]
    assert client.get("/v1/policies?topic=housing").json["items"] == []


def test_residents_cannot_publish(client, residents):
    [me] = residents([{}])
    r = create(client, me.headers)
    assert (r.status_code, r.json["error"]) == (403, "ROLE_REQUIRED")


def test_unknown_attribute_is_a_clear_422(client, operator):
    r = create(client, operator, rule={"and": [{">=": [{"var": "income"}, 1000]}]})
    assert r.status_code == 422 and r.json["error"] == "RULE_INVALID"
    assert r.json["errors"]["rule"]["path"] == "/and/0/>=/0/var"
    assert 'unknown attribute "income"' in r.json["errors"]["rule"]["en"]
    assert "未知的属性“income”" in r.json["errors"]["rule"]["zh"]
    assert 'unknown attribute "income"' in r.json["message"]
    zh = create(client, {**operator, "Accept-Language": "zh-CN"}, rule={"and": [{">=": [{"var": "income"}, 1]}]})
    assert "未知的属性“income”" in zh.json["message"]


def test_unknown_operator_and_type_errors(client, operator):
    r = create(client, operator, rule={"regex": [{"var": "district"}, ".*"]})
    assert r.status_code == 422 and 'unknown operator "regex"' in r.json["errors"]["rule"]["en"]
    r = create(client, operator, rule={">=": [{"var": "age"}, "60"]})
    assert r.status_code == 422 and "cannot be compared with a text" in r.json["errors"]["rule"]["en"]
    r = create(client, operator, rule={"==": [{"var": "industry"}, "餐饮"]})      # an enterprise attribute
    assert r.status_code == 422 and "does not apply to person rules" in r.json["errors"]["rule"]["en"]
    assert create(client, operator, rule={"==": [{"var": "industry"}, "餐饮"]}, subject="enterprise").status_code == 201


def test_policy_not_found(client):
    r = client.get("/v1/policies/999999")
    assert (r.status_code, r.json["error"]) == (404, "POLICY_NOT_FOUND")


def test_policies_for_me_with_why(client, operator, residents):
    old, young, unverified = residents([
        {"birth_date": "1950-05-01", "district": "黄浦区", "hukou": True, "veteran": True},
        {"birth_date": "1995-05-01", "district": "黄浦区", "hukou": True},
        {"birth_date": "1950-05-01", "verified": False},
    ])
    senior = create(client, operator).json
    veterans = create(client, operator, title="退役军人优待", topic="veterans",
                      rule={"or": [{"==": [{"var": "veteran"}, True]}, {"==": [{"var": "disabled"}, True]}]}).json
    create(client, operator, title="企业", rule={"==": [{"var": "size"}, "small"]}, subject="enterprise")

    mine = client.get("/v1/policies/for-me", headers=old.headers).json
    assert mine["verified"] is True
    assert [m["policy"]["id"] for m in mine["items"]] == [veterans["id"], senior["id"]]
    why = {(c["attribute"], c["op"]): c for c in mine["items"][1]["why"]}
    assert why[("age", ">=")]["actual"] >= 60 and why[("age", ">=")]["held"] is True
    assert why[("district", "==")]["actual"] == "黄浦区"
    # Only the conditions that held are given as reasons.
    assert [c["attribute"] for c in mine["items"][0]["why"]] == ["veteran"]

    assert client.get("/v1/policies/for-me", headers=young.headers).json == {"verified": True, "items": []}
    assert client.get("/v1/policies/for-me", headers=unverified.headers).json == {"verified": False, "items": []}
