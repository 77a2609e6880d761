"""Department upserts: idempotent, own types only, fields checked against the type's schema."""
from datetime import timedelta

import pytest
from sqlalchemy import text

from tests.api.licences.conftest import CREDIT_CODE, ZHANG, driving_body


def test_upsert_creates_then_is_idempotent(push):
    first = push()
    assert first.status_code == 200 and first.json["created"] is True and first.json["version"] == 1
    again = push()
    assert again.status_code == 200 and again.json["created"] is False
    assert again.json["version"] == 1 and again.json["id"] == first.json["id"]


def test_a_changed_body_updates_the_same_licence(push):
    first = push()
    second = push(vehicle_class="B2")
    assert second.json["id"] == first.json["id"] and second.json["version"] == 2


def test_number_is_masked_in_the_answer(push):
    assert ZHANG not in push().get_data(as_text=True)


def test_a_department_writes_only_its_own_types(client, police, today):
    body = driving_body(today())
    body["fields"] = {"registration_date": "2020-05-20"}
    r = client.put("/v1/issuer/licences/marriage_certificate/J3101-2020-1", headers=police, json=body)
    assert r.status_code == 403 and r.json["error"] == "LICENCE_TYPE_NOT_ALLOWED"


def test_another_department_cannot_overwrite_or_revoke(client, push, register_issuer, issuer_token):
    assert push().status_code == 200
    jiangsu = issuer_token(register_issuer("江苏省公安厅交通警察总队", ["driving_licence"]))
    r = push(headers=jiangsu)
    assert r.status_code == 403 and r.json["error"] == "LICENCE_OWNED_BY_OTHER_ISSUER"
    r = client.delete(f"/v1/issuer/licences/driving_licence/DL{ZHANG}", headers=jiangsu)
    assert r.status_code == 403 and r.json["error"] == "LICENCE_OWNED_BY_OTHER_ISSUER"


def test_unknown_type_is_not_found(client, police, today):
    r = client.put("/v1/issuer/licences/pilot_licence/123456", headers=police, json=driving_body(today()))
    assert r.status_code == 404 and r.json["error"] == "LICENCE_TYPE_NOT_FOUND"


def test_a_field_the_schema_does_not_know_is_refused(push):
    r = push(favourite_colour="blue")
    assert r.status_code == 422 and r.json["error"] == "INVALID_LICENCE_FIELDS"
    assert r.json["errors"]["fields"] == {"favourite_colour": ["Unknown field."]}


@pytest.mark.parametrize("fields,name", [
    ({"first_issue_date": "2012-02-30"}, "first_issue_date"),
    ({"gender": "unknown"}, "gender"),
    ({"vehicle_class": ""}, "vehicle_class"),
    ({"vehicle_class": 3}, "vehicle_class"),
])
def test_malformed_field_values_are_refused(push, fields, name):
    r = push(**fields)
    assert r.status_code == 422 and name in r.json["errors"]["fields"]


def test_a_required_field_is_required(client, police, today):
    body = driving_body(today())
    del body["fields"]["vehicle_class"]
    r = client.put(f"/v1/issuer/licences/driving_licence/DL{ZHANG}", headers=police, json=body)
    assert r.status_code == 422 and "vehicle_class" in r.json["errors"]["fields"]


def test_holder_identity_number_is_checked(push):
    r = push(id_number=ZHANG[:-1] + ("0" if ZHANG[-1] != "0" else "1"))
    assert r.status_code == 422 and r.json["error"] == "INVALID_ID_NUMBER"


@pytest.mark.parametrize("region", ["310000", "320000", "浙江", "Anhui", "安徽省"])
def test_yangtze_delta_regions_are_recognised_alike(push, region):
    assert push(region=region).status_code == 200


def test_other_regions_are_refused(push):
    r = push(region="110000")
    assert r.status_code == 422 and r.json["error"] == "INVALID_REGION"


def test_valid_until_before_valid_from_is_refused(client, police, today):
    body = driving_body(today())
    body["valid_until"] = (today() - timedelta(days=400)).isoformat()
    r = client.put(f"/v1/issuer/licences/driving_licence/DL{ZHANG}", headers=police, json=body)
    assert r.status_code == 422


def test_business_licence_is_held_by_a_credit_code(client, register_issuer, issuer_token, today):
    market = issuer_token(register_issuer("上海市市场监督管理局", ["business_licence"]))
    body = {"holder": {"id_type": "credit_code", "id_number": CREDIT_CODE, "name": "上海某某科技有限公司"},
            "fields": {"enterprise_name": "上海某某科技有限公司", "legal_representative": "张三"},
            "valid_from": "2020-01-01", "valid_until": None, "region": "310000"}
    r = client.put(f"/v1/issuer/licences/business_licence/{CREDIT_CODE}", headers=market, json=body)
    assert r.status_code == 200, r.json
    body["holder"]["id_number"] = CREDIT_CODE[:-1] + "0"
    r = client.put(f"/v1/issuer/licences/business_licence/{CREDIT_CODE}", headers=market, json=body)
    assert r.status_code == 422 and r.json["error"] == "INVALID_ID_NUMBER"
    body["holder"] = {"id_type": "resident_id", "id_number": ZHANG, "name": "张三"}
    r = client.put(f"/v1/issuer/licences/business_licence/{CREDIT_CODE}", headers=market, json=body)
    assert r.status_code == 422


def test_identity_numbers_and_sensitive_fields_are_encrypted_at_rest(push, app):
    assert push().status_code == 200
    from api.extensions import db
    with app.app_context():
        rows = db.session.execute(text("SELECT * FROM licences")).all()
    dump = repr(rows)
    for secret in (ZHANG, ZHANG[:17], "张三", "人民大道", "310012345678"):
        assert secret not in dump, secret
        blobs = b"".join(bytes(v) for r in rows for v in r if isinstance(v, (bytes, memoryview)))
        assert secret.encode() not in blobs
    assert "C1" in dump     # non-sensitive fields stay queryable


def test_revoke_is_idempotent_and_unknown_is_not_found(client, push, police):
    assert push().status_code == 200
    url = f"/v1/issuer/licences/driving_licence/DL{ZHANG}"
    assert client.delete(url, headers=police).status_code == 204
    assert client.delete(url, headers=police).status_code == 204
    r = client.delete("/v1/issuer/licences/driving_licence/NOPE123", headers=police)
    assert r.status_code == 404 and r.json["error"] == "LICENCE_NOT_FOUND"


def test_catalogue_lists_the_seeded_types(client):
    r = client.get("/v1/licence-types")
    assert r.status_code == 200
    codes = {t["code"] for t in r.json}
    assert codes == {"resident_id_card", "driving_licence", "vehicle_licence", "residence_permit",
                     "social_security_card", "business_licence", "marriage_certificate",
                     "birth_medical_certificate", "household_register", "veteran_certificate",
                     "home_service_worker_certificate"}
    business = next(t for t in r.json if t["code"] == "business_licence")
    assert business["holder_kind"] == "enterprise"
