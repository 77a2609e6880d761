"""Capacity arithmetic: API instances from the measured per-instance throughput, Redis nodes and
PostgreSQL primaries/replicas from per-endpoint cost estimates at the modelled peak. Every
assumption (costs, per-node budgets, utilisation) is a named value the report shows."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from loadtests import model as traffic


def _ceil(x: float) -> int:
    """Ceiling that ignores float noise (12000 / (500 * 0.6) must be 40, not 41)."""
    return math.ceil(round(x, 9))


def instances_needed(peak_rps: float, per_instance_rps: float, utilisation: float) -> int:
    """API instances so that each runs at no more than ``utilisation`` of its measured rate."""
    if per_instance_rps <= 0 or not 0 < utilisation <= 1:
        raise ValueError("per_instance_rps must be > 0 and utilisation in (0, 1]")
    return max(1, _ceil(peak_rps / (per_instance_rps * utilisation)))


@dataclass(frozen=True)
class Cost:
    """Backing-store work per request (estimates, see ENDPOINT_COSTS)."""

    redis_ops: float
    db_reads: float
    db_writes: float


# ASSUMPTIONS, estimated from DESIGN.md rather than measured: every authenticated request does a
# rate-limit INCR+EXPIRE (2 Redis ops, pipelined but counted) and an access-token revocation
# check (1 op); verifications add a replay-set SET NX and a deny-list check; every read of
# someone else's data writes an access record (1 DB write). Re-estimate once the services exist.
DEFAULT_COST = Cost(redis_ops=3, db_reads=1, db_writes=0)
ENDPOINT_COSTS: dict[str, Cost] = {
    "GET /v1/codes/suishen": Cost(4, 1, 0),  # + deny-list; holder lookup (cacheable)
    "GET /v1/inbox/unread-count": Cost(3, 1, 0),
    "POST /v1/auth/refresh": Cost(2, 1, 2),  # rotate: mark old used, insert new
    "GET /v1/me": Cost(3, 1, 0),
    "GET /v1/inbox": Cost(3, 1, 0),
    "GET /v1/policies/for-me": Cost(3, 2, 0),  # person attributes + matching policies
    "POST /v1/checkins": Cost(4, 1, 1),
    "GET /v1/licences": Cost(3, 1, 0),
    "POST /v1/licences/{id}/presentations": Cost(4, 1, 1),
    "POST /v1/auth/otp": Cost(4, 0, 0),  # per-phone and per-IP limits, store the code
    "POST /v1/auth/login": Cost(3, 1, 2),  # session + refresh token
    "POST /v1/verify": Cost(5, 2, 1),  # staff + holder; access record
    "POST /v1/presentations/verify": Cost(4, 1, 1),  # once-only; access record
    "POST /v1/mp/{appid}/login-code": Cost(4, 1, 0),  # consent check; code in Redis
    "GET /sns/jscode2session": Cost(3, 2, 1),  # app secret, openid; access record
    "PUT /v1/issuer/licences/{type}/{number}": Cost(2, 1, 1),
    "POST /v1/issuer/token": Cost(2, 1, 0),
    "POST /v1/admin/policies/{id}/campaigns": Cost(4, 1, 1),  # fan-out runs in workers
    "GET /v1/admin/campaigns/{id}": Cost(2, 1, 0),
}


@dataclass(frozen=True)
class Budgets:
    """Per-node budgets and the utilisation target. ASSUMPTIONS, not measured here:

    - redis_node_ops 50,000/s: redis-benchmark on 2010-era Xeons gave ~80-110 k GET/SET per
      second without pipelining (Redis 2.2 docs/Benchmarks); half of that leaves headroom for
      Lua scripts, persistence and slower commands.
    - pg_primary_writes 5,000/s and pg_replica_reads 20,000/s: a published pgbench run on an
      8-vCPU m5.2xlarge gave ~174 k select-only and ~24 k TPC-B-like tps (gist NikolayS/
      e6bc0132d749e29efcb8ee10d059748d); our statements carry more indexes and payload, so we
      budget about one fifth (writes) and one eighth (reads) of those.
    """

    target_utilisation: float = 0.6
    redis_node_ops: float = 50_000.0
    pg_primary_writes: float = 5_000.0
    pg_replica_reads: float = 20_000.0
    pg_min_replicas: int = 1


@dataclass(frozen=True)
class StoreLoad:
    requests_per_s: float
    redis_ops_per_s: float
    db_reads_per_s: float
    db_writes_per_s: float

    def per_request(self, attr: str) -> float:
        return getattr(self, attr) / self.requests_per_s if self.requests_per_s else 0.0


def store_load(loads: Sequence[traffic.EndpointLoad], peak: str = "second",
               costs: dict[str, Cost] | None = None) -> StoreLoad:
    """Redis ops and DB reads/writes per second at the modelled peak, endpoint by endpoint."""
    costs = ENDPOINT_COSTS if costs is None else costs
    req = redis = reads = writes = 0.0
    for x in loads:
        rps = x.peak_second_rps if peak == "second" else x.peak_hour_rps
        c = costs.get(x.endpoint, DEFAULT_COST)
        req += rps
        redis += rps * c.redis_ops
        reads += rps * c.db_reads
        writes += rps * c.db_writes
    return StoreLoad(req, redis, reads, writes)


@dataclass(frozen=True)
class Plan:
    """Every number of the capacity arithmetic, so the report can show its working."""

    peak_rps: float
    per_instance_rps: float | None
    instances: int | None
    redis_ops_per_request: float
    redis_ops_per_s: float
    redis_nodes: int
    db_writes_per_request: float
    db_reads_per_request: float
    db_writes_per_s: float
    db_reads_per_s: float
    pg_primaries: int
    pg_replicas: int
    budgets: Budgets = field(default_factory=Budgets)

    @property
    def pg_nodes(self) -> int:
        return self.pg_primaries + self.pg_replicas


def plan(peak_rps: float, per_instance_rps: float | None, store: StoreLoad,
         budgets: Budgets = Budgets(), redis_ops_per_request: float | None = None,
         db_reads_per_request: float | None = None,
         db_writes_per_request: float | None = None) -> Plan:
    """The capacity arithmetic. Per-request store costs default to the model-weighted
    estimates in ``store``; explicit values override them."""
    redis_per = (store.per_request("redis_ops_per_s") if redis_ops_per_request is None
                 else redis_ops_per_request)
    reads_per = (store.per_request("db_reads_per_s") if db_reads_per_request is None
                 else db_reads_per_request)
    writes_per = (store.per_request("db_writes_per_s") if db_writes_per_request is None
                  else db_writes_per_request)
    redis_ops = redis_per * peak_rps
    reads, writes = reads_per * peak_rps, writes_per * peak_rps
    return Plan(
        peak_rps=peak_rps,
        per_instance_rps=per_instance_rps,
        instances=(instances_needed(peak_rps, per_instance_rps, budgets.target_utilisation)
                   if per_instance_rps else None),
        redis_ops_per_request=redis_per, redis_ops_per_s=redis_ops,
        redis_nodes=max(1, _ceil(redis_ops / budgets.redis_node_ops)),
        db_writes_per_request=writes_per, db_reads_per_request=reads_per,
        db_writes_per_s=writes, db_reads_per_s=reads,
        pg_primaries=max(1, _ceil(writes / budgets.pg_primary_writes)),
        pg_replicas=max(budgets.pg_min_replicas, _ceil(reads / budgets.pg_replica_reads)),
        budgets=budgets,
    )
