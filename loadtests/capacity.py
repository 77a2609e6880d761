"""Capacity report: Locust measurements + the traffic model -> how many machines, with the sums.

Why: a load test on one laptop-sized box says little by itself. What a capacity plan needs is
(a) the throughput one API instance sustains while meeting the latency target, measured, and
(b) the peak the city will send, modelled; then the division, shown, so that anyone can redo it
with their own numbers. The report keeps measured numbers and assumptions visibly apart.

Usage::

    python -m loadtests.capacity --stats run1_stats.csv --stats-history run1_stats_history.csv \
        [--instances 1] [--p95-target-ms 200] \
        [--second-run run2_stats.csv --second-stats-history run2_stats_history.csv \
         --second-instances 2] --out docs/capacity.md --plot docs/capacity.png

Run Locust with ``--csv PREFIX --csv-full-history``: without ``--csv-full-history`` Locust
writes the *cumulative* p95 (since the start of the run) into the history file, which lags
behind the current load; the report says which kind it read.
"""

from __future__ import annotations

import argparse
import csv
import datetime as _dt
import math
import os
import platform
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from loadtests import model as traffic

# ---------------------------------------------------------------------------------------------
# Reading Locust's CSV files
# ---------------------------------------------------------------------------------------------


def _num(value: str | None) -> float | None:
    """Locust writes "N/A" for percentiles of an entry with no requests yet."""
    if value is None:
        return None
    value = value.strip()
    if not value or value.upper() == "N/A":
        return None
    try:
        return float(value)
    except ValueError:
        return None


@dataclass(frozen=True)
class StatsRow:
    """One row of ``PREFIX_stats.csv`` (an endpoint, or the "Aggregated" total)."""

    method: str
    name: str
    requests: int
    failures: int
    rps: float
    median_ms: float | None
    p95_ms: float | None
    p99_ms: float | None

    @property
    def endpoint(self) -> str:
        return f"{self.method} {self.name}".strip()


@dataclass(frozen=True)
class StatsFile:
    rows: list[StatsRow]
    aggregated: StatsRow


