"""Benchmark harness: our app vs a bare Flask app under the same gunicorn settings, driven in
turns by wrk on loopback; plus in-process micro-benchmarks. See bench/README.md."""
from __future__ import annotations

import argparse
import base64
import importlib
import json
import os
import pkgutil
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path

import httpx

from bench.types import BenchContext, MicroResult, Scenario

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not become ready")


def gunicorn(app_spec: str, port: int, env: dict, log: Path, workers: int) -> subprocess.Popen:
    # Same settings for ours and bare: sync workers, no access log, loopback.
    return subprocess.Popen([str(BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
                             "--backlog", "2048", "--log-level", "warning", app_spec],
                            cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


def wrk_script(scenario: Scenario, path: Path, *, bare: bool) -> Path:
    lines = [f'wrk.method = "{scenario.method}"']
    headers = dict(scenario.headers)
    if scenario.body is not None or scenario.bodies:
        headers.setdefault("Content-Type", "application/json")
    for k, v in headers.items():
        lines.append(f"wrk.headers[ {lua_string(k)} ] = {lua_string(v)}")
    if scenario.body is not None:
        lines.append(f"wrk.body = {lua_string(json.dumps(scenario.body))}")
    bodies = scenario.bodies or []
    lines.append("BODIES = {" + ",".join(lua_string(json.dumps(b)) for b in bodies) + "}")
    lines.append(f"EXPECT = {200 if bare else scenario.expect_status}")
    lines.append(f'dofile("{ROOT / "bench" / "wrk_report.lua"}")')
    path.write_text("\n".join(lines) + "\n")
    return path


def run_wrk(url: str, script: Path, seconds: int, connections: int) -> dict:
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
                         capture_output=True, text=True, timeout=seconds + 60)
    for line in out.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            data = json.loads(line[len("BENCH_JSON "):])
            non2xx = 0
            for l2 in out.stdout.splitlines():
                if "Non-2xx or 3xx responses" in l2:
                    non2xx = int(l2.split(":")[1])
            data["rps"] = data["requests"] / (data["duration_us"] / 1e6)
            data["non2xx"] = non2xx
            return data
    raise RuntimeError(f"wrk failed: {out.stdout}\n{out.stderr}")


def compare(scenario: Scenario, ours: str, bare: str, workdir: Path, *, seconds: int, rounds: int,
            connections: int) -> dict:
    bare_url = bare + "/bare"
    ours_url = ours + scenario.path
    runs: dict[str, list[dict]] = {"ours": [], "bare": []}
    for _ in range(rounds):       # in turns, so noise hits both alike
        # Scripts are written per round: one-time bodies (refresh tokens, presentations) are
        # read afresh, so no round replays what an earlier one consumed.
        if callable(scenario.bodies):
            round_scenario = replace(scenario, bodies=scenario.bodies())
        else:
            round_scenario = scenario
        ours_script = wrk_script(round_scenario, workdir / "ours.lua", bare=False)
        bare_script = wrk_script(round_scenario, workdir / "bare.lua", bare=True)
        runs["bare"].append(run_wrk(bare_url, bare_script, seconds, connections))
        runs["ours"].append(run_wrk(ours_url, ours_script, seconds, connections))

    def agg(rs):
        return {"rps": sum(r["requests"] for r in rs) / sum(r["duration_us"] / 1e6 for r in rs),
                "p50_ms": statistics.median(r["p50_us"] for r in rs) / 1000,
                "p95_ms": statistics.median(r["p95_us"] for r in rs) / 1000,
                "unexpected": sum(r["non2xx"] for r in rs)}

    result = {"name": scenario.name, "ours": agg(runs["ours"]), "bare": agg(runs["bare"])}
    result["ratio"] = result["ours"]["rps"] / result["bare"]["rps"]
    return result


class Stack:
    """Our app (gunicorn) + bare Flask (gunicorn), with data created through the real API."""

    def __init__(self, workdir: Path, workers: int) -> None:
        self.workdir = workdir
        self.sms = workdir / "sms.jsonl"
        self.env = dict(os.environ)
        self.env.update({
            "INSTANCE_DIR": str(workdir / "instance"), "SMS_BACKEND": f"file:{self.sms}",
            # Route limits off and one resident's presentation limit raised: the bench drives a
            # single user far beyond what a person does, to measure the endpoint's cost.
            "RATELIMIT_ENABLED": "false", "LICENCE_PRESENTATIONS_PER_MINUTE": "1000000", "LOG_LEVEL": "WARNING",
            "DATA_KEY": base64.b64encode(os.urandom(32)).decode(), "SECRET_KEY": "bench",
            "PYTHONPATH": str(ROOT),
        })
        if os.environ.get("BENCH_DATABASE_URL"):
            self.env["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
        if os.environ.get("BENCH_REDIS_URL"):
            self.env["REDIS_URL"] = os.environ["BENCH_REDIS_URL"]
        else:
            from api import embedded_redis
            self.env["REDIS_URL"] = embedded_redis.ensure_running(workdir / "instance")
        self.workers = workers
        self.procs: list[subprocess.Popen] = []
        self._phone = 13700000000

    def start(self) -> None:
        subprocess.run([str(BIN / "alembic"), "upgrade", "heads"], cwd=ROOT, env=self.env, check=True,
                       capture_output=True)
        self.ours_port, self.bare_port = free_port(), free_port()
        log = self.workdir / "servers.log"
        self.procs.append(gunicorn("wsgi:app", self.ours_port, self.env, log, self.workers))
        self.procs.append(gunicorn("bench.bare_app:app", self.bare_port, self.env, log, self.workers))
        self.ours, self.bare = f"http://127.0.0.1:{self.ours_port}", f"http://127.0.0.1:{self.bare_port}"
        wait_ready(self.ours + "/healthz")
        wait_ready(self.bare + "/bare")
        self.http = httpx.Client(base_url=self.ours, timeout=30)

    def stop(self) -> None:
        for p in self.procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in self.procs:
            p.wait(timeout=15)
        if not os.environ.get("BENCH_REDIS_URL"):
            from api import embedded_redis
            embedded_redis.stop(self.workdir / "instance")

    def flask_cli(self, *args: str) -> str:
        out = subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=self.env,
                             capture_output=True, text=True)
        if out.returncode:
            raise RuntimeError(out.stderr)
        return out.stdout

    def next_phone(self) -> str:
        self._phone += 1
        return str(self._phone)

    def login(self, phone: str | None = None, device_id: str = "bench") -> dict:
        phone = phone or self.next_phone()
        r = self.http.post("/v1/auth/otp", json={"phone": phone})
        r.raise_for_status()
        code = None
        for line in reversed(self.sms.read_text().splitlines()):
            msg = json.loads(line)
            if msg["phone"].endswith(phone[-11:]):
                code = msg["code"]
                break
        r = self.http.post("/v1/auth/login", json={"phone": phone, "otp": code, "device_id": device_id})
        r.raise_for_status()
        return r.json() | {"phone": phone}

    def operator_token(self) -> str:
        if not hasattr(self, "_operator"):
            phone = self.next_phone()
            self.flask_cli("create-admin", "--phone", phone)
            self._operator = self.login(phone)["access_token"]
        return self._operator

    def context(self) -> BenchContext:
        return BenchContext(base_url=self.ours, http=self.http, login=self.login,
                            operator_token=self.operator_token, flask_cli=self.flask_cli, env=self.env)


def discover(package: str) -> list:
    mod = importlib.import_module(package)
    return [importlib.import_module(f"{package}.{m.name}") for m in pkgutil.iter_modules(mod.__path__)]


def print_table(results: list[dict]) -> None:
    print(f"\n{'endpoint':44} {'ours rps':>9} {'p50':>7} {'p95':>7} | {'bare rps':>9} {'p50':>7} {'p95':>7} | "
          f"{'ours/bare':>9}  unexpected")
    for r in results:
        o, b = r["ours"], r["bare"]
        print(f"{r['name']:44} {o['rps']:9.0f} {o['p50_ms']:6.1f}ms {o['p95_ms']:5.1f}ms | {b['rps']:9.0f} "
              f"{b['p50_ms']:6.1f}ms {b['p95_ms']:5.1f}ms | {r['ratio']:9.2f}  {o['unexpected']}")


def print_micro(results: list[MicroResult]) -> None:
    print(f"\n{'micro-benchmark':44} {'ours':>12} {'baseline':>30} {'ratio':>7} {'aim':>5}")
    for m in results:
        aim = f"{m.aim:.2f}" if m.aim else ""
        print(f"{m.name:44} {m.ours_per_s:9.0f} {m.unit:>3}  {m.baseline_name[:18]:>18} {m.baseline_per_s:9.0f} "
              f"{m.ratio:7.2f} {aim:>5}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short runs (smoke)")
    parser.add_argument("--seconds", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", default="", help="substrings of scenario / micro names to run, comma-separated")
    parser.add_argument("--hot", action="store_true", help="only the six hot routes of issue 14")
    parser.add_argument("--no-http", action="store_true", help="micro-benchmarks only")
    parser.add_argument("--no-micro", action="store_true")
    args = parser.parse_args(argv)
    wanted = [w for w in args.only.split(",") if w] + (list(HOT_ROUTES) if args.hot else [])
    seconds = args.seconds or (3 if args.quick else 8)
    rounds = args.rounds or (2 if args.quick else 3)
    if not shutil.which("wrk") and not args.no_http:
        print("wrk is not installed: `apt-get install wrk` (Debian) — or run with --no-http", file=sys.stderr)
        return 2

    results: list[dict] = []
    micro: list[MicroResult] = []
    workdir = Path(tempfile.mkdtemp(prefix="ssb-bench-"))
    if not args.no_http:
        stack = Stack(workdir, args.workers)
        try:
            stack.start()      # inside: a server that never gets ready still has its Redis stopped
            ctx = stack.context()
            scenarios: list[Scenario] = []
            expected = int(seconds * 1000)   # per round: one refresh token per request (ours stays well below 1000/s)
            wants_refresh = not wanted or any(w in "POST /v1/auth/refresh" for w in wanted)
            scenarios += foundation_scenarios_for(stack, ctx, expected if wants_refresh else 1)
            for module in discover("bench.scenarios"):
                if hasattr(module, "scenarios"):
                    scenarios += module.scenarios(ctx)
            for sc in scenarios:
                if wanted and not _selected(sc.name, wanted):
                    continue
                print(f"running {sc.name} ...", file=sys.stderr, flush=True)
                results.append(compare(sc, stack.ours, stack.bare, workdir, seconds=seconds, rounds=rounds,
                                       connections=args.connections))
        finally:
            stack.stop()
        print_table(results)
    if not args.no_micro:
        for module in discover("bench.micro"):
            if hasattr(module, "run"):
                for m in module.run(args.quick):
                    if not wanted or _selected(m.name, wanted):
                        micro.append(m)
        print_micro(micro)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps({"http": results, "micro": [asdict(m) | {"ratio": m.ratio}
                                                                            for m in micro]}, indent=2))
    return 0


# The routes carrying most of the modelled peak (issue 14), by exact scenario name.
HOT_ROUTES = ("GET /v1/me", "POST /v1/auth/refresh", "GET /v1/codes/suishen", "POST /v1/verify (general)",
              "GET /v1/inbox", "GET /v1/inbox/unread-count")


def _selected(name: str, wanted: list[str]) -> bool:
    return any(name == w if w in HOT_ROUTES else w in name for w in wanted)


def foundation_scenarios_for(stack: Stack, ctx: BenchContext, refresh_tokens: int) -> list[Scenario]:
    me = ctx.login()

    def fresh_refresh_bodies() -> list[dict]:
        return [{"refresh_token": t} for t in mint_refresh_tokens(stack, refresh_tokens)]

    return [
        Scenario("GET /v1/me", "GET", "/v1/me", headers={"Authorization": f"Bearer {me['access_token']}"}),
        Scenario("POST /v1/auth/refresh", "POST", "/v1/auth/refresh", bodies=fresh_refresh_bodies),
    ]


def mint_refresh_tokens(stack: Stack, count: int) -> list[str]:
    """Sessions created in-process through the sessions service, on the same stores."""
    code = ("import json,sys,time\n"
            "from wsgi import create_app\n"
            "from api.identity.sessions import get_or_create_user, start_session\n"
            "app = create_app()\n"
            "out = []\n"
            "with app.app_context():\n"
            "    now = int(time.time())\n"
            "    user = get_or_create_user('+8613600000000', now=now)\n"
            f"    for i in range({count}):\n"
            "        out.append(start_session(user, device_id=f'bench-{i}', user_agent='bench', now=now).refresh_token)\n"
            "json.dump(out, sys.stdout)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=stack.env, capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout)


if __name__ == "__main__":
    sys.exit(main())
