"""A JSON-over-HTTP server on loopback for fakes of external services, with the failures a real
service shows: `fail_next` answers the next N requests 500, `garble_next` answers them 200 with
a body that is not JSON, and `delay` holds every answer that many seconds (a client's timeout).

A fake subclasses `LoopbackJsonServer` and implements `answer(path, headers, body) -> (status,
payload)`; every request is kept in `requests` ({"path", "headers", "body"}).
"""
from __future__ import annotations

import http.server
import json
import threading
import time


class LoopbackJsonServer:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.fail_next = 0
        self.garble_next = 0
        self.delay = 0.0
        self.lock = threading.Lock()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.fake = self
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    def answer(self, path: str, headers, body: bytes) -> tuple[int, dict]:
        raise NotImplementedError

    def respond(self, path: str, headers, body: bytes) -> tuple[int, bytes]:
        """The status and raw body for one request, failures first."""
        with self.lock:
            self.requests.append({"path": path, "headers": dict(headers), "body": body})
            if self.fail_next > 0:
                self.fail_next, outcome = self.fail_next - 1, "fail"
            elif self.garble_next > 0:
                self.garble_next, outcome = self.garble_next - 1, "garble"
            else:
                outcome = "answer"
        if self.delay:
            time.sleep(self.delay)
        if outcome == "fail":
            return 500, b'{"error": "internal"}'
        if outcome == "garble":
            return 200, b"<html>gateway maintenance</html>"
        status, payload = self.answer(path, headers, body)
        return status, json.dumps(payload, ensure_ascii=False).encode()


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, data = self.server.fake.respond(self.path, self.headers, body)
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):   # the client gave up waiting (a timeout test)
            pass
