"""Measured throughput: the highest load a run sustained while meeting the latency target, per
run and per instance, and how well a second instance scaled it."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from loadtests.locust_csv import History, HistoryPoint, StatsFile


def fmt_ms(x: float | None) -> str:
    return "n/a" if x is None else f"{x:,.0f} ms"


def fmt_num(x: float | None, digits: int = 1) -> str:
    return "n/a" if x is None else f"{x:,.{digits}f}"


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
        run.method = (f"whole-run p95 {fmt_ms(agg.p95_ms)} exceeds the {p95_target_ms:g} ms target; "
                      "no throughput at target")
    return run


def scaling_efficiency(first: Run, second: Run) -> float | None:
    """Throughput gained per instance added, 1.0 = linear: (r2 / r1) / (n2 / n1)."""
    if not first.throughput_rps or not second.throughput_rps:
        return None
    return (second.throughput_rps / first.throughput_rps) / (second.instances / first.instances)
