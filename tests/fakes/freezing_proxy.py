"""A loopback TCP proxy in front of a real store that can stop forwarding, leaving every
connection open: what a client sees of a frozen server (SIGSTOP, a storage stall) or of a
partition that keeps the TCP sessions. New connections are accepted by the kernel but get no
answer while frozen; `thaw()` resumes forwarding (late bytes reach clients that gave up).

    proxy = FreezingProxy("unix:///tmp/redis.sock")   # or ("127.0.0.1", 5432)
    proxy.start(); proxy.freeze(); proxy.thaw(); proxy.close()
"""
from __future__ import annotations

import contextlib
import select
import socket
import threading
import time


class FreezingProxy:
    def __init__(self, upstream: str | tuple[str, int]) -> None:
        self.upstream = upstream
        self.frozen = threading.Event()
        self.closed = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()

    def start(self) -> FreezingProxy:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def freeze(self) -> None:
        self.frozen.set()

    def thaw(self) -> None:
        self.frozen.clear()

    def close(self) -> None:
        self.closed.set()
        self.listener.close()
        with self.lock:
            for s in self.sockets:
                try:
                    s.close()
                except OSError:
                    pass

    def _dial(self) -> socket.socket:
        if isinstance(self.upstream, str) and self.upstream.startswith("unix://"):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(self.upstream[len("unix://"):])
        else:
            s = socket.create_connection(self.upstream)
        with self.lock:
            self.sockets.append(s)
        return s

    def _accept(self) -> None:
        while not self.closed.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                self.sockets.append(client)
            threading.Thread(target=self._pump, args=(client,), daemon=True).start()

    def _pump(self, client: socket.socket) -> None:
        upstream = None
        try:
            while not self.closed.is_set():
                if self.frozen.is_set():
                    time.sleep(0.02)     # nothing read, nothing written, nothing closed
                    continue
                if upstream is None:
                    upstream = self._dial()
                ready, _, _ = select.select([client, upstream], [], [], 0.05)
                for s in ready:
                    if self.frozen.is_set():
                        break
                    data = s.recv(65536)
                    if not data:
                        return
                    (upstream if s is client else client).sendall(data)
        except OSError:
            return
        finally:
            for s in (client, upstream):
                if s is not None:
                    try:
                        s.close()
                    except OSError:
                        pass


def _redis_via(url: str, port: int) -> str:
    from urllib.parse import urlsplit
    db = "0" if url.startswith("unix://") else (urlsplit(url).path.strip("/") or "0")
    return f"redis://127.0.0.1:{port}/{db}"


def _upstream(url: str):
    from urllib.parse import urlsplit
    if url.startswith("unix://"):
        return url
    parts = urlsplit(url)
    return (parts.hostname, parts.port)


@contextlib.contextmanager
def proxied_app(base_config, redis_url: str, clock=None):
    """The full app on the suite's stores, its Redis (and PostgreSQL, when the suite runs on
    it) reached through freezing proxies: yields (app, {"redis": proxy, "db": proxy})."""
    import dataclasses
    from urllib.parse import urlsplit

    from wsgi import create_app
    proxies = {"redis": FreezingProxy(_upstream(redis_url)).start()}
    changes = {"REDIS_URL": _redis_via(redis_url, proxies["redis"].port)}
    if base_config.DATABASE_URL.startswith("postgresql"):
        parts = urlsplit(base_config.DATABASE_URL)
        proxies["db"] = FreezingProxy((parts.hostname, parts.port or 5432)).start()
        host = f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname
        changes["DATABASE_URL"] = parts._replace(
            netloc=parts.netloc.replace(host, f"127.0.0.1:{proxies['db'].port}")).geturl()
    app = create_app(dataclasses.replace(base_config, **changes))
    if clock is not None:
        app.extensions["ssb.clock"] = clock
    try:
        yield app, proxies
    finally:
        for p in proxies.values():
            p.thaw()
        with app.app_context():
            from api.extensions import db
            db.session.remove()
            db.engine.dispose()
        for p in proxies.values():
            p.close()
