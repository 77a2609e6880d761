"""Fail fast while a store does not answer: a per-process circuit breaker.

Bounding each wait (2 s for Redis, the request's 3 s deadline for PostgreSQL) is not enough
under load: a sync worker that spends its bound on every request serves one request every few
seconds, and the requests queued behind it wait past the client's timeout. So after a store
failed to answer, the process stops asking it for COOLDOWN seconds (calls fail at once, and the
request gets its 503 envelope at once); then the next call tries again ("half-open"): an answer
closes the breaker, another failure opens it for another COOLDOWN. A worker thus spends at most
one bounded wait per COOLDOWN on a dead store, and recovers within COOLDOWN of it answering.

One breaker per store per process (`for_store(key)`); state is two floats, no locks needed.
"""
from __future__ import annotations

import time

COOLDOWN = 3.0

_breakers: dict[str, Breaker] = {}


class Breaker:
    def __init__(self, name: str, cooldown: float = COOLDOWN) -> None:
        self.name = name
        self.cooldown = cooldown
        self.open_until = 0.0

    def allows(self) -> bool:
        return time.monotonic() >= self.open_until

    def failed(self) -> None:
        self.open_until = time.monotonic() + self.cooldown

    def succeeded(self) -> None:
        if self.open_until:
            self.open_until = 0.0

    @property
    def retry_in(self) -> float:
        return max(0.0, self.open_until - time.monotonic())


def for_store(key: str) -> Breaker:
    """The process's breaker for one store (e.g. its URL)."""
    breaker = _breakers.get(key)
    if breaker is None:
        breaker = _breakers[key] = Breaker(key)
    return breaker
