"""A fake of Huawei's OAuth token endpoint and the Push Kit v1 messages:send API.

A request carries up to 1000 tokens, so the script applies per request: one first-time
``rl-`` token makes the whole request a 503 (traffic control), one first-time ``err-`` token
a 500 system error; ``dead-`` tokens come back in a partial success, or as 80300007 when every
token in the request is dead.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import urllib.parse
from typing import Any

from . import LoopbackHTTPServer, QuietHandler, RecordedRequest, TokenScript

TOKEN_PATH = "/oauth2/v3/token"
MAX_TOKENS = 1000
_DURATION = re.compile(r"^\d+(\.\d{1,9})?s$")


class FakeHms(LoopbackHTTPServer):
    def __init__(self, *, app_id: str, client_secret: str, expires_in: int = 3600) -> None:
        super().__init__(_Handler)
        self.app_id = app_id
        self.client_secret = client_secret
        self.expires_in = expires_in
        self.retry_after = "1"  # what a traffic-control answer asks the client to wait
        self.script = TokenScript()
        self.token_requests: list[RecordedRequest] = []
        self.send_requests: list[RecordedRequest] = []
        self.valid_access_tokens: set[str] = set()
        self._issued = itertools.count(1)
        self._request_ids = itertools.count(1)
        self.lock = threading.Lock()

    @property
    def token_url(self) -> str:
        return self.url + TOKEN_PATH

    def expire_access_tokens(self) -> None:
        with self.lock:
            self.valid_access_tokens.clear()

    def _answer(self, code: str, msg: str) -> dict[str, Any]:
        return {"code": code, "msg": msg, "requestId": f"req-{next(self._request_ids)}"}

    # -- endpoints --------------------------------------------------------------------------

    def token(self, request: RecordedRequest) -> tuple[int, dict[str, Any]]:
        form = dict(urllib.parse.parse_qsl(request.body.decode()))
        if form.get("grant_type") != "client_credentials":
            return 400, {"error": 1102, "error_description": "unsupported grant type"}
        if form.get("client_id") != self.app_id or form.get("client_secret") != self.client_secret:
            return 400, {"error": 1101, "error_description": "invalid client"}
        access_token = f"hms-at-{next(self._issued)}"
        with self.lock:
            self.valid_access_tokens.add(access_token)
        grant = {"access_token": access_token, "token_type": "Bearer"}
        grant["expires_in"] = self.expires_in
        return 200, grant

    def send(self, request: RecordedRequest) -> tuple[int, dict[str, Any], dict[str, str]]:
        scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
        with self.lock:
            valid = bearer in self.valid_access_tokens
        if scheme != "Bearer" or not bearer:
            return 401, self._answer("80200001", "Oauth authentication error"), {}
        if not valid:
            return 401, self._answer("80200003", "Oauth Token expired"), {}

        body = request.json()
        message = body.get("message", {})
        tokens = message.get("token")
        android = message.get("android", {})
        if body.get("validate_only") is not False or not isinstance(tokens, list) or not tokens:
            return 400, self._answer("80100003", "Illegal message structure"), {}
        if len(tokens) > MAX_TOKENS:
            too_many = self._answer("80300010", "The number of tokens exceeds the default value")
            return 400, too_many, {}
        collapse_key = android.get("collapse_key", -1)
        if not isinstance(collapse_key, int) or not -1 <= collapse_key <= 100:
            return 400, self._answer("80100013", "Collapse_key is illegal"), {}
        if (
            not _DURATION.match(android.get("ttl", "86400s"))
            or android.get("urgency", "NORMAL") not in ("HIGH", "NORMAL")
            or not isinstance(message.get("data", ""), str)
            or not message.get("notification", {}).get("title")
        ):
            return 400, self._answer("80100001", "Parameters check error"), {}

        decisions = {token: self.script.decide(token) for token in tokens}
        if "rate_limited" in decisions.values():
            return 503, {"msg": "flow control"}, {"Retry-After": self.retry_after}
        if "error" in decisions.values():
            return 500, self._answer("81000001", "System inner error"), {}
        dead = [t for t, d in decisions.items() if d == "dead"]
        if dead and len(dead) == len(tokens):
            return 400, self._answer("80300007", "All the tokens are invalid"), {}
        if dead:
            detail = {
                "success": len(tokens) - len(dead),
                "failure": len(dead),
                "illegal_tokens": dead,
            }
            return 200, self._answer("80100000", json.dumps(detail)), {}
        return 200, self._answer("80000000", "Success"), {}


class _Handler(QuietHandler):
    def do_POST(self) -> None:
        fake: FakeHms = self.server.fake  # type: ignore[attr-defined]
        request = self.record(self.read_body())
        if self.path == TOKEN_PATH:
            with fake.lock:
                fake.token_requests.append(request)
            status, payload = fake.token(request)
            self.reply(status, payload)
        elif self.path == f"/v1/{fake.app_id}/messages:send":
            with fake.lock:
                fake.send_requests.append(request)
            status, payload, headers = fake.send(request)
            self.reply(status, payload, headers)
        else:
            self.reply(404, {"code": "80100003", "msg": "not found"})
