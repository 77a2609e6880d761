"""Departments: registration with proof types, the queue, issuing (fields checked), refusing,
revoking; and what other departments and residents may not do."""
from tests.api.proofs.conftest import LI, NO_RECORD, ZHANG, access_log, ask, inbox_titles, issue


def test_operators_register_departments_with_proof_types(client, operator):
    r = client.post("/v1/admin/issuers", headers=operator,
                    json={"name": "上海市公安局", "proof_types": ["no_criminal_record"]})
    assert r.status_code == 201, r.json
    assert r.json["proof_types"] == ["no_criminal_record"] and r.json["licence_types"] == []
    r = client.post("/v1/admin/issuers", headers=operator, json={"name": "x", "proof_types": ["moon_landing"]})
    assert r.status_code == 422 and r.json["error"] == "UNKNOWN_PROOF_TYPE"
    r = client.post("/v1/admin/issuers", headers=operator, json={"name": "x"})
    assert r.status_code == 422 and r.json["error"] == "VALIDATION_ERROR"


def test_the_queue_shows_pending_requests_of_the_departments_types_with_the_holders_identity(
        client, resident, other_resident, police, civil_affairs):
    mine = ask(client, resident, "no_criminal_record")
    ask(client, other_resident, "marital_status")
    items = client.get("/v1/issuer/proof-requests?status=pending", headers=police).json["items"]
    assert [i["id"] for i in items] == [mine["id"]]
    assert items[0]["holder"] == {"name": "张三", "id_type": "resident_id", "id_number": ZHANG}
    civil = client.get("/v1/issuer/proof-requests", headers=civil_affairs).json["items"]
    assert [i["holder"]["id_number"] for i in civil] == [LI]


def test_showing_the_holders_identity_is_in_their_access_log_once_per_department(client, resident, police):
    ask(client, resident, "no_criminal_record")
    for _ in range(2):
        client.get("/v1/issuer/proof-requests", headers=police)
    records = access_log(client, resident, "proof_request_view")
    assert len(records) == 1
    assert records[0]["accessor"] == {"type": "department", "name": "上海市公安局"}
    assert records[0]["fields"] == ["name", "id_number"] and records[0]["purpose"] == "出国签证"


def test_issuing_checks_fields_against_the_type(client, resident, police):
    request = ask(client, resident, "no_criminal_record")
    r = issue(client, police, request["id"], fields={"conclusion": "guilty", "checked_on": "2026-13-01",
                                                     "shoe_size": 42})
    assert r.status_code == 422 and r.json["error"] == "INVALID_PROOF_FIELDS"
    assert set(r.json["errors"]["fields"]) == {"conclusion", "checked_on", "shoe_size"}
    r = issue(client, police, request["id"], fields={"checked_on": "2026-11-30"})
    assert r.status_code == 422 and "conclusion" in r.json["errors"]["fields"]
    r = issue(client, police, request["id"], valid_days=181)
    assert r.status_code == 422 and "valid_days" in r.json["errors"]
    assert client.get(f"/v1/proofs/requests/{request['id']}", headers=resident).json["status"] == "pending"


def test_issuing_closes_the_request_and_tells_the_resident(client, resident, police):
    request = ask(client, resident, "no_criminal_record")
    r = issue(client, police, request["id"], valid_days=60)
    assert r.status_code == 201, r.json
    assert r.json["fields"] == NO_RECORD and r.json["request_id"] == request["id"]
    assert r.json["number"].startswith("ZM") and len(r.json["number"]) == 20
    mine = client.get(f"/v1/proofs/requests/{request['id']}", headers=resident).json
    assert mine["status"] == "issued" and mine["proof_id"] == r.json["id"]
    proof = client.get(f"/v1/proofs/{r.json['id']}", headers=resident).json
    assert proof["issuer"] == {"name": "上海市公安局"} and proof["status"] == "valid"
    assert any("无犯罪记录证明已出具" in t and r.json["number"] in t for t in inbox_titles(client, resident))
    assert client.get("/v1/issuer/proof-requests", headers=police).json["items"] == []
    issued = client.get("/v1/issuer/proof-requests?status=issued", headers=police).json["items"]
    assert [i["id"] for i in issued] == [request["id"]]
    assert issue(client, police, request["id"]).status_code == 409


