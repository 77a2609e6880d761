"""In-process profile of the hot routes: one app (SQLite + embedded Redis in a temp dir), each
route called N times straight through WSGI (no HTTP server), next to a bare Flask app measured
the same way in the same run.

    python -m bench.profile                      # µs per request, ours and bare, per route
    python -m bench.profile --only inbox -n 3000
    python -m bench.profile --cprofile me        # top functions (cumulative) of one route
    PROFILE_GC_FREEZE=1 python -m bench.profile  # with gc.freeze() after start-up (measured: no gain)

Only the ratios and the differences between runs of one machine mean anything.
"""
from __future__ import annotations

import argparse
import base64
import cProfile
import io
import json
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

from werkzeug.test import EnvironBuilder

ROOT = Path(__file__).resolve().parent.parent


def _environ(method: str, path: str, headers: dict | None = None, body: dict | None = None) -> tuple[dict, bytes]:
    raw = json.dumps(body).encode() if body is not None else b""
    builder = EnvironBuilder(method=method, path=path, headers=headers or {},
                             data=raw or None, content_type="application/json" if raw else None)
    env = builder.get_environ()
    env["REMOTE_ADDR"] = "127.0.0.1"
    return env, raw


def _call(app, env: dict, raw: bytes) -> int:
    environ = dict(env)
    environ["wsgi.input"] = io.BytesIO(raw)
    status = []

    def start_response(s, _headers, _exc=None):
        status.append(s)

    body = app(environ, start_response)
    for _ in body:
        pass
    if hasattr(body, "close"):
        body.close()
    return int(status[0].split()[0])


class Route:
    def __init__(self, name: str, method: str, path: str, headers: dict | None = None,
                 bodies=None, expect: int = 200) -> None:
        self.name, self.method, self.path, self.headers = name, method, path, headers or {}
        self.bodies = bodies          # None, or a callable n -> list of bodies
        self.expect = expect

    def requests(self, n: int) -> list[tuple[dict, bytes]]:
        if self.bodies is None:
            one = _environ(self.method, self.path, self.headers)
            return [one] * n
        return [_environ(self.method, self.path, self.headers, b) for b in self.bodies(n)]


def build_app(workdir: Path):
    from api.config import Config
    from wsgi import create_app
    # BENCH_DATABASE_URL / BENCH_REDIS_URL (as for `python -m bench`): PostgreSQL and redis-server
    # instead of SQLite and the embedded Redis; use an empty database, it is migrated here.
    stores = {k: v for k, v in (("DATABASE_URL", os.environ.get("BENCH_DATABASE_URL")),
                                ("REDIS_URL", os.environ.get("BENCH_REDIS_URL"))) if v}
    cfg = Config(INSTANCE_DIR=str(workdir), SECRET_KEY="profile", SMS_BACKEND=f"file:{workdir / 'sms.jsonl'}",
                 DATA_KEY=base64.b64encode(os.urandom(32)).decode(), RATELIMIT_ENABLED=False,
                 LOG_LEVEL="WARNING", **stores).finalised()
    import subprocess

    from bench.__main__ import BIN
    env = dict(os.environ, INSTANCE_DIR=str(workdir), DATABASE_URL=cfg.DATABASE_URL, PYTHONPATH=str(ROOT))
    subprocess.run([str(BIN / "alembic"), "upgrade", "heads"], cwd=ROOT, env=env, check=True, capture_output=True)
    return create_app(cfg), workdir / "sms.jsonl"


def _login(client, sms: Path, phone: str, device_id: str = "prof") -> dict:
    r = client.post("/v1/auth/otp", json={"phone": phone})
    assert r.status_code == 202, r.json
    e164 = "+86" + phone[-11:]
    code = next(json.loads(line)["code"] for line in reversed(sms.read_text().splitlines())
                if json.loads(line)["phone"] == e164)
    r = client.post("/v1/auth/login", json={"phone": phone, "otp": code, "device_id": device_id})
    assert r.status_code == 200, r.json
    return r.json


