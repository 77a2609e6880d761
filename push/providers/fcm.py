"""Firebase Cloud Messaging HTTP v1, authenticated as a Google service account.

The service account's private key signs an RS256 assertion that the token endpoint exchanges
for an OAuth2 access token (the JWT-bearer grant, RFC 7523). v1 has no multicast, so each
device token is one request, sent from a small pool of threads sharing one HTTP/1.1 keep-alive
client: httpx's sync HTTP/2 connection is not safe to share between threads, its HTTP/1.1 pool is.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from push.providers.base import (
    AccessTokenCache,
    ProviderAuthError,
    PushMessage,
    SendResult,
    fit_collapse_id,
    parse_retry_after,
    results_for_auth_error,
)

PRODUCTION_URL = "https://fcm.googleapis.com"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_LIFETIME = 3600  # Google's maximum

_FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
_BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest"


@dataclass(frozen=True)
class ServiceAccount:
    project_id: str
    client_email: str
    private_key: str
    private_key_id: str | None = None
    token_uri: str = GOOGLE_TOKEN_URI

    @classmethod
    def from_info(cls, info: Mapping[str, Any]) -> ServiceAccount:
        """From the JSON key file Google issues for a service account."""
        return cls(
            project_id=info["project_id"],
            client_email=info["client_email"],
            private_key=info["private_key"],
            private_key_id=info.get("private_key_id"),
            token_uri=info.get("token_uri") or GOOGLE_TOKEN_URI,
        )

    @classmethod
    def from_file(cls, path: str | Path) -> ServiceAccount:
        return cls.from_info(json.loads(Path(path).read_text()))


class FcmProvider:
    platform = "fcm"
    max_batch = 500

    def __init__(
        self,
        *,
        service_account: ServiceAccount,
        base_url: str = PRODUCTION_URL,
        client: httpx.Client | None = None,
        concurrency: int = 8,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.account = service_account
        # Parsed once: a bad key should fail at start-up, not in the middle of a campaign.
        key = load_pem_private_key(service_account.private_key.encode(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("the service account key must be an RSA private key")
        self._signing_key = key
        self.base_url = base_url.rstrip("/")
        self._clock = clock
        concurrency = max(1, concurrency)
        self._client = client or httpx.Client(
            timeout=timeout, limits=httpx.Limits(max_connections=concurrency)
        )
        self._owns_client = client is None
        self._senders = ThreadPoolExecutor(concurrency, thread_name_prefix="fcm-sender")
        self._access_tokens = AccessTokenCache(self._fetch_access_token, clock=clock)

    def close(self) -> None:
        self._senders.shutdown(wait=True)
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> FcmProvider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def send_url(self) -> str:
        return f"{self.base_url}/v1/projects/{self.account.project_id}/messages:send"

    # -- sending ----------------------------------------------------------------------------

    def send(self, tokens: Sequence[str], message: PushMessage) -> list[SendResult]:
        # One token fetch up front: if the endpoint is down, fail the batch without hammering it.
        try:
            self._access_tokens.get()
        except ProviderAuthError as exc:
            return results_for_auth_error(tokens, exc)
        return list(self._senders.map(lambda t: self._send_one(t, message), tokens))

    def _send_one(self, token: str, message: PushMessage) -> SendResult:
        body = self._payload(token, message)
        try:
            access_token = self._access_tokens.get()
            response = self._post(body, access_token)
            if response.status_code == 401 and _fcm_error(response)[1] != "THIRD_PARTY_AUTH_ERROR":
                # Our access token was revoked or expired early: fetch a new one, retry once.
                self._access_tokens.invalidate(access_token)
                response = self._post(body, self._access_tokens.get())
        except ProviderAuthError as exc:
            return results_for_auth_error([token], exc)[0]
        except httpx.HTTPError as exc:
            return SendResult(token, "retryable", detail=f"transport: {exc!r}")
        return _result(token, response)

    def _post(self, body: dict[str, Any], access_token: str) -> httpx.Response:
        return self._client.post(
            self.send_url, json=body, headers={"authorization": f"Bearer {access_token}"}
        )

    def _payload(self, token: str, message: PushMessage) -> dict[str, Any]:
        high = message.priority == "high"
        android: dict[str, Any] = {
            "ttl": f"{message.ttl_seconds}s",
            "priority": "HIGH" if high else "NORMAL",
        }
        apns_headers = {
            "apns-priority": "10" if high else "5",
            "apns-expiration": (
                "0" if message.ttl_seconds == 0 else str(int(self._clock()) + message.ttl_seconds)
            ),
        }
        if message.collapse_key:
            android["collapse_key"] = message.collapse_key
            apns_headers["apns-collapse-id"] = fit_collapse_id(message.collapse_key)
        body: dict[str, Any] = {
            "token": token,
            "notification": {"title": message.title, "body": message.body},
            "android": android,
            "apns": {"headers": apns_headers},
        }
        if message.data:
            body["data"] = dict(message.data)
        return {"message": body}

    # -- OAuth ------------------------------------------------------------------------------

    def _fetch_access_token(self) -> tuple[str, float]:
        now = int(self._clock())
        assertion = jwt.encode(
            {
                "iss": self.account.client_email,
                "scope": FCM_SCOPE,
                "aud": self.account.token_uri,
                "iat": now,
                "exp": now + ASSERTION_LIFETIME,
            },
            self._signing_key,
            algorithm="RS256",
            headers={"kid": self.account.private_key_id} if self.account.private_key_id else None,
        )
        try:
            response = self._client.post(
                self.account.token_uri,
                data={"grant_type": JWT_BEARER_GRANT, "assertion": assertion},
            )
        except httpx.HTTPError as exc:
            raise ProviderAuthError(f"token endpoint unreachable: {exc!r}", retryable=True) from exc
        if response.status_code != 200:
            raise ProviderAuthError(
                f"token endpoint answered {response.status_code}: {response.text[:200]}",
                retryable=response.status_code >= 500 or response.status_code == 429,
            )
        grant = response.json()
        return grant["access_token"], float(grant.get("expires_in", 3600))


def _fcm_error(response: httpx.Response) -> tuple[dict[str, Any], str | None]:
    """The google.rpc.Status error object and its FCM-specific errorCode, if any."""
    try:
        error = response.json().get("error") or {}
    except ValueError:
        return {}, None
    if not isinstance(error, dict):
        return {}, None
    code = next(
        (d.get("errorCode") for d in error.get("details", []) if d.get("@type") == _FCM_ERROR_TYPE),
        None,
    )
    return error, code


def _about_the_token(error: dict[str, Any]) -> bool:
    """INVALID_ARGUMENT also covers malformed messages; only a bad token means a dead token."""
    for detail in error.get("details", []):
        if detail.get("@type") == _BAD_REQUEST_TYPE and any(
            v.get("field") == "message.token" for v in detail.get("fieldViolations", [])
        ):
            return True
    return "registration token" in str(error.get("message", "")).lower()


def _result(token: str, response: httpx.Response) -> SendResult:
    status = response.status_code
    if status == 200:
        return SendResult(token, "ok", detail=response.json().get("name"))
    error, code = _fcm_error(response)
    detail = f"{status} {error.get('status', '')} {code or ''}".strip()
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    # Only FCM's own UNREGISTERED code, not any 404: a misconfigured project id must not
    # get every token deleted.
    if code == "UNREGISTERED":
        return SendResult(token, "dead_token", detail=detail)
    if status == 400 and _about_the_token(error):
        return SendResult(token, "dead_token", detail=detail)
    if status == 429:
        return SendResult(token, "rate_limited", retry_after=retry_after, detail=detail)
    if status >= 500:
        return SendResult(token, "retryable", retry_after=retry_after, detail=detail)
    # SENDER_ID_MISMATCH, THIRD_PARTY_AUTH_ERROR, malformed messages: our problem, not the
    # device's, so never delete the token for them.
    return SendResult(token, "failed", detail=detail)
