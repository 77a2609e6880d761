"""Anyone verifies a proof, online without login or offline with the JWKS; attackers get nowhere."""
import base64
import json
from datetime import date, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from qr.proofs import PROOF_CLAIMS, ProofError, verify_proof
from tests.api.proofs.conftest import ZHANG, ZHANG_PHONE, access_log, ask
from tests.conftest import bearer


def _verify(client, payload, **kwargs):
    return client.post("/v1/proofs/verify", json={"payload": payload}, **kwargs)


def _segments(payload: str) -> tuple[dict, dict, str]:
    h, c, s = payload.split(".")
    return (json.loads(base64.urlsafe_b64decode(h + "==")), json.loads(base64.urlsafe_b64decode(c + "==")), s)


def _b64(obj: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj, ensure_ascii=False).encode()).rstrip(b"=").decode()


def test_anyone_sees_validity_fields_and_issuer_without_login(client, issued_proof):
    r = _verify(client, issued_proof["payload"])
    assert r.status_code == 200, r.json
    assert r.json["valid"] is True and r.json["status"] == "valid"
    assert r.json["number"] == issued_proof["number"] and r.json["type"] == "no_criminal_record"
    assert r.json["issuer"] == {"name": "上海市公安局"}
    fields = {f["name"]: f["display_zh"] for f in r.json["fields"]}
    assert fields == {"conclusion": "未发现有犯罪记录", "checked_on": "2026-11-30", "destination": "法国"}
    assert r.json["holder"]["name"] == "*三" and ZHANG not in r.get_data(as_text=True)


def test_every_check_is_in_the_holders_access_log(client, resident, issued_proof, login):
    _verify(client, issued_proof["payload"])
    verifier = bearer(login("13500135000", "bank-device"))
    assert _verify(client, issued_proof["payload"], headers=verifier).status_code == 200
    records = access_log(client, resident, "proof_check")
    assert [r["accessor"]["type"] for r in records] == ["signed_in_verifier", "public"]
    assert records[0]["accessor"]["name"] == "135****5000"
    assert records[1]["accessor"]["name"] == "public check" and records[1]["created_at"]
    assert records[1]["subject_ref"] == str(issued_proof["id"])
    assert sorted(records[1]["fields"]) == ["checked_on", "conclusion", "destination"]


