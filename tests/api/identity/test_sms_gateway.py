"""The HTTP SMS gateway client (api.identity.sms.HttpSmsGateway) against a loopback fake that
speaks the gateway's protocol: signed requests, accepted messages, and every way a gateway fails."""
from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from api.identity.sms import HttpSmsGateway, SmsError, sms_from_config
from tests.conftest import SMS_GATEWAY_KEY as KEY

PHONE = "+8613800138000"


@pytest.fixture
def gateway(sms_gateway):
    return sms_gateway


def test_a_message_is_signed_and_queued(gateway):
    HttpSmsGateway(gateway.url, KEY).send_otp(PHONE, "123456", ttl_minutes=5)
    [request] = gateway.requests
    assert request["path"] == "/v1/sms/send"
    ts, signature = request["headers"]["X-Api-Timestamp"], request["headers"]["X-Api-Signature"]
    assert signature == hmac.new(KEY.encode(), ts.encode() + b"\n" + request["body"], hashlib.sha256).hexdigest()
    sent = json.loads(request["body"])
    assert sent["to"] == PHONE and sent["params"] == {"code": "123456", "minutes": 5} and "123456" in sent["text"]
    assert gateway.last_code(PHONE) == "123456"


def test_the_backend_is_chosen_by_configuration(gateway):
    sms = sms_from_config(f"http:{gateway.url}/", KEY)
    assert isinstance(sms, HttpSmsGateway) and sms.base_url == gateway.url
    sms.send_otp(PHONE, "654321", ttl_minutes=5)
    assert gateway.last_code(PHONE) == "654321"


@pytest.mark.parametrize("failure", ["fail_next", "garble_next"])
def test_a_server_error_or_a_page_that_is_not_the_protocol_is_a_failure(gateway, failure):
    setattr(gateway, failure, 1)
    with pytest.raises(SmsError):
        HttpSmsGateway(gateway.url, KEY).send_otp(PHONE, "123456", ttl_minutes=5)
    assert gateway.sent == []


def test_a_wrong_key_is_refused_by_the_gateway(gateway):
    with pytest.raises(SmsError, match="401"):
        HttpSmsGateway(gateway.url, "not-the-key").send_otp(PHONE, "123456", ttl_minutes=5)
    assert gateway.sent == []


def test_a_slow_gateway_times_out(gateway):
    gateway.delay = 1.0
    with pytest.raises(SmsError, match="Timeout"):
        HttpSmsGateway(gateway.url, KEY, timeout=0.2).send_otp(PHONE, "123456", ttl_minutes=5)


def test_an_unreachable_gateway_is_a_failure():
    with pytest.raises(SmsError, match="ConnectError"):
        HttpSmsGateway("http://127.0.0.1:9", KEY, timeout=0.5).send_otp(PHONE, "123456", ttl_minutes=5)


# ---------------------------------------------------------------------------- through the API
# (`gateway_client`: an app configured with SMS_BACKEND=http:<this fake>, tests/conftest.py)

def test_sign_in_with_the_code_the_gateway_delivered(gateway_client, sms_gateway):
    assert gateway_client.post("/v1/auth/otp", json={"phone": "13800138000"}).status_code == 202
    r = gateway_client.post("/v1/auth/login", json={"phone": "13800138000", "otp": sms_gateway.last_code(PHONE),
                                                    "device_id": "phone-1"})
    assert r.status_code == 200 and r.json["access_token"]


def test_a_page_that_is_not_the_protocol_is_503_and_nothing_is_kept(gateway_client, sms_gateway):
    sms_gateway.garble_next = 1                                       # a proxy's maintenance page
    r = gateway_client.post("/v1/auth/otp", json={"phone": "13800138000"})
    assert r.status_code == 503 and r.json["error"] == "UPSTREAM_UNAVAILABLE"
    assert gateway_client.post("/v1/auth/otp", json={"phone": "13800138000"}).status_code == 202