def seed(app, sms: Path) -> list[Route]:
    from api.extensions import db
    from api.identity.models import User
    from api.identity.sessions import get_or_create_user, start_session
    from api.notifications.inbox import deliver_to_user
    from api.unit_of_work import commit

    client = app.test_client()
    resident = _login(client, sms, "13766660001")
    staff = _login(client, sms, "13766660002", "scanner")
    with app.app_context():
        user = get_or_create_user("+8613766660003", now=int(time.time()))
        user.roles = ["resident", "operator"]
        commit()
        pair = start_session(user, device_id="op", user_agent="p", now=int(time.time()))
    operator = {"Authorization": "Bearer " + pair.access_token}
    venue = client.post("/v1/admin/venues", headers=operator, json={
        "name": "人民广场站", "address": "人民大道 1 号", "district": "黄浦区", "kind": "transit"}).json
    r = client.post(f"/v1/admin/venues/{venue['id']}/staff", headers=operator,
                    json={"phone": "13766660002", "scenes": ["general", "transport"]})
    assert r.status_code == 200, r.json
    res_h = {"Authorization": "Bearer " + resident["access_token"]}
    staff_h = {"Authorization": "Bearer " + staff["access_token"]}
    with app.app_context():
        uid = db.session.query(User.id).filter_by(phone="+8613766660001").scalar()
        for i in range(25):
            deliver_to_user(uid, category="policy", title=f"政策 {i}", body="黄浦区60岁以上户籍老人" * 3,
                            deep_link="ssb://policies/1", title_en=f"Policy {i}", body_en="Seniors", now=int(time.time()))
        commit()

    def codes(n):
        code = client.get("/v1/codes/suishen?scene=general", headers=res_h).json["codes"][0]["payload"]
        return [{"payload": code, "venue_id": venue["id"]}] * n

    def refresh_tokens(n):
        with app.app_context():
            user = get_or_create_user("+8613600000000", now=int(time.time()))
            now = int(time.time())
            return [{"refresh_token": start_session(user, device_id=f"p-{i}", user_agent="p", now=now).refresh_token}
                    for i in range(n)]

    return [
        Route("healthz", "GET", "/healthz"),     # the app's fixed cost per request (no auth, no store)
        Route("me", "GET", "/v1/me", res_h),
        Route("codes", "GET", "/v1/codes/suishen?scene=general", res_h),
        Route("unread", "GET", "/v1/inbox/unread-count", res_h),
        Route("inbox", "GET", "/v1/inbox?limit=20", res_h),
        Route("verify", "POST", "/v1/verify", staff_h, bodies=codes),
        Route("refresh", "POST", "/v1/auth/refresh", {}, bodies=refresh_tokens),
    ]


def bare_routes() -> dict:
    return {"GET": _environ("GET", "/bare"), "POST": _environ("POST", "/bare", body={"refresh_token": "x" * 40})}


CPU_TIME = False


def time_route(app, reqs: list[tuple[dict, bytes]], expect: int) -> float:
    for env, raw in reqs[:50]:       # warm up
        _call(app, env, raw)
    clock = time.process_time if CPU_TIME else time.perf_counter
    start = clock()
    for env, raw in reqs[50:]:
        status = _call(app, env, raw)
        if status != expect:
            raise RuntimeError(f"status {status}")
    return (clock() - start) / (len(reqs) - 50) * 1e6


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("--only", default="")
    parser.add_argument("--cprofile", default="", help="route name to profile with cProfile")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="cumulative", help="pstats sort key (cumulative, tottime)")
    parser.add_argument("--cpu", action="store_true",
                        help="this process's CPU time instead of wall time (steadier on a shared machine; "
                             "leaves out time spent waiting for Redis and the database)")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes per route; the median is shown")
    args = parser.parse_args(argv)
    global CPU_TIME
    CPU_TIME = args.cpu
    from api import embedded_redis
    from bench.bare_app import app as bare_app
    workdir = Path(tempfile.mkdtemp(prefix="ssb-profile-"))
    app, sms = build_app(workdir)
    try:
        routes = seed(app, sms)
        if os.environ.get("PROFILE_GC_FREEZE"):
            import gc
            gc.collect()
            gc.freeze()
        bare = bare_routes()
        if args.cprofile:
            route = next(r for r in routes if r.name == args.cprofile)
            reqs = route.requests(args.n + 50)
            time_route(app, reqs[:60], route.expect)
            prof = cProfile.Profile()
            prof.enable()
            us = time_route(app, reqs, route.expect)
            prof.disable()
            print(f"{route.name}: {us:.0f} us/request under cProfile")
            pstats.Stats(prof).sort_stats(args.sort).print_stats(args.top)
            return 0
        print(f"{'route':10} {'ours us':>9} {'bare us':>9} {'bare/ours':>9}")
        for route in routes:
            if args.only and args.only not in route.name:
                continue
            ours_runs, bare_runs = [], []
            for _ in range(args.repeat):
                benv, braw = bare[route.method]
                bare_runs.append(time_route(bare_app, [(benv, braw)] * (args.n + 50), 200))
                ours_runs.append(time_route(app, route.requests(args.n + 50), route.expect))
            ours, bare_us = sorted(ours_runs)[len(ours_runs) // 2], sorted(bare_runs)[len(bare_runs) // 2]
            print(f"{route.name:10} {ours:9.0f} {bare_us:9.0f} {bare_us / ours:9.2f}", flush=True)
    finally:
        embedded_redis.stop(workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
