"""A loopback fake of the population registry service, speaking the wire protocol
`api.identity.population.HttpPopulationRegistry` uses:

    POST /persons/lookup {"id_type": ..., "id_number": ...}
    X-Timestamp: unix seconds, X-Signature: hex HMAC-SHA256(key, timestamp + "\\n" + body)
    → 200 {"found": false} | {"found": true, "person": {"name", "birth_date", "district", "hukou",
                                                         "attributes", "guardian_id_numbers"}}
    → 401 on a bad or stale signature

Failures (`fail_next`, `garble_next`, `delay`) come from `LoopbackJsonServer`.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import time

from tests.fakes.loopback import LoopbackJsonServer


class FakePopulationRegistry(LoopbackJsonServer):
    def __init__(self, api_key: str) -> None:
        super().__init__()
        self.api_key = api_key.encode()
        self.persons: dict[tuple[str, str], dict] = {}

    def add(self, id_number: str, name: str, birth_date: str, *, id_type: str = "resident_id", **facts) -> None:
        self.persons[(id_type, id_number)] = {"name": name, "birth_date": birth_date, "district": "黄浦区",
                                              "hukou": True, "attributes": {}, **facts}

    def answer(self, path: str, headers, body: bytes) -> tuple[int, dict]:
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
