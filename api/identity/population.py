"""The population registry: is this name the holder of this identity number?

`local` reads the `persons` table (loaded by `registry import-persons`); `http:URL` asks a
registry service. Both answer a `RegistryPerson` or None; a transport failure raises
RegistryUnavailable, which the API turns into 503.
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


class RegistryUnavailable(Exception):
    pass


@dataclass(frozen=True)
class RegistryPerson:
    name: str
    birth_date: date | None
    district: str | None
    hukou: bool
    attributes: dict = field(default_factory=dict)
    # Guardians the registry names (see api.identity.guardians): blind indexes, never numbers.
    guardian_bidxs: tuple[str, ...] = ()


class PopulationRegistry(Protocol):
    def lookup(self, *, id_type: str, id_number: str, blind_index: str) -> RegistryPerson | None: ...


class LocalPopulationRegistry:
    def __init__(self, session_factory) -> None:
        self._session = session_factory

    def lookup(self, *, id_type: str, id_number: str, blind_index: str) -> RegistryPerson | None:
        from api.identity.models import Person

        row = self._session().scalar(select(Person).where(Person.id_number_bidx == blind_index))
        if row is None or row.id_type != id_type:
            return None
        return RegistryPerson(row.name, row.birth_date, row.district, row.hukou, dict(row.attributes or {}),
                              tuple(row.guardian_bidxs or ()))


class HttpPopulationRegistry:
    """POST {base}/persons/lookup {"id_type","id_number"} signed with HMAC-SHA256 (header
    X-Signature over timestamp + body) → 200 {"found": bool, "person": {...}}.

    `person.guardian_id_numbers` (optional: a list, or a `;`-separated string) is turned into
    blind indexes at once with `blind_index` and not kept."""

    def __init__(self, base_url: str, api_key: str, *, timeout: float = 3.0,
                 blind_index: Callable[[str, str], str] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key.encode()
        self.client = httpx.Client(timeout=timeout)
        self.blind_index = blind_index

    def lookup(self, *, id_type: str, id_number: str, blind_index: str) -> RegistryPerson | None:
        body = json.dumps({"id_type": id_type, "id_number": id_number}).encode()
        ts = str(int(time.time()))
        sig = hmac.new(self.api_key, ts.encode() + b"\n" + body, hashlib.sha256).hexdigest()
        try:
            response = self.client.post(f"{self.base_url}/persons/lookup", content=body, headers={
                "Content-Type": "application/json", "X-Timestamp": ts, "X-Signature": sig})
            response.raise_for_status()
            data = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise RegistryUnavailable(type(exc).__name__) from exc
        try:
            return self._person(data)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            # An answer outside the protocol is the registry's fault, not the resident's.
            raise RegistryUnavailable(f"malformed answer: {type(exc).__name__}") from exc

    def _person(self, data: dict) -> RegistryPerson | None:
        if not data.get("found"):
            return None
        p = data["person"]
        born = date.fromisoformat(p["birth_date"]) if p.get("birth_date") else None
        return RegistryPerson(p["name"], born, p.get("district"), bool(p.get("hukou")), p.get("attributes") or {},
                              self._guardians(p))

    def _guardians(self, person: dict) -> tuple[str, ...]:
        """The registry's guardians as blind indexes; a malformed list is a registry fault."""
        from api.identity.guardians import COLUMN, guardian_indexes

        if self.blind_index is None or not person.get(COLUMN):
            return ()
        try:
            return tuple(guardian_indexes(person[COLUMN], self.blind_index))
        except (ValueError, TypeError) as exc:
            raise RegistryUnavailable("bad guardian_id_numbers") from exc


def registry_from_config(backend: str, api_key: str, session_factory,
                         blind_index: Callable[[str, str], str] | None = None) -> PopulationRegistry:
    if backend == "local":
        return LocalPopulationRegistry(session_factory)
    if backend.startswith("http:"):
        return HttpPopulationRegistry(backend[len("http:"):], api_key, blind_index=blind_index)
    raise ValueError(f"unknown REGISTRY_BACKEND {backend!r}")
