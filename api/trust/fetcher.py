"""The HTTP client that fetches a peer platform's JWKS, and the URL policy for peers.

Defensive by construction, since the other end is outside our control:
- https only (plain http to loopback hosts, for development and tests), no redirects, no proxy
  settings from the environment, no credentials in the URL;
- a connect/read timeout AND a deadline for the whole fetch, so a peer dripping one byte at a
  time cannot hold a worker (the fetch runs under `asyncio.wait_for`);
- the body is streamed and the read stops at `max_bytes` (a declared larger Content-Length is
  refused before reading); compressed bodies are refused (we ask for identity: no zip bombs);
- `If-None-Match` with the last ETag; `Cache-Control: max-age` read for the next refresh.
"""
from __future__ import annotations

import asyncio
import ipaddress
import json
import time
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

import httpx

USER_AGENT = "ssb-trust-federation/1"
LOOPBACK_NAMES = frozenset({"localhost", "localhost."})


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_refusal(url) -> str | None:
    """Why a peer's JWKS URL is not acceptable, or None."""
    if not isinstance(url, str) or len(url) > 2048 or any(c.isspace() or ord(c) < 32 for c in url):
        return "not a URL"
    try:
        parts = urlsplit(url)
        host, _port = parts.hostname, parts.port
    except ValueError:
        return "not a URL"
    if parts.scheme not in ("https", "http") or not host:
        return "scheme must be https"
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return "credentials in the URL"
    if parts.fragment:
        return "fragment in the URL"
    if parts.scheme == "http" and not is_loopback_host(host):
        return "plain http only to a loopback host"
    return None


def cache_lifetime(header: str | None) -> int | None:
    """Seconds from Cache-Control: 0 for no-cache/no-store, max-age, or None when absent."""
    if not header:
        return None
    directives = {}
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        directives[name.strip().lower()] = value.strip().strip('"')
    if "no-store" in directives or "no-cache" in directives:
        return 0
    value = directives.get("max-age", "")
    return int(value) if value.isdigit() and len(value) <= 10 else None


@dataclass(frozen=True)
class FetchOutcome:
    status: str                      # "ok" | "not_modified" | "error"
    http_status: int | None = None
    document: dict | None = None
    etag: str | None = None
    max_age: int | None = None
    error: str | None = None
    duration_ms: int = 0


class _Refused(Exception):
    def __init__(self, error: str, http_status: int | None = None) -> None:
        super().__init__(error)
        self.error, self.http_status = error, http_status


class JwksClient:
    def __init__(self, *, timeout_ms: int, deadline_ms: int, max_bytes: int) -> None:
        self.timeout = timeout_ms / 1000
        self.deadline = deadline_ms / 1000
        self.max_bytes = max_bytes

    def fetch(self, url: str, *, etag: str | None = None) -> FetchOutcome:
        started = time.monotonic()
        refusal = url_refusal(url)
        if refusal:
            return FetchOutcome("error", error=f"url_not_allowed: {refusal}")
        try:
            outcome = asyncio.run(asyncio.wait_for(self._get(url, etag), self.deadline))
        except TimeoutError:
            outcome = FetchOutcome("error", error=f"deadline: no complete answer within {self.deadline:g} s")
        except _Refused as exc:
            outcome = FetchOutcome("error", http_status=exc.http_status, error=exc.error)
        except httpx.TimeoutException as exc:
            outcome = FetchOutcome("error", error=f"timeout: {type(exc).__name__}")
        except httpx.HTTPError as exc:   # connection refused or reset, TLS failure, protocol error
            outcome = FetchOutcome("error", error=f"unreachable: {type(exc).__name__}")
        return replace(outcome, duration_ms=int((time.monotonic() - started) * 1000))

    async def _get(self, url: str, etag: str | None) -> FetchOutcome:
        headers = {"Accept": "application/jwk-set+json, application/json", "Accept-Encoding": "identity",
                   "User-Agent": USER_AGENT}
        if etag:
            headers["If-None-Match"] = etag
        timeout = httpx.Timeout(self.timeout, connect=self.timeout)
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False) as client, \
                client.stream("GET", url, headers=headers) as response:
            return await self._read(response)

    async def _read(self, response: httpx.Response) -> FetchOutcome:
        status = response.status_code
        new_etag = response.headers.get("ETag")
        max_age = cache_lifetime(response.headers.get("Cache-Control"))
        if status == 304:
            return FetchOutcome("not_modified", http_status=304, etag=new_etag, max_age=max_age)
        if status != 200:
            raise _Refused(f"http_status: {status}", status)
        if response.headers.get("Content-Encoding", "identity").lower() != "identity":
            raise _Refused("content_encoding: compressed bodies are refused", status)
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type not in ("application/json", "application/jwk-set+json"):
            raise _Refused(f"content_type: {content_type[:60] or 'none'}", status)
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise _Refused(f"too_large: declared {declared} bytes > {self.max_bytes}", status)
        body = bytearray()
        async for chunk in response.aiter_raw():
            body += chunk
            if len(body) > self.max_bytes:
                raise _Refused(f"too_large: more than {self.max_bytes} bytes", status)
        try:
            document = json.loads(bytes(body))
        except (ValueError, UnicodeDecodeError):
            raise _Refused("not_json", status) from None
        return FetchOutcome("ok", http_status=status, document=document, etag=new_etag, max_age=max_age)