def test_a_bad_bearer_token_is_refused_not_ignored(client, issued_proof):
    r = _verify(client, issued_proof["payload"], headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401


def test_an_expired_proof_answers_expired(client, issued_proof, clock):
    clock.advance(30 * 86400 - 60)
    assert _verify(client, issued_proof["payload"]).json["status"] == "valid"
    clock.advance(61)
    r = _verify(client, issued_proof["payload"])
    assert r.status_code == 200 and r.json["valid"] is False and r.json["status"] == "expired"


def test_revoked_stays_revoked_after_expiry(client, issued_proof, police, clock):
    assert client.delete(f"/v1/issuer/proofs/{issued_proof['id']}", headers=police).status_code == 204
    clock.advance(31 * 86400)
    r = _verify(client, issued_proof["payload"])
    assert r.json["valid"] is False and r.json["status"] == "revoked" and r.json["revoked_at"]


def test_revoked_answers_revoked_at_once(client, issued_proof, police):
    assert _verify(client, issued_proof["payload"]).json["status"] == "valid"
    client.delete(f"/v1/issuer/proofs/{issued_proof['id']}", headers=police)
    assert _verify(client, issued_proof["payload"]).json["status"] == "revoked"


def test_checks_are_rate_limited_per_client_ip(app, client, issued_proof):
    limit = app.extensions["ssb.config"].PROOF_VERIFICATIONS_PER_MINUTE
    here = {"environ_base": {"REMOTE_ADDR": "203.0.113.7"}}
    for _ in range(limit):
        assert _verify(client, issued_proof["payload"], **here).status_code == 200
    r = _verify(client, issued_proof["payload"], **here)
    assert r.status_code == 429 and r.json["error"] == "RATE_LIMITED"
    assert _verify(client, issued_proof["payload"], environ_base={"REMOTE_ADDR": "198.51.100.9"}).status_code == 200


def test_the_payload_holds_no_identity_number_phone_or_full_name(issued_proof):
    header, claims, _ = _segments(issued_proof["payload"])
    assert header == {"alg": "EdDSA", "typ": "ssb-proof+jwt", "kid": header["kid"]}
    assert set(claims) == set(PROOF_CLAIMS)
    raw = json.dumps(claims, ensure_ascii=False)
    for secret in (ZHANG, ZHANG[-4:], "3101*", ZHANG_PHONE, "张三"):
        assert secret not in raw
    assert claims["hn"] == "*三" and claims["jti"] == issued_proof["number"]


# --- attackers --------------------------------------------------------------------------------

def test_a_tampered_payload_is_refused(client, issued_proof):
    header, claims, signature = _segments(issued_proof["payload"])
    claims["fld"]["conclusion"] = "none_found_really"
    claims["exp"] += 365 * 86400
    forged = f"{issued_proof['payload'].split('.')[0]}.{_b64(claims)}.{signature}"
    r = _verify(client, forged)
    assert r.status_code == 422 and r.json["error"] == "PROOF_BAD_SIGNATURE"


@pytest.mark.parametrize("kid", ["ours", "theirs"])
def test_a_payload_re_signed_with_another_key_is_refused(client, issued_proof, kid):
    header, claims, _ = _segments(issued_proof["payload"])
    if kid == "theirs":
        header["kid"] = "attacker-key"
    signing_input = f"{_b64(header)}.{_b64(claims)}"
    signature = Ed25519PrivateKey.generate().sign(signing_input.encode())
    forged = signing_input + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
    r = _verify(client, forged)
    assert r.status_code == 422 and r.json["error"] == "PROOF_BAD_SIGNATURE"


def test_alg_none_and_hmac_with_our_public_key_are_refused(client, issued_proof):
    jwks = client.get("/.well-known/jwks.json").json
    _, claims, _ = _segments(issued_proof["payload"])
    unsigned = f"{_b64({'alg': 'none', 'typ': 'ssb-proof+jwt'})}.{_b64(claims)}."
    assert _verify(client, unsigned).json["error"] in ("PROOF_BAD_SIGNATURE", "MALFORMED_PROOF")
    public = base64.urlsafe_b64decode(jwks["keys"][0]["x"] + "==")
    hmac_forged = jwt.encode(claims, public, algorithm="HS256", headers={"typ": "ssb-proof+jwt",
                                                                          "kid": jwks["keys"][0]["kid"]})
    r = _verify(client, hmac_forged)
    assert r.status_code == 422 and r.json["error"] == "PROOF_BAD_SIGNATURE"


def test_garbage_is_refused_without_a_server_error(client, resident):
    for junk in ("hello", "a.b.c", "eyJ9.eyJ9.", "." * 3, "🙂" * 50):
        r = _verify(client, junk)
        assert r.status_code == 422 and r.json["error"] == "MALFORMED_PROOF", (junk, r.json)


def test_a_code_payload_is_not_a_proof(client, resident):
    code = client.get("/v1/codes/suishen?scene=general", headers=resident).json["codes"][0]["payload"]
    r = _verify(client, code)
    assert r.status_code == 422 and r.json["error"] == "PROOF_WRONG_TYPE"


def test_a_licence_presentation_is_not_a_proof(client, resident, department):
    traffic = department("交警总队", licence_types=("driving_licence",))
    today = date.today()
    r = client.put(f"/v1/issuer/licences/driving_licence/DL{ZHANG}", headers=traffic, json={
        "holder": {"id_type": "resident_id", "id_number": ZHANG, "name": "张三"},
        "fields": {"vehicle_class": "C1"}, "valid_from": (today - timedelta(days=30)).isoformat(),
        "valid_until": (today + timedelta(days=3650)).isoformat(), "region": "310000"})
    assert r.status_code == 200, r.json
    licence_id = client.get("/v1/licences", headers=resident).json["items"][0]["id"]
    shown = client.post(f"/v1/licences/{licence_id}/presentations", headers=resident,
                        json={"fields": ["vehicle_class"], "purpose": "test"})
    assert shown.status_code == 201, shown.json
    r = _verify(client, shown.json["payload"])
    assert r.status_code == 422 and r.json["error"] == "PROOF_WRONG_TYPE"


def test_another_residents_proof_and_document_are_404(client, issued_proof, other_resident):
    for path in (f"/v1/proofs/{issued_proof['id']}", f"/v1/proofs/{issued_proof['id']}/document"):
        r = client.get(path, headers=other_resident)
        assert r.status_code == 404 and r.json["error"] == "PROOF_NOT_FOUND"
    assert client.get("/v1/proofs", headers=other_resident).json["items"] == []


# --- offline ----------------------------------------------------------------------------------

def test_offline_verification_with_the_jwks_and_the_revocation_feed(client, issued_proof, police, clock):
    jwks = client.get("/.well-known/jwks.json").json
    now = int(clock())
    claims = verify_proof(issued_proof["payload"], jwks, now, issuer="https://ssb.sh.gov.cn")
    assert claims["fld"]["conclusion"] == "none_found" and claims["dep"] == "上海市公安局"
    with pytest.raises(ProofError) as refused:
        verify_proof(issued_proof["payload"], jwks, now + 31 * 86400)
    assert refused.value.code == "PROOF_EXPIRED"

    client.delete(f"/v1/issuer/proofs/{issued_proof['id']}", headers=police)
    feed = client.get("/v1/proofs/revocations").json
    revoked = {item["number"] for item in feed["items"]}
    assert feed["more"] is False and feed["next_cursor"]
    with pytest.raises(ProofError) as refused:
        verify_proof(issued_proof["payload"], jwks, now, revoked=revoked)
    assert refused.value.code == "PROOF_REVOKED"
    assert client.get(f"/v1/proofs/revocations?cursor={feed['next_cursor']}").json["items"] == []


def test_any_jwt_library_verifies_a_proof_with_the_jwks(client, issued_proof):
    jwks = client.get("/.well-known/jwks.json").json
    header = jwt.get_unverified_header(issued_proof["payload"])
    assert header["typ"] == "ssb-proof+jwt"
    key = {k.key_id: k.key for k in jwt.PyJWKSet.from_dict(jwks).keys}[header["kid"]]
    claims = jwt.decode(issued_proof["payload"], key, algorithms=["EdDSA"], issuer="https://ssb.sh.gov.cn",
                        options={"require": list(PROOF_CLAIMS)})
    assert claims["jti"] == issued_proof["number"]


def test_offline_verifier_refuses_other_token_kinds(client, resident):
    jwks = client.get("/.well-known/jwks.json").json
    code = client.get("/v1/codes/suishen?scene=general", headers=resident).json["codes"][0]["payload"]
    with pytest.raises(ProofError) as refused:
        verify_proof(code, jwks, 0)
    assert refused.value.code == "PROOF_WRONG_TYPE"


def test_the_revocation_feed_pages_by_cursor(client, resident, police):
    ids = []
    for _ in range(3):
        ids.append(ask(client, resident, "residence")["proof_id"])
    for proof_id in ids:
        assert client.delete(f"/v1/issuer/proofs/{proof_id}", headers=police).status_code == 204
    first = client.get("/v1/proofs/revocations?limit=2").json
    assert len(first["items"]) == 2 and first["more"] is True
    rest = client.get(f"/v1/proofs/revocations?limit=2&cursor={first['next_cursor']}").json
    assert len(rest["items"]) == 1 and rest["more"] is False
    assert len({i["number"] for i in first["items"] + rest["items"]}) == 3
