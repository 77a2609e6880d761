"""session_key signatures and encryptedData, checked the way WeChat SDKs check them."""
import base64
import hashlib
import json

import pytest
from wechatpy.crypto import WeChatWxaCrypto

from miniprogram_adapter import crypto

SESSION_KEY = base64.b64encode(bytes(range(16))).decode()
IV = bytes(range(16, 32))


def test_signature_is_sha1_of_raw_data_and_session_key():
    raw = '{"nickName":"*三"}'
    assert crypto.sign_raw_data(raw, SESSION_KEY) == hashlib.sha1((raw + SESSION_KEY).encode()).hexdigest()
    assert crypto.check_signature(raw, SESSION_KEY, crypto.sign_raw_data(raw, SESSION_KEY))
    assert not crypto.check_signature(raw + " ", SESSION_KEY, crypto.sign_raw_data(raw, SESSION_KEY))


def test_fixed_vector_round_trip():
    enc, iv = crypto.encrypt_data({"a": 1}, session_key=SESSION_KEY, appid="ssbapp", now=1700000000, iv=IV)
    assert iv == base64.b64encode(IV).decode()
    # Deterministic for a fixed iv; the plaintext is 16-byte aligned with PKCS#7.
    assert len(base64.b64decode(enc)) % 16 == 0
    assert crypto.decrypt_data(enc, session_key=SESSION_KEY, iv=iv, appid="ssbapp") == {
        "a": 1, "watermark": {"appid": "ssbapp", "timestamp": 1700000000}}


def test_wechatpy_decrypts_our_encrypted_data():
    enc, iv = crypto.encrypt_data({"nickName": "*三"}, session_key=SESSION_KEY, appid="ssbapp", now=1)
    data = WeChatWxaCrypto(SESSION_KEY, iv, "ssbapp").decrypt_message(enc)
    assert data["nickName"] == "*三" and data["watermark"] == {"appid": "ssbapp", "timestamp": 1}


def test_wrong_appid_in_watermark_is_rejected():
    enc, iv = crypto.encrypt_data({}, session_key=SESSION_KEY, appid="ssbapp", now=1)
    with pytest.raises(ValueError):
        crypto.decrypt_data(enc, session_key=SESSION_KEY, iv=iv, appid="other")


def test_pairwise_ids_differ_by_part_and_key():
    a = crypto.pairwise_id(b"k" * 32, "app1", "7")
    assert a == crypto.pairwise_id(b"k" * 32, "app1", "7") and len(a) == 28 and a.startswith("o")
    assert a != crypto.pairwise_id(b"k" * 32, "app2", "7")
    assert a != crypto.pairwise_id(b"j" * 32, "app1", "7")


def test_user_info_bundle_decrypts_with_the_session_key(client, register, resident, wx_login):
    mp = register()
    session = wx_login(mp, resident)
    assert client.get(f"/v1/mp/{mp['appid']}/user-info", headers=resident).status_code == 403
    client.post(f"/v1/mp/{mp['appid']}/consents", headers=resident, json={"scopes": ["scope.userinfo"]})
    r = client.get(f"/v1/mp/{mp['appid']}/user-info", headers=resident)
    assert r.status_code == 200, r.json
    b = r.json
    assert hashlib.sha1((b["rawData"] + session["session_key"]).encode()).hexdigest() == b["signature"]
    data = WeChatWxaCrypto(session["session_key"], b["iv"], mp["appid"]).decrypt_message(b["encryptedData"])
    assert data["openId"] == session["openid"] and data["watermark"]["appid"] == mp["appid"]
    assert json.loads(b["rawData"]) == b["userInfo"]
    log = client.get("/v1/me/access-log", headers=resident).json["items"]
    assert log[0]["fields"] == ["nickName", "avatarUrl"]


def test_user_info_needs_a_session(client, register, resident):
    mp = register()
    client.post(f"/v1/mp/{mp['appid']}/consents", headers=resident, json={"scopes": ["scope.userinfo"]})
    r = client.get(f"/v1/mp/{mp['appid']}/user-info", headers=resident)
    assert r.status_code == 409 and r.json["error"] == "MP_SESSION_REQUIRED"
