"""Scale-out: two API instances behind nginx, a Redis Cluster of three masters, PostgreSQL.

    python -m loadtests.scaleout [--residents 5000] [--users 80] [--seconds 60] [--workers 2]

Stores and processes (all loopback): PostgreSQL (private cluster); Redis Cluster 127.0.0.1:7001-7003
(`redis-cli --cluster create ... --cluster-replicas 0`) as REDIS_URL=redis+cluster://127.0.0.1:7001
(rate limits, replay sets, deny-lists, caches); one single-node redis-server as BROKER_URL, because
Dramatiq's Redis broker runs multi-key Lua scripts that Redis Cluster refuses (CROSSSLOT);
two gunicorn instances (A, B), each with its own Dramatiq worker; nginx (loadtests/nginx.conf.template).

Proves, against the instances directly:
  1. a 随申码 issued through A verifies through B;
  2. replay protection holds across instances (the same transport code again, through A: 409);
  3. a rate limit holds across instances (licence presentations, 30/minute per resident,
     requests alternating A/B: exactly 30 accepted, then 429);
  4. jobs are processed by either worker (a campaign started through A with only B's worker
     running completes, and one started through B with only A's worker running).
Then measures Locust throughput through one instance, and through nginx with both (steps shape),
writing loadtests/results/scale1_* and scale2_* for loadtests.capacity.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from loadtests import stack
from loadtests.run import RESULTS, aggregated

TEMPLATE = Path(__file__).with_name("nginx.conf.template")


def nginx(directory: Path, port: int, upstreams: list[int]) -> subprocess.Popen:
    directory.mkdir(parents=True, exist_ok=True)
    servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=0;" for p in upstreams)
    conf = TEMPLATE.read_text().replace("@@DIR@@", str(directory)).replace("@@PORT@@", str(port)) \
        .replace("@@SERVERS@@", servers)
    if os.geteuid() != 0:
        conf = conf.replace("user root;\n", "")
    (directory / "nginx.conf").write_text(conf)
    proc = subprocess.Popen(["nginx", "-c", str(directory / "nginx.conf"), "-p", str(directory)],
                            stdout=subprocess.DEVNULL, stderr=open(directory / "nginx.out", "ab"),
                            start_new_session=True)
    stack.wait_http(f"http://127.0.0.1:{port}/healthz")
    return proc


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def prove(a: str, b: str, seed_dir: Path, workers: dict, env: dict, workdir: Path) -> dict:
    import csv
    meta = json.loads((seed_dir / "meta.json").read_text())
    residents = list(csv.DictReader(open(seed_dir / "residents.csv")))
    staff = meta["staff"][0]
    out: dict = {}
    A, B = httpx.Client(base_url=a, timeout=10), httpx.Client(base_url=b, timeout=10)

    # 1 + 2: issued on A, verified on B, replayed on A.
    r = residents[0]
    code = A.get("/v1/codes/suishen", params={"scene": "transport"}, headers=bearer(r["access_token"])).json()
    payload = code["codes"][0]["payload"]
    v1 = B.post("/v1/verify", json={"payload": payload, "venue_id": staff["venue_id"]},
                headers=bearer(staff["access_token"]))
    v2 = A.post("/v1/verify", json={"payload": payload, "venue_id": staff["venue_id"]},
                headers=bearer(staff["access_token"]))
    out["code_issued_A_verified_B"] = v1.status_code == 200
    out["replay_on_A_refused"] = v2.status_code == 409 and v2.json().get("error") == "CODE_REPLAYED"

    # 3: a per-resident limit shared by both instances: mini-program login codes, 30/minute per
    # resident (a use-case limit, on even with RATELIMIT_ENABLED=false), requests alternating A/B.
    holder = residents[1]
    appid = meta["miniprograms"][0]["appid"]
    statuses = []
    for i in range(32):
        c = (A, B)[i % 2]
        statuses.append(c.post(f"/v1/mp/{appid}/login-code", headers=bearer(holder["access_token"])).status_code)
    out["rate_limit_statuses"] = {str(k): statuses.count(k) for k in sorted(set(statuses))}
    out["rate_limit_across_instances"] = statuses[:30].count(201) == 30 and statuses[30:] == [429, 429]

    # 4: jobs from either instance processed by either worker.
    op = meta["operator"]["access_token"]
    rule = {"==": [{"var": "district"}, meta["campaign_district"]]}

    def campaign_via(client: httpx.Client) -> int:
        pol = client.post("/v1/admin/policies", headers=bearer(op),
                          json={"title": "扩容验证", "body": "正文", "topic": "general", "rule": rule}).json()
        return client.post(f"/v1/admin/policies/{pol['id']}/campaigns", headers=bearer(op)).json()["campaign_id"]

    def done(client: httpx.Client, cid: int, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            st = client.get(f"/v1/admin/campaigns/{cid}", headers=bearer(op)).json()
            if st.get("status") == "done":
                return st
            time.sleep(0.5)
        return st

    stack.stop_group(workers["A"])
    st1 = done(B, campaign_via(A))
    workers["A"] = stack.dramatiq_worker(env, workdir / "worker-A.log")
    stack.stop_group(workers["B"])
    st2 = done(A, campaign_via(B))
    workers["B"] = stack.dramatiq_worker(env, workdir / "worker-B.log")
    out["campaign_via_A_done_by_worker_B"] = st1
    out["campaign_via_B_done_by_worker_A"] = st2
    out["jobs_by_either_worker"] = st1.get("status") == "done" and st2.get("status") == "done"
    return out


def main(argv=None) -> int:
    stack.exit_on_sigterm()
    p = argparse.ArgumentParser(prog="python -m loadtests.scaleout", description=__doc__.split("\n\n")[0])
    p.add_argument("--residents", type=int, default=5000)
    p.add_argument("--users", type=int, default=80, help="users at the top step")
    p.add_argument("--seconds", type=int, default=60, help="each throughput run")
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers per instance")
    p.add_argument("--skip-throughput", action="store_true")
    a = p.parse_args(argv)
    for port in (7001, 7002, 7003):
        try:
            stack.wait_port(port, timeout=0.2)
            print(f"port {port} is taken: the Redis Cluster needs 7001-7003", file=sys.stderr)
            return 2
        except RuntimeError:
            pass
    RESULTS.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="ssb-scaleout-"))
    os.chmod(workdir, 0o755)
    procs: list = []
    pg = stack.Postgres(workdir / "pg")
    cluster: list = []
    broker = stack.RedisServer(workdir / "broker")
    report: dict = {}
    try:
        pg.init()
        cluster = stack.redis_cluster(workdir / "cluster")
        broker.start()
        env = stack.app_env(workdir, database_url=pg.url, redis_url="redis+cluster://127.0.0.1:7001",
                            broker_url=broker.url)
        stack.migrate(env)
        ports = {"A": stack.free_port(), "B": stack.free_port()}
        api = {k: stack.gunicorn(env, port, workdir / f"api-{k}.log", workers=a.workers) for k, port in ports.items()}
        workers = {k: stack.dramatiq_worker(env, workdir / f"worker-{k}.log") for k in ports}
        procs += list(api.values())
        stack.seed(env, workdir / "seed", residents=a.residents, log=workdir / "seed.log")
        hosts = {k: f"http://127.0.0.1:{p}" for k, p in ports.items()}
        report["proofs"] = prove(hosts["A"], hosts["B"], workdir / "seed", workers, env, workdir)
        print(json.dumps(report["proofs"], indent=1, ensure_ascii=False), flush=True)
        lb_port = stack.free_port()
        lb = nginx(workdir / "nginx", lb_port, list(ports.values()))
        procs.append(lb)
        if not a.skip_throughput:
            extra = {"SSB_SEED_DIR": str(workdir / "seed"), "SSB_SMS_FILE": str(workdir / "sms.jsonl"),
                     "SSB_SHAPE_USERS": str(a.users), "SSB_SHAPE_SECONDS": str(a.seconds), "SSB_SHAPE_STEPS": "4"}
            for name, host in (("scale1", hosts["A"]), ("scale2", f"http://127.0.0.1:{lb_port}")):
                stack.locust(env, host, RESULTS / name, seconds=a.seconds, users=a.users, spawn_rate=a.users,
                             shape="steps", extra_env=extra)
                report[name] = aggregated(RESULTS / f"{name}_stats.csv")
                print(name, json.dumps(report[name]), flush=True)
    finally:
        for w in (locals().get("workers") or {}).values():
            stack.stop_group(w)
        for proc in reversed(procs):
            stack.stop_group(proc)
        broker.stop()
        for n in cluster:
            n.stop()
        pg.stop()
    (RESULTS / "scaleout_report.json").write_text(json.dumps(report, indent=1, ensure_ascii=False, default=str))
    shutil.rmtree(workdir, ignore_errors=True)
    proofs = report.get("proofs", {})
    ok = all(proofs.get(k) for k in ("code_issued_A_verified_B", "replay_on_A_refused", "rate_limit_across_instances",
                                       "jobs_by_either_worker"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
