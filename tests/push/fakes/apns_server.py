"""A fake APNs provider API: HTTP/2 cleartext (prior knowledge), ``h2`` over plain sockets.

There is no HTTP/1.1 fallback, so a client that does not really speak HTTP/2 fails outright.
The fake verifies the ES256 provider token against the configured public key and the headers
APNs requires, then answers by the token script in ``fakes``.
"""

from __future__ import annotations

import itertools
import json
import socket
import socketserver
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import jwt

from . import RecordedRequest, TokenScript

# APNs rejects provider tokens older than an hour.
TOKEN_MAX_AGE = 3600


@dataclass
class ApnsConfig:
    team_id: str
    key_id: str
    public_key: Any
    topic: str


@dataclass
class Response:
    status: int
    reason: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)


class FakeApns:
    def __init__(self, config: ApnsConfig) -> None:
        self.config = config
        self.script = TokenScript()
        self.requests: list[RecordedRequest] = []
        # Every provider token presented, and its iat, so tests can observe refreshes.
        self.provider_tokens: list[str] = []
        self.jwt_iats: list[int] = []
        # Provider tokens issued before this instant are answered with ExpiredProviderToken.
        self.min_iat: float = 0
        self._lock = threading.Lock()
        self._connections = itertools.count(1)
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeApns:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # -- HTTP/2 plumbing --------------------------------------------------------------------

    def _handler_class(self) -> type[socketserver.BaseRequestHandler]:
        fake = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                fake._serve_connection(self.request, next(fake._connections))

        return Handler

    def _serve_connection(self, sock: socket.socket, connection_id: int) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # avoid delayed-ACK stalls
        conn = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
        )
        conn.initiate_connection()
        sock.sendall(conn.data_to_send())
        pending: dict[int, tuple[dict[str, str], bytearray]] = {}
        while True:
            try:
                data = sock.recv(65535)
            except OSError:
                return
            if not data:
                return
            try:
                events = conn.receive_data(data)
            except h2.exceptions.ProtocolError:
                sock.sendall(conn.data_to_send())
                return
            for event in events:
                if isinstance(event, h2.events.RequestReceived):
                    pending[event.stream_id] = (dict(event.headers), bytearray())
                elif isinstance(event, h2.events.DataReceived):
                    pending[event.stream_id][1].extend(event.data)
                    conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                elif isinstance(event, h2.events.StreamEnded):
                    headers, body = pending.pop(event.stream_id)
                    request = RecordedRequest(
                        method=headers.get(":method", ""),
                        path=headers.get(":path", ""),
                        headers=headers,
                        body=bytes(body),
                        connection_id=connection_id,
                        stream_id=event.stream_id,
                    )
                    self._respond(conn, event.stream_id, self._handle(request))
                elif isinstance(event, h2.events.ConnectionTerminated):
                    sock.sendall(conn.data_to_send())
                    return
            outgoing = conn.data_to_send()
            if outgoing:
                sock.sendall(outgoing)

    @staticmethod
    def _respond(conn: h2.connection.H2Connection, stream_id: int, response: Response) -> None:
        headers = [(":status", str(response.status)), ("apns-id", f"fake-{stream_id}")]
        headers += response.headers
        if response.reason is None:
            conn.send_headers(stream_id, headers, end_stream=True)
            return
        body = json.dumps({"reason": response.reason}).encode()
        headers += [("content-type", "application/json"), ("content-length", str(len(body)))]
        conn.send_headers(stream_id, headers)
        conn.send_data(stream_id, body, end_stream=True)

    # -- APNs semantics ---------------------------------------------------------------------

    def _handle(self, request: RecordedRequest) -> Response:
        with self._lock:
            self.requests.append(request)
        prefix = "/3/device/"
        if request.method != "POST" or not request.path.startswith(prefix):
            return Response(404, "BadPath")
        token = request.path[len(prefix) :]

        auth_error = self._check_provider_token(request.headers.get("authorization", ""))
        if auth_error:
            return Response(403, auth_error)
        headers = request.headers
        if headers.get("apns-topic") != self.config.topic:
            return Response(400, "BadTopic" if "apns-topic" in headers else "MissingTopic")
        if headers.get("apns-push-type") not in ("alert", "background"):
            return Response(400, "InvalidPushType")
        if headers.get("apns-priority") not in ("5", "10"):
            return Response(400, "BadPriority")
        if not headers.get("apns-expiration", "").isdigit():
            return Response(400, "BadExpirationDate")
        if len(headers.get("apns-collapse-id", "").encode()) > 64:
            return Response(400, "BadCollapseId")
        try:
            payload = json.loads(request.body)
        except ValueError:
            return Response(400, "PayloadEmpty")
        if not isinstance(payload.get("aps"), dict):
            return Response(400, "PayloadEmpty")

        decision = self.script.decide(token)
        if decision == "dead":
            return Response(410, "Unregistered")
        if decision == "rate_limited":
            return Response(429, "TooManyRequests", [("retry-after", "1")])
        if decision == "error":
            return Response(500, "InternalServerError")
        return Response(200)

    def _check_provider_token(self, authorization: str) -> str | None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return "MissingProviderToken"
        try:
            header = jwt.get_unverified_header(token)
            claims = jwt.decode(
                token,
                self.config.public_key,
                algorithms=["ES256"],
                options={"require": ["iss", "iat"]},
            )
        except jwt.PyJWTError:
            return "InvalidProviderToken"
        if header.get("kid") != self.config.key_id or claims["iss"] != self.config.team_id:
            return "InvalidProviderToken"
        with self._lock:
            self.provider_tokens.append(token)
            self.jwt_iats.append(claims["iat"])
        if claims["iat"] < self.min_iat or claims["iat"] < time.time() - TOKEN_MAX_AGE:
            return "ExpiredProviderToken"
        return None
