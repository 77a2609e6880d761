"""A loopback fake of the SMS gateway, speaking the wire protocol
`api.identity.sms.HttpSmsGateway` uses:

    POST /v1/sms/send {"to": phone, "template": "otp", "params": {"code", "minutes"}, "text"}
    X-Api-Timestamp: unix seconds, X-Api-Signature: hex HMAC-SHA256(key, timestamp + "\\n" + body)
    → 200 {"status": "queued", "message_id"}
    → 401 on a bad or stale signature, 400 on a body it cannot read

Failures (`fail_next`, `garble_next`, `delay`) come from `LoopbackJsonServer`.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import time

from tests.fakes.loopback import LoopbackJsonServer


class FakeSmsGateway(LoopbackJsonServer):
    def __init__(self, api_key: str) -> None:
        super().__init__()
        self.api_key = api_key.encode()
        self.sent: list[dict] = []      # the messages it accepted

    def last_code(self, phone: str) -> str:
        return next(m["params"]["code"] for m in reversed(self.sent) if m["to"] == phone)

    def answer(self, path: str, headers, body: bytes) -> tuple[int, dict]:
        if path != "/v1/sms/send":
            return 404, {"error": "not found"}
        ts = headers.get("X-Api-Timestamp", "")
        expected = hmac.new(self.api_key, ts.encode() + b"\n" + body, hashlib.sha256).hexdigest()
        if not ts.isdigit() or abs(int(ts) - time.time()) > 300 \
                or not hmac.compare_digest(expected, headers.get("X-Api-Signature", "")):
            return 401, {"error": "bad signature"}
        try:
            message = json.loads(body)
            if message["template"] != "otp" or not message["to"] or not message["params"]["code"]:
                raise ValueError
        except (ValueError, KeyError, TypeError):
            return 400, {"error": "bad request"}
        with self.lock:
            self.sent.append(message)
            return 200, {"status": "queued", "message_id": f"m{len(self.sent)}"}