def test_social_insurance_fields_are_checked_across_fields(client, resident, department):
    hrss = department("上海市人力资源和社会保障局", proof_types=("social_insurance_payment",))
    request = ask(client, resident, "social_insurance_payment", purpose="居住证积分")
    fields = {"insurance": "pension", "period_from": "2024-01", "period_to": "2024-12", "months_paid": 13}
    r = issue(client, hrss, request["id"], fields=fields)
    assert r.status_code == 422 and "months_paid" in r.json["errors"]["fields"]
    r = issue(client, hrss, request["id"], fields={**fields, "period_to": "2023-12", "months_paid": 1})
    assert r.status_code == 422 and "period_to" in r.json["errors"]["fields"]
    assert issue(client, hrss, request["id"], fields={**fields, "months_paid": 12}).status_code == 201


def test_refusing_gives_the_resident_the_reason(client, resident, police):
    request = ask(client, resident, "no_criminal_record")
    r = client.post(f"/v1/issuer/proof-requests/{request['id']}/refuse", headers=police,
                    json={"reason": "请携带护照到派出所现场核验"})
    assert r.status_code == 200 and r.json["status"] == "refused"
    mine = client.get(f"/v1/proofs/requests/{request['id']}", headers=resident).json
    assert mine["status"] == "refused" and mine["refusal_reason"] == "请携带护照到派出所现场核验"
    assert any("未予出具" in t and "现场核验" in t for t in inbox_titles(client, resident))
    assert issue(client, police, request["id"]).status_code == 409
    assert ask(client, resident, "no_criminal_record")["status"] == "pending"    # may ask again


def test_a_department_may_not_decide_a_type_it_is_not_registered_for(client, resident, police, civil_affairs):
    request = ask(client, resident, "no_criminal_record")
    r = issue(client, civil_affairs, request["id"])
    assert r.status_code == 403 and r.json["error"] == "PROOF_TYPE_NOT_ALLOWED"
    r = client.post(f"/v1/issuer/proof-requests/{request['id']}/refuse", headers=civil_affairs,
                    json={"reason": "no"})
    assert r.status_code == 403 and r.json["error"] == "PROOF_TYPE_NOT_ALLOWED"
    assert access_log(client, resident, "proof_request_view") == []     # never shown to them
    assert client.get(f"/v1/proofs/requests/{request['id']}", headers=resident).json["status"] == "pending"


def test_licence_only_departments_see_no_proof_requests(client, resident, department):
    traffic = department("交警总队", licence_types=("driving_licence",))
    ask(client, resident, "no_criminal_record")
    assert client.get("/v1/issuer/proof-requests", headers=traffic).json["items"] == []


def test_tokens_do_not_cross(client, resident, police):
    request = ask(client, resident, "no_criminal_record")
    r = client.get("/v1/issuer/proof-requests", headers=resident)
    assert r.status_code == 401
    assert issue(client, resident, request["id"]).status_code == 401
    assert client.get("/v1/proofs", headers=police).status_code == 401


def test_withdrawn_requests_leave_the_queue(client, resident, police):
    request = ask(client, resident, "no_criminal_record")
    client.post(f"/v1/proofs/requests/{request['id']}/withdraw", headers=resident)
    assert client.get("/v1/issuer/proof-requests", headers=police).json["items"] == []
    assert issue(client, police, request["id"]).status_code == 409


def test_revocation_by_the_issuing_department_only(client, resident, issued_proof, police, department):
    other_police = department("江苏省公安厅", proof_types=("no_criminal_record",))
    r = client.delete(f"/v1/issuer/proofs/{issued_proof['id']}", headers=other_police)
    assert r.status_code == 403 and r.json["error"] == "PROOF_OWNED_BY_OTHER_ISSUER"
    assert client.delete("/v1/issuer/proofs/999999", headers=police).status_code == 404
    assert client.delete(f"/v1/issuer/proofs/{issued_proof['id']}", headers=police).status_code == 204
    assert client.delete(f"/v1/issuer/proofs/{issued_proof['id']}", headers=police).status_code == 204
    proof = client.get(f"/v1/proofs/{issued_proof['id']}", headers=resident).json
    assert proof["status"] == "revoked" and proof["revoked_at"]
    assert any("已被撤销" in t for t in inbox_titles(client, resident))
    feed = client.get("/v1/proofs/revocations").json
    assert [i["number"] for i in feed["items"]] == [issued_proof["number"]]


def test_instant_proofs_are_revoked_by_a_department_of_their_type(client, resident, police, civil_affairs):
    proof_id = ask(client, resident, "residence")["proof_id"]
    r = client.delete(f"/v1/issuer/proofs/{proof_id}", headers=civil_affairs)
    assert r.status_code == 403
    assert client.delete(f"/v1/issuer/proofs/{proof_id}", headers=police).status_code == 204
