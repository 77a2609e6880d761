"""Showing a licence and verifying it: only the chosen fields, once, with an access record."""
import base64
import json

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.api.licences.conftest import ZHANG


def _claims(payload: str) -> dict:
    return jwt.decode(payload, options={"verify_signature": False})


def verify(client, staff, payload, **extra):
    return client.post("/v1/presentations/verify", headers=staff, json={"payload": payload, **extra})


def test_staff_see_exactly_the_two_chosen_fields_once(client, licence_id, present, staff):
    shown = present(licence_id, fields=["vehicle_class", "holder_name"])
    assert jwt.get_unverified_header(shown["payload"])["typ"] == "ssb-licence+jwt"
    r = verify(client, staff, shown["payload"])
    assert r.status_code == 200, r.json
    assert r.json["fields"] == {"vehicle_class": "C1", "holder_name": "张三"}
    assert r.json["licence_type"] == "driving_licence" and r.json["status"] == "valid"
    assert r.json["issuer"]["name"] == "上海市公安局交通警察总队"
    assert ZHANG not in r.get_data(as_text=True)
    again = verify(client, staff, shown["payload"])
    assert again.status_code == 409 and again.json["error"] == "PRESENTATION_REPLAYED"


def test_payload_carries_a_reference_names_and_a_commitment_never_values(client, licence_id, present, staff):
    shown = present(licence_id, fields=["licence_number", "vehicle_class"])
    claims = _claims(shown["payload"])
    assert claims["lt"] == "driving_licence" and claims["fld"] == ["licence_number", "vehicle_class"]
    assert claims["jti"] == shown["presentation_id"] and claims["exp"] - claims["iat"] == 180
    raw = base64.urlsafe_b64decode(shown["payload"].split(".")[1] + "==").decode()
    assert ZHANG not in raw and "张三" not in raw
    assert set(claims) == {"iss", "aud", "jti", "iat", "exp", "lt", "fld", "cmt"}   # no values, no holder
    result = verify(client, staff, shown["payload"]).json
    import hashlib
    canonical = json.dumps(result["fields"], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    digest = hashlib.sha256(f"{result['commitment']['salt']}.{canonical}".encode()).digest()
    assert base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == claims["cmt"] == result["commitment"]["value"]


def test_replay_is_refused_even_when_the_redis_marker_is_gone(client, licence_id, present, staff, app):
    shown = present(licence_id)
    assert verify(client, staff, shown["payload"]).status_code == 200
    with app.app_context():
        from api.extensions import get_redis
        get_redis().flushdb()
    r = verify(client, staff, shown["payload"])
    assert r.status_code == 409 and r.json["error"] == "PRESENTATION_REPLAYED"


def test_revoked_licence_stops_verifying_at_once(client, licence_id, present, staff, police):
    shown = present(licence_id)
    assert client.delete(f"/v1/issuer/licences/driving_licence/DL{ZHANG}", headers=police).status_code == 204
    r = verify(client, staff, shown["payload"])
    assert r.status_code == 409 and r.json["error"] == "LICENCE_REVOKED"


def test_a_revoked_licence_cannot_be_shown(client, licence_id, resident, police):
    client.delete(f"/v1/issuer/licences/driving_licence/DL{ZHANG}", headers=police)
    r = client.post(f"/v1/licences/{licence_id}/presentations", headers=resident, json={"fields": ["vehicle_class"]})
    assert r.status_code == 409 and r.json["error"] == "LICENCE_REVOKED"


def test_expired_presentation_is_refused(client, licence_id, present, staff, clock):
    shown = present(licence_id)
    clock.advance(180 + 11)
    r = verify(client, staff, shown["payload"])
    assert r.status_code == 410 and r.json["error"] == "PRESENTATION_EXPIRED"


def test_forged_presentation_is_refused(client, licence_id, present, staff, app):
    claims = _claims(present(licence_id)["payload"])
    header = jwt.get_unverified_header(present(licence_id)["payload"])
    forged = jwt.encode(claims, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers=header)
    r = verify(client, staff, forged)
    assert r.status_code == 422 and r.json["error"] == "PRESENTATION_BAD_SIGNATURE"


def test_tampered_presentation_is_refused(client, licence_id, present, staff):
    payload = present(licence_id, fields=["vehicle_class"])["payload"]
    head, body, sig = payload.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    claims["fld"] = ["vehicle_class", "address"]
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    r = verify(client, staff, f"{head}.{body}.{sig}")
    assert r.status_code == 422 and r.json["error"] == "PRESENTATION_BAD_SIGNATURE"


def test_other_token_kinds_are_refused(client, staff, resident):
    access_token = resident["Authorization"].split()[1]
    r = verify(client, staff, access_token)
    assert r.status_code == 422 and r.json["error"] == "PRESENTATION_WRONG_TYPE"


@pytest.mark.parametrize("payload", ["not-a-token", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0."])
def test_malformed_presentation_is_refused(client, staff, payload):
    r = verify(client, staff, payload)
    assert r.status_code == 422
    assert r.json["error"] in ("MALFORMED_PRESENTATION", "PRESENTATION_BAD_SIGNATURE")


def test_malformed_presentation_code(client, staff):
    r = verify(client, staff, "not-a-token")
    assert r.json["error"] == "MALFORMED_PRESENTATION"


def test_only_staff_verify(client, licence_id, present, resident):
    r = verify(client, resident, present(licence_id)["payload"])
    assert r.status_code == 403 and r.json["error"] == "ROLE_REQUIRED"


def test_only_fields_of_the_type_can_be_disclosed(client, licence_id, resident):
    r = client.post(f"/v1/licences/{licence_id}/presentations", headers=resident,
                    json={"fields": ["vehicle_class", "blood_type"]})
    assert r.status_code == 422 and r.json["error"] == "DISCLOSURE_INVALID"


def test_someone_else_cannot_show_my_licence(client, licence_id, other_resident):
    r = client.post(f"/v1/licences/{licence_id}/presentations", headers=other_resident,
                    json={"fields": ["vehicle_class"]})
    assert r.status_code == 404


def test_a_licence_changed_after_showing_must_be_shown_again(client, licence_id, present, staff, push):
    shown = present(licence_id, fields=["vehicle_class"])
    assert push(vehicle_class="B2").status_code == 200
    r = verify(client, staff, shown["payload"])
    assert r.status_code == 409 and r.json["error"] == "PRESENTATION_STALE"


def test_resident_sees_each_verification(client, licence_id, present, staff, resident):
    verify(client, staff, present(licence_id, fields=["vehicle_class", "holder_name"], purpose="租车核验")["payload"])
    log = client.get(f"/v1/licences/{licence_id}/access-log", headers=resident)
    assert log.status_code == 200
    [record] = log.json["items"]
    assert record["kind"] == "licence_view" and record["fields"] == ["vehicle_class", "holder_name"]
    assert record["purpose"] == "租车核验" and record["subject_ref"] == str(licence_id)
    assert record["accessor"] == {"type": "staff", "staff": "139****0000"}   # an inspector: no venue
    mine = client.get("/v1/me/access-log?kind=licence_view", headers=resident).json["items"]
    assert [r["id"] for r in mine] == [record["id"]]


def test_someone_elses_access_log_is_not_found(client, licence_id, other_resident):
    assert client.get(f"/v1/licences/{licence_id}/access-log", headers=other_resident).status_code == 404
