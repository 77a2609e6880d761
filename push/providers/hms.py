"""Huawei Push Kit (HMS Core) server API v1: OAuth client credentials, up to 1000 tokens a request.

HMS answers in a business ``code`` as much as in the HTTP status, so both are read:

    80000000  success
    80100000  partial success; ``msg`` is JSON naming the illegal tokens
    80200001  OAuth authentication error   } fetch a new access token and retry once
    80200003  OAuth token expired          }
    80300007  all tokens are invalid
    80300008  message body too large       } the message is at fault: failed
    80300010  too many tokens              }
    81000001  system error                 retryable
    HTTP 503  traffic control              rate limited
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from push.providers.base import (
    AccessTokenCache,
    ProviderAuthError,
    PushMessage,
    SendResult,
    chunked,
    parse_retry_after,
    results_for_auth_error,
)

PRODUCTION_URL = "https://push-api.cloud.huawei.com"
TOKEN_URL = "https://oauth-login.cloud.huawei.com/oauth2/v3/token"

SUCCESS = "80000000"
PARTIAL_SUCCESS = "80100000"
OAUTH_ERROR = "80200001"
OAUTH_TOKEN_EXPIRED = "80200003"
ALL_TOKENS_INVALID = "80300007"
SYSTEM_ERROR = "81000001"
_REFRESH_CODES = frozenset({OAUTH_ERROR, OAUTH_TOKEN_EXPIRED})

# android.click_action.type 3: open the app's launcher activity.
_OPEN_APP = 3


def hms_collapse_key(key: str | None) -> int:
    """HMS groups offline messages by an integer: -1 keeps them all, 1..100 keep the latest of
    a group. Our string keys hash into 1..100 (0 would collapse every message of the app)."""
    if not key:
        return -1
    return zlib.crc32(key.encode()) % 100 + 1


class HmsProvider:
    platform = "hms"
    max_batch = 1000

    def __init__(
        self,
        *,
        app_id: str,
        client_secret: str,
        client_id: str | None = None,
        base_url: str = PRODUCTION_URL,
        token_url: str = TOKEN_URL,
        client: httpx.Client | None = None,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``client_id`` defaults to ``app_id``, which is how AppGallery Connect issues them."""
        self.app_id = app_id
        self.client_id = client_id or app_id
        self.base_url = base_url.rstrip("/")
        self.token_url = token_url
        self._client_secret = client_secret
        # HTTP/1.1: one provider may serve several worker threads, and httpx's sync HTTP/2
        # connection is not safe to share between threads.
        self._client = client or httpx.Client(timeout=timeout)
        self._owns_client = client is None
        self._access_tokens = AccessTokenCache(self._fetch_access_token, clock=clock)

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> HmsProvider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def send_url(self) -> str:
        return f"{self.base_url}/v1/{self.app_id}/messages:send"

    # -- sending ----------------------------------------------------------------------------

    def send(self, tokens: Sequence[str], message: PushMessage) -> list[SendResult]:
        results: list[SendResult] = []
        for batch in chunked(tokens, self.max_batch):
            results.extend(self._send_batch(batch, message))
        return results

    def _send_batch(self, tokens: Sequence[str], message: PushMessage) -> list[SendResult]:
        body = self._payload(tokens, message)
        try:
            access_token = self._access_tokens.get()
            response = self._post(body, access_token)
            if response.status_code == 401 or _code(response) in _REFRESH_CODES:
                self._access_tokens.invalidate(access_token)
                response = self._post(body, self._access_tokens.get())
        except ProviderAuthError as exc:
            return results_for_auth_error(tokens, exc)
        except httpx.HTTPError as exc:
            return [SendResult(t, "retryable", detail=f"transport: {exc!r}") for t in tokens]
        return _results(tokens, response)

    def _post(self, body: dict[str, Any], access_token: str) -> httpx.Response:
        return self._client.post(
            self.send_url, json=body, headers={"authorization": f"Bearer {access_token}"}
        )

    @staticmethod
    def _payload(tokens: Sequence[str], message: PushMessage) -> dict[str, Any]:
        body: dict[str, Any] = {
            "notification": {"title": message.title, "body": message.body},
            "android": {
                "collapse_key": hms_collapse_key(message.collapse_key),
                "urgency": "HIGH" if message.priority == "high" else "NORMAL",
                "ttl": f"{message.ttl_seconds}s",
                "notification": {"click_action": {"type": _OPEN_APP}},
            },
            "token": list(tokens),
        }
        if message.data:
            # HMS carries custom data as one JSON string, not an object.
            body["data"] = json.dumps(dict(message.data), ensure_ascii=False)
        return {"validate_only": False, "message": body}

    # -- OAuth ------------------------------------------------------------------------------

    def _fetch_access_token(self) -> tuple[str, float]:
        try:
            response = self._client.post(
                self.token_url,
                data={
                    "grant_type": "client_credentials",
                    "client_id": self.client_id,
                    "client_secret": self._client_secret,
                },
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


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


def _code(response: httpx.Response) -> str:
    return str(_json(response).get("code", ""))


def _illegal_tokens(msg: Any) -> set[str]:
    """The tokens a partial success rejected. v1 sends ``illegal_tokens`` as a list; newer
    API versions send ``illegalTokens`` keyed by reason -- accept both."""
    try:
        detail = json.loads(msg) if isinstance(msg, str) else msg
    except ValueError:
        return set()
    if not isinstance(detail, dict):
        return set()
    illegal = detail.get("illegal_tokens") or detail.get("illegalTokens") or []
    if isinstance(illegal, dict):
        return {t for group in illegal.values() for t in group}
    return set(illegal)


def _results(tokens: Sequence[str], response: httpx.Response) -> list[SendResult]:
    payload = _json(response)
    code = str(payload.get("code", ""))
    status = response.status_code
    detail = f"{status} {code} {payload.get('msg', '')}".strip()

    if code == SUCCESS:
        return [SendResult(t, "ok", detail=payload.get("requestId")) for t in tokens]
    if code == PARTIAL_SUCCESS:
        illegal = _illegal_tokens(payload.get("msg"))
        return [
            SendResult(t, "dead_token", detail=detail) if t in illegal else SendResult(t, "ok")
            for t in tokens
        ]
    if code == ALL_TOKENS_INVALID:
        return [SendResult(t, "dead_token", detail=detail) for t in tokens]
    if status in (429, 503):
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        return [
            SendResult(t, "rate_limited", retry_after=retry_after, detail=detail) for t in tokens
        ]
    if code == SYSTEM_ERROR or status >= 500:
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        return [SendResult(t, "retryable", retry_after=retry_after, detail=detail) for t in tokens]
    return [SendResult(t, "failed", detail=detail) for t in tokens]
