"""Rate limits for use cases (per phone, per account, per app), on the shared `limits` storage.

Flask-Limiter guards routes by client IP; these guard by who the request is about, which only a
service knows. Both use the same Redis-backed storage, so limits hold across processes.
"""
from __future__ import annotations

import time

from limits import parse

from api.errors import AppError
from api.extensions import get_rate_limiter


def enforce(rate: str, *identifiers: str, error: str = "RATE_LIMITED") -> None:
    item = parse(rate)
    strategy = get_rate_limiter()
    if not strategy.hit(item, *identifiers):
        stats = strategy.get_window_stats(item, *identifiers)
        raise AppError(error, headers={"Retry-After": str(max(1, int(stats.reset_time - time.time())))})
