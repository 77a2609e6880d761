"""Processes a load test needs, started on loopback and stopped by their own pids: a private
PostgreSQL cluster, redis-server (single node or a three-master cluster), gunicorn, a Dramatiq
worker, nginx. Used by run.py, faults.py, scaleout.py and the CI smoke test."""
from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def exit_on_sigterm() -> None:
    """SIGTERM (e.g. `timeout`) raises SystemExit, so `finally` blocks stop what we started."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def wait_http(url: str, timeout: float = 60) -> None:
    import httpx
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"{url} did not become ready")


def stop_group(proc: subprocess.Popen | None, sig=signal.SIGTERM, timeout: float = 15) -> None:
    """Stop one process we started (and its children: it was started in its own session)."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
        os.killpg(proc.pid, signal.SIGCONT)   # a frozen process handles the signal only once resumed
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _as_postgres(cmd: list[str]) -> list[str]:
    """initdb/postgres refuse to run as root: run them as the postgres user when we are root."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants (from /proc). PostgreSQL's children call setsid(), so a
    signal to the postmaster's process group does not reach them."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, ()))
    return out


def signal_tree(proc: subprocess.Popen | None, sig) -> None:
    """SIGSTOP / SIGCONT / SIGKILL a process we started and every descendant, parents first
    (a stopped parent forks no new child), twice to catch a child forked in between."""
    if proc is None or proc.poll() is not None:
        return
    for _ in range(2):
        for pid in process_tree(proc.pid):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass


class _Faults:
    """Freeze (SIGSTOP: answers nothing, closes nothing), thaw, and crash (SIGKILL) a store."""

    proc: subprocess.Popen | None

    def freeze(self) -> None:
        signal_tree(self.proc, signal.SIGSTOP)

    def thaw(self) -> None:
        signal_tree(self.proc, signal.SIGCONT)

    def kill(self) -> None:
        proc = self.proc
        if proc is not None:
            doomed = process_tree(proc.pid)
            signal_tree(proc, signal.SIGKILL)
            proc.wait(timeout=15)
            deadline = time.monotonic() + 15      # backends must be gone before a restart
            while any(os.path.exists(f"/proc/{pid}") and _alive(pid) for pid in doomed) \
                    and time.monotonic() < deadline:
                time.sleep(0.05)
        self.proc = None


class Postgres(_Faults):
    """A throwaway cluster in `directory`, on a loopback port; stop() / start() keep the data.

    `durable=False` (the default for load tests) turns off fsync, synchronous_commit and
    full_page_writes for speed; `durable=True` keeps PostgreSQL's production defaults, so an
    acknowledged commit survives a crash (the faults run)."""

    def __init__(self, directory: Path, port: int | None = None, *, durable: bool = False) -> None:
        self.dir = Path(directory)
        self.data = self.dir / "data"
        self.port = port or free_port()
        self.durable = durable
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://ssb@127.0.0.1:{self.port}/ssb"

    def init(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        subprocess.run(_as_postgres([str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "ssb", "-A", "trust",
                                     "--no-sync", "-E", "UTF8"]), check=True, capture_output=True)
        self.start()
        subprocess.run(_as_postgres([str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U",
                                     "ssb", "ssb"]), check=True, capture_output=True)

    def start(self) -> None:
        log = open(self.dir / "postgres.log", "ab")
        fast = [] if self.durable else ["-c", "fsync=off", "-c", "synchronous_commit=off",
                                         "-c", "full_page_writes=off"]
        self.proc = subprocess.Popen(_as_postgres([
            str(PG_BIN / "postgres"), "-D", str(self.data), "-p", str(self.port), "-k", str(self.dir),
            "-c", "listen_addresses=127.0.0.1", *fast, "-c", "max_connections=300", "-c", "shared_buffers=128MB"]),
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60    # after a crash: WAL replay first
        while time.monotonic() < deadline:
            if subprocess.run([str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-q"]).returncode == 0:
                return
            time.sleep(0.2)
        raise RuntimeError(f"postgres did not start; see {self.dir / 'postgres.log'}")

    def stop(self, fast: bool = True) -> None:
        # SIGINT = "fast" shutdown: open connections are closed, like a crashed/restarted primary.
        self.thaw()
        stop_group(self.proc, signal.SIGINT if fast else signal.SIGTERM, timeout=30)
        self.proc = None


class RedisServer(_Faults):
    """redis-server with the persistence the README recommends: AOF, fsync every second."""

    def __init__(self, directory: Path, port: int | None = None, *, cluster: bool = False) -> None:
        self.dir = Path(directory)
        self.port = port or free_port()
        self.cluster = cluster
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "yes", "--appendfsync", "everysec", "--dir", str(self.dir),
                "--logfile", str(self.dir / "redis.log"), "--protected-mode", "no"]
        if self.cluster:
            args += ["--cluster-enabled", "yes", "--cluster-config-file", str(self.dir / "nodes.conf"),
                     "--cluster-node-timeout", "5000"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        wait_port(self.port)

    def stop(self) -> None:
        self.thaw()
        stop_group(self.proc)
        self.proc = None


def redis_cluster(directory: Path, ports=(7001, 7002, 7003)) -> list[RedisServer]:
    nodes = [RedisServer(Path(directory) / str(p), p, cluster=True) for p in ports]
    for n in nodes:
        n.start()
    subprocess.run(["redis-cli", "--cluster", "create", *[f"127.0.0.1:{p}" for p in ports],
                    "--cluster-replicas", "0", "--cluster-yes"], check=True, capture_output=True, timeout=60)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        out = subprocess.run(["redis-cli", "-p", str(ports[0]), "cluster", "info"], capture_output=True, text=True)
        if "cluster_state:ok" in out.stdout:
            return nodes
        time.sleep(0.3)
    raise RuntimeError("redis cluster did not reach cluster_state:ok")


def app_env(workdir: Path, *, database_url: str, redis_url: str, broker_url: str | None = None,
            rate_limits: bool = False, extra: dict | None = None) -> dict:
    """The environment of every process of one deployment: same keys, secrets and stores."""
    env = dict(os.environ)
    keyfile = Path(workdir) / "data_key"
    if not keyfile.exists():
        keyfile.parent.mkdir(parents=True, exist_ok=True)
        keyfile.write_text(base64.b64encode(os.urandom(32)).decode())
    env.update({
        "INSTANCE_DIR": str(Path(workdir) / "instance"), "KEYS_DIR": str(Path(workdir) / "instance" / "keys"),
        "DATABASE_URL": database_url, "REDIS_URL": redis_url, "SECRET_KEY": "loadtest-secret",
        "DATA_KEY": keyfile.read_text().strip(), "SMS_BACKEND": f"file:{Path(workdir) / 'sms.jsonl'}",
        "RATELIMIT_ENABLED": "true" if rate_limits else "false", "LOG_LEVEL": "WARNING",
        # Every simulated user comes from 127.0.0.1: the per-IP OTP cap would stop OTP logins.
        "OTP_HOURLY_CAP_PER_IP": "1000000", "PYTHONPATH": str(ROOT),
    })
    if broker_url:
        env["BROKER_URL"] = broker_url
    env.update(extra or {})
    return env


def migrate(env: dict) -> None:
    subprocess.run([str(BIN / "alembic"), "upgrade", "heads"], cwd=ROOT, env=env, check=True, capture_output=True)


def gunicorn(env: dict, port: int, log: Path, *, workers: int = 2, threads: int = 1,
             timeout: int = 30) -> subprocess.Popen:
    args = [str(BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "--backlog", "2048",
            "--log-level", "warning", "--timeout", str(timeout), "--graceful-timeout", "5"]
    if threads > 1:
        args += ["--threads", str(threads)]
    proc = subprocess.Popen([*args, "wsgi:app"], cwd=ROOT, env=env, stdout=open(log, "ab"),
                            stderr=subprocess.STDOUT, start_new_session=True)
    wait_http(f"http://127.0.0.1:{port}/healthz")
    return proc


def dramatiq_worker(env: dict, log: Path, *, processes: int = 1, threads: int = 2) -> subprocess.Popen:
    return subprocess.Popen([str(BIN / "dramatiq"), "wsgi:broker", "--processes", str(processes), "--threads",
                             str(threads)], cwd=ROOT, env=env, stdout=open(log, "ab"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def relay_loop(env: dict, log: Path, *, interval: float = 5) -> subprocess.Popen:
    """`flask push relay --loop`: resumes campaigns, applies recorded cache invalidations, sends pushes."""
    return subprocess.Popen([str(BIN / "flask"), "--app", "wsgi", "push", "relay", "--loop", "--interval",
                             str(interval)], cwd=ROOT, env=env, stdout=open(log, "ab"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def seed(env: dict, out: Path, *, residents: int, log: Path, **opts) -> None:
    args = [sys.executable, "-m", "loadtests.seed", "--residents", str(residents), "--out", str(out)]
    for k, v in opts.items():
        args += [f"--{k.replace('_', '-')}", str(v)]
    with open(log, "ab") as fh:
        done = subprocess.run(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=fh, text=True)
    print(done.stdout, end="", flush=True)
    if done.returncode:
        raise RuntimeError(f"seed failed; see {log}")


def locust(env: dict, host: str, prefix: Path, *, seconds: int, users: int, spawn_rate: float,
           shape: str | None = None, classes: list[str] | None = None, html: bool = True,
           extra_env: dict | None = None, timeout: float | None = None) -> int:
    """Locust headless with CSV (full history) + HTML report; returns its exit code."""
    args = [str(BIN / "locust"), "-f", str(ROOT / "loadtests" / "locustfile.py"), "--headless", "--host", host,
            "--csv", str(prefix), "--csv-full-history", "--only-summary", "--loglevel", "WARNING",
            "--exit-code-on-error", "0", "--stop-timeout", "5"]
    if html:
        args += ["--html", f"{prefix}_report.html"]
    if shape:
        e = {"SSB_SHAPE": shape}
    else:
        e = {}
        args += ["--users", str(users), "--spawn-rate", str(spawn_rate), "--run-time", f"{seconds}s"]
    if classes:
        args += classes
    lenv = dict(env) | e | (extra_env or {})
    done = subprocess.run(args, cwd=ROOT, env=lenv, timeout=timeout or seconds + 120)
    return done.returncode
