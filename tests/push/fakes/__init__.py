"""Loopback fakes of the push providers, speaking their real wire protocols.

Shared pieces: a per-token script so tests can provoke each failure mode, and a record of the
requests each fake received so tests can assert the wire format.

Script by token prefix:
    dead-...  the provider reports the device token as gone
    rl-...    rate limited (Retry-After: 1) the first time, then accepted
    err-...   server error the first time, then accepted
    anything else is accepted
"""

from __future__ import annotations

import http.server
import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

Decision = Literal["ok", "dead", "rate_limited", "error"]


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    connection_id: int = 0
    stream_id: int | None = None

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class TokenScript:
    """Decides each token's fate; transient failures happen only on a token's first try."""

    attempts: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def decide(self, token: str) -> Decision:
        with self.lock:
            self.attempts[token] += 1
            first = self.attempts[token] == 1
        if token.startswith("dead-"):
            return "dead"
        if token.startswith("rl-") and first:
            return "rate_limited"
        if token.startswith("err-") and first:
            return "error"
        return "ok"


class QuietHandler(http.server.BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive handler base for the OAuth and REST fakes."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, each reply stalls ~40 ms.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def read_body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def reply(
        self, status: int, payload: Any, headers: dict[str, str] | None = None
    ) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def record(self, body: bytes) -> RecordedRequest:
        return RecordedRequest(
            method=self.command,
            path=self.path,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )


class LoopbackHTTPServer:
    """A ThreadingHTTPServer on an ephemeral 127.0.0.1 port, run in a daemon thread."""

    def __init__(self, handler: type[http.server.BaseHTTPRequestHandler]) -> None:
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.httpd.fake = self  # type: ignore[attr-defined]  # handlers reach state through it
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> LoopbackHTTPServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
