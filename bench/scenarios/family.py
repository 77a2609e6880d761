"""Family: a guardian's code for their child, and staff verifying it, beside the own-code
scenarios in bench/scenarios/codes.py (compare the ratios of the same run).

A dependent's code is not on the cached hot path: issuing asks api.family for the link (a few
indexed reads) and verifying reads the link again and writes the dependent's log. Codes shown
for dependents are a small share of all codes; these numbers say what that share costs.
"""
from __future__ import annotations

import csv
import tempfile
from datetime import date
from pathlib import Path

from api.identity.identity_numbers import gb11643_check_char
from bench.types import BenchContext, Scenario

GUARDIAN_PHONE = "13766660101"
STAFF_PHONE = "13766660102"


def _resident_id(region: str, birth: date, seq: str) -> str:
    first17 = region + birth.strftime("%Y%m%d") + seq
    return first17 + gb11643_check_char(first17)


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _ok(response, *statuses):
    if response.status_code not in (statuses or (200,)):
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.status_code} {response.text}")
    return response.json()


def _registry(ctx: BenchContext, guardian: str, child: str, child_born: date) -> None:
    path = Path(tempfile.mkdtemp(prefix="ssb-bench-family-")) / "persons.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id_type", "id_number", "name", "birth_date", "district", "hukou", "guardian_id_numbers"])
        writer.writerow(["resident_id", guardian, "王芳", "1985-05-05", "黄浦区", "1", ""])
        writer.writerow(["resident_id", child, "王小明", child_born.isoformat(), "黄浦区", "1", guardian])
    ctx.flask_cli("registry", "import-persons", str(path))


def scenarios(ctx: BenchContext) -> list[Scenario]:
    http = ctx.http
    guardian_id = _resident_id("310101", date(1985, 5, 5), "191")
    child_born = date(date.today().year - 8, 1, 15)
    child_id = _resident_id("310101", child_born, "192")
    _registry(ctx, guardian_id, child_id, child_born)
    guardian = _bearer(ctx.login(GUARDIAN_PHONE)["access_token"])
    _ok(http.post("/v1/me/real-name", headers=guardian,
                  json={"name": "王芳", "id_type": "resident_id", "id_number": guardian_id}))
    link = _ok(http.post("/v1/me/dependents", headers=guardian, json={
        "name": "王小明", "id_type": "resident_id", "id_number": child_id, "relation": "minor_child"}), 201)
    operator = _bearer(ctx.operator_token())
    venue = _ok(http.post("/v1/admin/venues", headers=operator, json={
        "name": "上海儿童医院", "address": "泸定路 355 号", "district": "普陀区", "kind": "hospital"}), 201)
    _ok(http.post(f"/v1/admin/venues/{venue['id']}/staff", headers=operator,
                  json={"phone": STAFF_PHONE, "scenes": ["general"]}))
    staff = _bearer(ctx.login(STAFF_PHONE, device_id="scanner")["access_token"])
    path = f"/v1/codes/suishen?scene=general&for={link['id']}"

    def fresh_code() -> list[dict]:
        """Called by the harness before each round: a code valid for the next 70 s."""
        return [{"payload": _ok(http.get(path, headers=guardian))["codes"][0]["payload"], "venue_id": venue["id"]}]

    return [
        Scenario("GET /v1/codes/suishen?for= (a dependent's)", "GET", path, headers=guardian),
        Scenario("POST /v1/verify (a dependent's, general)", "POST", "/v1/verify", headers=staff, bodies=fresh_code),
    ]
