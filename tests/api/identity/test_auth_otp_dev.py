"""Where a newcomer finds the sign-in code in development: its own terminal line, and (only with
DEV_SHOW_OTP, only without a real SMS gateway) in the OTP answer and on the sign-in pages."""
from __future__ import annotations

import dataclasses

import pytest

from api.config import Config
from api.identity.sms import ConsoleSms
from tests.conftest import last_otp


def test_the_console_backend_prints_the_code_on_one_clear_line_with_the_phone_masked(capsys):
    ConsoleSms().send_otp("+8613800138000", "123456", ttl_minutes=5)
    captured = capsys.readouterr()
    assert captured.err == "SMS to 138****8000: code 123456 (5 min)\n" and captured.out == ""


def test_the_otp_answer_never_carries_the_code_by_default(client):
    assert Config.from_env({}).DEV_SHOW_OTP is False
    r = client.post("/v1/auth/otp", json={"phone": "13800138000"})
    assert r.status_code == 202 and set(r.json) == {"sent", "resend_after"}


@pytest.mark.parametrize("page", ["/scan", "/code"])
def test_the_sign_in_pages_hide_the_development_code_box_by_default(client, page):
    html = client.get(page).text
    assert '<p id="dev-otp" class="dev-otp" hidden></p>' in html


@pytest.fixture
def dev_client(app, base_config):
    import wsgi

    dev = wsgi.create_app(dataclasses.replace(base_config, DEV_SHOW_OTP=True))
    dev.extensions["ssb.clock"] = app.extensions["ssb.clock"]
    return dev.test_client()


def test_with_dev_show_otp_the_answer_carries_the_code_that_was_sent(dev_client, sms_file):
    r = dev_client.post("/v1/auth/otp", json={"phone": "13800138000"})
    assert r.status_code == 202 and r.json["dev_code"] == last_otp(sms_file, "+8613800138000")
    r = dev_client.post("/v1/auth/login", json={"phone": "13800138000", "otp": r.json["dev_code"],
                                                "device_id": "dev"})
    assert r.status_code == 200


@pytest.mark.parametrize("backend", ["http:https://sms.example.cn/", "http:http://127.0.0.1:9/"])
def test_dev_show_otp_is_refused_with_a_real_sms_gateway(backend):
    with pytest.raises(ValueError, match="DEV_SHOW_OTP"):
        Config.from_env({"DEV_SHOW_OTP": "1", "SMS_BACKEND": backend, "INSTANCE_DIR": "/nonexistent-unused",
                         "SECRET_KEY": "x", "DATA_KEY": "eA=="})
