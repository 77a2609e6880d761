"""`make loadtest`: stores → migrations → gunicorn + a Dramatiq worker → seed → Locust headless
(CSV with full history + HTML report under loadtests/results/) → threshold check (exit 1).

    python -m loadtests.run [--residents 5000] [--users 60] [--seconds 60] [--shape peak|steps|soak]
        [--workers 2] [--database-url URL] [--redis-url URL] [--sqlite]
        [--max-failure-ratio 0.01] [--max-p95-ms 500] [--name run]

Stores: --database-url/--redis-url (or DATABASE_URL/REDIS_URL in the environment) are used as
they are (the database must be migratable and may hold data); otherwise a private PostgreSQL
cluster and redis-server are started in a temporary directory and removed afterwards;
--sqlite uses SQLite + the embedded Redis instead (no system packages needed).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from loadtests import cpu, stack

RESULTS = stack.ROOT / "loadtests" / "results"


def aggregated(stats_csv: Path) -> dict:
    with open(stats_csv, newline="") as fh:
        for row in csv.DictReader(fh):
            if row["Name"] == "Aggregated":
                n = int(row["Request Count"])
                f = int(row["Failure Count"])
                return {"requests": n, "failures": f, "failure_ratio": f / n if n else 1.0,
                        "p95_ms": float(row["95%"]) if row["95%"] not in ("N/A", "") else None,
                        "rps": float(row["Requests/s"])}
    raise RuntimeError(f"no Aggregated row in {stats_csv}")


def check(stats_csv: Path, *, max_failure_ratio: float, max_p95_ms: float | None) -> list[str]:
    agg = aggregated(stats_csv)
    problems = []
    if agg["requests"] == 0:
        problems.append("no requests were made")
    if agg["failure_ratio"] > max_failure_ratio:
        problems.append(f"failure ratio {agg['failure_ratio']:.4f} > {max_failure_ratio}")
    if max_p95_ms is not None and (agg["p95_ms"] is None or agg["p95_ms"] > max_p95_ms):
        problems.append(f"p95 {agg['p95_ms']} ms > {max_p95_ms} ms")
    return problems


class Deployment:
    """Stores + one API instance + one worker, torn down in reverse."""

    def __init__(self, workdir: Path, *, database_url: str | None, redis_url: str | None, sqlite: bool,
                 workers: int, rate_limits: bool = False, durable: bool = False, relay: bool = False,
                 extra_env: dict | None = None) -> None:
        self.workdir = workdir
        self.pg = self.redis = None
        if sqlite:
            from api import embedded_redis
            database_url = database_url or f"sqlite:///{workdir / 'ssb.sqlite3'}"
            redis_url = redis_url or embedded_redis.ensure_running(workdir / "redis")
            self.embedded = workdir / "redis"
        else:
            self.embedded = None
            if not database_url:
                self.pg = stack.Postgres(workdir / "pg", durable=durable)
                self.pg.init()
                database_url = self.pg.url
            if not redis_url:
                self.redis = stack.RedisServer(workdir / "redis")
                self.redis.start()
                redis_url = self.redis.url
        self.env = stack.app_env(workdir, database_url=database_url, redis_url=redis_url, rate_limits=rate_limits,
                                 extra=extra_env)
        self.workers = workers
        self.relay = relay
        self.procs: list = []
        self.port = stack.free_port()
        self.host = f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        stack.migrate(self.env)
        log = self.workdir / "servers.log"
        self.api = stack.gunicorn(self.env, self.port, log, workers=self.workers)
        self.procs.append(self.api)
        self.start_worker()
        if self.relay:   # the periodic safety net production runs: resume campaigns, drain invalidations
            self.procs.append(stack.relay_loop(self.env, self.workdir / "relay.log"))

    def start_worker(self):
        self.worker = stack.dramatiq_worker(self.env, self.workdir / "worker.log")
        self.procs.append(self.worker)
        return self.worker

    def cpu_roots(self) -> dict[str, int]:
        """The process trees whose CPU time a run accounts for (loadtests.cpu)."""
        roots = {"api": self.api.pid, "job worker": self.worker.pid}
        if self.redis and self.redis.proc:
            roots["redis"] = self.redis.proc.pid
        if self.pg and self.pg.proc:
            roots["postgresql"] = self.pg.proc.pid
        return roots

    def stop(self) -> None:
        for p in reversed(self.procs):
            stack.stop_group(p)
        if self.redis:
            self.redis.stop()
        if self.pg:
            self.pg.stop()
        if self.embedded:
            from api import embedded_redis
            embedded_redis.stop(self.embedded)


def _report_cpu(usage: dict, prefix: Path) -> None:
    """CPU per part and per request (loadtests.cpu), printed and written to PREFIX_cpu.json."""
    Path(f"{prefix}_cpu.json").write_text(json.dumps(usage, indent=2))
    for name, part in usage["parts"].items():
        print(f"cpu {name}: {part['cpu_s']} s, {part['cores']} cores, {part['ms_per_request']} ms/request")
    api = usage["parts"].get("api", {}).get("ms_per_request")
    if api:
        print(f"projection: a dedicated 2-core instance serves ~{cpu.projected_rps(api):,.0f} requests/s "
              f"at full use of its cores ({cpu.projected_rps(api, utilisation=0.6):,.0f} at 60 %)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m loadtests.run", description=__doc__.split("\n\n")[0])
    p.add_argument("--residents", type=int, default=5000)
    p.add_argument("--users", type=int, default=60, help="simulated users (plateau users with --shape)")
    p.add_argument("--spawn-rate", type=float, default=20)
    p.add_argument("--seconds", type=int, default=60)
    p.add_argument("--shape", choices=("peak", "soak", "steps"), default=None)
    p.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    p.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    p.add_argument("--redis-url", default=os.environ.get("REDIS_URL"))
    p.add_argument("--sqlite", action="store_true", help="SQLite + embedded Redis (no PostgreSQL/redis-server)")
    p.add_argument("--max-failure-ratio", type=float, default=0.01)
    p.add_argument("--max-p95-ms", type=float, default=None)
    p.add_argument("--name", default="run", help="results prefix under loadtests/results/")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    return p


def main(argv=None) -> int:
    stack.exit_on_sigterm()
    a = build_parser().parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="ssb-loadtest-"))
    if os.geteuid() == 0:
        os.chmod(workdir, 0o755)
    prefix = RESULTS / a.name
    dep = Deployment(workdir, database_url=a.database_url, redis_url=a.redis_url, sqlite=a.sqlite,
                     workers=a.workers)
    try:
        dep.start()
        t0 = time.perf_counter()
        stack.seed(dep.env, workdir / "seed", residents=a.residents, log=workdir / "seed.log")
        print(f"seed: {time.perf_counter() - t0:.1f}s", flush=True)
        extra = {"SSB_SEED_DIR": str(workdir / "seed"), "SSB_SMS_FILE": str(workdir / "sms.jsonl"),
                 "SSB_SHAPE_USERS": str(a.users), "SSB_SHAPE_SECONDS": str(a.seconds)}
        roots = dep.cpu_roots()
        before = cpu.snapshot(roots)
        stack.locust(dep.env, dep.host, prefix, seconds=a.seconds, users=a.users, spawn_rate=a.spawn_rate,
                     shape=a.shape, extra_env=extra)
        after = cpu.snapshot(roots)
    finally:
        dep.stop()
        if not a.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"kept {workdir}")
    stats = Path(f"{prefix}_stats.csv")
    if not stats.exists():
        print("locust wrote no stats", file=sys.stderr)
        return 1
    agg = aggregated(stats)
    print(json.dumps(agg))
    _report_cpu(cpu.usage(before, after, requests=int(agg.get("requests") or 0)), prefix)
    print(f"CSV: {prefix}_stats.csv, {prefix}_stats_history.csv, {prefix}_failures.csv; HTML: {prefix}_report.html")
    problems = check(stats, max_failure_ratio=a.max_failure_ratio, max_p95_ms=a.max_p95_ms)
    for p in problems:
        print(f"THRESHOLD FAILED: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
