"""A loopback fake of the population registry service, speaking the wire protocol
`api.identity.population.HttpPopulationRegistry` uses:

    POST /persons/lookup {"id_type": ..., "id_number": ...}
    X-Timestamp: unix seconds, X-Signature: hex HMAC-SHA256(key, timestamp + "\\n" + body)
    → 200 {"found": false} | {"found": true, "person": {"name", "birth_date", "district", "hukou",
                                                         "attributes", "guardian_id_numbers"}}
    → 401 on a bad or stale signature
"""
from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import threading
import time


class FakePopulationRegistry:
    def __init__(self, api_key: str) -> None:
        self.api_key = api_key.encode()
        self.persons: dict[tuple[str, str], dict] = {}
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.fake = self
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def add(self, id_number: str, name: str, birth_date: str, *, id_type: str = "resident_id", **facts) -> None:
        self.persons[(id_type, id_number)] = {"name": name, "birth_date": birth_date, "district": "黄浦区",
                                              "hukou": True, "attributes": {}, **facts}

    def __enter__(self) -> FakePopulationRegistry:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    def answer(self, path: str, headers, body: bytes) -> tuple[int, dict]:
        with self.lock:
            self.requests.append({"path": path, "body": body})
        if path != "/persons/lookup":
            return 404, {"error": "not found"}
        ts = headers.get("X-Timestamp", "")
        expected = hmac.new(self.api_key, ts.encode() + b"\n" + body, hashlib.sha256).hexdigest()
        if not ts.isdigit() or abs(int(ts) - time.time()) > 300 \
                or not hmac.compare_digest(expected, headers.get("X-Signature", "")):
            return 401, {"error": "bad signature"}
        try:
            query = json.loads(body)
            person = self.persons.get((query["id_type"], query["id_number"]))
        except (ValueError, KeyError, TypeError):
            return 400, {"error": "bad request"}
        return 200, ({"found": True, "person": person} if person else {"found": False})


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
