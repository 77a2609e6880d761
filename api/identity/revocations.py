"""Signed-out sessions, known to every process without a Redis round trip per request.

Redis holds the truth: the sorted set `{deny}:sids` (session id -> unix time its access tokens
expire anyway) and the counter `{deny}:gen`, bumped by every sign-out. A sign-out updates both
and publishes `gen|expires|sid,sid...` on `ssb:deny`, in one script (so no process can see the
counter move without the message being on its way).

Each process keeps a copy (`RevocationView`, an api.broadcast view) on its own subscribed
connection, read before every check without a round trip, and trusted only while provably
current (see api.broadcast: reloaded after subscribing and on any generation gap, confirmed by
a pong at least every two seconds). When it cannot be trusted the check asks Redis (ZSCORE),
exactly as before. A sign-out thus reaches every process as fast as Redis can push a message,
and never later than a direct check would see it.
"""
from __future__ import annotations

import time

from api.broadcast import BroadcastView

SET_KEY = "{deny}:sids"
GEN_KEY = "{deny}:gen"
CHANNEL = "ssb:deny"
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


class RevocationView(BroadcastView):
    """A process's copy of the signed-out sessions (see the module docstring)."""

    CHANNEL = CHANNEL
    GEN_KEY = GEN_KEY

    def __init__(self, redis) -> None:
        super().__init__(redis)
        self._denied: dict[str, float] = {}

    def is_denied(self, session_id: str, now: int) -> bool:
        with self._lock:
            if self._sync():
                expires = self._denied.get(session_id)
                return expires is not None and expires > now
        return denied_in_redis(self._redis, session_id, now)

    def _apply(self, payload: str) -> None:
        exp_s, _, sids = payload.partition("|")
        expires = float(exp_s)
        for sid in sids.split(","):
            if sid:
                self._denied[sid] = max(expires, self._denied.get(sid, 0.0))
        if len(self._denied) > PRUNE_ABOVE:
            cutoff = time.time() - 3600      # generous: the app's clock may run ahead in tests
            self._denied = {sid: exp for sid, exp in self._denied.items() if exp > cutoff}

    def _reload(self) -> None:
        pipe = self._redis.pipeline(transaction=True)
        pipe.get(GEN_KEY)
        pipe.zrange(SET_KEY, 0, -1, withscores=True)
        gen, members = pipe.execute()
        self._gen = int(gen or 0)
        self._denied = {(m.decode() if isinstance(m, bytes) else m): float(score) for m, score in members}
