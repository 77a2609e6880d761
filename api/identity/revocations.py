"""Signed-out sessions, known to every process without a Redis round trip per request.

Redis holds the truth: the sorted set `{deny}:sids` (session id -> unix time its access tokens
expire anyway) and the counter `{deny}:gen`, bumped by every sign-out. A sign-out updates both
and publishes `gen|expires|sid,sid...` on `ssb:deny`, in one script (so no process can see the
counter move without the message being on its way).

Each process keeps a copy (`RevocationView`) on its own subscribed connection and, before every
check, reads whatever has reached that connection's socket (a non-blocking poll, no round trip).
The copy is trusted only while it is provably current:

- it was loaded *after* subscribing, so nothing published meanwhile is missed;
- messages arrive with consecutive generations; a gap or a counter that went back (a lost
  message, a flushed Redis) reloads the whole set;
- a PING on the subscription is answered at least every `MAX_STALENESS` seconds: a pong proves
  that everything published before it has been read. A connection that dies silently (no RST)
  therefore stops being trusted within seconds.

When the copy cannot be trusted (no subscription yet, an error, a pong overdue, after a fork)
the check asks Redis directly (ZSCORE), exactly as before, and reconnecting is tried again at
most once a second. A sign-out thus reaches every process as fast as Redis can push a message,
and never later than a direct check would see it.
"""
from __future__ import annotations

import logging
import os
import threading
import time

log = logging.getLogger("ssb.revocations")

SET_KEY = "{deny}:sids"
GEN_KEY = "{deny}:gen"
CHANNEL = "ssb:deny"
PING_EVERY = 0.5        # seconds between liveness pings on the subscription
MAX_STALENESS = 2.0     # a copy not confirmed by a pong for this long is not trusted
RECONNECT_EVERY = 1.0
PRUNE_ABOVE = 50_000    # entries kept before expired ones are dropped locally

# KEYS: set, gen. ARGV: channel, expires_at, now, sid... Adds the sids, prunes expired ones,
# bumps the generation and publishes it with the sids.
_DENY_SCRIPT = """
local exp = tonumber(ARGV[2])
for i = 4, #ARGV do redis.call('ZADD', KEYS[1], 'GT', exp, ARGV[i]) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3])
local gen = redis.call('INCR', KEYS[2])
local sids = {}
for i = 4, #ARGV do sids[#sids + 1] = ARGV[i] end
redis.call('PUBLISH', ARGV[1], gen .. '|' .. ARGV[2] .. '|' .. table.concat(sids, ','))
return gen
"""


def deny(redis, session_ids: list[str], *, expires_at: int, now: int) -> None:
    """Mark sessions signed out until `expires_at` (when their access tokens expire anyway)."""
    if session_ids:
        redis.eval(_DENY_SCRIPT, 2, SET_KEY, GEN_KEY, CHANNEL, expires_at, now, *session_ids)


def denied_in_redis(redis, session_id: str, now: int) -> bool:
    score = redis.zscore(SET_KEY, session_id)
    return score is not None and score > now


class RevocationView:
    """A process's copy of the signed-out sessions (see the module docstring)."""

    def __init__(self, redis) -> None:
        self._redis = redis
        self._lock = threading.Lock()
        self._conn = None
        self._pid = 0
        self._denied: dict[str, float] = {}
        self._gen = -1
        self._ping_sent_at: float | None = None   # monotonic time of the unanswered ping
        self._confirmed_at = 0.0                  # everything published before this was read
        self._next_attempt = 0.0

    # -- the check -------------------------------------------------------------------------

    def is_denied(self, session_id: str, now: int) -> bool:
        with self._lock:
            if self._sync():
                expires = self._denied.get(session_id)
                return expires is not None and expires > now
        return denied_in_redis(self._redis, session_id, now)

    def is_current(self) -> bool:
        """Whether the local copy is trusted right now (after reading what has arrived)."""
        with self._lock:
            return self._sync()

    # -- keeping current -------------------------------------------------------------------

    def _sync(self) -> bool:
        if self._pid != os.getpid():        # a forked child must not read its parent's socket
            self._conn, self._pid = None, os.getpid()
        if self._conn is None and not self._connect():
            return False
        try:
            self._drain()
            mono = time.monotonic()
            if self._ping_sent_at is None and mono - self._confirmed_at >= PING_EVERY:
                self._conn.send_command("PING", "rv", check_health=False)
                self._ping_sent_at = mono
            return mono - self._confirmed_at <= MAX_STALENESS
        except Exception:
            log.warning("revocation subscription lost; checking Redis directly", exc_info=True)
            self._drop()
            return False

    def _drain(self) -> None:
        conn = self._conn
        while conn.can_read(timeout=0):
            reply = conn.read_response(disconnect_on_error=True)
            kind = reply[0]
            if kind == b"message":
                self._apply(reply[2])
            elif kind == b"pong" and self._ping_sent_at is not None:
                self._confirmed_at, self._ping_sent_at = self._ping_sent_at, None

    def _apply(self, data: bytes) -> None:
        gen_s, exp_s, sids = data.decode().split("|", 2)
        gen = int(gen_s)
        if gen != self._gen + 1:       # a message we never saw, or a reset counter
            self._reload()
            return
        self._gen = gen
        expires = float(exp_s)
        for sid in sids.split(","):
            if sid:
                self._denied[sid] = max(expires, self._denied.get(sid, 0.0))
        if len(self._denied) > PRUNE_ABOVE:
            cutoff = time.time() - 3600      # generous: the app's clock may run ahead in tests
            self._denied = {sid: exp for sid, exp in self._denied.items() if exp > cutoff}

    def _connect(self) -> bool:
        mono = time.monotonic()
        if mono < self._next_attempt:
            return False
        self._next_attempt = mono + RECONNECT_EVERY
        try:
            self._conn = _subscriber_connection(self._redis)
            self._conn.send_command("SUBSCRIBE", CHANNEL, check_health=False)
            reply = self._conn.read_response()
            if reply[0] != b"subscribe":
                raise RuntimeError(f"unexpected reply to SUBSCRIBE: {reply!r}")
            sent = time.monotonic()
            self._reload()                 # after subscribing: nothing published meanwhile is lost
            self._confirmed_at, self._ping_sent_at = sent, None
            return True
        except Exception:
            log.warning("cannot subscribe to revocations; checking Redis directly", exc_info=True)
            self._drop()
            return False

    def _reload(self) -> None:
        pipe = self._redis.pipeline(transaction=True)
        pipe.get(GEN_KEY)
        pipe.zrange(SET_KEY, 0, -1, withscores=True)
        gen, members = pipe.execute()
        self._gen = int(gen or 0)
        self._denied = {(m.decode() if isinstance(m, bytes) else m): float(score) for m, score in members}

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
