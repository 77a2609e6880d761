"""Per-process copies of what Redis broadcasts, trusted only while provably current.

A `BroadcastView` holds a subscribed connection of its own to one channel. Every message is
`<generation>|<payload>`, the generation being a Redis counter that the publisher bumps in the
same script or pipeline as the change itself. Before each use the view reads whatever has
reached its socket (a non-blocking poll, no round trip), so a change reaches every process as
fast as Redis pushes the message. The copy is trusted only while:

- it was (re)loaded *after* subscribing, so nothing published meanwhile is missed;
- generations arrive consecutively: a gap or a counter that went back (a lost message, a flushed
  Redis) reloads the copy;
- a PING on the subscription was answered within `MAX_STALENESS` seconds: a pong proves that
  everything published before it has been read, so a connection that dies silently (no RST)
  stops being trusted within seconds.

Otherwise (no subscription yet, an error, a pong overdue, after a fork) `is_current()` is False
and callers ask Redis directly, as they would without the copy; reconnecting is retried at most
once a second. Subclasses say what a message changes (`_apply`) and how to load the whole state
(`_reload`, which must also set `_gen`). Used for signed-out sessions (api.identity.revocations)
and for evicting per-process cache entries (api.localcache).
"""
from __future__ import annotations

import logging
import os
import threading
import time

log = logging.getLogger("ssb.broadcast")

PING_EVERY = 0.5        # seconds between liveness pings on the subscription
MAX_STALENESS = 2.0     # a copy not confirmed by a pong for this long is not trusted
RECONNECT_EVERY = 1.0

# KEYS: gen. ARGV: channel, payload. Bumps the generation and publishes it with the payload.
PUBLISH_SCRIPT = """
local gen = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', ARGV[1], gen .. '|' .. ARGV[2])
return gen
"""


class BroadcastView:
    CHANNEL = ""
    GEN_KEY = ""

    def __init__(self, redis) -> None:
        self._redis = redis
        self._lock = threading.RLock()
        self._conn = None
        self._pid = 0
        self._gen = -1
        self._ping_sent_at: float | None = None   # monotonic time of the unanswered ping
        self._confirmed_at = 0.0                  # everything published before this was read
        self._next_attempt = 0.0

    @property
    def generation(self) -> int:
        return self._gen

    def is_current(self) -> bool:
        """Whether the local copy is trusted right now (after reading what has arrived)."""
        with self._lock:
            return self._sync()

    # -- subclass hooks ----------------------------------------------------------------------

    def _apply(self, payload: str) -> None:
        raise NotImplementedError

    def _reload(self) -> None:
        raise NotImplementedError

    # -- keeping current ---------------------------------------------------------------------

    def _sync(self) -> bool:
        if self._pid != os.getpid():        # a forked child must not read its parent's socket
            self._conn, self._pid = None, os.getpid()
        if self._conn is None and not self._connect():
            return False
        try:
            self._drain()
            mono = time.monotonic()
            if self._ping_sent_at is None and mono - self._confirmed_at >= PING_EVERY:
                self._conn.send_command("PING", "bv", check_health=False)
                self._ping_sent_at = mono
            return mono - self._confirmed_at <= MAX_STALENESS
        except Exception:
            log.warning("subscription lost; asking Redis directly", exc_info=True,
                        extra={"channel": self.CHANNEL})
            self._drop()
            return False

    def _drain(self) -> None:
        conn = self._conn
        while conn.can_read(timeout=0):
            reply = conn.read_response(disconnect_on_error=True)
            kind = reply[0]
            if kind == b"message":
                self._receive(reply[2].decode())
            elif kind == b"pong" and self._ping_sent_at is not None:
                self._confirmed_at, self._ping_sent_at = self._ping_sent_at, None

    def _receive(self, data: str) -> None:
        gen_s, _, payload = data.partition("|")
        gen = int(gen_s)
        if gen != self._gen + 1:       # a message we never saw, or a reset counter
            self._reload()
            return
        self._gen = gen
        self._apply(payload)

    def _connect(self) -> bool:
        mono = time.monotonic()
        if mono < self._next_attempt:
            return False
        self._next_attempt = mono + RECONNECT_EVERY
        try:
            self._conn = _subscriber_connection(self._redis)
            self._conn.send_command("SUBSCRIBE", self.CHANNEL, check_health=False)
            reply = self._conn.read_response()
            if reply[0] != b"subscribe":
                raise RuntimeError(f"unexpected reply to SUBSCRIBE: {reply!r}")
            sent = time.monotonic()
            self._reload()                 # after subscribing: nothing published meanwhile is lost
            self._confirmed_at, self._ping_sent_at = sent, None
            return True
        except Exception:
            log.warning("cannot subscribe; asking Redis directly", exc_info=True, extra={"channel": self.CHANNEL})
            self._drop()
            return False

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        self._ping_sent_at = None
        self._confirmed_at = 0.0
        if conn is not None:
            try:
                conn.disconnect()
            except Exception:
                pass


def _subscriber_connection(redis):
    """A connection of our own (not from the pool, no automatic reconnect or health-check PINGs):
    if it breaks we must know, because messages may have been lost meanwhile."""
    node = redis
    if not hasattr(redis, "connection_pool"):          # RedisCluster: any node hears every PUBLISH
        node = redis.get_default_node().redis_connection
    pool = node.connection_pool
    kwargs = dict(pool.connection_kwargs)
    kwargs.update(health_check_interval=0, protocol=2)
    kwargs.pop("retry", None)
    conn = pool.connection_class(**kwargs)
    conn.connect()
    return conn
