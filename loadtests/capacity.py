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

This module is the command line; the work is in ``locust_csv`` (reading), ``throughput``
(measured throughput at the target), ``sizing`` (the arithmetic), ``report`` (Markdown) and
``plot`` (the PNG).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from loadtests import model as traffic
from loadtests.locust_csv import read_history, read_stats
from loadtests.plot import plot_runs
from loadtests.report import build_report, describe_machine
from loadtests.sizing import Budgets, Plan, plan, store_load
from loadtests.throughput import Run, fmt_num, measure


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


def _budgets(args: argparse.Namespace) -> Budgets:
    budgets = Budgets(target_utilisation=args.target_utilisation,
                      redis_node_ops=args.redis_node_ops,
                      pg_primary_writes=args.pg_primary_writes,
                      pg_replica_reads=args.pg_replica_reads,
                      pg_min_replicas=args.pg_min_replicas)
    if not 0 < budgets.target_utilisation <= 1:
        raise ValueError("--target-utilisation must be in (0, 1]")
    if min(budgets.redis_node_ops, budgets.pg_primary_writes, budgets.pg_replica_reads) <= 0:
        raise ValueError("per-node budgets must be > 0")
    return budgets


def _runs(args: argparse.Namespace) -> list[Run]:
    if args.instances < 1 or args.second_instances < 1:
        raise ValueError("instance counts must be >= 1")
    runs = [Run("run 1", args.instances, read_stats(args.stats),
                read_history(args.stats_history) if args.stats_history else None)]
    if args.second_run:
        runs.append(Run("run 2", args.second_instances, read_stats(args.second_run),
                        read_history(args.second_stats_history)
                        if args.second_stats_history else None))
    return runs


def _size(args: argparse.Namespace, model: traffic.TrafficModel, budgets: Budgets, runs: list[Run]) -> Plan:
    """Measure each run at the target, then size for the (modelled or given) peak."""
    # Compare like with like: use the history for both runs only if both have one.
    use_history = all(r.history is not None and r.history.points for r in runs)
    for run in runs:
        measure(run, args.p95_target_ms, args.sustain_seconds, use_history=use_history,
                max_failure_ratio=args.max_failure_ratio)
    store = store_load(traffic.derive(model), peak=args.peak)
    peak_rps = args.peak_rps if args.peak_rps is not None else store.requests_per_s
    per_instance = (args.per_instance_rps if args.per_instance_rps is not None
                    else runs[0].per_instance_rps)
    return plan(peak_rps, per_instance, store, budgets,
                redis_ops_per_request=args.redis_ops_per_request,
                db_reads_per_request=args.db_reads_per_request,
                db_writes_per_request=args.db_writes_per_request)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        model = traffic.model_from_args(args)
        budgets = _budgets(args)
        runs = _runs(args)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    capacity = _size(args, model, budgets, runs)
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
    print(f"wrote {out}" + (f" and {plot_path}" if plot_path else "") +
          f": peak {capacity.peak_rps:,.1f} req/s, per instance {fmt_num(capacity.per_instance_rps)} req/s, "
          f"instances {capacity.instances if capacity.instances is not None else 'n/a'}, "
          f"Redis nodes {capacity.redis_nodes}, PostgreSQL "
          f"{capacity.pg_primaries}+{capacity.pg_replicas}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
