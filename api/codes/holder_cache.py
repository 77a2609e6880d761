"""What issuing and verifying a 随申码 need per holder, cached in Redis so the hot path touches
no relational table.

Keys (the hash tag is the holder id, so a holder's cache entry and its replay keys share a
Redis Cluster slot):
    hc:{<holder_id>}      JSON HolderInfo, TTL HOLDER_TTL (a backstop; changes invalidate at once)
    hu:{u<user_id>}       holder_id of a user (immutable, long TTL)
    hb:{<bidx>}           holder_id of the verified user with this identity blind index, so a
                          registry import or a licence change can find whose entry to drop
    hg:{<holder_id>}      generation, bumped by each invalidation: a cache fill WATCHes it, so a
                          fill that read the database before a change cannot store stale data

Each process also keeps what it read in a LocalCache (api.localcache), evicted in every process
by a message published right after the Redis delete, so issuing a code needs no round trip.

Invalidation: a flush collector (api.unit_of_work) sees every User, Person and Licence written
and, after the commit succeeds, deletes the affected entries (real-name verification, account
disable, `registry import-persons`, a licence issued or revoked). Bulk UPDATE statements bypass
the ORM, so services doing those call `evict()` themselves. An eviction that fails because Redis
does not answer is recorded in the database and applied when it answers again
(api.ops.invalidations).
"""
from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from itertools import chain

from sqlalchemy import select

from api.extensions import db, get_redis
from api.identity.models import Person, User
from api.licences.models import Licence
from api.localcache import LocalCache, invalidation_view, publish_invalidation
from api.ops import invalidations

log = logging.getLogger("ssb.codes")

HOLDER_TTL = 600
MISSING_TTL = 60
MAP_TTL = 7 * 24 * 3600

# Licence types that grant a scene (issue 5's catalogue) in addition to registry attributes.
ENTITLING_LICENCES = {"veteran_certificate": "veteran", "home_service_worker_certificate": "home_service"}


def holder_key(holder_id: str) -> str:
    return f"hc:{{{holder_id}}}"


def user_key(user_id: int) -> str:
    return f"hu:{{u{user_id}}}"


def bidx_key(bidx: str) -> str:
    return f"hb:{{{bidx}}}"


def generation_key(holder_id: str) -> str:
    """Bumped by every invalidation; a fill that raced with one is not stored (same slot as hc)."""
    return f"hg:{{{holder_id}}}"


@dataclass
class HolderInfo:
    user_id: int
    holder_id: str
    status: str
    masked_name: str | None = None
    verified: bool = False
    veteran: bool = False
    home_service: bool = False
    medical_insurance: str | None = None      # e.g. "active", "suspended"; None when unknown
    birth_year: int | None = None
    bidx: str | None = field(default=None, repr=False)

    @property
    def active(self) -> bool:
        return self.status == "active"

    def dumps(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), ensure_ascii=False)


def parse(raw: bytes | str | None) -> HolderInfo | None | bool:
    """HolderInfo, False for a cached "no such holder", None for a cache miss."""
    if raw is None:
        return None
    data = json.loads(raw)
    if not data:
        return False
    return HolderInfo(**data)


def _truthy(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "y", "是")
    return bool(value)


def load(holder_id: str) -> HolderInfo | None:
    """From the database (the cold path), then cached unless an invalidation raced with us:
    WATCH the holder's generation before reading, so a change committed while we read (a
    disable, a real-name verification) can never be overwritten by the stale row we read."""
    from redis.exceptions import WatchError


    redis = get_redis()
    with redis.pipeline(transaction=True) as pipe:
        pipe.watch(generation_key(holder_id))
        info = _read(holder_id)
        pipe.multi()
        if info is None:
            pipe.set(holder_key(holder_id), "{}", ex=MISSING_TTL)
        else:
            pipe.set(holder_key(holder_id), info.dumps(), ex=HOLDER_TTL)
        try:
            pipe.execute()
        except WatchError:
            return info   # still the best answer for this request; just not cached
    if info is not None:
        maps = redis.pipeline(transaction=False)
        maps.set(user_key(info.user_id), holder_id, ex=MAP_TTL)
        if info.bidx:
            maps.set(bidx_key(info.bidx), holder_id, ex=HOLDER_TTL + 60)
        maps.execute()
    return info


def _read(holder_id: str) -> HolderInfo | None:
    user = db.session.scalar(select(User).where(User.holder_id == holder_id))
    if user is None:
        return None
    info = HolderInfo(user_id=user.id, holder_id=user.holder_id, status=user.status, masked_name=user.masked_name,
                      verified=user.is_verified, bidx=user.id_number_bidx)
    if user.id_number_bidx:
        apply_registry(info, user.id_number_bidx)
    return info


