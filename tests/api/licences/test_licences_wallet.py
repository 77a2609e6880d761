"""The resident's wallet: matched by blind index, masked, with status and expiry."""
from datetime import timedelta

from tests.api.licences.conftest import LI, ZHANG
from tests.conftest import bearer


def test_licence_pushed_before_registration_appears_after_real_name(client, push, login, registry):
    assert push().status_code == 200          # the department pushes first
    headers = bearer(login("13800138000", "zhang-phone"))
    empty = client.get("/v1/licences", headers=headers).json
    assert empty == {"items": [], "holder_verified": False}
    r = client.post("/v1/me/real-name", headers=headers,
                    json={"name": "张三", "id_type": "resident_id", "id_number": ZHANG})
    assert r.status_code == 200
    wallet = client.get("/v1/licences", headers=headers)
    assert wallet.status_code == 200 and wallet.json["holder_verified"] is True
    [licence] = wallet.json["items"]
    assert licence["type"] == "driving_licence" and licence["status"] == "valid"
    assert licence["issuer"]["name"] == "上海市公安局交通警察总队"
    assert licence["region"] == {"code": "310000", "name_zh": "上海市", "name_en": "Shanghai"}


def test_wallet_is_masked(client, licence_id, resident):
    r = client.get(f"/v1/licences/{licence_id}", headers=resident)
    assert r.status_code == 200
    body = r.get_data(as_text=True)
    assert ZHANG not in body and "张三" not in body and "人民大道" not in body and "310012345678" not in body
    licence = r.json
    assert licence["holder"] == {"name": "*三", "id_type": "resident_id", "id_number": "3101**********" + ZHANG[-4:]}
    fields = {f["name"]: f for f in licence["fields"]}
    assert fields["vehicle_class"] == {"name": "vehicle_class", "label_zh": "准驾车型",
                                       "label_en": "Permitted vehicle class", "value": "C1", "masked": False}
    assert fields["file_number"]["masked"] is True and fields["file_number"]["value"] != "310012345678"
    assert licence["days_to_expiry"] > 365 * 4


def test_someone_elses_licence_is_not_found(client, licence_id, other_resident):
    r = client.get(f"/v1/licences/{licence_id}", headers=other_resident)
    assert r.status_code == 404 and r.json["error"] == "LICENCE_NOT_FOUND"
    assert client.get("/v1/licences", headers=other_resident).json["items"] == []


def test_holders_from_other_delta_provinces_find_theirs_alike(client, push, other_resident):
    assert push("DL" + LI, id_number=LI, name="李四", region="江苏").status_code == 200
    [licence] = client.get("/v1/licences", headers=other_resident).json["items"]
    assert licence["region"]["code"] == "320000" and licence["status"] == "valid"


def test_revoked_licence_shows_revoked(client, licence_id, resident, police):
    assert client.delete(f"/v1/issuer/licences/driving_licence/DL{ZHANG}", headers=police).status_code == 204
    licence = client.get(f"/v1/licences/{licence_id}", headers=resident).json
    assert licence["status"] == "revoked" and licence["revoked_at"] is not None


def test_reissue_after_revocation_reinstates(client, licence_id, resident, police, push):
    client.delete(f"/v1/issuer/licences/driving_licence/DL{ZHANG}", headers=police)
    assert push().status_code == 200
    assert client.get(f"/v1/licences/{licence_id}", headers=resident).json["status"] == "valid"


def test_expired_licence_shows_expired(client, push, resident, today, clock, login):
    assert push(valid_until=today() + timedelta(days=2)).status_code == 200
    clock.advance(3 * 86400 + 60)
    headers = bearer(login("13800138000", "zhang-phone"))
    [licence] = client.get("/v1/licences", headers=headers).json["items"]
    assert licence["status"] == "expired" and licence["days_to_expiry"] is None


def test_wallet_requires_sign_in(client):
    assert client.get("/v1/licences").status_code == 401
