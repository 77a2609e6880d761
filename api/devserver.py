"""`make run`: gunicorn (the API), a Dramatiq worker, the push outbox relay and the trust-federation
refresh loop, stopped together by Ctrl-C, the embedded Redis last.

They are started after the embedded Redis (if no REDIS_URL) is up, so they share it; it is
stopped after them when `make run` ends (Ctrl-C included), if this process started it. `make
stop` stops an embedded Redis that something else left running (a `make run` killed hard).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time

from api import embedded_redis
from api.config import Config


def gunicorn_command(bin_dir: str, *, bind: str, workers: int) -> list[str]:
    """gunicorn without its own access log: the app's JSON request log (api.observability) is the
    one access log, and it names route templates, never raw paths (which carry identity numbers)."""
    return [os.path.join(bin_dir, "gunicorn"), "--bind", bind, "--workers", str(workers), "wsgi:app"]


def main(argv: list[str] | None = None) -> int:
    config = Config.from_env()
    if (argv if argv is not None else sys.argv[1:]) == ["stop"]:
        embedded_redis.stop(config.INSTANCE_DIR)
        print(f"embedded Redis under {config.INSTANCE_DIR} stopped", file=sys.stderr)
        return 0
    env = dict(os.environ)
    if not config.REDIS_URL:
        # atexit: runs after the children were stopped and waited for, below.
        env["REDIS_URL"] = embedded_redis.ensure_running(config.INSTANCE_DIR, stop_at_exit=True)
    env.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="ssb-metrics-"))
    bind = config.BIND
    bin_dir = os.path.dirname(sys.executable)
    procs = [
        subprocess.Popen(gunicorn_command(bin_dir, bind=bind, workers=config.WEB_CONCURRENCY), env=env),
        subprocess.Popen([os.path.join(bin_dir, "dramatiq"), "wsgi:broker", "--processes", "1", "--threads", "4"],
                         env=env),
        # The outbox relay: resumes campaigns and sends pushes left pending (Redis outage, quiet hours).
        subprocess.Popen([os.path.join(bin_dir, "flask"), "--app", "wsgi", "push", "relay", "--loop"], env=env),
        # Trust federation: enqueues a refresh of each peer platform's JWKS when it is due.
        subprocess.Popen([os.path.join(bin_dir, "flask"), "--app", "wsgi", "trust", "refresh", "--loop"], env=env),
    ]
    print(f"Suishenban API on http://{bind}  (docs: http://{bind}/docs)  — Ctrl-C stops it all"
          f"\nDemo data (people, venue, licence, mini-program): .venv/bin/flask --app wsgi demo",
          file=sys.stderr)

    def stop(*_):
        for p in procs:
            if p.poll() is None:
                p.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
    finally:
        stop()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
    return max((p.returncode or 0) for p in procs)


if __name__ == "__main__":
    sys.exit(main())
