"""Per-process caches in front of Redis caches, evicted at once in every process.

The holder cache (`hc:`) and the venue staff cache are read on every 随申码 issued or verified;
a Redis round trip each was the largest cost left on those routes (issue 14). A `LocalCache`
keeps what this process read from Redis, for at most `ttl` seconds, and serves it only while the
process's `InvalidationView` is current (api.broadcast): whoever deletes a Redis cache entry
also publishes the key on `ssb:inval` (`publish_invalidation`, right after the delete), and every
process drops it before its next use. When the view cannot be trusted
the caches are bypassed (and emptied when it is reloaded), and callers read Redis as before.

A fill races with an eviction only if it read Redis before the delete and stores after it: a
fill therefore remembers the view's generation before reading and stores nothing if any
eviction arrived meanwhile; one still on its way arrives within the network's latency.
"""
from __future__ import annotations

import threading
import time

from flask import current_app

from api.broadcast import PUBLISH_SCRIPT, BroadcastView

CHANNEL = "ssb:inval"
GEN_KEY = "{inval}:gen"
_MISSING = object()


class InvalidationView(BroadcastView):
    CHANNEL = CHANNEL
    GEN_KEY = GEN_KEY

    def __init__(self, redis) -> None:
        super().__init__(redis)
        self.caches: dict[str, LocalCache] = {}

    def cache(self, namespace: str, *, ttl: float = 60.0, max_entries: int = 50_000) -> LocalCache:
        with self._lock:
            if namespace not in self.caches:
                self.caches[namespace] = LocalCache(self, ttl=ttl, max_entries=max_entries)
            return self.caches[namespace]

    def _apply(self, payload: str) -> None:
        namespace, _, keys = payload.partition("|")
        cache = self.caches.get(namespace)
        if cache is not None:
            for key in keys.split("\x1f"):
                cache.evict(key)

    def _reload(self) -> None:
        self._gen = int(self._redis.get(GEN_KEY) or 0)
        for cache in self.caches.values():
            cache.clear()


class LocalCache:
    """One namespace of a process's `InvalidationView` (see the module docstring)."""

    MISSING = _MISSING

    def __init__(self, view: InvalidationView, *, ttl: float, max_entries: int) -> None:
        self._view, self.ttl, self.max_entries = view, ttl, max_entries
        self._entries: dict[str, tuple[float, object]] = {}
        self._lock = threading.Lock()

    def get(self, key: str):
        """The cached value, or `LocalCache.MISSING` (not cached, expired, or the view not current)."""
        if not self._view.is_current():
            return _MISSING
        hit = self._entries.get(key)
        if hit is None or hit[0] < time.monotonic():
            return _MISSING
        return hit[1]

    def fill_token(self) -> int:
        """Take before reading Redis; `put` stores only if no eviction arrived since."""
        return self._view.generation if self._view.is_current() else -1

    def put(self, key: str, value, token: int) -> None:
        if token < 0 or not self._view.is_current() or self._view.generation != token:
            return
        with self._lock:
            if len(self._entries) >= self.max_entries:
                for old in list(self._entries)[: self.max_entries // 2]:
                    self._entries.pop(old, None)
            self._entries[key] = (time.monotonic() + self.ttl, value)

    def evict(self, key: str) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()


def invalidation_view() -> InvalidationView:
    view = current_app.extensions.get("ssb.invalidations")
    if view is None:
        from api.extensions import get_redis
        view = current_app.extensions.setdefault("ssb.invalidations", InvalidationView(get_redis()))
    return view


def publish_invalidation(redis, namespace: str, keys) -> None:
    """Evict `keys` from every process's copy. Call it after the Redis deletes have run (a fill
    that read before them is then either refused or evicted by this message)."""
    keys = [k for k in keys if k]
    if keys:
        redis.eval(PUBLISH_SCRIPT, 1, GEN_KEY, CHANNEL, namespace + "|" + "\x1f".join(keys))
        cache = invalidation_view().caches.get(namespace)
        if cache is not None:       # this process at once, not only when its message arrives
            for key in keys:
                cache.evict(key)
