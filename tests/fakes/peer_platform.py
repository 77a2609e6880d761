"""A loopback fake of another province's platform (e.g. 苏服办) in the trust federation.

It serves its JWKS at `/jwks.json` the way a real platform's web server would: `ETag` (and 304
on a matching `If-None-Match`), `Cache-Control: public, max-age=N`, `application/json`. It signs
codes with our claim profile under its own `typ`, with EdDSA or ES256 keys, and can:

- `rotate()` (publish a new key that then signs), `withdraw(kid)` (stop publishing a key);
- misbehave through `mode`: "error" (503), "hangup" (close without answering), "slow" (wait
  `delay` seconds before answering), "drip" (send the body one byte every `drip_interval`),
  "huge" (stream `huge_bytes` without a Content-Length), "huge_declared" (announce them),
  "redirect" (302 elsewhere), "html" (a login page instead of JSON), "gzip" (compressed body);
- `extra_keys`: further JWKs published as they are (an RSA key, a leaked private key...).

Every request is kept in `requests` (path and headers), so tests can see what was (not) fetched.
"""
from __future__ import annotations

import base64
import gzip
import hashlib
import http.server
import json
import secrets
import threading
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64json(obj) -> str:
    return b64(json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode())


@dataclass
class FakeKey:
    kid: str
    alg: str
    private: object = field(repr=False)

    @classmethod
    def generate(cls, alg: str = "EdDSA") -> FakeKey:
        private = Ed25519PrivateKey.generate() if alg == "EdDSA" else ec.generate_private_key(ec.SECP256R1())
        return cls(kid=f"{alg.lower()}-{secrets.token_hex(4)}", alg=alg, private=private)

    def jwk(self) -> dict:
        public = self.private.public_key()
        if self.alg == "EdDSA":
            return {"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": self.kid,
                    "x": b64(public.public_bytes(Encoding.Raw, PublicFormat.Raw))}
        numbers = public.public_numbers()
        return {"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": self.kid,
                "x": b64(numbers.x.to_bytes(32, "big")), "y": b64(numbers.y.to_bytes(32, "big"))}

    def sign(self, data: bytes) -> bytes:
        if self.alg == "EdDSA":
            return self.private.sign(data)
        r, s = decode_dss_signature(self.private.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")


class FakePeerPlatform:
    def __init__(self, *, issuer: str = "https://zwfw.jiangsu.gov.cn", typ: str = "js-code+jwt",
                 alg: str = "EdDSA", max_age: int | None = 300) -> None:
        self.issuer, self.typ, self.max_age = issuer, typ, max_age
        self.keys: list[FakeKey] = [FakeKey.generate(alg)]
        self.published: set[str] = {self.keys[0].kid}
        self.extra_keys: list[dict] = []
        self.mode = "normal"
        self.delay = 5.0
        self.drip_interval = 0.05
        self.huge_bytes = 4 * 1024 * 1024
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.fake = self
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> FakePeerPlatform:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def jwks_url(self) -> str:
        return self.url + "/jwks.json"

    # ------------------------------------------------------------------ keys

    @property
    def signing_key(self) -> FakeKey:
        return self.keys[-1]

    def key(self, kid: str) -> FakeKey:
        return next(k for k in self.keys if k.kid == kid)

    def rotate(self, alg: str | None = None) -> str:
        new = FakeKey.generate(alg or self.signing_key.alg)
        with self.lock:
            self.keys.append(new)
            self.published.add(new.kid)
        return new.kid

    def withdraw(self, kid: str) -> None:
        with self.lock:
            self.published.discard(kid)

    def jwks(self) -> dict:
        with self.lock:
            return {"keys": [k.jwk() for k in self.keys if k.kid in self.published] + list(self.extra_keys)}

    # ------------------------------------------------------------------ codes

    def sign(self, claims: dict, *, kid: str | None = None, typ: str | None = None, alg: str | None = None,
             header: dict | None = None) -> str:
        key = self.key(kid) if kid else self.signing_key
        head = {"alg": alg or key.alg, "typ": typ or self.typ, "kid": key.kid, **(header or {})}
        signing_input = b64json(head) + "." + b64json(claims)
        return signing_input + "." + b64(key.sign(signing_input.encode()))

    def claims(self, *, now: int, scene: str = "transport", sub: str = "js-holder-5c1e", ttl: int = 60,
               iss: str | None = None, **extra) -> dict:
        return {"iss": iss or self.issuer, "sub": sub, "scn": scene, "iat": now, "nbf": now, "exp": now + ttl,
                "jti": secrets.token_urlsafe(12), **extra}

    def issue_code(self, *, now: int, scene: str = "transport", kid: str | None = None, typ: str | None = None,
                   header: dict | None = None, **claims) -> str:
        return self.sign(self.claims(now=now, scene=scene, **claims), kid=kid, typ=typ, header=header)

    # ------------------------------------------------------------------ serving

    def record(self, path: str, headers) -> None:
        with self.lock:
            self.requests.append({"path": path, "headers": dict(headers)})

    def body(self) -> tuple[bytes, str]:
        raw = json.dumps(self.jwks()).encode()
        return raw, '"' + hashlib.sha256(raw).hexdigest()[:16] + '"'


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        fake: FakePeerPlatform = self.server.fake
        fake.record(self.path, self.headers)
        try:
            if self.path.split("?")[0] != "/jwks.json":
                return self._send(404, b'{"error":"not found"}')
            handler = getattr(self, "_mode_" + fake.mode, None)
            return handler(fake) if handler else self._mode_normal(fake)
        except (BrokenPipeError, ConnectionResetError):
            return None

    def _send(self, status: int, body: bytes = b"", headers: dict | None = None,
              content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _caching(self, fake: FakePeerPlatform, etag: str) -> dict:
        headers = {"ETag": etag}
        if fake.max_age is not None:
            headers["Cache-Control"] = f"public, max-age={fake.max_age}"
        return headers

    def _mode_normal(self, fake: FakePeerPlatform) -> None:
        body, etag = fake.body()
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            for name, value in self._caching(fake, etag).items():
                self.send_header(name, value)
            self.end_headers()
            return
        self._send(200, body, self._caching(fake, etag))

    def _mode_error(self, fake: FakePeerPlatform) -> None:
        self._send(503, b'{"error":"maintenance"}')

    def _mode_hangup(self, fake: FakePeerPlatform) -> None:
        self.close_connection = True
        self.connection.shutdown(2)

    def _mode_slow(self, fake: FakePeerPlatform) -> None:
        if not fake.stopping.wait(fake.delay):
            self._mode_normal(fake)

    def _mode_drip(self, fake: FakePeerPlatform) -> None:
        body, etag = fake.body()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        for i in range(len(body)):
            if fake.stopping.wait(fake.drip_interval):
                return
            self.wfile.write(body[i:i + 1])
            self.wfile.flush()

    def _stream_huge(self, fake: FakePeerPlatform, declared: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if declared:
            self.send_header("Content-Length", str(fake.huge_bytes))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        chunk = b'{"keys":[' + b" " * 65_527
        sent = 0
        while sent < fake.huge_bytes and not fake.stopping.is_set():
            self.wfile.write(chunk)
            sent += len(chunk)

    def _mode_huge(self, fake: FakePeerPlatform) -> None:
        self._stream_huge(fake, declared=False)

    def _mode_huge_declared(self, fake: FakePeerPlatform) -> None:
        self._stream_huge(fake, declared=True)

    def _mode_redirect(self, fake: FakePeerPlatform) -> None:
        self._send(302, b"", {"Location": "http://example.com/jwks.json"})

    def _mode_html(self, fake: FakePeerPlatform) -> None:
        self._send(200, b"<html><body>Please sign in</body></html>", content_type="text/html")

    def _mode_gzip(self, fake: FakePeerPlatform) -> None:
        body, etag = fake.body()
        self._send(200, gzip.compress(body), {"Content-Encoding": "gzip", **self._caching(fake, etag)})
