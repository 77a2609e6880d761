"""`make run`: gunicorn (the API), a Dramatiq worker, the push outbox relay and the trust-federation
refresh loop, stopped together.

All are started after the embedded Redis (if no REDIS_URL) is up, so they share it.
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


def main() -> int:
    config = Config.from_env()
    env = dict(os.environ)
    if not config.REDIS_URL:
        env["REDIS_URL"] = embedded_redis.ensure_running(config.INSTANCE_DIR)
    env.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="ssb-metrics-"))
    bind = env.get("BIND", "127.0.0.1:8000")
    bin_dir = os.path.dirname(sys.executable)
    procs = [
        subprocess.Popen([os.path.join(bin_dir, "gunicorn"), "--bind", bind, "--workers", env.get("WEB_CONCURRENCY", "2"),
                          "--access-logfile", "-", "--access-logformat", "%(h)s %(m)s %(U)s %(s)s %(M)sms",
                          "wsgi:app"], env=env),
        subprocess.Popen([os.path.join(bin_dir, "dramatiq"), "wsgi:broker", "--processes", "1", "--threads", "4"],
                         env=env),
        # The outbox relay: resumes campaigns and sends pushes left pending (Redis outage, quiet hours).
        subprocess.Popen([os.path.join(bin_dir, "flask"), "--app", "wsgi", "push", "relay", "--loop"], env=env),
        # Trust federation: enqueues a refresh of each peer platform's JWKS when it is due.
        subprocess.Popen([os.path.join(bin_dir, "flask"), "--app", "wsgi", "trust", "refresh", "--loop"], env=env),
    ]
    print(f"Suishenban API on http://{bind}  (docs: http://{bind}/docs)  — Ctrl-C stops", file=sys.stderr)

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
