"""CPU time of each part of a load-test deployment, from /proc, between two moments.

Why: on this machine Locust shares two cores with the API, PostgreSQL and Redis, so the
throughput at which p95 crosses the target says as much about Locust as about us. The CPU the
API processes spent per request does not: it is what a dedicated instance would spend, so
`cores / (CPU per request)` is what such an instance could serve, at full use. The report
labels it a projection from measured CPU, next to the measured throughput.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass

from loadtests import stack

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process (its own, not its reaped children's)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS     # utime, stime (stat fields 14, 15)


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent not idle (all cores)."""
    with open("/proc/stat") as fh:
        values = [int(v) for v in fh.readline().split()[1:]]
    idle = values[3] + values[4]           # idle, iowait
    return (sum(values[:8]) - idle) / TICKS


@dataclass
class Snapshot:
    at: float
    parts: dict[str, float]
    machine: float


def snapshot(roots: dict[str, int]) -> Snapshot:
    """CPU seconds per part, each part a process tree (e.g. gunicorn's master and workers)."""
    parts = {name: sum(cpu_seconds(pid) for pid in stack.process_tree(root)) for name, root in roots.items()}
    return Snapshot(time.monotonic(), parts, machine_busy_seconds())


def usage(before: Snapshot, after: Snapshot, *, requests: int) -> dict:
    """Per part: CPU seconds, cores used on average, and milliseconds of CPU per request."""
    wall = after.at - before.at
    out: dict = {"seconds": round(wall, 1), "requests": requests, "parts": {}}
    for name, start in before.parts.items():
        spent = after.parts.get(name, 0.0) - start
        out["parts"][name] = {"cpu_s": round(spent, 1), "cores": round(spent / wall, 2) if wall else None,
                              "ms_per_request": round(1000 * spent / requests, 3) if requests else None}
    busy = after.machine - before.machine
    out["machine_cores_busy"] = round(busy / wall, 2) if wall else None
    return out


def projected_rps(api_ms_per_request: float, *, cores: float = 2.0, utilisation: float = 1.0) -> float:
    """Requests/s an instance with `cores` of its own serves at `utilisation`, if the API's CPU
    per request stays what was measured."""
    return cores * utilisation * 1000 / api_ms_per_request
