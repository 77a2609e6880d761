"""Apple Push Notification service: the HTTP/2 provider API with token-based (.p8) auth.

APNs has no batch endpoint, so each device token is one HTTP/2 request. Requests run on a small
pool of sender threads, each with its own long-lived HTTP/2 connection: httpcore's sync HTTP/2
connection is not safe to share between threads (stream ids and the HPACK table race), and
Apple asks for connections to stay open across notifications rather than be reopened.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from push.providers.base import (
    PushMessage,
    SendResult,
    fit_collapse_id,
    parse_retry_after,
)

PRODUCTION_URL = "https://api.push.apple.com"

# Apple rejects provider tokens older than an hour and throttles refreshes more often than
# every 20 minutes (TooManyProviderTokenUpdates); 50 minutes sits safely between the two.
PROVIDER_TOKEN_LIFETIME = 50 * 60

_DEAD_TOKEN_REASONS = frozenset({"BadDeviceToken", "Unregistered", "ExpiredToken"})
_PRIORITY = {"high": "10", "normal": "5"}


class ApnsProvider:
    platform = "apns"
    max_batch = 1000

    def __init__(
        self,
        *,
        team_id: str,
        key_id: str,
        private_key: str | bytes,
        topic: str,
        base_url: str = PRODUCTION_URL,
        concurrency: int = 8,
        timeout: float = 10.0,
        client_factory: Callable[[], httpx.Client] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``private_key`` is the PEM of the .p8 signing key; ``topic`` the app's bundle id.

        ``concurrency`` is the number of sender threads, hence of HTTP/2 connections.
        """
        self.team_id = team_id
        self.key_id = key_id
        self.topic = topic
        self.base_url = base_url.rstrip("/")
        # Parsed once: a bad key should fail at start-up, not in the middle of a campaign.
        key = load_pem_private_key(
            private_key.encode() if isinstance(private_key, str) else private_key, password=None
        )
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("the APNs signing key must be an EC (P-256) private key")
        self._private_key = key
        self._clock = clock
        # http1=False: APNs speaks only HTTP/2; on http:// this means h2c with prior knowledge.
        self._client_factory = client_factory or (
            lambda: httpx.Client(http2=True, http1=False, timeout=timeout)
        )
        self._senders = ThreadPoolExecutor(max(1, concurrency), thread_name_prefix="apns-sender")
        self._thread_state = threading.local()
        self._clients: list[httpx.Client] = []
        self._clients_lock = threading.Lock()
        self._token_lock = threading.Lock()
        self._provider_token: str | None = None
        self._provider_token_issued_at = 0.0

    def close(self) -> None:
        self._senders.shutdown(wait=True)
        with self._clients_lock:
            for client in self._clients:
                client.close()
            self._clients.clear()

    def __enter__(self) -> ApnsProvider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- sending ----------------------------------------------------------------------------

    def send(self, tokens: Sequence[str], message: PushMessage) -> list[SendResult]:
        body = self._payload(message)
        return list(self._senders.map(lambda t: self._send_one(t, message, body), tokens))

    def _client(self) -> httpx.Client:
        """This sender thread's own client, created on first use and kept open."""
        client: httpx.Client | None = getattr(self._thread_state, "client", None)
        if client is None:
            client = self._thread_state.client = self._client_factory()
            with self._clients_lock:
                self._clients.append(client)
        return client

    def _send_one(self, token: str, message: PushMessage, body: bytes) -> SendResult:
        provider_token = self._current_provider_token()
        try:
            response = self._post(token, message, body, provider_token)
            if response.status_code == 403 and _reason(response) == "ExpiredProviderToken":
                provider_token = self._refresh_provider_token(stale=provider_token)
                response = self._post(token, message, body, provider_token)
        except httpx.HTTPError as exc:
            return SendResult(token, "retryable", detail=f"transport: {exc!r}")
        return self._result(token, response)

    def _post(
        self, token: str, message: PushMessage, body: bytes, provider_token: str
    ) -> httpx.Response:
        headers = {
            "authorization": f"bearer {provider_token}",
            "apns-topic": self.topic,
            "apns-push-type": "alert",
            "apns-priority": _PRIORITY[message.priority],
            # 0 means "deliver now or never"; otherwise APNs stores the alert until then.
            "apns-expiration": (
                "0" if message.ttl_seconds == 0 else str(int(self._clock()) + message.ttl_seconds)
            ),
            "content-type": "application/json",
        }
        if message.collapse_key:
            headers["apns-collapse-id"] = fit_collapse_id(message.collapse_key)
        # Quoted so that a corrupted registration cannot reshape the request path.
        path = f"/3/device/{urllib.parse.quote(token, safe='')}"
        return self._client().post(f"{self.base_url}{path}", content=body, headers=headers)

    @staticmethod
    def _payload(message: PushMessage) -> bytes:
        payload = {"aps": {"alert": {"title": message.title, "body": message.body}}, **message.data}
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()

    @staticmethod
    def _result(token: str, response: httpx.Response) -> SendResult:
        status = response.status_code
        if status == 200:
            return SendResult(token, "ok", detail=response.headers.get("apns-id"))
        reason = _reason(response)
        detail = f"{status} {reason}"
        if status == 410 or reason in _DEAD_TOKEN_REASONS:
            return SendResult(token, "dead_token", detail=detail)
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            return SendResult(token, "rate_limited", retry_after=retry_after, detail=detail)
        if status >= 500:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            return SendResult(token, "retryable", retry_after=retry_after, detail=detail)
        return SendResult(token, "failed", detail=detail)

    # -- provider token ---------------------------------------------------------------------

    def _current_provider_token(self) -> str:
        with self._token_lock:
            if (
                self._provider_token is None
                or self._clock() - self._provider_token_issued_at >= PROVIDER_TOKEN_LIFETIME
            ):
                self._issue_provider_token()
            assert self._provider_token is not None
            return self._provider_token

    def _refresh_provider_token(self, *, stale: str) -> str:
        """Replace ``stale`` unless another thread already did, so that concurrent
        ExpiredProviderToken answers cause one refresh, not one per in-flight request."""
        with self._token_lock:
            if self._provider_token == stale:
                self._issue_provider_token()
            assert self._provider_token is not None
            return self._provider_token

    def _issue_provider_token(self) -> None:
        issued_at = int(self._clock())
        self._provider_token = jwt.encode(
            {"iss": self.team_id, "iat": issued_at},
            self._private_key,
            algorithm="ES256",
            headers={"kid": self.key_id},
        )
        self._provider_token_issued_at = issued_at


def _reason(response: httpx.Response) -> str:
    try:
        return str(response.json().get("reason", ""))
    except ValueError:
        return ""