def read_stats(path: str | os.PathLike[str]) -> StatsFile:
    """Parse ``PREFIX_stats.csv``; the "Aggregated" row is the whole-run total."""
    rows: list[StatsRow] = []
    aggregated: StatsRow | None = None
    with open(path, newline="", encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            row = StatsRow(
                method=(rec.get("Type") or "").strip(),
                name=(rec.get("Name") or "").strip(),
                requests=int(_num(rec.get("Request Count")) or 0),
                failures=int(_num(rec.get("Failure Count")) or 0),
                rps=_num(rec.get("Requests/s")) or 0.0,
                median_ms=_num(rec.get("50%")) or _num(rec.get("Median Response Time")),
                p95_ms=_num(rec.get("95%")),
                p99_ms=_num(rec.get("99%")),
            )
            if row.name == "Aggregated":
                aggregated = row
            else:
                rows.append(row)
    if aggregated is None:
        raise ValueError(f"{path}: no 'Aggregated' row; is this a Locust *_stats.csv file?")
    return StatsFile(rows=rows, aggregated=aggregated)


@dataclass(frozen=True)
class HistoryPoint:
    """One Aggregated sample of ``PREFIX_stats_history.csv``."""

    timestamp: float
    users: int
    rps: float
    failures_per_s: float
    p95_ms: float | None


@dataclass(frozen=True)
class History:
    points: list[HistoryPoint]
    # True when the file has per-endpoint rows, i.e. Locust ran with --csv-full-history, in
    # which case the percentiles are over the recent window rather than since the start.
    current_percentiles: bool


def read_history(path: str | os.PathLike[str]) -> History:
    """Parse ``PREFIX_stats_history.csv``, keeping the Aggregated samples in time order."""
    points: list[HistoryPoint] = []
    per_endpoint_rows = False
    with open(path, newline="", encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            if (rec.get("Name") or "").strip() != "Aggregated":
                per_endpoint_rows = True
                continue
            points.append(HistoryPoint(
                timestamp=_num(rec.get("Timestamp")) or 0.0,
                users=int(_num(rec.get("User Count")) or 0),
                rps=_num(rec.get("Requests/s")) or 0.0,
                failures_per_s=_num(rec.get("Failures/s")) or 0.0,
                p95_ms=_num(rec.get("95%")),
            ))
    points.sort(key=lambda p: p.timestamp)
    return History(points=points, current_percentiles=per_endpoint_rows)


# ---------------------------------------------------------------------------------------------
# Measured throughput
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sustained:
    """Throughput held over a window in which every sample met the p95 target."""

    rps: float  # the lowest throughput inside the window: what was *sustained*
    p95_ms: float  # the worst p95 inside the window
    users: int
    start_s: float  # seconds since the first sample
    samples: int


def sustained_throughput(points: Sequence[HistoryPoint], p95_target_ms: float,
                         sustain_seconds: float = 10.0,
                         max_failure_ratio: float = 0.01) -> Sustained | None:
    """Highest aggregated throughput whose p95 stays at or under the target for a whole window.

    A single fast sample proves nothing; requiring every sample of a ``sustain_seconds`` window
    to meet the target, and taking the window's minimum throughput, avoids crediting spikes.
    Samples failing more than ``max_failure_ratio`` of requests do not count: fast errors are
    not capacity.
    """
    pts = [p for p in points if p.rps > 0]
    if not pts:
        return None
    gaps = [b.timestamp - a.timestamp for a, b in zip(pts, pts[1:]) if b.timestamp > a.timestamp]
    interval = statistics.median(gaps) if gaps else 1.0
    n = max(1, min(len(pts), round(sustain_seconds / interval) if interval > 0 else 1))
    t0 = points[0].timestamp
    best: Sustained | None = None
    for i in range(len(pts) - n + 1):
        window = pts[i:i + n]
        if any(p.p95_ms is None or p.p95_ms > p95_target_ms
               or p.failures_per_s > max_failure_ratio * p.rps for p in window):
            continue
        rps = min(p.rps for p in window)
        if best is None or rps > best.rps:
            best = Sustained(rps=rps, p95_ms=max(p.p95_ms or 0.0 for p in window),
                             users=window[-1].users, start_s=window[0].timestamp - t0, samples=n)
    return best


@dataclass
class Run:
    """One load-test run against ``instances`` API instances."""

    label: str
    instances: int
    stats: StatsFile
    history: History | None = None
    throughput_rps: float | None = None  # at the target, all instances together
    method: str = ""
    sustained: Sustained | None = None

    @property
    def per_instance_rps(self) -> float | None:
        return None if self.throughput_rps is None else self.throughput_rps / self.instances


def measure(run: Run, p95_target_ms: float, sustain_seconds: float,
            use_history: bool = True, max_failure_ratio: float = 0.01) -> Run:
    """Fill in the run's throughput at the target: from the history if there is one, else from
    the whole-run average (only if the whole run met the target)."""
    if use_history and run.history is not None and run.history.points:
        run.sustained = sustained_throughput(run.history.points, p95_target_ms, sustain_seconds,
                                             max_failure_ratio)
        kind = "current" if run.history.current_percentiles else "cumulative (since start)"
        if run.sustained is not None:
            run.throughput_rps = run.sustained.rps
            run.method = (f"highest throughput sustained for {run.sustained.samples} consecutive "
                          f"history samples with {kind} p95 <= {p95_target_ms:g} ms and "
                          f"failures <= {max_failure_ratio:.0%}")
        else:
            run.method = (f"no history window met p95 <= {p95_target_ms:g} ms ({kind} p95) "
                          f"with failures <= {max_failure_ratio:.0%}")
        return run
    agg = run.stats.aggregated
    if agg.requests and agg.failures > max_failure_ratio * agg.requests:
        run.method = (f"whole run failed {agg.failures / agg.requests:.1%} of requests, over the "
                      f"{max_failure_ratio:.0%} allowed; no throughput at target")
    elif agg.p95_ms is not None and agg.p95_ms <= p95_target_ms:
        run.throughput_rps = agg.rps
        run.method = f"whole-run average (its p95 {agg.p95_ms:g} ms <= {p95_target_ms:g} ms)"
    else:
        run.method = (f"whole-run p95 {_ms(agg.p95_ms)} exceeds the {p95_target_ms:g} ms target; "
                      "no throughput at target")
    return run


# ---------------------------------------------------------------------------------------------
# Capacity arithmetic
# ---------------------------------------------------------------------------------------------


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


def scaling_efficiency(first: Run, second: Run) -> float | None:
    """Throughput gained per instance added, 1.0 = linear: (r2 / r1) / (n2 / n1)."""
    if not first.throughput_rps or not second.throughput_rps:
        return None
    return (second.throughput_rps / first.throughput_rps) / (second.instances / first.instances)


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------


def _ms(x: float | None) -> str:
    return "n/a" if x is None else f"{x:,.0f} ms"


def _r(x: float | None, digits: int = 1) -> str:
    return "n/a" if x is None else f"{x:,.{digits}f}"


def describe_machine() -> str:
    cores = os.cpu_count() or 0
    return (f"{cores} CPU core{'s' if cores != 1 else ''}, {platform.system()} "
            f"{platform.machine()}, Python {platform.python_version()} "
            "(the machine that generated this report)")


def _run_section(run: Run, p95_target_ms: float, model_loads: dict[str, traffic.EndpointLoad]
                 ) -> list[str]:
    agg = run.stats.aggregated
    fail_pct = 100.0 * agg.failures / agg.requests if agg.requests else 0.0
    out = [
        f"### {run.label}: {run.instances} API instance{'s' if run.instances != 1 else ''}",
        "",
        f"- Requests: {agg.requests:,}, failures: {agg.failures:,} ({fail_pct:.2f} %)",
        f"- Whole-run average: {_r(agg.rps)} requests/s, median {_ms(agg.median_ms)}, "
        f"p95 {_ms(agg.p95_ms)}, p99 {_ms(agg.p99_ms)}",
        f"- **Throughput at p95 <= {p95_target_ms:g} ms: {_r(run.throughput_rps)} requests/s** "
        f"({run.method})",
    ]
    if run.sustained is not None:
        out.append(f"  - at {run.sustained.users:,} simulated users, from "
                   f"{run.sustained.start_s:.0f} s "
                   f"into the run, worst p95 in the window {_ms(run.sustained.p95_ms)}")
    if run.throughput_rps is not None:
        out.append(f"- Per instance: {_r(run.throughput_rps)} / {run.instances} = "
                   f"**{_r(run.per_instance_rps)} requests/s**")
    if fail_pct >= 1.0:
        out.append(f"- Warning: {fail_pct:.1f} % of requests failed; failed requests are cheap "
                   "and flatter the throughput.")
    if run.history is not None and run.history.points and not run.history.current_percentiles:
        out.append("- Caveat: the history has only Aggregated rows, so Locust wrote the p95 since "
                   "the start of the run, which lags behind the load; rerun with "
                   "`--csv-full-history` for a window p95. The figure above is optimistic.")
    out += ["", "| endpoint | requests | failures | requests/s | median | p95 "
            "| model peak-second rps |",
            "|---|---:|---:|---:|---:|---:|---:|"]
    for row in sorted(run.stats.rows, key=lambda r: -r.requests):
        m = model_loads.get(row.endpoint)
        out.append(f"| `{row.endpoint}` | {row.requests:,} | {row.failures:,} | {_r(row.rps)} | "
                   f"{_ms(row.median_ms)} | {_ms(row.p95_ms)} | "
                   f"{_r(m.peak_second_rps) if m else '(not in model)'} |")
    return out + [""]


def build_report(runs: Sequence[Run], model: traffic.TrafficModel, capacity: Plan,
                 p95_target_ms: float, peak: str, peak_overridden: bool,
                 per_instance_overridden: bool, machine: str,
                 overridden: Sequence[str] = (), plot_path: str | None = None) -> str:
    """The Markdown capacity report."""
    loads = traffic.derive(model)
    by_endpoint = {x.endpoint: x for x in loads}
    tot = traffic.total(loads)
    b = capacity.budgets
    lines = [
        "# Capacity report",
        "",
        f"Generated {_dt.datetime.now().strftime('%Y-%m-%d %H:%M')} by "
        "`python -m loadtests.capacity`. Numbers are labelled **measured** (Locust, on this "
        "machine) or **assumption** (model defaults and per-node budgets; sources in "
        "`loadtests/README.md`). Change an assumption on the command line and rerun.",
        "",
        "## Measured on this machine",
        "",
        f"Machine: {machine}. If Locust ran on the same machine as the API, the API did not have "
        "all of its cores: per-instance throughput here is then a lower bound for a dedicated "
        "server. Absolute numbers from a small shared machine do not transfer to production "
        "hardware; rerun this report there.",
        "",
    ]
    for run in runs:
        lines += _run_section(run, p95_target_ms, by_endpoint)

    if len(runs) >= 2:
        first, second = runs[0], runs[1]
        eff = scaling_efficiency(first, second)
        lines += [
            "### Scaling: " + f"{first.instances} vs {second.instances} instances",
            "",
            "| run | instances | throughput at target (req/s) | per instance (req/s) |",
            "|---|---:|---:|---:|",
        ]
        for run in (first, second):
            lines.append(f"| {run.label} | {run.instances} | {_r(run.throughput_rps)} | "
                         f"{_r(run.per_instance_rps)} |")
        lines.append("")
        if eff is None:
            lines.append("Scaling efficiency: not computable (a run did not meet the target).")
        else:
            lines.append(
                f"Scaling efficiency = ({_r(second.throughput_rps)} / {_r(first.throughput_rps)}) "
                f"/ ({second.instances} / {first.instances}) = **{eff:.0%}** (100 % = linear). "
                "On a small machine shared with Locust a second instance competes for the same "
                "cores, so this understates what separate servers would give.")
        lines.append("")

    peak_label = "peak second" if peak == "second" else "peak hour"
    lines += [
        "## Modelled peak (assumptions)",
        "",
        f"From `loadtests/model.py`: MAU {model.mau:,} x DAU ratio {model.dau_ratio:g} = "
        f"{model.dau:,.0f} daily users; {tot.daily:,.0f} requests a day; peak hour "
        f"({model.peak_hour_share:.0%} of the day) {tot.peak_hour_rps:,.1f} requests/s; peak "
        f"second ({model.peak_second_factor:g}x) {tot.peak_second_rps:,.1f} requests/s.",
        "",
        (f"Sizing uses **{capacity.peak_rps:,.1f} requests/s**, given on the command line "
         "(`--peak-rps`), not from the model." if peak_overridden else
         f"Sizing uses the {peak_label}: **{capacity.peak_rps:,.1f} requests/s**."),
        "",
        "<details><summary>Modelled load per endpoint</summary>",
        "",
        traffic.format_table(model, markdown=True).rstrip(),
        "",
        "</details>",
        "",
        "## Arithmetic",
        "",
        "### API instances",
        "",
    ]
    if capacity.per_instance_rps is None or capacity.instances is None:
        lines.append("Not computable: no run met the p95 target, so there is no measured "
                     "per-instance throughput at the target. Lower the load steps or fix the "
                     "slow endpoints, or pass `--per-instance-rps` for a what-if.")
    else:
        src = ("given on the command line (`--per-instance-rps`), not measured"
               if per_instance_overridden else f"measured, {runs[0].label}")
        denom = capacity.per_instance_rps * b.target_utilisation
        lines += [
            f"per-instance throughput at target = {_r(capacity.per_instance_rps)} requests/s "
            f"({src}); target utilisation = {b.target_utilisation:g} (assumption: headroom for "
            "failover and uneven balancing)",
            "",
            "instances = ceil(peak / (per-instance x utilisation)) = "
            f"ceil({capacity.peak_rps:,.1f} "
            f"/ ({_r(capacity.per_instance_rps)} x {b.target_utilisation:g})) = "
            f"ceil({capacity.peak_rps / denom:,.2f}) = **{capacity.instances} instances**",
        ]
    def src(option: str) -> str:
        return ("given on the command line" if option in overridden
                else "model-weighted per-endpoint estimate, see `ENDPOINT_COSTS`")

    lines += [
        "",
        "### Redis",
        "",
        f"ops per request = {capacity.redis_ops_per_request:.3f} (assumption: "
        f"{src('redis_ops_per_request')}); per-node budget = "
        f"{b.redis_node_ops:,.0f} ops/s (assumption)",
        "",
        f"Redis ops/s = {capacity.redis_ops_per_request:.3f} x {capacity.peak_rps:,.1f} = "
        f"{capacity.redis_ops_per_s:,.0f}; nodes = ceil({capacity.redis_ops_per_s:,.0f} / "
        f"{b.redis_node_ops:,.0f}) = **{capacity.redis_nodes} primary node"
        f"{'s' if capacity.redis_nodes != 1 else ''}** (Redis Cluster shards; add one replica "
        "each for failover)",
        "",
        "### PostgreSQL",
        "",
        f"writes per request = {capacity.db_writes_per_request:.3f} (assumption: "
        f"{src('db_writes_per_request')}), reads per request = "
        f"{capacity.db_reads_per_request:.3f} (assumption: {src('db_reads_per_request')}); "
        "budgets: "
        f"primary {b.pg_primary_writes:,.0f} writes/s, replica {b.pg_replica_reads:,.0f} reads/s "
        "(assumptions)",
        "",
        f"writes/s = {capacity.db_writes_per_request:.3f} x {capacity.peak_rps:,.1f} = "
        f"{capacity.db_writes_per_s:,.0f}; primaries = ceil({capacity.db_writes_per_s:,.0f} / "
        f"{b.pg_primary_writes:,.0f}) = **{capacity.pg_primaries}**"
        + (" (more than one primary means partitioning the data, e.g. by holder)"
           if capacity.pg_primaries > 1 else ""),
        "",
        f"reads/s = {capacity.db_reads_per_request:.3f} x {capacity.peak_rps:,.1f} = "
        f"{capacity.db_reads_per_s:,.0f}; replicas = max({b.pg_min_replicas}, "
        f"ceil({capacity.db_reads_per_s:,.0f} / {b.pg_replica_reads:,.0f})) = "
        f"**{capacity.pg_replicas}**",
        "",
        f"PostgreSQL nodes = {capacity.pg_primaries} primary + {capacity.pg_replicas} "
        f"replica{'s' if capacity.pg_replicas != 1 else ''} = "
        f"**{capacity.pg_nodes}**",
        "",
        "## Summary",
        "",
        "| component | number | basis |",
        "|---|---:|---|",
        f"| API instances | {capacity.instances if capacity.instances is not None else 'n/a'} | "
        "measured per-instance throughput, modelled peak |",
        f"| Redis primary nodes | {capacity.redis_nodes} | estimated ops, assumed budget |",
        f"| PostgreSQL primary + replicas | {capacity.pg_primaries} + {capacity.pg_replicas} | "
        "estimated reads/writes, assumed budgets |",
        "",
        "Not covered: campaign fan-out and push delivery run in Dramatiq workers outside the "
        "request path. Redis and PostgreSQL load are estimated per endpoint, not measured by "
        "this report; the API throughput is measured against whatever stores the run used.",
    ]
    if plot_path:
        lines += ["", f"![throughput and p95 over time]({os.path.basename(plot_path)})"]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# Plot
# ---------------------------------------------------------------------------------------------


def plot_runs(runs: Sequence[Run], p95_target_ms: float, path: str | os.PathLike[str]) -> None:
    """PNG of throughput and p95 over time with the target line (per-endpoint bars when no run
    has a history file)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with_history = [r for r in runs if r.history is not None and r.history.points]
    if with_history:
        fig, (ax_rps, ax_p95) = plt.subplots(2, 1, sharex=True, figsize=(9, 6.5))
        ax_users = ax_rps.twinx()
        for run in with_history:
            pts = run.history.points  # type: ignore[union-attr]
            t0 = pts[0].timestamp
            xs = [p.timestamp - t0 for p in pts]
            label = f"{run.label} ({run.instances} inst.)"
            line, = ax_rps.plot(xs, [p.rps for p in pts], label=f"{label} requests/s")
            ax_users.plot(xs, [p.users for p in pts], linestyle=":", color=line.get_color(),
                          alpha=0.6, label=f"{label} users")
            ax_p95.plot([x for x, p in zip(xs, pts) if p.p95_ms is not None],
                        [p.p95_ms for p in pts if p.p95_ms is not None],
                        color=line.get_color(), label=f"{label} p95")
            if run.sustained is not None:
                ax_rps.axhline(run.sustained.rps, color=line.get_color(), linestyle="--",
                               linewidth=0.8)
        ax_rps.set_ylabel("requests/s (measured)")
        ax_users.set_ylabel("simulated users")
        ax_rps.set_title("Throughput (dashed: sustained at p95 target)")
        handles = ax_rps.get_legend_handles_labels()
        extra = ax_users.get_legend_handles_labels()
        ax_rps.legend(handles[0] + extra[0], handles[1] + extra[1], fontsize="small",
                      loc="upper left")
        ax_p95.axhline(p95_target_ms, color="red", linestyle="--",
                       label=f"target {p95_target_ms:g} ms")
        ax_p95.set_ylabel("p95 response time (ms)")
        ax_p95.set_xlabel("seconds since start")
        ax_p95.set_title("p95 latency")
        ax_p95.legend(fontsize="small", loc="best")
    else:
        rows = sorted(runs[0].stats.rows, key=lambda r: -r.requests)[:20]
        fig, ax = plt.subplots(figsize=(9, max(3.0, 0.35 * len(rows) + 1.5)))
        names = [r.endpoint for r in rows]
        ax.barh(names, [r.p95_ms or 0 for r in rows], color="tab:blue")
        ax.axvline(p95_target_ms, color="red", linestyle="--", label=f"target {p95_target_ms:g} ms")
        ax.set_xlabel("p95 response time (ms), whole run")
        ax.set_title(f"{runs[0].label}: p95 per endpoint (no history file given)")
        ax.invert_yaxis()
        ax.legend(fontsize="small")
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=100)
    plt.close(fig)


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m loadtests.capacity", allow_abbrev=False,
        description="Write a Markdown capacity report from Locust CSV output and the "
                    "traffic model.",
    )
    g = p.add_argument_group("measurements (Locust --csv output)")
    g.add_argument("--stats", required=True, help="PREFIX_stats.csv of the first run")
    g.add_argument("--stats-history", help="PREFIX_stats_history.csv of the first run")
    g.add_argument("--instances", type=int, default=1, help="API instances in the first run (1)")
    g.add_argument("--second-run", help="PREFIX2_stats.csv of a run with more instances")
    g.add_argument("--second-stats-history", help="PREFIX2_stats_history.csv of that run")
    g.add_argument("--second-instances", type=int, default=2, help="API instances in it (2)")
    g.add_argument("--p95-target-ms", type=float, default=200.0, help="latency target (200)")
    g.add_argument("--sustain-seconds", type=float, default=10.0,
                   help="window the target must hold for in the history (10)")
    g.add_argument("--max-failure-ratio", type=float, default=0.01,
                   help="samples failing more than this share do not count (0.01)")
    g.add_argument("--machine", default=None, help="describe the load-test machine")
    s = p.add_argument_group("sizing")
    s.add_argument("--peak", choices=("second", "hour"), default="second",
                   help="size for the modelled peak second (default) or peak-hour average")
    s.add_argument("--peak-rps", type=float, help="override the modelled peak requests/s")
    s.add_argument("--per-instance-rps", type=float,
                   help="override the measured per-instance throughput (what-if)")
    s.add_argument("--target-utilisation", type=float, default=Budgets.target_utilisation)
    s.add_argument("--redis-ops-per-request", type=float,
                   help="override the per-endpoint estimate")
    s.add_argument("--redis-node-ops", type=float, default=Budgets.redis_node_ops,
                   help="Redis ops/s budget per node")
    s.add_argument("--db-reads-per-request", type=float, help="override the estimate")
    s.add_argument("--db-writes-per-request", type=float, help="override the estimate")
    s.add_argument("--pg-primary-writes", type=float, default=Budgets.pg_primary_writes,
                   help="PostgreSQL writes/s budget per primary")
    s.add_argument("--pg-replica-reads", type=float, default=Budgets.pg_replica_reads,
                   help="PostgreSQL reads/s budget per replica")
    s.add_argument("--pg-min-replicas", type=int, default=Budgets.pg_min_replicas)
    o = p.add_argument_group("output")
    o.add_argument("--out", default="docs/capacity.md", help="Markdown report path")
    o.add_argument("--plot", default="docs/capacity.png", help="PNG path ('' to skip)")
    m = p.add_argument_group("traffic model (see python -m loadtests.model --help)")
    traffic.add_model_arguments(m)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        model = traffic.model_from_args(args)
        budgets = Budgets(target_utilisation=args.target_utilisation,
                          redis_node_ops=args.redis_node_ops,
                          pg_primary_writes=args.pg_primary_writes,
                          pg_replica_reads=args.pg_replica_reads,
                          pg_min_replicas=args.pg_min_replicas)
        if not 0 < budgets.target_utilisation <= 1:
            raise ValueError("--target-utilisation must be in (0, 1]")
        if min(budgets.redis_node_ops, budgets.pg_primary_writes, budgets.pg_replica_reads) <= 0:
            raise ValueError("per-node budgets must be > 0")
        if args.instances < 1 or args.second_instances < 1:
            raise ValueError("instance counts must be >= 1")
        runs = [Run("run 1", args.instances, read_stats(args.stats),
                    read_history(args.stats_history) if args.stats_history else None)]
        if args.second_run:
            runs.append(Run("run 2", args.second_instances, read_stats(args.second_run),
                            read_history(args.second_stats_history)
                            if args.second_stats_history else None))
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    # Compare like with like: use the history for both runs only if both have one.
    use_history = all(r.history is not None and r.history.points for r in runs)
    for run in runs:
        measure(run, args.p95_target_ms, args.sustain_seconds, use_history=use_history,
                max_failure_ratio=args.max_failure_ratio)

    loads = traffic.derive(model)
    store = store_load(loads, peak=args.peak)
    modelled_peak = store.requests_per_s
    peak_rps = args.peak_rps if args.peak_rps is not None else modelled_peak
    per_instance = (args.per_instance_rps if args.per_instance_rps is not None
                    else runs[0].per_instance_rps)
    capacity = plan(peak_rps, per_instance, store, budgets,
                    redis_ops_per_request=args.redis_ops_per_request,
                    db_reads_per_request=args.db_reads_per_request,
                    db_writes_per_request=args.db_writes_per_request)

    plot_path = args.plot or None
    report = build_report(runs, model, capacity, args.p95_target_ms, args.peak,
                          peak_overridden=args.peak_rps is not None,
                          per_instance_overridden=args.per_instance_rps is not None,
                          machine=args.machine or describe_machine(),
                          overridden=[k for k in ("redis_ops_per_request", "db_reads_per_request",
                                                  "db_writes_per_request")
                                      if getattr(args, k) is not None],
                          plot_path=plot_path)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report, encoding="utf-8")
    if plot_path:
        plot_runs(runs, args.p95_target_ms, plot_path)
    summary = (f"wrote {out}" + (f" and {plot_path}" if plot_path else "") +
               f": peak {peak_rps:,.1f} req/s, per instance {_r(per_instance)} req/s, "
               f"instances {capacity.instances if capacity.instances is not None else 'n/a'}, "
               f"Redis nodes {capacity.redis_nodes}, PostgreSQL "
               f"{capacity.pg_primaries}+{capacity.pg_replicas}")
    print(summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
