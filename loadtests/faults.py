"""Faults under load: Redis stops for 20 s and restarts, then PostgreSQL stops for 20 s and
restarts, while Locust drives the normal mix. Then:

1. errors by kind per phase (baseline, redis-down, redis-recovery, db-down, db-recovery): while a
   store is down the API must answer 503 with the error envelope (REDIS_UNAVAILABLE /
   DATABASE_UNAVAILABLE), never a 500, and never hang past the client timeout;
2. no accepted write is lost: every 2xx write the simulated users recorded (check-ins, scan
   access records, consents, licence presentations and their verification, refresh-token
   rotations, licence upserts, campaigns) is in the database afterwards;
3. the API recovers: the last seconds of each recovery phase are (almost) error-free.

    python -m loadtests.faults [--users 30] [--residents 3000] [--outage 20] [--timeout 10]

Writes loadtests/results/faults_report.json (+ the Locust CSVs) and exits 1 on a violation.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from loadtests import stack
from loadtests.run import RESULTS, Deployment

EXPECTED_503 = {"REDIS_UNAVAILABLE", "DATABASE_UNAVAILABLE"}


def phases(baseline: float, outage: float, recovery: float) -> list[tuple[str, float, float]]:
    t, out = 0.0, []
    for name, length in (("baseline", baseline), ("redis-down", outage), ("redis-recovery", recovery),
                         ("db-down", outage), ("db-recovery", recovery)):
        out.append((name, t, t + length))
        t += length
    return out


def classify(events: list[dict], start: float, plan) -> dict:
    by_phase: dict = {name: collections.Counter() for name, _, _ in plan}
    tail_errors: dict = {name: [0, 0] for name, _, _ in plan}   # [errors, requests] in the last 5 s
    for e in events:
        t = e["t"] - start
        for name, a, b in plan:
            if a <= t < b or (name == plan[-1][0] and t >= b):
                kind = "ok" if 200 <= e["status"] < 400 else f"{e['status']} {e['error']}"
                by_phase[name][kind] += 1
                if b - 5 <= t < b:
                    tail_errors[name][1] += 1
                    tail_errors[name][0] += kind != "ok" and not kind.startswith("4")
                break
    return {"counts": {k: dict(v) for k, v in by_phase.items()}, "tail_5s": tail_errors}


def verify_writes(database_url: str, writes: list[dict]) -> dict:
    """Per kind: recorded, found, missing (with up to 5 examples)."""
    from sqlalchemy import create_engine, text

    from api.config import Config
    engine = create_engine(Config(DATABASE_URL=database_url).finalised().DATABASE_URL)
    by_kind = collections.defaultdict(list)
    for w in writes:
        by_kind[w["kind"]].append(w)
    report = {}
    with engine.connect() as conn:
        def exists(sql: str, **params) -> bool:
            return conn.execute(text(sql), params).first() is not None

        for kind, items in by_kind.items():
            missing = []
            if kind == "scan":   # each accepted scan left an access record for the code's holder
                want = collections.Counter(w["user_id"] for w in items)
                for uid, n in want.items():
                    have = conn.execute(text("SELECT count(*) FROM access_records WHERE user_id = :u AND "
                                             "kind = 'code_scan'"), {"u": uid}).scalar()
                    if have < n:
                        missing.append({"user_id": uid, "recorded": n, "in_db": have})
            else:
                for w in items:
                    ok = {
                        "checkin": lambda: exists("SELECT 1 FROM checkins WHERE id = :i", i=w["id"]),
                        "presentation": lambda: exists("SELECT 1 FROM licence_presentations WHERE id = :i", i=w["id"]),
                        "presentation_verify": lambda: exists(
                            "SELECT 1 FROM licence_presentations WHERE id = :i AND verified_at IS NOT NULL", i=w["id"]),
                        "consent": lambda: exists("SELECT 1 FROM miniprogram_consents WHERE user_id = :u AND "
                                                  "appid = :a", u=w["user_id"], a=w["appid"]),
                        "refresh": lambda: exists("SELECT 1 FROM refresh_tokens WHERE token_hash = :h",
                                                  h=w["token_hash"]),
                        "licence": lambda: exists("SELECT 1 FROM licences WHERE id = :i", i=w["id"]),
                        "campaign": lambda: exists("SELECT 1 FROM campaigns WHERE id = :i", i=w["id"]),
                    }[kind]()
                    if not ok:
                        missing.append(w)
            report[kind] = {"recorded": len(items), "missing": len(missing), "examples": missing[:5]}
    engine.dispose()
    return report


def main(argv=None) -> int:
    stack.exit_on_sigterm()
    p = argparse.ArgumentParser(prog="python -m loadtests.faults", description=__doc__.split("\n\n")[0])
    p.add_argument("--users", type=int, default=30)
    p.add_argument("--residents", type=int, default=3000)
    p.add_argument("--baseline", type=float, default=15)
    p.add_argument("--outage", type=float, default=20)
    p.add_argument("--recovery", type=float, default=15)
    p.add_argument("--timeout", type=float, default=10, help="client timeout: a longer wait is a hang")
    p.add_argument("--workers", type=int, default=2)
    a = p.parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="ssb-faults-"))
    os.chmod(workdir, 0o755)
    dep = Deployment(workdir, database_url=None, redis_url=None, sqlite=False, workers=a.workers)
    plan = phases(a.baseline, a.outage, a.recovery)
    total = plan[-1][2]
    events_file, writes_file = workdir / "events.jsonl", workdir / "writes.jsonl"
    prefix = RESULTS / "faults"
    timeline = []
    try:
        dep.start()
        stack.seed(dep.env, workdir / "seed", residents=a.residents, log=workdir / "seed.log")
        env = dep.env | {"SSB_SEED_DIR": str(workdir / "seed"), "SSB_SMS_FILE": str(workdir / "sms.jsonl"),
                         "SSB_EVENTS_FILE": str(events_file), "SSB_WRITES_FILE": str(writes_file),
                         "SSB_REQUEST_TIMEOUT": str(a.timeout)}
        args = [str(stack.BIN / "locust"), "-f", str(stack.ROOT / "loadtests" / "locustfile.py"), "--headless",
                "--host", dep.host, "--csv", str(prefix), "--csv-full-history", "--only-summary",
                "--loglevel", "WARNING", "--users", str(a.users), "--spawn-rate", str(a.users),
                "--run-time", f"{int(total)}s", "--stop-timeout", "5", "--html", f"{prefix}_report.html"]
        loc = subprocess.Popen(args, cwd=stack.ROOT, env=env, stdout=open(workdir / "locust.log", "ab"),
                               stderr=subprocess.STDOUT, start_new_session=True)
        start = time.time()

        def at(second: float) -> None:
            time.sleep(max(0.0, start + second - time.time()))

        at(plan[1][1])
        timeline.append(("redis stop", round(time.time() - start, 1)))
        dep.redis.stop()
        at(plan[2][1])
        dep.redis.start()
        timeline.append(("redis start", round(time.time() - start, 1)))
        at(plan[3][1])
        timeline.append(("postgres stop", round(time.time() - start, 1)))
        dep.pg.stop()
        at(plan[4][1])
        dep.pg.start()
        timeline.append(("postgres start", round(time.time() - start, 1)))
        loc.wait(timeout=total + 120)
        # Let the worker finish what was accepted (campaign fan-out) before checking the database.
        time.sleep(3)
        events = [json.loads(x) for x in events_file.read_text().splitlines() if x.strip()]
        writes = [json.loads(x) for x in writes_file.read_text().splitlines() if x.strip()] \
            if writes_file.exists() else []
        result = classify(events, start, plan)
        result["writes"] = verify_writes(dep.env["DATABASE_URL"], writes)
        result["timeline"] = timeline
        result["plan"] = plan
    finally:
        dep.stop()
    violations = []
    for phase, counts in result["counts"].items():
        for kind, n in counts.items():
            status = kind.split(" ")[0]
            if status == "500" or "INTERNAL_ERROR" in kind:
                violations.append(f"{phase}: {n} × {kind}")
            if status == "0":
                violations.append(f"{phase}: {n} × {kind} (no answer within {a.timeout}s or connection refused)")
            if status == "503" and kind.split(" ", 1)[1] not in EXPECTED_503:
                violations.append(f"{phase}: {n} × {kind} (503 without the expected envelope)")
    for kind, w in result["writes"].items():
        if w["missing"]:
            violations.append(f"lost writes: {kind}: {w['missing']} of {w['recorded']}: {w['examples']}")
    for phase in ("redis-recovery", "db-recovery"):
        errs, n = result["tail_5s"][phase]
        if n and errs / n > 0.05:
            violations.append(f"{phase}: not recovered: {errs}/{n} server errors in its last 5 s")
    result["violations"] = violations
    (RESULTS / "faults_report.json").write_text(json.dumps(result, indent=1, ensure_ascii=False))
    print(json.dumps({k: result[k] for k in ("counts", "tail_5s", "timeline")}, indent=1, ensure_ascii=False))
    print(json.dumps({k: {"recorded": v["recorded"], "missing": v["missing"]} for k, v in result["writes"].items()}))
    for v in violations:
        print(f"VIOLATION: {v}", file=sys.stderr)
    shutil.rmtree(workdir, ignore_errors=True)
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
