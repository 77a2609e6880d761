"""Residents ask for proofs: instant ones from registry data, the rest queued; duplicates,
withdrawal, real name and the per-resident rate limit."""
from tests.api.proofs.conftest import ZHANG, ask, inbox_titles


def test_catalogue_is_public_bilingual_and_has_instant_and_department_types(client):
    r = client.get("/v1/proof-types")
    assert r.status_code == 200
    types = {t["code"]: t for t in r.json["items"]}
    assert len(types) >= 4
    assert types["residence"]["instant"] is True
    assert types["no_criminal_record"]["instant"] is False
    assert {"marital_status", "social_insurance_payment"} <= set(types)
    for t in types.values():
        assert t["name_zh"] and t["name_en"] and t["fields"]
        for f in t["fields"]:
            assert f["label_zh"] and f["label_en"] and f["kind"]
    marital = {f["name"]: f for f in types["marital_status"]["fields"]}
    assert {c["value"] for c in marital["status"]["choices"]} == {"unmarried", "married", "divorced", "widowed"}


def test_residence_is_issued_at_once_from_registry_data(client, resident):
    r = client.post("/v1/proofs/requests", headers=resident, json={"type": "residence", "purpose": "子女入学"})
    assert r.status_code == 201, r.json
    assert r.json["status"] == "issued" and r.json["proof_id"]
    proof = client.get(f"/v1/proofs/{r.json['proof_id']}", headers=resident).json
    values = {f["name"]: f for f in proof["fields"]}
    assert values["district"]["value"] == "黄浦区"
    assert values["household"]["value"] == "local" and values["household"]["display_zh"] == "本市户籍"
    assert proof["status"] == "valid" and proof["purpose"] == "子女入学"
    assert proof["holder"] == {"name": "*三", "id_type": "resident_id", "id_number": ZHANG[:4] + "*" * 10 + ZHANG[-4:]}
    assert any("居住证明已出具" in t for t in inbox_titles(client, resident))


def test_instant_type_without_registry_data_waits_for_a_department(client, other_resident, police):
    request = ask(client, other_resident, "residence")     # Li Si has no district on record
    assert request["status"] == "pending" and request["proof_id"] is None
    queue = client.get("/v1/issuer/proof-requests", headers=police).json["items"]
    assert [q["id"] for q in queue] == [request["id"]]


def test_household_registration_needs_local_hukou(client, resident, other_resident):
    assert ask(client, resident, "household_registration")["status"] == "issued"
    assert ask(client, other_resident, "household_registration")["status"] == "pending"


def test_department_types_are_pending(client, resident):
    request = ask(client, resident, "no_criminal_record")
    assert request["status"] == "pending"
    assert client.get("/v1/proofs", headers=resident).json["items"] == []
    listed = client.get("/v1/proofs/requests", headers=resident).json["items"]
    assert [(x["id"], x["status"]) for x in listed] == [(request["id"], "pending")]


def test_real_name_is_required(client, unverified):
    r = client.post("/v1/proofs/requests", headers=unverified, json={"type": "residence", "purpose": "x"})
    assert r.status_code == 403 and r.json["error"] == "REAL_NAME_REQUIRED"


def test_unknown_type_and_blank_purpose_are_refused(client, resident):
    r = client.post("/v1/proofs/requests", headers=resident, json={"type": "moon_landing", "purpose": "x"})
    assert r.status_code == 422 and "type" in r.json["errors"]
    r = client.post("/v1/proofs/requests", headers=resident, json={"type": "residence", "purpose": "   "})
    assert r.status_code == 422 and "purpose" in r.json["errors"]


def test_a_duplicate_of_a_pending_request_is_refused_until_withdrawn(client, resident):
    first = ask(client, resident, "marital_status")
    r = client.post("/v1/proofs/requests", headers=resident, json={"type": "marital_status", "purpose": "again"})
    assert r.status_code == 409 and r.json["error"] == "PROOF_REQUEST_DUPLICATE"
    assert ask(client, resident, "no_criminal_record")["status"] == "pending"     # another type is fine
    r = client.post(f"/v1/proofs/requests/{first['id']}/withdraw", headers=resident)
    assert r.status_code == 200 and r.json["status"] == "withdrawn"
    assert ask(client, resident, "marital_status")["status"] == "pending"


def test_instant_requests_of_the_same_type_are_not_duplicates(client, resident):
    assert ask(client, resident, "residence")["status"] == "issued"
    assert ask(client, resident, "residence", purpose="银行开户")["status"] == "issued"


def test_only_a_pending_request_can_be_withdrawn(client, resident):
    issued = ask(client, resident, "residence")
    r = client.post(f"/v1/proofs/requests/{issued['id']}/withdraw", headers=resident)
    assert r.status_code == 409 and r.json["error"] == "PROOF_REQUEST_NOT_PENDING"
    pending = ask(client, resident, "marital_status")
    assert client.post(f"/v1/proofs/requests/{pending['id']}/withdraw", headers=resident).status_code == 200
    r = client.post(f"/v1/proofs/requests/{pending['id']}/withdraw", headers=resident)
    assert r.status_code == 409


def test_another_residents_request_is_404(client, resident, other_resident):
    request = ask(client, resident, "marital_status")
    assert client.get(f"/v1/proofs/requests/{request['id']}", headers=other_resident).status_code == 404
    r = client.post(f"/v1/proofs/requests/{request['id']}/withdraw", headers=other_resident)
    assert r.status_code == 404 and r.json["error"] == "PROOF_REQUEST_NOT_FOUND"
    assert client.get(f"/v1/proofs/requests/{request['id']}", headers=resident).json["status"] == "pending"


def test_requests_are_rate_limited_per_resident(app, client, resident, other_resident):
    limit = app.extensions["ssb.config"].PROOF_REQUESTS_PER_HOUR
    for _ in range(limit):
        assert ask(client, resident, "residence")["status"] == "issued"
    r = client.post("/v1/proofs/requests", headers=resident, json={"type": "residence", "purpose": "x"})
    assert r.status_code == 429 and r.json["error"] == "RATE_LIMITED" and "Retry-After" in r.headers
    assert ask(client, other_resident, "residence")["status"] == "pending"   # someone else is not limited


def test_requests_list_pages_newest_first(client, resident):
    ids = [ask(client, resident, "residence")["id"] for _ in range(3)]
    page = client.get("/v1/proofs/requests?limit=2", headers=resident).json
    assert [x["id"] for x in page["items"]] == ids[::-1][:2] and page["next_cursor"]
    rest = client.get(f"/v1/proofs/requests?limit=2&cursor={page['next_cursor']}", headers=resident).json
    assert [x["id"] for x in rest["items"]] == [ids[0]] and rest["next_cursor"] is None
    assert all(x["proof_id"] for x in page["items"] + rest["items"])
