"""The Markdown capacity report: what was measured, what the model assumes, and the arithmetic
between them, each number labelled **measured** or **assumption**."""

from __future__ import annotations

import datetime as _dt
import os
import platform
from collections.abc import Sequence

from loadtests import model as traffic
from loadtests.sizing import Plan
from loadtests.throughput import Run, fmt_ms, fmt_num, scaling_efficiency


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
        f"- Whole-run average: {fmt_num(agg.rps)} requests/s, median {fmt_ms(agg.median_ms)}, "
        f"p95 {fmt_ms(agg.p95_ms)}, p99 {fmt_ms(agg.p99_ms)}",
        f"- **Throughput at p95 <= {p95_target_ms:g} ms: {fmt_num(run.throughput_rps)} requests/s** "
        f"({run.method})",
    ]
    if run.sustained is not None:
        out.append(f"  - at {run.sustained.users:,} simulated users, from "
                   f"{run.sustained.start_s:.0f} s "
                   f"into the run, worst p95 in the window {fmt_ms(run.sustained.p95_ms)}")
    if run.throughput_rps is not None:
        out.append(f"- Per instance: {fmt_num(run.throughput_rps)} / {run.instances} = "
                   f"**{fmt_num(run.per_instance_rps)} requests/s**")
    if fail_pct >= 1.0:
        out.append(f"- Warning: {fail_pct:.1f} % of requests failed; failed requests are cheap "
                   "and flatter the throughput.")
    if run.history is not None and run.history.points and not run.history.current_percentiles:
        out.append("- Caveat: the history has only Aggregated rows, so Locust wrote the p95 since "
                   "the start of the run, which lags behind the load; rerun with "
                   "`--csv-full-history` for a window p95. The figure above is optimistic.")
    return out + [""] + _endpoint_table(run, model_loads) + [""]


def _endpoint_table(run: Run, model_loads: dict[str, traffic.EndpointLoad]) -> list[str]:
    out = ["| endpoint | requests | failures | requests/s | median | p95 "
           "| model peak-second rps |",
           "|---|---:|---:|---:|---:|---:|---:|"]
    for row in sorted(run.stats.rows, key=lambda r: -r.requests):
        m = model_loads.get(row.endpoint)
        out.append(f"| `{row.endpoint}` | {row.requests:,} | {row.failures:,} | {fmt_num(row.rps)} | "
                   f"{fmt_ms(row.median_ms)} | {fmt_ms(row.p95_ms)} | "
                   f"{fmt_num(m.peak_second_rps) if m else '(not in model)'} |")
    return out


def _header(machine: str) -> list[str]:
    return [
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


def _scaling_section(first: Run, second: Run) -> list[str]:
    eff = scaling_efficiency(first, second)
    lines = [
        "### Scaling: " + f"{first.instances} vs {second.instances} instances",
        "",
        "| run | instances | throughput at target (req/s) | per instance (req/s) |",
        "|---|---:|---:|---:|",
    ]
    for run in (first, second):
        lines.append(f"| {run.label} | {run.instances} | {fmt_num(run.throughput_rps)} | "
                     f"{fmt_num(run.per_instance_rps)} |")
    lines.append("")
    if eff is None:
        lines.append("Scaling efficiency: not computable (a run did not meet the target).")
    else:
        lines.append(
            f"Scaling efficiency = ({fmt_num(second.throughput_rps)} / {fmt_num(first.throughput_rps)}) "
            f"/ ({second.instances} / {first.instances}) = **{eff:.0%}** (100 % = linear). "
            "On a small machine shared with Locust a second instance competes for the same "
            "cores, so this understates what separate servers would give.")
    return lines + [""]


def _model_section(model: traffic.TrafficModel, capacity: Plan, peak: str, peak_overridden: bool) -> list[str]:
    tot = traffic.total(traffic.derive(model))
    peak_label = "peak second" if peak == "second" else "peak hour"
    return [
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
    ]


def _instances_section(capacity: Plan, runs: Sequence[Run], per_instance_overridden: bool) -> list[str]:
    lines = ["## Arithmetic", "", "### API instances", ""]
    if capacity.per_instance_rps is None or capacity.instances is None:
        return lines + ["Not computable: no run met the p95 target, so there is no measured "
                        "per-instance throughput at the target. Lower the load steps or fix the "
                        "slow endpoints, or pass `--per-instance-rps` for a what-if."]
    b = capacity.budgets
    src = ("given on the command line (`--per-instance-rps`), not measured"
           if per_instance_overridden else f"measured, {runs[0].label}")
    denom = capacity.per_instance_rps * b.target_utilisation
    return lines + [
        f"per-instance throughput at target = {fmt_num(capacity.per_instance_rps)} requests/s "
        f"({src}); target utilisation = {b.target_utilisation:g} (assumption: headroom for "
        "failover and uneven balancing)",
        "",
        "instances = ceil(peak / (per-instance x utilisation)) = "
        f"ceil({capacity.peak_rps:,.1f} "
        f"/ ({fmt_num(capacity.per_instance_rps)} x {b.target_utilisation:g})) = "
        f"ceil({capacity.peak_rps / denom:,.2f}) = **{capacity.instances} instances**",
    ]


def _redis_section(capacity: Plan, src) -> list[str]:
    b = capacity.budgets
    return [
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
    ]


def _postgres_section(capacity: Plan, src) -> list[str]:
    b = capacity.budgets
    return [
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
    ]


def _summary(capacity: Plan) -> list[str]:
    return [
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


def build_report(runs: Sequence[Run], model: traffic.TrafficModel, capacity: Plan,
                 p95_target_ms: float, peak: str, peak_overridden: bool,
                 per_instance_overridden: bool, machine: str,
                 overridden: Sequence[str] = (), plot_path: str | None = None) -> str:
    """The Markdown capacity report."""
    by_endpoint = {x.endpoint: x for x in traffic.derive(model)}

    def src(option: str) -> str:
        return ("given on the command line" if option in overridden
                else "model-weighted per-endpoint estimate, see `ENDPOINT_COSTS`")

    lines = _header(machine)
    for run in runs:
        lines += _run_section(run, p95_target_ms, by_endpoint)
    if len(runs) >= 2:
        lines += _scaling_section(runs[0], runs[1])
    lines += _model_section(model, capacity, peak, peak_overridden)
    lines += _instances_section(capacity, runs, per_instance_overridden)
    lines += _redis_section(capacity, src) + _postgres_section(capacity, src)
    lines += _summary(capacity)
    if plot_path:
        lines += ["", f"![throughput and p95 over time]({os.path.basename(plot_path)})"]
    return "\n".join(lines) + "\n"
