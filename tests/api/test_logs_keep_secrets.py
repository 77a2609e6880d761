"""No OTP, token, secret or identity number ever appears in a log line."""
import logging

from tests.conftest import bearer, last_otp
from tests.factories import import_persons, resident_id


def test_a_whole_sign_in_and_real_name_flow_logs_no_secret(app, client, sms_file, tmp_path, caplog, capfd):
    number = resident_id(seq="456")
    import_persons(app, tmp_path, [{"id_type": "resident_id", "id_number": number, "name": "王小明",
                                    "birth_date": "1990-03-07", "district": "徐汇区", "hukou": "1"}])
    caplog.set_level(logging.DEBUG)
    capfd.readouterr()
    client.post("/v1/auth/otp", json={"phone": "13800138000"})
    code = last_otp(sms_file, "+8613800138000")
    tokens = client.post("/v1/auth/login", json={"phone": "13800138000", "otp": code, "device_id": "d"}).json
    client.post("/v1/auth/login", json={"phone": "13800138000", "otp": code, "device_id": "d"})  # failure path
    client.post("/v1/me/real-name", headers=bearer(tokens),
                json={"name": "王小明", "id_type": "resident_id", "id_number": number})
    refreshed = client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).json
    client.get("/v1/me?access_token=" + tokens["access_token"], headers=bearer(refreshed))
    client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})   # reuse path

    out, err = capfd.readouterr()
    text = "\n".join(r.getMessage() + " " + str(r.__dict__) for r in caplog.records) + out + err
    assert caplog.records, "the flow must have logged something"
    for secret in (code, tokens["access_token"], tokens["refresh_token"], refreshed["refresh_token"], number,
                   "test-secret", "王小明"):
        assert secret not in text, secret


def test_redaction_safety_net():
    from api.observability import redact
    assert "123456" not in redact("code 123456 sent")
    assert "eyJhbGciOi" not in redact("bearer eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl")
    assert "310101199003071234" not in redact("id 310101199003071234")
    assert "s3cr3t" not in redact("/cgi-bin/token?appid=x&secret=s3cr3t")
