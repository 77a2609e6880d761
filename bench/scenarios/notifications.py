"""`GET /v1/inbox`: a verified resident with a page of campaign messages, created through the
real API and the operator CLI (`registry import-persons`, policies + campaigns, `push relay --inline`)."""
from __future__ import annotations

import csv
import os
import tempfile

from bench.types import BenchContext, Scenario

PHONE = "13900009876"


def _id_number() -> str:
    from api.identity.identity_numbers import gb11643_check_char
    first17 = "31010119500101123"
    return first17 + gb11643_check_char(first17)


def scenarios(ctx: BenchContext) -> list[Scenario]:
    tokens = ctx.login(PHONE, device_id="bench-inbox")
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    number = _id_number()
    fd, path = tempfile.mkstemp(suffix=".csv")
    with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id_type", "id_number", "name", "birth_date", "district", "hukou", "veteran"])
        writer.writerow(["resident_id", number, "王老伯", "1950-01-01", "黄浦区", "true", "true"])
    try:
        ctx.flask_cli("registry", "import-persons", path)
    finally:
        os.unlink(path)
    ctx.http.post("/v1/me/real-name", headers=auth,
                  json={"name": "王老伯", "id_type": "resident_id", "id_number": number})
    operator = {"Authorization": f"Bearer {ctx.operator_token()}"}
    for i in range(25):
        r = ctx.http.post("/v1/admin/policies", headers=operator, json={
            "title": f"政策 {i}", "body": "黄浦区60岁以上户籍老人", "topic": "elderly",
            "rule": {"and": [{">=": [{"var": "age"}, 60]}, {"==": [{"var": "district"}, "黄浦区"]}]}})
        if r.status_code == 201:
            ctx.http.post(f"/v1/admin/policies/{r.json()['id']}/campaigns", headers=operator)
    ctx.flask_cli("push", "relay", "--inline")      # fan out here, whether or not a worker runs
    return [
        Scenario(name="GET /v1/inbox", method="GET", path="/v1/inbox?limit=20", headers=auth),
        Scenario(name="GET /v1/inbox/unread-count", method="GET", path="/v1/inbox/unread-count", headers=auth),
    ]
