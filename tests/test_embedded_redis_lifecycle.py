"""The embedded Redis (no REDIS_URL) is started only when something needs it, and stopped by the
process that started it: no redis-server outlives `flask --help`, a CLI command, or `make run`
after Ctrl-C."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from api.config import PROJECT_ROOT, Config
from tests.conftest import run_migrations

BIN = Path(sys.executable).parent


def redis_processes(instance: Path) -> list[int]:
    """redis-server processes serving a socket under `instance` (whoever started them)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "redis" in cmdline and str(instance) in cmdline:
            pids.append(int(proc.name))
    return pids


@pytest.fixture
def instance(tmp_path):
    """A fresh instance dir with a migrated SQLite database; any redis left there is killed."""
    base = tmp_path / "instance"
    base.mkdir()
    run_migrations(Config(INSTANCE_DIR=str(base)).finalised().DATABASE_URL)
    yield base
    for pid in redis_processes(base):
        os.kill(pid, signal.SIGTERM)


def env_for(instance: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "BROKER_URL",
                                                            "PROMETHEUS_MULTIPROC_DIR")}
    return {**env, "INSTANCE_DIR": str(instance), "SMS_BACKEND": "console", **extra}


def flask(instance: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=PROJECT_ROOT, env=env_for(instance),
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args", [("--help",), ("keys", "list"), ("registry", "--help")])
def test_commands_that_need_no_redis_start_none(instance, args):
    result = flask(instance, *args)
    assert result.returncode == 0, result.stderr[-2000:]
    assert redis_processes(instance) == []
    assert not (instance / "redis.sock").exists()


def test_a_command_that_needs_redis_stops_what_it_started(instance):
    result = flask(instance, "create-admin", "--phone", "13800138000")   # evicts a cached holder in Redis
    assert result.returncode == 0, result.stderr[-2000:]
    assert (instance / "redis.log").exists(), "create-admin uses Redis: it must have started it"
    assert redis_processes(instance) == []


def test_a_command_leaves_a_redis_it_did_not_start(instance):
    from api import embedded_redis
    embedded_redis.ensure_running(instance)
    try:
        assert flask(instance, "create-admin", "--phone", "13800138000").returncode == 0
        assert len(redis_processes(instance)) == 1
    finally:
        embedded_redis.stop(instance)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_ctrl_c_on_make_run_stops_everything(instance):
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "api.devserver"], cwd=PROJECT_ROOT, start_new_session=True,
                            env=env_for(instance, BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="1"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "make run did not come up"
            time.sleep(0.3)
        assert redis_processes(instance), "make run serves on the embedded Redis"
        os.killpg(proc.pid, signal.SIGINT)          # what the terminal does on Ctrl-C
        assert proc.wait(timeout=60) is not None
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while redis_processes(instance) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert redis_processes(instance) == []
