"""The provider-neutral push interface and the retry loop shared by every provider."""

from __future__ import annotations

import email.utils
import hashlib
import random as random_module
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

Outcome = Literal["ok", "dead_token", "rate_limited", "retryable", "failed"]
Priority = Literal["high", "normal"]

# FCM refuses a TTL above four weeks; the other providers clamp silently, so enforce it once.
MAX_TTL_SECONDS = 28 * 24 * 3600
# Keys the providers reserve in the custom data of a message.
_RESERVED_DATA_KEYS = frozenset({"aps", "from", "message_type", "notification"})
_RESERVED_DATA_PREFIXES = ("google", "gcm")


@dataclass(frozen=True)
class PushMessage:
    """One notification, rendered by each provider into its own wire format.

    ``data`` must never carry PII: push payloads transit third-party infrastructure.
    """

    title: str
    body: str
    data: Mapping[str, str] = field(default_factory=dict)
    collapse_key: str | None = None
    ttl_seconds: int = 24 * 3600
    priority: Priority = "normal"

    def __post_init__(self) -> None:
        if self.priority not in ("high", "normal"):
            raise ValueError(f"priority must be 'high' or 'normal', not {self.priority!r}")
        if not 0 <= self.ttl_seconds <= MAX_TTL_SECONDS:
            raise ValueError(f"ttl_seconds must be within 0..{MAX_TTL_SECONDS}")
        for key, value in self.data.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise ValueError("data keys and values must be strings")
            if key in _RESERVED_DATA_KEYS or key.startswith(_RESERVED_DATA_PREFIXES):
                raise ValueError(f"data key {key!r} is reserved by a push provider")


@dataclass(frozen=True)
class SendResult:
    """What happened to one device token.

    ``dead_token``: the device unregistered, delete the token. ``rate_limited`` and
    ``retryable``: try again later (after ``retry_after`` seconds when the provider said so).
    ``failed``: a permanent problem with the message or our credentials, not the device.
    """

    token: str
    outcome: Outcome
    retry_after: float | None = None
    detail: str | None = None

    @property
    def should_retry(self) -> bool:
        return self.outcome in ("rate_limited", "retryable")


class PushProvider(Protocol):
    platform: str
    max_batch: int
    """The most tokens one ``send`` call should carry; callers chunk fan-out by it."""

    def send(self, tokens: Sequence[str], message: PushMessage) -> list[SendResult]:
        """One result per token, in order. Never raises for delivery problems."""
        ...


class ProviderAuthError(Exception):
    """Our provider credentials could not be exchanged for an access token."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class AccessTokenCache:
    """An OAuth access token shared by concurrent senders.

    Refreshed ``margin`` seconds before it expires, and on demand when the provider rejects it;
    ``fetch`` returns ``(access_token, expires_in_seconds)`` or raises ProviderAuthError.
    """

    def __init__(
        self,
        fetch: Callable[[], tuple[str, float]],
        *,
        clock: Callable[[], float] = time.time,
        margin: float = 60.0,
    ) -> None:
        self._fetch = fetch
        self._clock = clock
        self._margin = margin
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0

    def get(self) -> str:
        with self._lock:
            if self._token is None or self._clock() >= self._expires_at - self._margin:
                token, expires_in = self._fetch()
                self._token, self._expires_at = token, self._clock() + expires_in
            return self._token

    def invalidate(self, stale: str) -> None:
        """Forget ``stale`` unless another sender already replaced it, so one rejection
        seen by many concurrent requests costs one refresh."""
        with self._lock:
            if self._token == stale:
                self._token = None


def results_for_auth_error(tokens: Sequence[str], error: ProviderAuthError) -> list[SendResult]:
    outcome: Outcome = "retryable" if error.retryable else "failed"
    return [SendResult(t, outcome, detail=f"auth: {error}") for t in tokens]


# ---------------------------------------------------------------------------------------------
# Helpers shared by the providers


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def fit_collapse_id(key: str, limit_bytes: int = 64) -> str:
    """APNs caps apns-collapse-id at 64 bytes; hash longer keys so distinct keys stay distinct."""
    if len(key.encode()) <= limit_bytes:
        return key
    return hashlib.sha256(key.encode()).hexdigest()[:limit_bytes]


def chunked(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# ---------------------------------------------------------------------------------------------
# Retry


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 60.0


def backoff_delay(
    attempt: int,
    policy: RetryPolicy,
    *,
    retry_after: float | None = None,
    random: Callable[[], float] = random_module.random,
) -> float:
    """Delay before retry number ``attempt`` (1-based).

    "Equal jitter": half the exponential step is fixed so delays keep growing, half is random
    so thousands of workers do not retry in lockstep. A provider's Retry-After is a floor.
    """
    ceiling = min(policy.max_delay, policy.base_delay * 2 ** (attempt - 1))
    delay = ceiling / 2 + random() * ceiling / 2
    return max(delay, retry_after) if retry_after is not None else delay


def send_with_retry(
    provider: PushProvider,
    tokens: Sequence[str],
    message: PushMessage,
    *,
    policy: RetryPolicy = RetryPolicy(),
    sleep: Callable[[float], None] = time.sleep,
    random: Callable[[], float] = random_module.random,
) -> list[SendResult]:
    """Send to ``tokens`` in batches of ``provider.max_batch``, retrying transient failures.

    Returns one final result per distinct token, in first-seen order. Tokens still rate limited
    or retryable at the end keep that outcome so the job queue can reschedule them; so do
    tokens whose Retry-After exceeds ``policy.max_delay`` -- blocking a worker that long is
    worse than requeueing.
    """
    distinct = list(dict.fromkeys(tokens))
    final: dict[str, SendResult] = {}
    pending: list[str] = distinct
    for attempt in range(1, policy.max_attempts + 1):
        retry: list[SendResult] = []
        for batch in chunked(pending, provider.max_batch):
            for result in provider.send(batch, message):
                final[result.token] = result
                if result.should_retry:
                    retry.append(result)
        if not retry or attempt == policy.max_attempts:
            break
        hints = [r.retry_after for r in retry if r.retry_after is not None]
        retry_after = max(hints) if hints else None
        if retry_after is not None and retry_after > policy.max_delay:
            break
        sleep(backoff_delay(attempt, policy, retry_after=retry_after, random=random))
        pending = [r.token for r in retry]
    return [
        final.get(token) or SendResult(token, "failed", detail="provider returned no result")
        for token in distinct
    ]
