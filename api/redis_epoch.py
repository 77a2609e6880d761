"""Since when has Redis kept everything we wrote to it? (the "epoch" of its data set)

Some Redis state is security state: the deny-list of signed-out sessions and the replay keys
of single-use codes. Redis can lose it: a crash without persistence, an operating-system crash
(AOF `everysec` loses the last second), a failover to a replica that lagged, a FLUSHALL, a
replacement server. Code that trusts an *absent* key (not denied, not yet used) must know
whether absence can be trusted, i.e. since when the data set has been continuous.

A new epoch begins whenever the server answering is not the one whose data set we last
verified. Two signals:

- the servers' `run_id`s (INFO server; a new random id at every start, and a different one
  after a failover), stored with the start of the epoch in the marker key `ssb:epoch`;
- the marker itself: gone with the data (a FLUSHALL, a fresh server).

Each process re-verifies after every new Redis connection (a restart drops them all, so the
first command on the new server sets the flag before its answer is used) and every
CHECK_INTERVAL seconds (a FLUSHALL drops no connection). On a new epoch the listeners run first
(identity re-derives the deny-list from the database), then the marker is written; a crash in
between leaves the marker stale and the next check runs them again.

`current()` is cheap (a flag and a clock read) except when a check is due: INFO + GET, one
round trip each, per process.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

MARKER = "ssb:epoch"
CHECK_INTERVAL = 10.0

_listeners: list[Callable[[int], None]] = []

# Write the marker unless another process already wrote one for the same servers; answer the
# stored value, so racing processes agree on one `since`.
_ESTABLISH = """
local cur = redis.call('GET', KEYS[1])
if cur then
  local sep = string.find(cur, '|', 1, true)
  if sep and string.sub(cur, 1, sep - 1) == ARGV[1] then return cur end
end
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. ARGV[2])
return ARGV[1] .. '|' .. ARGV[2]
"""


def on_new_epoch(listener: Callable[[int], None]) -> Callable[[int], None]:
    """Register `listener(now)`, run when a new epoch begins, before it is recorded."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


@dataclass(frozen=True)
class Epoch:
    since: int                  # unix seconds: Redis may have lost what was written before this
    verified_now: bool = False  # this call checked the servers (a miss read before it may predate a rebuild)


def fingerprint(redis) -> str:
    """The run_ids of the servers holding our data (every primary of a cluster), sorted."""
    from redis.cluster import RedisCluster
    if isinstance(redis, RedisCluster):
        infos = redis.info("server", target_nodes=RedisCluster.PRIMARIES)
        ids = [infos["run_id"]] if "run_id" in infos else [i["run_id"] for i in infos.values()]
    else:
        ids = [redis.info("server")["run_id"]]
    return ",".join(sorted(ids))


def _parse(raw) -> tuple[str, int] | None:
    if raw is None:
        return None
    text = raw.decode() if isinstance(raw, bytes) else raw
    fp, _, since = text.rpartition("|")
    try:
        return fp, int(since)
    except ValueError:
        return None


def establish(redis, since: int, fp: str | None = None) -> int:
    """Record that the current servers' data set is complete since `since` (unless already
    recorded for them); returns the recorded `since`. The check below calls this after its
    listeners; tests call it after emptying Redis on purpose."""
    stored = _parse(redis.eval(_ESTABLISH, 1, MARKER, fp or fingerprint(redis), str(since)))
    return stored[1] if stored else since


class EpochWatch:
    """Per process (one per app): the verified epoch, and when to verify it again."""

    def __init__(self) -> None:
        self.stale = True
        self.next_check = 0.0
        self.epoch = Epoch(since=0)
        self.lock = threading.Lock()

    def connected(self, _connection=None) -> None:
        """redis-py's on-connect hook (after the handshake): the server may be a new one."""
        self.stale = True

    def current(self, redis, now: int) -> Epoch:
        if not self.stale and time.monotonic() < self.next_check:
            return self.epoch
        with self.lock:
            self.stale = False   # a connection dialled from here on flags the next call again
            try:
                checked = self._check(redis, now)
            except Exception:
                self.stale = True
                raise
            # Only this call verified the servers; later calls get the epoch without the flag
            # (re-reading every miss would cost a round trip per request).
            self.epoch = Epoch(since=checked.since)
            self.next_check = time.monotonic() + CHECK_INTERVAL
            return checked

    def _check(self, redis, now: int) -> Epoch:
        fp = fingerprint(redis)
        marker = _parse(redis.get(MARKER))
        if marker is not None and marker[0] == fp:
            return Epoch(since=marker[1], verified_now=True)
        for listener in list(_listeners):
            listener(now)
        return Epoch(since=establish(redis, now, fp), verified_now=True)


def current() -> Epoch:
    """The app's Redis epoch, verified if a check is due (see the module doc)."""
    from flask import current_app

    from api.extensions import get_redis, now
    return current_app.extensions["ssb.redis_epoch"].current(get_redis(), now())
