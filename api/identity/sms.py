"""SMS delivery of one-time codes: console (dev), file (tests, demos) or an HTTP gateway."""
from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import sys
import time
from typing import Protocol

import httpx


class SmsError(Exception):
    """The gateway did not accept the message; the caller answers 503."""


class SmsSender(Protocol):
    def send_otp(self, phone: str, code: str, *, ttl_minutes: int) -> None: ...


def _text(code: str, ttl_minutes: int) -> str:
    return f"【随申办】验证码 {code}，{ttl_minutes} 分钟内有效，请勿告诉他人。Your code is {code}."


class ConsoleSms:
    """Development: one line on the terminal (stderr), never through logging, easy to spot among
    the JSON request logs: `SMS to 138****8000: code 123456 (5 min)`. The phone is masked; its
    last four digits tell the demo's people apart."""

    def send_otp(self, phone: str, code: str, *, ttl_minutes: int) -> None:
        from api.pii import mask_phone
        print(f"SMS to {mask_phone(phone)}: code {code} ({ttl_minutes} min)", file=sys.stderr, flush=True)


class FileSms:
    """Appends one JSON object per line ({phone, code, text, sent_at}); safe across processes."""

    def __init__(self, path: str) -> None:
        self.path = path

    def send_otp(self, phone: str, code: str, *, ttl_minutes: int) -> None:
        line = json.dumps({"phone": phone, "code": code, "text": _text(code, ttl_minutes),
                           "sent_at": int(time.time())}, ensure_ascii=False)
        with open(self.path, "a", encoding="utf-8") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            fh.write(line + "\n")


class HttpSmsGateway:
    """A carrier-style gateway: POST JSON signed with HMAC-SHA256 over timestamp + body.

    Wire format (what the fake in tests checks): POST {base}/v1/sms/send,
    headers X-Api-Timestamp, X-Api-Signature = hex(hmac(key, ts + "\\n" + body)),
    body {"to": phone, "template": "otp", "params": {"code", "minutes"}, "text"};
    answer 200 {"status": "queued", "message_id"}; anything else is a failure.
    """

    def __init__(self, base_url: str, api_key: str, *, timeout: float = 3.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key.encode()
        self.client = httpx.Client(timeout=timeout)

    def send_otp(self, phone: str, code: str, *, ttl_minutes: int) -> None:
        body = json.dumps({"to": phone, "template": "otp", "params": {"code": code, "minutes": ttl_minutes},
                           "text": _text(code, ttl_minutes)}, ensure_ascii=False).encode()
        ts = str(int(time.time()))
        signature = hmac.new(self.api_key, ts.encode() + b"\n" + body, hashlib.sha256).hexdigest()
        try:
            response = self.client.post(f"{self.base_url}/v1/sms/send", content=body, headers={
                "Content-Type": "application/json", "X-Api-Timestamp": ts, "X-Api-Signature": signature})
        except httpx.HTTPError as exc:
            raise SmsError(type(exc).__name__) from exc
        if response.status_code != 200 or not _queued(response):
            raise SmsError(f"gateway answered {response.status_code}")


def _queued(response: httpx.Response) -> bool:
    """The gateway's 200 says it queued the message (a proxy's error page does not)."""
    try:
        answer = response.json()
    except ValueError:
        return False
    return isinstance(answer, dict) and answer.get("status") == "queued"


def sms_from_config(backend: str, api_key: str = "") -> SmsSender:
    if backend == "console":
        return ConsoleSms()
    if backend.startswith("file:"):
        return FileSms(backend[len("file:"):])
    if backend.startswith("http:"):
        # "http:https://gateway.example/" -> the gateway's base URL
        return HttpSmsGateway(backend[len("http:"):], api_key)
    raise ValueError(f"unknown SMS_BACKEND {backend!r}")
