"""A fake of Google's OAuth token endpoint and the FCM HTTP v1 messages:send API.

The token endpoint verifies the service account's RS256 assertion with its public key; the
send endpoint checks the bearer token and the v1 message shape, then answers by the script.
Extra token prefixes: ``bad-`` is a malformed registration token (400 on ``message.token``),
``badmsg-`` a 400 about the message body rather than the token.
"""

from __future__ import annotations

import itertools
import re
import threading
import urllib.parse
from typing import Any

import jwt

from . import LoopbackHTTPServer, QuietHandler, RecordedRequest, TokenScript

TOKEN_PATH = "/token"
FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
_DURATION = re.compile(r"^\d+(\.\d{1,9})?s$")


def _status(code: int, status: str, message: str, *details: dict[str, Any]) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": status, "details": list(details)}}


def _fcm_code(code: str) -> dict[str, Any]:
    return {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}


def _bad_field(field: str, description: str) -> dict[str, Any]:
    return {
        "@type": "type.googleapis.com/google.rpc.BadRequest",
        "fieldViolations": [{"field": field, "description": description}],
    }


class FakeFcm(LoopbackHTTPServer):
    def __init__(
        self, *, project_id: str, client_email: str, key_id: str, public_key: Any,
        expires_in: int = 3600,
    ) -> None:
        super().__init__(_Handler)
        self.project_id = project_id
        self.client_email = client_email
        self.key_id = key_id
        self.public_key = public_key
        self.expires_in = expires_in
        self.script = TokenScript()
        self.token_requests: list[RecordedRequest] = []
        self.send_requests: list[RecordedRequest] = []
        self.valid_access_tokens: set[str] = set()
        self._issued = itertools.count(1)
        self.lock = threading.Lock()

    @property
    def token_uri(self) -> str:
        return self.url + TOKEN_PATH

    def revoke_access_tokens(self) -> None:
        with self.lock:
            self.valid_access_tokens.clear()

    # -- endpoints --------------------------------------------------------------------------

    def token(self, request: RecordedRequest) -> tuple[int, dict[str, Any]]:
        form = dict(urllib.parse.parse_qsl(request.body.decode()))
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return 400, {"error": "unsupported_grant_type"}
        assertion = form.get("assertion", "")
        try:
            header = jwt.get_unverified_header(assertion)
            claims = jwt.decode(
                assertion,
                self.public_key,
                algorithms=["RS256"],
                audience=self.token_uri,
                issuer=self.client_email,
                options={"require": ["iss", "aud", "iat", "exp", "scope"]},
            )
        except jwt.PyJWTError as exc:
            return 400, {"error": "invalid_grant", "error_description": str(exc)}
        if header.get("kid") != self.key_id:
            return 400, {"error": "invalid_grant", "error_description": "unknown key id"}
        if FCM_SCOPE not in claims["scope"].split() or claims["exp"] - claims["iat"] > 3600:
            return 400, {"error": "invalid_scope"}
        access_token = f"ya29.fake-{next(self._issued)}"
        with self.lock:
            self.valid_access_tokens.add(access_token)
        grant = {"access_token": access_token, "token_type": "Bearer"}
        grant["expires_in"] = self.expires_in
        return 200, grant

    def send(self, request: RecordedRequest) -> tuple[int, dict[str, Any], dict[str, str]]:
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        with self.lock:
            authorised = bearer in self.valid_access_tokens
        if not authorised:
            error = _status(401, "UNAUTHENTICATED", "Invalid authentication credentials.")
            return 401, error, {}
        message = request.json().get("message", {})
        token = message.get("token")
        android = message.get("android", {})
        data = message.get("data", {})
        if (
            not isinstance(token, str)
            or not _DURATION.match(android.get("ttl", "0s"))
            or android.get("priority", "NORMAL") not in ("HIGH", "NORMAL")
            or not all(isinstance(v, str) for v in data.values())
        ):
            invalid = _fcm_code("INVALID_ARGUMENT")
            error = _status(400, "INVALID_ARGUMENT", "Invalid message", invalid)
            return 400, error, {}
        if token.startswith("bad-"):
            return 400, _status(
                400, "INVALID_ARGUMENT",
                "The registration token is not a valid FCM registration token",
                _fcm_code("INVALID_ARGUMENT"),
                _bad_field("message.token", "Invalid registration token"),
            ), {}
        if token.startswith("badmsg-"):
            return 400, _status(
                400, "INVALID_ARGUMENT", "Invalid JSON payload received.",
                _bad_field("message.data", "Invalid value"),
            ), {}
        decision = self.script.decide(token)
        if decision == "dead":
            error = _status(
                404, "NOT_FOUND", "Requested entity was not found.", _fcm_code("UNREGISTERED")
            )
            return 404, error, {}
        if decision == "rate_limited":
            return 429, _status(
                429, "RESOURCE_EXHAUSTED", "Quota exceeded.", _fcm_code("QUOTA_EXCEEDED")
            ), {"Retry-After": "1"}
        if decision == "error":
            error = _status(500, "INTERNAL", "Internal error encountered.", _fcm_code("INTERNAL"))
            return 500, error, {}
        return 200, {"name": f"projects/{self.project_id}/messages/{len(self.send_requests)}"}, {}


class _Handler(QuietHandler):
    def do_POST(self) -> None:
        fake: FakeFcm = self.server.fake  # type: ignore[attr-defined]
        request = self.record(self.read_body())
        if self.path == TOKEN_PATH:
            with fake.lock:
                fake.token_requests.append(request)
            status, payload = fake.token(request)
            self.reply(status, payload)
        elif self.path == f"/v1/projects/{fake.project_id}/messages:send":
            with fake.lock:
                fake.send_requests.append(request)
            status, payload, headers = fake.send(request)
            self.reply(status, payload, headers)
        else:
            self.reply(404, _status(404, "NOT_FOUND", "Requested entity was not found."))
