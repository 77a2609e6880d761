"""Soak: the `soak` shape (loadtests/shapes.py: constant users) for a long time against one
instance (gunicorn + a Dramatiq worker), watching what grows.

    python -m loadtests.soak [--users 150] [--minutes 30] [--window-minutes 5] [--workers 2]

Every request's latency is recorded (SSB_EVENTS_FILE), so the p95 is computed per window from
the raw answers, not from Locust's rolling figures; the resident set size of every gunicorn
worker and of the job worker, and Redis's memory and key count, are sampled every
--sample-seconds. Writes loadtests/results/soak_summary.json and prints a Markdown section
(the one in docs/capacity.md). Exits 1 if the error rate exceeds --max-error-rate.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from loadtests import stack
from loadtests.run import RESULTS, Deployment


def rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def processes(dep) -> dict[str, int]:
    """{label: pid}: each gunicorn worker (children of the master) and each job-worker process."""
    out = {}
    for i, pid in enumerate(sorted(p for p in stack.process_tree(dep.api.pid) if p != dep.api.pid)):
        out[f"gunicorn worker {i + 1} (pid {pid})"] = pid
    for i, pid in enumerate(sorted(stack.process_tree(dep.worker.pid))):
        out[f"dramatiq process {i + 1} (pid {pid})"] = pid
    return out


class Sampler(threading.Thread):
    def __init__(self, dep, every: float) -> None:
        super().__init__(daemon=True)
        import redis
        self.dep, self.every = dep, every
        self.redis = redis.Redis.from_url(dep.env["REDIS_URL"])
        self.samples: list[dict] = []
        self.stop = threading.Event()

    def sample(self) -> dict:
        info = self.redis.info("memory")
        return {"t": time.time(), "rss_mb": {label: rss_mb(pid) for label, pid in processes(self.dep).items()},
                "redis_used_mb": round(info["used_memory"] / 2**20, 2), "redis_keys": self.redis.dbsize()}

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.samples.append(self.sample())
            except Exception as exc:   # a sample lost is not a reason to stop the soak
                print(f"sample failed: {exc}", file=sys.stderr)
            self.stop.wait(self.every)


def p95(values: list[float]) -> float | None:
    return _pct(values, 0.95)


def windows(events: list[dict], start: float, seconds: float, window: float) -> list[dict]:
    out = []
    n = int(seconds // window) + (1 if seconds % window else 0)
    buckets: list[list[dict]] = [[] for _ in range(n)]
    for e in events:
        i = int((e["t"] - start) // window)
        if 0 <= i < n:
            buckets[i].append(e)
    for i, b in enumerate(buckets):
        errors = sum(1 for e in b if not e.get("ok", 200 <= e["status"] < 400) and not 400 <= e["status"] < 500)
        out.append({"window": f"{i * window / 60:g}-{(i + 1) * window / 60:g} min", "requests": len(b),
                    "rps": round(len(b) / window, 1), "p95_ms": p95([e["ms"] for e in b]),
                    "p50_ms": _pct([e["ms"] for e in b], 0.5),
                    "errors": errors, "error_rate": round(errors / len(b), 5) if b else None})
    return out


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def markdown(summary: dict) -> str:
    lines = [f"Soak: {summary['users']} simulated users (think time {summary['wait']} s), "
             f"{summary['minutes']} minutes, one instance ({summary['workers']} gunicorn sync workers + one "
             f"Dramatiq worker), PostgreSQL + redis-server on the same machine, {summary['started']}.",
             "", "| window | requests | requests/s | p50 | p95 | server-side errors | error rate |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for w in summary["windows"]:
        lines.append(f"| {w['window']} | {w['requests']:,} | {w['rps']} | {w['p50_ms']} ms | {w['p95_ms']} ms | "
                     f"{w['errors']} | {100 * (w['error_rate'] or 0):.3f} % |")
    lines += ["", f"Whole run: {summary['requests']:,} requests, {summary['errors']} server-side errors "
              f"({100 * summary['error_rate']:.3f} %), p95 {summary['p95_ms']} ms.", "",
              "| process | RSS at start | RSS at end | change |", "|---|---:|---:|---:|"]
    for label, (first, last) in summary["rss_mb"].items():
        change = "n/a" if first is None or last is None else f"{last - first:+.1f} MB"
        lines.append(f"| {label} | {first:.1f} MB | {last:.1f} MB | {change} |" if first and last else
                     f"| {label} | {first} | {last} | {change} |")
    r = summary["redis"]
    lines += ["", f"Redis: {r['used_mb'][0]} MB and {r['keys'][0]:,} keys at the start, {r['used_mb'][1]} MB and "
              f"{r['keys'][1]:,} keys at the end."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    stack.exit_on_sigterm()
    p = argparse.ArgumentParser(prog="python -m loadtests.soak", description=__doc__.split("\n\n")[0])
    p.add_argument("--users", type=int, default=150)
    p.add_argument("--minutes", type=float, default=30)
    p.add_argument("--window-minutes", type=float, default=5)
    p.add_argument("--sample-seconds", type=float, default=30)
    p.add_argument("--residents", type=int, default=5000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--wait", default="0.5-1.5", help="think time range, seconds (SSB_WAIT_MIN-SSB_WAIT_MAX)")
    p.add_argument("--max-error-rate", type=float, default=0.01)
    a = p.parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="ssb-soak-"))
    os.chmod(workdir, 0o755)
    dep = Deployment(workdir, database_url=None, redis_url=None, sqlite=False, workers=a.workers)
    seconds = a.minutes * 60
    events_file = workdir / "events.jsonl"
    wait_min, wait_max = a.wait.split("-")
    try:
        dep.start()
        stack.seed(dep.env, workdir / "seed", residents=a.residents, log=workdir / "seed.log")
        sampler = Sampler(dep, a.sample_seconds)
        env = dep.env | {"SSB_SEED_DIR": str(workdir / "seed"), "SSB_SMS_FILE": str(workdir / "sms.jsonl"),
                         "SSB_EVENTS_FILE": str(events_file), "SSB_SHAPE": "soak", "SSB_SHAPE_USERS": str(a.users),
                         "SSB_SHAPE_SECONDS": str(int(seconds)), "SSB_WAIT_MIN": wait_min, "SSB_WAIT_MAX": wait_max}
        prefix = RESULTS / "soak"
        args = [str(stack.BIN / "locust"), "-f", str(stack.ROOT / "loadtests" / "locustfile.py"), "--headless",
                "--host", dep.host, "--csv", str(prefix), "--csv-full-history", "--only-summary",
                "--loglevel", "WARNING", "--exit-code-on-error", "0", "--stop-timeout", "5"]
        start = time.time()
        sampler.start()
        subprocess.run(args, cwd=stack.ROOT, env=env, stdout=open(workdir / "locust.log", "ab"),
                       stderr=subprocess.STDOUT, timeout=seconds + 300)
        sampler.stop.set()
        sampler.samples.append(sampler.sample())
        sampler.join(timeout=5)
    finally:
        dep.stop()
    events = [json.loads(x) for x in events_file.read_text().splitlines() if x.strip()]
    errors = sum(1 for e in events if not e.get("ok", True) and not 400 <= e["status"] < 500)
    first, last = sampler.samples[0], sampler.samples[-1]
    summary = {
        "users": a.users, "wait": a.wait, "minutes": a.minutes, "workers": a.workers,
        "started": time.strftime("%Y-%m-%d %H:%M", time.localtime(start)),
        "requests": len(events), "errors": errors, "error_rate": errors / len(events) if events else 1.0,
        "p95_ms": p95([e["ms"] for e in events]),
        "windows": windows(events, start, seconds, a.window_minutes * 60),
        "rss_mb": {label: (first["rss_mb"].get(label), last["rss_mb"].get(label))
                   for label in dict.fromkeys([*first["rss_mb"], *last["rss_mb"]])},
        "redis": {"used_mb": (first["redis_used_mb"], last["redis_used_mb"]),
                  "keys": (first["redis_keys"], last["redis_keys"])},
        "samples": sampler.samples,
    }
    (RESULTS / "soak_summary.json").write_text(json.dumps(summary, indent=1))
    print(markdown(summary))
    shutil.rmtree(workdir, ignore_errors=True)
    if summary["error_rate"] > a.max_error_rate:
        print(f"THRESHOLD FAILED: error rate {summary['error_rate']:.4f} > {a.max_error_rate}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
