"""E-licence hot paths: the wallet, showing a licence (presentation) and staff verification.

Verification is one-time, so its bodies are presentations minted in bulk in-process (on the same
stores, through the licences service): the harness calls `bodies` once per round, so every
round verifies presentations nobody has used (payloads live 3 minutes).
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

from bench.types import BenchContext, Scenario

ROOT = Path(__file__).resolve().parents[2]
HOLDER = "310101199003071230"          # GB 11643-valid (check character 0)
RESIDENT_PHONE = "13755550001"
STAFF_PHONE = "13755550002"
BATCH = 20000


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _ok(response, *statuses):
    if response.status_code not in (statuses or (200,)):
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.status_code} {response.text}")
    return response.json() if response.content else None


_MINT = """
import json, sys, time
from wsgi import create_app
from api.extensions import db
from api.licences.presentations import create_presentation
from api.identity.tokens import Principal
user_id, licence_id, count = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
app = create_app()
out = []
with app.app_context():
    principal = Principal(user_id=user_id, session_id="bench")
    now = int(time.time())
    for i in range(count):
        out.append({"payload": create_presentation(principal, licence_id, fields=["vehicle_class", "holder_name"],
                                                   purpose="bench", now=now)["payload"]})
json.dump(out, sys.stdout)
"""


class FreshPresentations:
    """Called once per round by the harness: mints a new batch of one-time verify bodies."""

    def __init__(self, env: dict, user_id: int, licence_id: int, count: int) -> None:
        self.env, self.user_id, self.licence_id, self.count = env, user_id, licence_id, count

    def __call__(self) -> list:
        done = subprocess.run([sys.executable, "-c", _MINT, str(self.user_id), str(self.licence_id),
                               str(self.count)], cwd=ROOT, env=self.env, capture_output=True, text=True,
                              check=True)
        return json.loads(done.stdout)


def scenarios(ctx: BenchContext) -> list[Scenario]:
    http = ctx.http
    with tempfile.TemporaryDirectory() as tmp:
        persons = Path(tmp) / "persons.csv"
        persons.write_text("id_type,id_number,name,birth_date,district,hukou\n"
                           f"resident_id,{HOLDER},张三,1990-03-07,黄浦区,true\n", encoding="utf-8")
        ctx.flask_cli("registry", "import-persons", str(persons))
    resident = ctx.login(RESIDENT_PHONE)
    me = _ok(http.post("/v1/me/real-name", headers=_bearer(resident["access_token"]),
                       json={"name": "张三", "id_type": "resident_id", "id_number": HOLDER}), 200, 409)
    ctx.flask_cli("create-admin", "--phone", STAFF_PHONE, "--role", "staff")
    staff = ctx.login(STAFF_PHONE)

    creds = _ok(http.post("/v1/admin/issuers", headers=_bearer(ctx.operator_token()),
                          json={"name": "上海市公安局交通警察总队", "licence_types": ["driving_licence"]}), 201)
    issuer = _ok(http.post("/v1/issuer/token", json={"client_id": creds["client_id"],
                                                      "client_secret": creds["client_secret"]}))
    today = date.today()
    _ok(http.put(f"/v1/issuer/licences/driving_licence/{HOLDER}", headers=_bearer(issuer["access_token"]), json={
        "holder": {"id_type": "resident_id", "id_number": HOLDER, "name": "张三"},
        "fields": {"vehicle_class": "C1", "file_number": "310012345678", "address": "上海市黄浦区人民大道200号"},
        "valid_from": (today - timedelta(days=365)).isoformat(),
        "valid_until": (today + timedelta(days=5 * 365)).isoformat(), "region": "310000"}))
    wallet = _ok(http.get("/v1/licences", headers=_bearer(resident["access_token"])))
    licence_id = wallet["items"][0]["id"]
    user_id = me["id"] if me and "id" in me else _ok(http.get("/v1/me", headers=_bearer(resident["access_token"])))["id"]

    resident_headers = _bearer(resident["access_token"])
    return [
        Scenario("GET /v1/licences", "GET", "/v1/licences", headers=resident_headers),
        Scenario("POST /v1/licences/{id}/presentations", "POST", f"/v1/licences/{licence_id}/presentations",
                 headers=resident_headers, body={"fields": ["vehicle_class", "holder_name"], "purpose": "bench"},
                 expect_status=201),
        Scenario("POST /v1/presentations/verify", "POST", "/v1/presentations/verify",
                 headers=_bearer(staff["access_token"]),
                 bodies=FreshPresentations(ctx.env, user_id, licence_id, BATCH)),
    ]
