"""Push provider clients (APNs, FCM, HMS) behind one small interface.

Each client speaks the provider's real wire protocol; tests run them against loopback fakes.
"""

from push.providers.base import (
    Outcome,
    Priority,
    PushMessage,
    PushProvider,
    RetryPolicy,
    SendResult,
    backoff_delay,
    parse_retry_after,
    send_with_retry,
)

__all__ = [
    "Outcome",
    "Priority",
    "PushMessage",
    "PushProvider",
    "RetryPolicy",
    "SendResult",
    "backoff_delay",
    "parse_retry_after",
    "send_with_retry",
]