def apply_registry(info: HolderInfo, bidx: str) -> HolderInfo:
    """Registry attributes and entitling licences of the person with this blind index (also used
    for a dependent without an account of their own, by api.family)."""
    person = db.session.scalar(select(Person).where(Person.id_number_bidx == bidx))
    if person is not None:
        attrs = person.attributes or {}
        info.veteran = _truthy(attrs.get("veteran"))
        info.home_service = _truthy(attrs.get("home_service")) or _truthy(attrs.get("home_service_cert"))
        insurance = attrs.get("medical_insurance")
        info.medical_insurance = None if insurance in (None, "") else str(insurance)
        info.birth_year = person.birth_date.year if person.birth_date else None
    for scene in _licence_scenes(bidx):
        setattr(info, scene, True)
    return info


def _licence_scenes(bidx: str) -> set[str]:
    rows = db.session.scalars(select(Licence.type).where(
        Licence.holder_bidx == bidx, Licence.type.in_(list(ENTITLING_LICENCES)), Licence.status == "active"))
    return {ENTITLING_LICENCES[t] for t in rows}


HOLDER_LOCAL = "holder"     # api.localcache namespace: holder id -> HolderInfo, or False for none


def local(holder_id: str):
    """This process's copy: HolderInfo, False for "no such holder", or LocalCache.MISSING."""
    return invalidation_view().cache(HOLDER_LOCAL).get(holder_id)


def remember(holder_id: str, info: HolderInfo | None | bool, token: int) -> None:
    invalidation_view().cache(HOLDER_LOCAL).put(holder_id, info or False, token)


def fill_token() -> int:
    return invalidation_view().cache(HOLDER_LOCAL).fill_token()


def get(holder_id: str) -> HolderInfo | None:
    """This process's copy, else Redis, else the database (each filling the one before)."""
    info = local(holder_id)
    if info is not LocalCache.MISSING:
        return info or None
    token = fill_token()
    cached = parse(get_redis().get(holder_key(holder_id)))
    if cached is None:
        cached = load(holder_id)
    remember(holder_id, cached, token)
    return cached or None


def holder_id_for_user(user_id: int) -> str | None:
    redis = get_redis()
    raw = redis.get(user_key(user_id))
    if raw is not None:
        return raw.decode() if isinstance(raw, bytes) else raw
    holder_id = db.session.scalar(select(User.holder_id).where(User.id == user_id))
    if holder_id is not None:
        redis.set(user_key(user_id), holder_id, ex=MAP_TTL)
    return holder_id


def invalidate(holder_ids=(), bidxs=()) -> None:
    redis = get_redis()
    holder_ids = {h for h in holder_ids if h}
    bidxs = [b for b in bidxs if b]
    if bidxs:
        for raw in redis.mget([bidx_key(b) for b in bidxs]):
            if raw:
                holder_ids.add(raw.decode() if isinstance(raw, bytes) else raw)
    if holder_ids:
        pipe = redis.pipeline(transaction=False)
        for h in holder_ids:
            pipe.incr(generation_key(h))
            pipe.expire(generation_key(h), HOLDER_TTL * 2)
            pipe.delete(holder_key(h))
        pipe.execute()
        publish_invalidation(redis, HOLDER_LOCAL, holder_ids)   # every process's copy (api.localcache)


# --------------------------------------------------------------------------- unit of work


def collect_changes(session):
    """Flush collector (api.unit_of_work): which holders a flush changed, evicted after the commit."""
    holders, bidxs = set(), set()
    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, User):
            holders.add(obj.holder_id)
            bidxs.add(obj.id_number_bidx)
        elif isinstance(obj, Person):
            bidxs.add(obj.id_number_bidx)
        elif isinstance(obj, Licence):
            bidxs.add(obj.holder_bidx)
    holders.discard(None)
    bidxs.discard(None)
    if not (holders or bidxs):
        return None
    return lambda: evict(holders, bidxs)


def evict(holders, bidxs=()) -> None:
    """Evict these holders' entries now, or, if Redis fails, once it answers again
    (api.ops.invalidations)."""
    invalidations.apply("holder", {"holders": sorted(h for h in holders if h), "bidxs": sorted(b for b in bidxs if b)})


@invalidations.handler("holder")
def _apply_holder(payload: dict) -> None:
    invalidate(payload.get("holders", ()), payload.get("bidxs", ()))
