"""POST /v1/auth/otp and the code's rules: hash only, single use, tries, cooldown, caps."""
from tests.conftest import last_otp


def test_code_is_sent_and_only_its_hash_is_stored(client, sms_file, app):
    r = client.post("/v1/auth/otp", json={"phone": "138 0013 8000"})
    assert r.status_code == 202
    assert r.json == {"sent": True, "resend_after": 60}
    code = last_otp(sms_file, "+8613800138000")
    assert len(code) == 6 and code.isdigit()
    from api.extensions import get_redis
    with app.app_context():
        r = get_redis()
        dump = b"".join(k + str(r.hgetall(k) if r.type(k) == b"hash" else r.get(k)).encode()
                        for k in r.keys("otp:*"))
    assert code.encode() not in dump


def test_unknown_and_registered_phones_get_the_same_answer(client, login, app_ctx):
    login("13800138000")
    from api.extensions import get_redis
    get_redis().delete("otp:{+8613800138000}:cooldown")
    known = client.post("/v1/auth/otp", json={"phone": "+8613800138000"})
    unknown = client.post("/v1/auth/otp", json={"phone": "13900139000"})
    assert known.status_code == unknown.status_code == 202
    assert known.json == unknown.json


def test_resend_cooldown_answers_429_with_retry_after(client, clock):
    assert client.post("/v1/auth/otp", json={"phone": "13800138000"}).status_code == 202
    r = client.post("/v1/auth/otp", json={"phone": "13800138000"})
    assert r.status_code == 429
    assert r.json["error"] == "OTP_COOLDOWN"
    assert 0 < int(r.headers["Retry-After"]) <= 60


def test_code_works_once(client, sms_file):
    client.post("/v1/auth/otp", json={"phone": "13800138000"})
    code = last_otp(sms_file, "+8613800138000")
    body = {"phone": "13800138000", "otp": code, "device_id": "d1"}
    assert client.post("/v1/auth/login", json=body).status_code == 200
    r = client.post("/v1/auth/login", json=body)
    assert r.status_code == 401 and r.json["error"] == "OTP_INVALID"


def test_code_is_bound_to_its_phone(client, sms_file):
    client.post("/v1/auth/otp", json={"phone": "13800138000"})
    code = last_otp(sms_file, "+8613800138000")
    r = client.post("/v1/auth/login", json={"phone": "13900139000", "otp": code, "device_id": "d1"})
    assert r.status_code == 401


def test_five_wrong_tries_kill_the_code(client, sms_file):
    client.post("/v1/auth/otp", json={"phone": "13800138000"})
    code = last_otp(sms_file, "+8613800138000")
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    errors = [client.post("/v1/auth/login", json={"phone": "13800138000", "otp": wrong, "device_id": "d"}).json["error"]
              for _ in range(5)]
    assert errors == ["OTP_INVALID"] * 4 + ["OTP_LOCKED"]
    r = client.post("/v1/auth/login", json={"phone": "13800138000", "otp": code, "device_id": "d"})
    assert r.status_code == 401, "the right code must not work after the code was killed"


def test_brute_force_across_codes_is_capped_per_day(client, app_ctx):
    statuses = []
    for _ in range(12):
        statuses.append(client.post("/v1/auth/otp", json={"phone": "13800138000"}).status_code)
        from api.extensions import get_redis
        get_redis().delete("otp:{+8613800138000}:cooldown")   # skip the cooldown, keep the daily cap
    assert statuses[:10] == [202] * 10
    assert statuses[10:] == [429, 429]


def test_caps_per_ip(client, app):
    cap = app.extensions["ssb.config"].OTP_HOURLY_CAP_PER_IP
    codes = [client.post("/v1/auth/otp", json={"phone": f"1380013{n:04d}"},
                         environ_base={"REMOTE_ADDR": "10.1.1.1"}).status_code for n in range(cap + 1)]
    assert codes[-1] == 429
    assert codes.count(202) == min(cap, 20)   # the route's 20/minute per-IP limit may hit first


def test_code_expires_after_five_minutes(client, sms_file, app):
    client.post("/v1/auth/otp", json={"phone": "13800138000"})
    assert last_otp(sms_file, "+8613800138000")   # it was sent
    from api.extensions import get_redis
    with app.app_context():
        ttl = get_redis().ttl("otp:{+8613800138000}")
    assert 290 <= ttl <= 300


def test_phone_validation(client):
    for good in ["13800138000", "+8613900139000", "+85291234567", "+85366123456", "+886912345678",
                 "+14155552671"]:
        assert client.post("/v1/auth/otp", json={"phone": good}).status_code == 202, good
    for bad in ["12345", "23800138000", "+8612800138000", "+85212345678", "+886812345678", "abcdefg",
                "+0123456789"]:
        r = client.post("/v1/auth/otp", json={"phone": bad})
        assert r.status_code == 422 and r.json["error"] in ("INVALID_PHONE", "VALIDATION_ERROR"), bad


def test_sms_gateway_failure_is_503_and_does_not_block_a_retry(gateway_client, sms_gateway):
    sms_gateway.fail_next = 1                                         # the gateway answers 500 once
    r = gateway_client.post("/v1/auth/otp", json={"phone": "13800138000"})
    assert r.status_code == 503 and r.json["error"] == "UPSTREAM_UNAVAILABLE"
    assert gateway_client.post("/v1/auth/otp", json={"phone": "13800138000"}).status_code == 202
    assert [m["to"] for m in sms_gateway.sent] == ["+8613800138000"]
