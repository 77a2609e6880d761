"""Faults the way they happen, under load, on stores with production durability settings.

PostgreSQL runs with fsync, synchronous_commit and full_page_writes on; redis-server with AOF
(fsync every second), as the README recommends. While Locust drives the normal mix plus
`FaultWriter` users (every kind of write in turn), this run, in order:

1. freezes Redis (SIGSTOP: it answers nothing and closes nothing) for --outage s, thaws it;
2. freezes PostgreSQL (every process of the cluster) the same way;
3. crashes Redis (SIGKILL) and restarts it after --outage s;
4. crashes PostgreSQL (SIGKILL of every process: crash recovery from the WAL on restart);
5. after the load: kills the job worker (SIGKILL) while it runs a campaign fan-out and starts
   another one, which must finish the campaign (Dramatiq acknowledges a job after it ran, so a
   dead worker's jobs are delivered again).

Phases come from the actual times of each stop and start. Then it checks:

- every answer came within the client timeout (--timeout, a mobile client's 5 s): no hang, no
  dropped connection, no 500; while a store is down, 503 with the envelope (REDIS_UNAVAILABLE /
  DATABASE_UNAVAILABLE). A WeChat-style HTTP 200 with an `errcode` counts as a failure;
- at least --min-writes accepted writes of every kind in the baseline and in every recovery
  phase (one campaign), or the run fails: no check passes with nothing to check;
- every acknowledged write is in the database with the content the client was told (kinds and
  what is compared: see CHECKS); every campaign fanned out to exactly its recipients, once each;
- the last 5 s of every recovery phase are (almost) free of server errors: recovered without a
  restart of the API;
- no cache invalidation is left pending (those recorded during the Redis outages were applied).

    python -m loadtests.faults [--users 30] [--residents 3000] [--outage 20] [--recovery 20]

Writes loadtests/results/faults_report.json (+ the Locust CSVs) and exits 1 on a violation.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from loadtests import stack
from loadtests.run import RESULTS, Deployment

EXPECTED_503 = {"REDIS_UNAVAILABLE", "DATABASE_UNAVAILABLE"}
WRITE_KINDS = ("session", "refresh", "logout", "checkin", "scan", "presentation", "presentation_verify", "consent",
               "mp_user", "licence", "campaign")
MIN_WRITES = {"campaign": 1}
ALL_DISTRICTS_RULE = {"!=": [{"var": "district"}, "不存在区"]}


# --------------------------------------------------------------------------------------- phases


def phases_from(timeline: list[tuple[str, float]], end: float) -> list[tuple[str, float, float]]:
    """[(phase, start, end)] from the recorded events: baseline until the first fault, each
    fault from its begin to its end (the store answers again), its recovery until the next."""
    out, t, name = [], 0.0, "baseline"
    for event, at in timeline:
        fault, _, edge = event.rpartition(" ")
        out.append((name, t, at))
        t, name = at, fault if edge == "begin" else f"{fault}-recovery"
    out.append((name, t, end))
    return out


def phase_of(t: float, plan) -> str | None:
    for name, a, b in plan:
        if a <= t < b:
            return name
    return None


def classify(events: list[dict], start: float, plan) -> dict:
    """Outcomes per phase, the slowest answer per phase, and the last 5 s of each phase."""
    counts: dict = {name: collections.Counter() for name, _, _ in plan}
    slowest: dict = {name: 0.0 for name, _, _ in plan}
    tails: dict = {name: [0, 0] for name, _, _ in plan}   # [server-side failures, requests] in the last 5 s
    ends = {name: b for name, _, b in plan}
    for e in events:
        t = e["t"] - start
        name = phase_of(t, plan)
        if name is None:
            continue
        ok = e.get("ok", 200 <= e["status"] < 400)
        kind = "ok" if ok else f"{e['status']} {e['error']}"
        counts[name][kind] += 1
        slowest[name] = max(slowest[name], e["ms"])
        if ends[name] - 5 <= t:
            tails[name][1] += 1
            tails[name][0] += not ok and not 400 <= e["status"] < 500
    return {"counts": {k: dict(v) for k, v in counts.items()}, "slowest_ms": slowest, "tail_5s": tails}


def answer_violations(result: dict, timeout: float) -> list[str]:
    out = []
    for phase, counts in result["counts"].items():
        requests = sum(counts.values())
        server_failures = 0
        for kind, n in counts.items():
            if kind == "ok":
                continue
            status, _, error = kind.partition(" ")
            if status == "0":
                out.append(f"{phase}: {n} × {kind} (no answer within {timeout:g} s, or the connection dropped)")
            elif status == "500" or error == "INTERNAL_ERROR":
                out.append(f"{phase}: {n} × {kind}")
            elif status == "503" and error not in EXPECTED_503:
                out.append(f"{phase}: {n} × {kind} (503 without the expected envelope)")
            if not status.startswith("4"):
                server_failures += n
        if phase == "baseline" and requests and server_failures / requests > 0.01:
            out.append(f"baseline: {server_failures}/{requests} server-side failures before any fault")
    for phase, (errors, n) in result["tail_5s"].items():
        if phase.endswith("-recovery") and (not n or errors / n > 0.05):
            out.append(f"{phase}: not recovered: {errors}/{n} server-side failures in its last 5 s")
    return out


def write_counts(writes: list[dict], start: float, plan) -> dict:
    """{kind: {phase: accepted writes}}."""
    out: dict = {kind: collections.Counter() for kind in WRITE_KINDS}
    for w in writes:
        name = phase_of(w["t"] - start, plan)
        if name is not None:
            out.setdefault(w["kind"], collections.Counter())[name] += 1
    return {k: dict(v) for k, v in out.items()}


def minimum_violations(counts: dict, plan, minimum: int) -> list[str]:
    out = []
    required = [name for name, _, _ in plan if name == "baseline" or name.endswith("-recovery")]
    for kind in WRITE_KINDS:
        need = min(minimum, MIN_WRITES.get(kind, minimum))
        for phase in required:
            got = counts.get(kind, {}).get(phase, 0)
            if got < need:
                out.append(f"too few accepted writes to check: {kind} in {phase}: {got} < {need}")
    return out


# --------------------------------------------------------------------------------- write checks


def _rows(conn, sql: str, ids) -> list:
    from sqlalchemy import bindparam, text
    ids = list(ids)
    if not ids:
        return []
    return list(conn.execute(text(sql).bindparams(bindparam("ids", expanding=True)), {"ids": ids}))


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def _compare(items: list[dict], rows: dict, key: str, fields: dict) -> tuple[list, list]:
    """Items missing from `rows` (by item[key]) and items whose fields differ:
    fields = {item field: function(row) -> value in the database}."""
    missing, wrong = [], []
    for item in items:
        row = rows.get(item[key])
        if row is None:
            missing.append(item)
            continue
        diff = {f: [item[f], read(row)] for f, read in fields.items() if read(row) != item[f]}
        if diff:
            wrong.append({"write": item, "differs": diff})
    return missing, wrong


def check_session(conn, items, ctx):
    rows = {r.id: r for r in _rows(conn, "SELECT s.id, s.user_id, s.device_id, u.phone FROM auth_sessions s "
                                         "JOIN users u ON u.id = s.user_id WHERE s.id IN :ids",
                                   [w["session_id"] for w in items])}
    return _compare(items, rows, "session_id", {"user_id": lambda r: r.user_id, "phone": lambda r: r.phone,
                                                "device_id": lambda r: r.device_id})


def check_logout(conn, items, ctx):
    rows = {r.id: r for r in _rows(conn, "SELECT id, revoked_at, revoked_reason FROM auth_sessions "
                                         "WHERE id IN :ids", [w["session_id"] for w in items])}
    for w in items:
        w["signed_out"] = "logout"
    return _compare(items, rows, "session_id",
                    {"signed_out": lambda r: r.revoked_reason if r.revoked_at is not None else None})


def check_refresh(conn, items, ctx):
    rows = {r.token_hash: r for r in _rows(conn, "SELECT token_hash, session_id FROM refresh_tokens "
                                                 "WHERE token_hash IN :ids", [w["token_hash"] for w in items])}
    return _compare(items, rows, "token_hash", {"session_id": lambda r: r.session_id})


def check_checkin(conn, items, ctx):
    rows = {r.id: r for r in _rows(conn, "SELECT c.id, c.user_id, v.public_id FROM checkins c "
                                         "JOIN venues v ON v.id = c.venue_id WHERE c.id IN :ids",
                                   [w["id"] for w in items])}
    return _compare(items, rows, "id", {"user_id": lambda r: r.user_id, "venue_id": lambda r: r.public_id})


def check_scan(conn, items, ctx):
    """Each accepted scan left an access record for the holder naming the venue and the scene;
    scans have no id, so records are counted per (holder, scene, venue)."""
    want = collections.Counter((w["user_id"], w["scene"], w["venue_id"]) for w in items)
    have: collections.Counter = collections.Counter()
    for r in _rows(conn, "SELECT user_id, scene, accessor FROM access_records WHERE kind = 'code_scan' "
                         "AND user_id IN :ids", {w["user_id"] for w in items}):
        have[(r.user_id, r.scene, (_json(r.accessor) or {}).get("venue_id"))] += 1
    missing = [{"user_id": u, "scene": s, "venue_id": v, "recorded": n, "in_db": have[(u, s, v)]}
               for (u, s, v), n in want.items() if have[(u, s, v)] < n]
    return missing, []


def check_presentation(conn, items, ctx):
    rows = {r.id: r for r in _rows(conn, "SELECT id, licence_id, user_id, fields, purpose "
                                         "FROM licence_presentations WHERE id IN :ids", [w["id"] for w in items])}
    return _compare(items, rows, "id", {"licence_id": lambda r: r.licence_id, "user_id": lambda r: r.user_id,
                                        "fields": lambda r: _json(r.fields), "purpose": lambda r: r.purpose})


def check_presentation_verify(conn, items, ctx):
    rows = {r.id: r for r in _rows(conn, "SELECT id, status, verified_by FROM licence_presentations "
                                         "WHERE id IN :ids", [w["id"] for w in items])}
    for w in items:
        w["status"] = "verified"
    return _compare(items, rows, "id", {"status": lambda r: r.status, "verified_by": lambda r: r.verified_by})


def check_consent(conn, items, ctx):
    have = {(r.user_id, r.appid, r.scope) for r in _rows(
        conn, "SELECT user_id, appid, scope FROM miniprogram_consents WHERE user_id IN :ids",
        {w["user_id"] for w in items})}
    return [w for w in items if any((w["user_id"], w["appid"], s) not in have for s in w["scopes"])], []


def check_mp_user(conn, items, ctx):
    rows = {r.openid: r for r in _rows(conn, "SELECT openid, appid, user_id FROM miniprogram_users "
                                             "WHERE openid IN :ids", {w["openid"] for w in items})}
    return _compare(items, rows, "openid", {"appid": lambda r: r.appid, "user_id": lambda r: r.user_id})


def check_licence(conn, items, ctx):
    """The last accepted upsert of each licence is what the database holds."""
    from api.licences.common import licence_number_bidx
    from api.pii import PiiCipher
    pii = PiiCipher(ctx["data_key"])
    last = {}
    for w in sorted(items, key=lambda w: w["t"]):
        last[w["id"]] = dict(w, number_bidx=licence_number_bidx(pii, "driving_licence", w["number"]))
    rows = {r.id: r for r in _rows(conn, "SELECT id, number_bidx, fields_clear, valid_until FROM licences "
                                         "WHERE id IN :ids", list(last))}
    return _compare(list(last.values()), rows, "id", {
        "number_bidx": lambda r: r.number_bidx, "vehicle_class": lambda r: _json(r.fields_clear).get("vehicle_class"),
        "valid_until": lambda r: str(r.valid_until)})


def expected_recipients(conn, district: str | None) -> int:
    from sqlalchemy import text
    sql = ("SELECT count(*) FROM persons p JOIN users u ON u.id_number_bidx = p.id_number_bidx "
           "WHERE u.status = 'active' AND p.district IS NOT NULL")
    if district is None:
        return conn.execute(text(sql)).scalar()
    return conn.execute(text(sql + " AND p.district = :d"), {"d": district}).scalar()


def check_campaign(conn, items, ctx):
    """The campaign row as accepted, fanned out, and one inbox message with its title for each
    recipient the rule selects (counted independently here), none twice."""
    rows = {r.id: r for r in _rows(conn, "SELECT id, policy_id, title, status FROM campaigns WHERE id IN :ids",
                                   [w["id"] for w in items])}
    inbox = {r.campaign_id: r for r in _rows(
        conn, "SELECT campaign_id, count(*) AS n, count(DISTINCT user_id) AS users "
              "FROM inbox_messages WHERE campaign_id IN :ids GROUP BY campaign_id",
        [w["id"] for w in items])}
    expected = {d: expected_recipients(conn, d) for d in {w.get("district") for w in items}}
    for w in items:
        w.update(status="fanned_out", deliveries=expected[w.get("district")],
                 distinct_recipients=expected[w.get("district")])
    return _compare(items, rows, "id", {
        "policy_id": lambda r: r.policy_id, "title": lambda r: r.title, "status": lambda r: r.status,
        "deliveries": lambda r: inbox[r.id].n if r.id in inbox else 0,
        "distinct_recipients": lambda r: inbox[r.id].users if r.id in inbox else 0})


CHECKS = {
    "session": (check_session, "auth_sessions row: user, phone, device"),
    "refresh": (check_refresh, "refresh_tokens row by hash: its session"),
    "logout": (check_logout, "auth_sessions row revoked, reason 'logout'"),
    "checkin": (check_checkin, "checkins row: user, venue"),
    "scan": (check_scan, "access_records per (holder, scene, venue) >= accepted scans"),
    "presentation": (check_presentation, "licence_presentations row: licence, holder, fields, purpose"),
    "presentation_verify": (check_presentation_verify, "licence_presentations: status verified, verifier"),
    "consent": (check_consent, "miniprogram_consents: every scope granted"),
    "mp_user": (check_mp_user, "miniprogram_users row by openid: app, user"),
    "licence": (check_licence, "licences row (last upsert wins): number blind index, vehicle class, valid until"),
    "campaign": (check_campaign, "campaigns row: policy, title, fanned_out; inbox rows = recipients the rule "
                                 "selects (counted independently), each once"),
}


def verify_writes(database_url: str, data_key: str, writes: list[dict]) -> dict:
    from sqlalchemy import create_engine

    from api.config import Config
    engine = create_engine(Config(DATABASE_URL=database_url).finalised().DATABASE_URL)
    by_kind: dict = collections.defaultdict(list)
    for w in writes:
        by_kind[w["kind"]].append(w)
    report = {}
    with engine.connect() as conn:
        for kind in sorted(set(WRITE_KINDS) | set(by_kind)):
            items = by_kind.get(kind, [])
            check, what = CHECKS.get(kind, (None, "no check defined"))
            if check is None:
                report[kind] = {"recorded": len(items), "checked": what, "missing": None, "wrong": None}
                continue
            missing, wrong = check(conn, items, {"data_key": data_key})
            report[kind] = {"recorded": len(items), "checked": what, "missing": len(missing), "wrong": len(wrong),
                            "examples": (missing + wrong)[:5]}
    engine.dispose()
    return report


# --------------------------------------------------------------------------------- the run


def _read_lines(path: Path, what: str) -> list[dict]:
    if not path.exists():
        raise RuntimeError(f"no {what} file at {path}: Locust recorded nothing")
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def run_faults(dep, at, outage: float, recovery: float, timeline: list) -> None:
    faults = [("redis-freeze", dep.redis.freeze, dep.redis.thaw),
              ("db-freeze", dep.pg.freeze, dep.pg.thaw),
              ("redis-crash", dep.redis.kill, dep.redis.start),
              ("db-crash", dep.pg.kill, dep.pg.start)]
    for name, begin, end in faults:
        timeline.append((f"{name} begin", at()))
        begin()
        time.sleep(outage)
        end()   # returns when the store answers again (a restart waits for it)
        timeline.append((f"{name} end", at()))
        time.sleep(recovery)


def wait_for_campaigns(database_url: str, ids: list[int], timeout: float) -> list[int]:
    """Campaigns not fanned out after `timeout` seconds."""
    from sqlalchemy import create_engine

    from api.config import Config
    engine = create_engine(Config(DATABASE_URL=database_url).finalised().DATABASE_URL)
    deadline = time.monotonic() + timeout
    try:
        while True:
            with engine.connect() as conn:
                pending = [r.id for r in _rows(conn, "SELECT id FROM campaigns WHERE id IN :ids AND "
                                                     "status != 'fanned_out'", ids)]
            if not pending or time.monotonic() > deadline:
                return pending
            time.sleep(1)
    finally:
        engine.dispose()


def pending_invalidations(database_url: str, timeout: float) -> int:
    from sqlalchemy import create_engine, text

    from api.config import Config
    engine = create_engine(Config(DATABASE_URL=database_url).finalised().DATABASE_URL)
    deadline = time.monotonic() + timeout
    try:
        while True:
            with engine.connect() as conn:
                n = conn.execute(text("SELECT count(*) FROM pending_invalidations")).scalar()
            if not n or time.monotonic() > deadline:
                return n
            time.sleep(1)
    finally:
        engine.dispose()


def _held_jobs(r) -> dict:
    """{ack set key: [(actor, args), ...]}: jobs workers took and have not acknowledged."""
    held = {}
    for key in r.scan_iter("ssb-jobs:__acks__.*"):
        queue = key.decode().split("__acks__.", 1)[1].split(".", 1)[1]
        jobs = []
        for mid in r.smembers(key):
            raw = r.hget(f"ssb-jobs:{queue}.msgs", mid)
            msg = json.loads(raw) if raw else {}
            jobs.append((msg.get("actor_name", "?").rsplit(".", 1)[-1], msg.get("args")))
        held[key.decode()] = jobs
    return held


def kill_worker_mid_job(dep, host: str, operator_token: str, relay) -> dict:
    """A campaign to everyone (many chunk jobs). Once the worker holds campaign jobs it has not
    acknowledged, freeze it (to see what it holds), then SIGKILL it and start another worker:
    Dramatiq must deliver the dead worker's jobs again (after its heartbeat times out), and the
    campaign must finish with every recipient once. The relay loop, which would re-enqueue an
    unfinished campaign by itself, is stopped first: only redelivery can finish it."""
    import httpx
    import redis as redis_lib
    from sqlalchemy import create_engine, text

    from api.config import Config
    stack.stop_group(relay)
    r = redis_lib.Redis.from_url(dep.env["REDIS_URL"])
    engine = create_engine(Config(DATABASE_URL=dep.env["DATABASE_URL"]).finalised().DATABASE_URL)
    auth = {"Authorization": f"Bearer {operator_token}"}
    with httpx.Client(base_url=host, timeout=10) as http:
        policy = http.post("/v1/admin/policies", headers=auth, json={
            "title": "故障测试: 全员", "body": "worker kill", "topic": "general", "rule": ALL_DISTRICTS_RULE})
        policy.raise_for_status()
        campaign = http.post(f"/v1/admin/policies/{policy.json()['id']}/campaigns", headers=auth)
        campaign.raise_for_status()
    cid = campaign.json()["campaign_id"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(
            actor == "run_chunk" and args and args[0] == cid for jobs in _held_jobs(r).values() for actor, args in jobs):
        time.sleep(0.002)
    stack.signal_tree(dep.worker, signal.SIGSTOP)
    held = _held_jobs(r)
    chunk_jobs = [args for jobs in held.values() for actor, args in jobs if actor == "run_chunk" and args[0] == cid]
    with engine.connect() as conn:
        done = {row.seq for row in conn.execute(text(
            "SELECT seq FROM campaign_chunks WHERE campaign_id = :c AND done"), {"c": cid})}
    stack.signal_tree(dep.worker, signal.SIGKILL)
    dep.worker.wait(timeout=15)
    killed_at = time.monotonic()
    dep.start_worker()
    left = wait_for_campaigns(dep.env["DATABASE_URL"], [cid], timeout=120)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(r.exists(k) and r.scard(k) for k in held):
        time.sleep(0.5)
    with engine.connect() as conn:
        chunks = conn.execute(text("SELECT count(*), sum(CASE WHEN done THEN 1 ELSE 0 END) FROM campaign_chunks "
                                   "WHERE campaign_id = :c"), {"c": cid}).first()
        n, users = conn.execute(text("SELECT count(*), count(DISTINCT user_id) FROM inbox_messages "
                                     "WHERE campaign_id = :c"), {"c": cid}).first()
        expected = expected_recipients(conn, None)
    engine.dispose()
    result = {"campaign_id": cid, "jobs_held_at_kill": {k.rsplit(".", 1)[-1]: v for k, v in held.items()},
              "chunk_jobs_held_not_done": sorted(args[1] for args in chunk_jobs if args[1] not in done),
              "chunks": chunks[0], "chunks_done": int(chunks[1] or 0), "seconds_to_finish_after_kill":
              round(time.monotonic() - killed_at, 1), "deliveries": n, "distinct_recipients": users,
              "expected_recipients": expected, "fanned_out": not left,
              "dead_worker_jobs_left": sum(r.scard(k) for k in held if r.exists(k))}
    problems = []
    if not result["chunk_jobs_held_not_done"]:
        problems.append("the worker held no unfinished chunk job when killed: nothing was tested")
    if left or result["chunks_done"] != result["chunks"]:
        problems.append("the campaign did not finish after the worker was killed")
    if result["dead_worker_jobs_left"]:
        problems.append("the dead worker's jobs were not delivered again")
    if n != expected or users != expected:
        problems.append(f"deliveries {n} (distinct {users}) != recipients {expected}")
    result["violations"] = [f"worker kill: {p}" for p in problems]
    return result


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m loadtests.faults", description=__doc__.split("\n\n")[0])
    p.add_argument("--users", type=int, default=30)
    p.add_argument("--writers", type=int, default=2, help="FaultWriter users (every kind of write in turn)")
    p.add_argument("--residents", type=int, default=3000)
    p.add_argument("--baseline", type=float, default=15)
    p.add_argument("--outage", type=float, default=20)
    p.add_argument("--recovery", type=float, default=20)
    p.add_argument("--timeout", type=float, default=5, help="client timeout: a longer wait is a hang")
    p.add_argument("--min-writes", type=int, default=3, help="per kind and checked phase (campaigns: 1)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--skip-worker-kill", action="store_true")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory (logs)")
    return p


def main(argv=None) -> int:
    stack.exit_on_sigterm()
    a = build_parser().parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="ssb-faults-"))
    os.chmod(workdir, 0o755)
    dep = Deployment(workdir, database_url=None, redis_url=None, sqlite=False, workers=a.workers, durable=True,
                     relay=True, extra_env={"CAMPAIGN_CHUNK_SIZE": "100", "BROKER_HEARTBEAT_TIMEOUT_MS": "5000",
                                            "BROKER_MAINTENANCE_CHANCE": "200000"})
    events_file, writes_file = workdir / "events.jsonl", workdir / "writes.jsonl"
    prefix = RESULTS / "faults"
    timeline: list[tuple[str, float]] = []
    try:
        dep.start()
        stack.seed(dep.env, workdir / "seed", residents=a.residents, log=workdir / "seed.log",
                   verified=a.residents)
        meta = json.loads((workdir / "seed" / "meta.json").read_text())
        env = dep.env | {"SSB_SEED_DIR": str(workdir / "seed"), "SSB_SMS_FILE": str(workdir / "sms.jsonl"),
                         "SSB_EVENTS_FILE": str(events_file), "SSB_WRITES_FILE": str(writes_file),
                         "SSB_REQUEST_TIMEOUT": str(a.timeout), "SSB_FAULT_WRITERS": str(a.writers)}
        args = [str(stack.BIN / "locust"), "-f", str(stack.ROOT / "loadtests" / "locustfile.py"), "--headless",
                "--host", dep.host, "--csv", str(prefix), "--csv-full-history", "--only-summary",
                "--loglevel", "WARNING", "--users", str(a.users + a.writers), "--spawn-rate", str(a.users),
                "--run-time", "3600s", "--stop-timeout", "5", "--html", f"{prefix}_report.html"]
        loc = subprocess.Popen(args, cwd=stack.ROOT, env=env, stdout=open(workdir / "locust.log", "ab"),
                               stderr=subprocess.STDOUT, start_new_session=True)
        start = time.time()

        def at() -> float:
            return round(time.time() - start, 2)

        time.sleep(a.baseline)
        run_faults(dep, at, a.outage, a.recovery, timeline)
        end = at()
        loc.send_signal(signal.SIGTERM)
        loc.wait(timeout=60)
        plan = phases_from(timeline, end)
        events = _read_lines(events_file, "events")
        writes = _read_lines(writes_file, "writes")
        result: dict = classify(events, start, plan)
        result.update(plan=plan, timeline=timeline, settings={"postgres": "fsync, synchronous_commit, "
                      "full_page_writes on (defaults)", "redis": "appendonly yes, appendfsync everysec",
                      "client_timeout_s": a.timeout})
        result["writes_per_phase"] = write_counts(writes, start, plan)
        campaigns = [w["id"] for w in writes if w["kind"] == "campaign"]
        result["campaigns_not_fanned_out"] = wait_for_campaigns(dep.env["DATABASE_URL"], campaigns, timeout=120)
        result["pending_invalidations_at_end"] = pending_invalidations(dep.env["DATABASE_URL"], timeout=30)
        result["invalidations_recorded"] = sum(
            (workdir / name).read_text(errors="replace").count("recorded for later")
            for name in ("servers.log", "worker.log", "relay.log") if (workdir / name).exists())
        result["writes"] = verify_writes(dep.env["DATABASE_URL"], dep.env["DATA_KEY"], writes)
        relay = next((p for p in dep.procs if p.args and "relay" in p.args), None)
        result["worker_kill"] = None if a.skip_worker_kill else \
            kill_worker_mid_job(dep, dep.host, meta["operator"]["access_token"], relay)
    finally:
        dep.stop()
    violations = answer_violations(result, a.timeout)
    violations += minimum_violations(result["writes_per_phase"], result["plan"], a.min_writes)
    for kind, w in result["writes"].items():
        if w["missing"] or w["wrong"]:
            violations.append(f"writes: {kind}: {w['missing']} missing, {w['wrong']} different, of "
                              f"{w['recorded']}: {w['examples']}")
    if result["campaigns_not_fanned_out"]:
        violations.append(f"campaigns not fanned out: {result['campaigns_not_fanned_out']}")
    if result["pending_invalidations_at_end"]:
        violations.append(f"{result['pending_invalidations_at_end']} cache invalidations still pending")
    if result["worker_kill"]:
        violations += result["worker_kill"]["violations"]
    result["violations"] = violations
    (RESULTS / "faults_report.json").write_text(json.dumps(result, indent=1, ensure_ascii=False, default=str))
    print_report(result)
    for v in violations:
        print(f"VIOLATION: {v}", file=sys.stderr)
    if a.keep:
        print(f"kept {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if violations else 0


def print_report(result: dict) -> None:
    print("phases (s from start):", ", ".join(f"{n} {a:.0f}-{b:.0f}" for n, a, b in result["plan"]))
    for phase, counts in result["counts"].items():
        total = sum(counts.values())
        print(f"  {phase:22} {total:6} requests, slowest {result['slowest_ms'][phase] / 1000:.2f} s: "
              + ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])))
    print("writes checked (per kind: recorded, missing, different; accepted per phase; what is compared):")
    for kind, w in result["writes"].items():
        per_phase = result["writes_per_phase"].get(kind, {})
        print(f"  {kind:20} {w['recorded']:5} {w['missing']} {w['wrong']}  {dict(per_phase)}  [{w['checked']}]")
    print(f"cache invalidations recorded during outages: {result['invalidations_recorded']}, "
          f"pending at the end: {result['pending_invalidations_at_end']}")
    if result.get("worker_kill"):
        print("worker kill:", json.dumps({k: v for k, v in result["worker_kill"].items() if k != "violations"},
                                         ensure_ascii=False))


if __name__ == "__main__":
    sys.exit(main())
