"""The enterprise registry: who is this credit code, and who is its legal representative?

`local` reads the `enterprise_registry` table (loaded by `registry import-enterprises`);
`http:URL` asks a registry service. Both answer a `RegistryEntry` (the representative only as a
keyed blind index, never in clear) or None; a transport failure raises RegistryUnavailable.
Chosen by ENTERPRISE_REGISTRY_BACKEND; the app builds it once, on first use.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

import httpx
from sqlalchemy import select

from api.identity.population import RegistryUnavailable

__all__ = ["RegistryEntry", "EnterpriseRegistry", "LocalEnterpriseRegistry", "HttpEnterpriseRegistry",
           "RegistryUnavailable", "enterprise_registry_from_config"]


@dataclass(frozen=True)
class RegistryEntry:
    credit_code: str
    name: str
    legal_rep_bidx: str
    district: str | None = None
    industry: str | None = None
    size: str | None = None
    founded_on: date | None = None
    attributes: dict = field(default_factory=dict)


class EnterpriseRegistry(Protocol):
    def lookup(self, credit_code: str) -> RegistryEntry | None: ...


class LocalEnterpriseRegistry:
    def __init__(self, session_factory) -> None:
        self._session = session_factory

    def lookup(self, credit_code: str) -> RegistryEntry | None:
        from api.enterprises.models import RegistryEnterprise

        row = self._session().scalar(select(RegistryEnterprise).where(RegistryEnterprise.credit_code == credit_code))
        if row is None:
            return None
        return RegistryEntry(row.credit_code, row.name, row.legal_rep_bidx, row.district, row.industry, row.size,
                             row.founded_on, dict(row.attributes or {}))


class HttpEnterpriseRegistry:
    """POST {base}/enterprises/lookup {"credit_code"} signed with HMAC-SHA256 (X-Timestamp,
    X-Signature over timestamp + "\\n" + body) → 200 {"found": bool, "enterprise": {"credit_code",
    "name", "legal_rep": {"id_type", "id_number"}, "district", "industry", "size", "founded_on"}}.

    The representative's number is turned into our blind index at once and not kept."""

    def __init__(self, base_url: str, api_key: str, *, blind_index: Callable[[str, str], str],
                 timeout: float = 3.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key.encode()
        self.blind_index = blind_index
        self.client = httpx.Client(timeout=timeout)

    def lookup(self, credit_code: str) -> RegistryEntry | None:
        body = json.dumps({"credit_code": credit_code}).encode()
        ts = str(int(time.time()))
        sig = hmac.new(self.api_key, ts.encode() + b"\n" + body, hashlib.sha256).hexdigest()
        try:
            response = self.client.post(f"{self.base_url}/enterprises/lookup", content=body, headers={
                "Content-Type": "application/json", "X-Timestamp": ts, "X-Signature": sig})
            response.raise_for_status()
            data = response.json()
            if not data.get("found"):
                return None
            e = data["enterprise"]
            rep = e["legal_rep"]
            id_type = rep.get("id_type") or "resident_id"
            bidx = self.blind_index(id_type, _normalise_id(id_type, rep["id_number"]))
            founded = date.fromisoformat(e["founded_on"]) if e.get("founded_on") else None
            return RegistryEntry(str(e.get("credit_code") or credit_code), str(e["name"]), bidx, e.get("district"),
                                 e.get("industry"), e.get("size"), founded, e.get("attributes") or {})
        except (httpx.HTTPError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise RegistryUnavailable(type(exc).__name__) from exc


def _normalise_id(id_type: str, number: str) -> str:
    from api.errors import AppError
    from api.identity.identity_numbers import normalise
    try:
        return normalise(id_type, number)
    except AppError:
        return str(number).strip().upper().replace(" ", "")


def enterprise_registry_from_config(backend: str, api_key: str, *, session_factory,
                                    blind_index: Callable[[str, str], str]) -> EnterpriseRegistry:
    if backend == "local":
        return LocalEnterpriseRegistry(session_factory)
    if backend.startswith("http:"):
        return HttpEnterpriseRegistry(backend[len("http:"):], api_key, blind_index=blind_index)
    raise ValueError(f"unknown ENTERPRISE_REGISTRY_BACKEND {backend!r}")
