"""随申码 hot paths: issuing a code, rendering it, and staff verification.

Verification uses a general-scene code (repeat scans are valid there; transport codes are
single-use). A code lives CODE_TTL (60 s) + CLOCK_SKEW (10 s), so the verify bodies are a
callable the harness calls before each round for a fresh code; keep `--seconds` × 2 under
~70 s (the default 8 s fits).
"""
from __future__ import annotations

from bench.types import BenchContext, Scenario

RESIDENT_PHONE = "13766660001"
STAFF_PHONE = "13766660002"


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _ok(response, *statuses):
    if response.status_code not in (statuses or (200,)):
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.status_code} {response.text}")
    return response.json()


def scenarios(ctx: BenchContext) -> list[Scenario]:
    http = ctx.http
    operator = _bearer(ctx.operator_token())
    venue = _ok(http.post("/v1/admin/venues", headers=operator,
                          json={"name": "人民广场站", "address": "人民大道 1 号", "district": "黄浦区",
                                "kind": "transit"}), 201)
    _ok(http.post(f"/v1/admin/venues/{venue['id']}/staff", headers=operator,
                  json={"phone": STAFF_PHONE, "scenes": ["general", "transport"]}))
    resident = _bearer(ctx.login(RESIDENT_PHONE)["access_token"])
    staff = _bearer(ctx.login(STAFF_PHONE, device_id="scanner")["access_token"])

    def fresh_code() -> list[dict]:
        """Called by the harness before each round: a code valid for the next 70 s."""
        code = _ok(http.get("/v1/codes/suishen?scene=general", headers=resident))["codes"][0]["payload"]
        return [{"payload": code, "venue_id": venue["id"]}]

    return [
        Scenario("GET /v1/codes/suishen", "GET", "/v1/codes/suishen?scene=general", headers=resident),
        Scenario("GET /v1/codes/suishen/image (svg)", "GET", "/v1/codes/suishen/image?format=svg", headers=resident),
        Scenario("POST /v1/verify (general)", "POST", "/v1/verify", headers=staff,
                 bodies=fresh_code),
    ]
