"""The capacity report's picture: throughput and p95 over time against the target (per-endpoint
p95 bars when no run has a history file)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from loadtests.throughput import Run


def _plot_history(plt, runs: Sequence[Run], p95_target_ms: float):
    fig, (ax_rps, ax_p95) = plt.subplots(2, 1, sharex=True, figsize=(9, 6.5))
    ax_users = ax_rps.twinx()
    for run in runs:
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
    return fig


def _plot_endpoints(plt, run: Run, p95_target_ms: float):
    rows = sorted(run.stats.rows, key=lambda r: -r.requests)[:20]
    fig, ax = plt.subplots(figsize=(9, max(3.0, 0.35 * len(rows) + 1.5)))
    names = [r.endpoint for r in rows]
    ax.barh(names, [r.p95_ms or 0 for r in rows], color="tab:blue")
    ax.axvline(p95_target_ms, color="red", linestyle="--", label=f"target {p95_target_ms:g} ms")
    ax.set_xlabel("p95 response time (ms), whole run")
    ax.set_title(f"{run.label}: p95 per endpoint (no history file given)")
    ax.invert_yaxis()
    ax.legend(fontsize="small")
    return fig


def plot_runs(runs: Sequence[Run], p95_target_ms: float, path: str | os.PathLike[str]) -> None:
    """PNG of throughput and p95 over time with the target line (per-endpoint bars when no run
    has a history file)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with_history = [r for r in runs if r.history is not None and r.history.points]
    if with_history:
        fig = _plot_history(plt, with_history, p95_target_ms)
    else:
        fig = _plot_endpoints(plt, runs[0], p95_target_ms)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=100)
    plt.close(fig)
