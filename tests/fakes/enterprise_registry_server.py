"""A loopback fake of the enterprise registry service, speaking the wire protocol
`api.enterprises.registry.HttpEnterpriseRegistry` uses:

    POST /enterprises/lookup {"credit_code": ...}
    X-Timestamp: unix seconds, X-Signature: hex HMAC-SHA256(key, timestamp + "\\n" + body)
    → 200 {"found": false} | {"found": true, "enterprise": {..., "legal_rep": {"id_type", "id_number"}}}
    → 401 on a bad or stale signature

`fail_next` makes the next N look-ups answer 500 (a registry outage).
"""
from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import threading
import time


class FakeEnterpriseRegistry:
    def __init__(self, api_key: str) -> None:
        self.api_key = api_key.encode()
        self.enterprises: dict[str, dict] = {}
        self.requests: list[dict] = []
        self.fail_next = 0
        self.lock = threading.Lock()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.fake = self
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def add(self, credit_code: str, name: str, legal_rep_id_number: str, *, id_type: str = "resident_id",
            **facts) -> None:
        self.enterprises[credit_code] = {"credit_code": credit_code, "name": name,
                                         "legal_rep": {"id_type": id_type, "id_number": legal_rep_id_number},
                                         **facts}

    def __enter__(self) -> FakeEnterpriseRegistry:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    def answer(self, path: str, headers, body: bytes) -> tuple[int, dict]:
        with self.lock:
            self.requests.append({"path": path, "headers": dict(headers), "body": body})
            if self.fail_next > 0:
                self.fail_next -= 1
                return 500, {"error": "registry unavailable"}
        if path != "/enterprises/lookup":
            return 404, {"error": "not found"}
        ts = headers.get("X-Timestamp", "")
        expected = hmac.new(self.api_key, ts.encode() + b"\n" + body, hashlib.sha256).hexdigest()
        if not ts.isdigit() or abs(int(ts) - time.time()) > 300 \
                or not hmac.compare_digest(expected, headers.get("X-Signature", "")):
            return 401, {"error": "bad signature"}
        try:
            code = json.loads(body)["credit_code"]
        except (ValueError, KeyError, TypeError):
            return 400, {"error": "bad request"}
        entry = self.enterprises.get(code)
        return 200, ({"found": True, "enterprise": entry} if entry else {"found": False})


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, payload = self.server.fake.answer(self.path, self.headers, body)
        data = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
