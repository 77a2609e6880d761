"""Demo data for a newcomer's first hour: `flask --app wsgi demo [--json]`.

Everything is built through the use cases an operator, a department and a resident would go
through (registry import, real-name check, venue and staff grant, issuer and licence push,
policy and campaign), so the demo exercises the real rules. Idempotent: each step first looks
for what an earlier run made (by the demo operator's name for it) and reuses it, so running
the command twice gives the same people, venue, licence, policy and mini-program.

Layers above `api` add their own steps without `api` importing them: a plugin calls
`register_step(app, fn)` in its `init_app` (the mini-program adapter registers the demo app;
push delivers the demo campaign to the inbox at once). Steps run in registration order, after
the core ones, each getting the `DemoContext` and adding to `ctx.out`.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from api.identity.identity_numbers import gb11643_check_char
from api.identity.tokens import Principal

STEPS_KEY = "ssb.demo_steps"

RESIDENT_PHONE = "13800138000"
STAFF_PHONE = "13700137000"
OPERATOR_PHONE = "13900139000"


def _resident_id(region: str, birth: str, seq: str) -> str:
    first17 = region + birth + seq
    return first17 + gb11643_check_char(first17)


# Synthetic registry persons (valid GB 11643 check characters, not real people).
RESIDENT = {"id_type": "resident_id", "id_number": _resident_id("310101", "19850615", "031"), "name": "李明",
            "birth_date": "1985-06-15", "district": "黄浦区", "hukou": "true"}
CHILD = {"id_type": "resident_id", "id_number": _resident_id("310101", "20160901", "042"), "name": "李小雨",
         "birth_date": "2016-09-01", "district": "黄浦区", "hukou": "true",
         "guardian_id_numbers": RESIDENT["id_number"]}
STAFF = {"id_type": "resident_id", "id_number": _resident_id("310101", "19920310", "026"), "name": "王芳",
         "birth_date": "1992-03-10", "district": "黄浦区", "hukou": "false"}

VENUE = {"name": "人民广场站（演示）", "address": "黄浦区人民大道 120 号", "district": "黄浦区", "kind": "transit"}
STAFF_SCENES = ["general", "transport"]
ISSUER_NAME = "上海市公安局交通警察总队（演示）"
LICENCE = {"type": "driving_licence", "number": "DEMO3101000001",
           "fields": {"vehicle_class": "C1", "first_issue_date": "2008-07-01", "gender": "男",
                      "file_number": "310000123456", "address": "上海市黄浦区人民大道 200 号"},
           "valid_from": date(2022, 7, 1), "valid_until": date(2032, 7, 1), "region": "310000"}
POLICY = {"title": "黄浦区成年居民免费健康体检（演示）",
          "body": "黄浦区户籍或常住的成年居民每年可在社区卫生服务中心免费体检一次，请在随申办预约。",
          "title_en": "Free health check for adults in Huangpu (demo)",
          "body_en": "Adults living in Huangpu get one free health check a year at their community "
                     "health centre; book it in the app.",
          "topic": "health",
          "rule": {"and": [{">=": [{"var": "age"}, 18]}, {"==": [{"var": "district"}, "黄浦区"]}]}}


@dataclass
class DemoContext:
    """What the steps share: the clock, the demo operator (acting as operators do), the
    resident's and staff member's account ids, and the answer being built."""

    now: int
    operator: Principal | None = None
    resident_id: int = 0
    staff_id: int = 0
    campaign_id: int | None = None
    out: dict = field(default_factory=dict)


Step = Callable[[DemoContext], None]


def register_step(app: Flask, step: Step) -> None:
    """A plugin's demo step, run after the core ones (see the module docstring)."""
    app.extensions.setdefault(STEPS_KEY, []).append(step)


class DemoRefused(Exception):
    pass


def development_sms(backend: str) -> bool:
    """Codes that reach no real phone: the console (terminal) or a file."""
    return backend == "console" or backend.startswith("file:")


def load_demo(*, now: int) -> dict:
    """Create or refresh the demo data; the JSON answer of `demo --json`.

    Development only: with a real SMS gateway the demo's phone numbers belong to real people,
    and the demo operator's number would become an operator account its owner could sign in to."""
    from api.extensions import get_config

    if not development_sms(get_config().SMS_BACKEND):
        raise DemoRefused("the demo data are for development: it needs SMS_BACKEND=console or file:PATH")
    ctx = DemoContext(now=now)
    for step in (_registry, _operator, _resident, _venue, _licence, _policy,
                 *current_app.extensions.get(STEPS_KEY, ())):
        step(ctx)
    return ctx.out


# --------------------------------------------------------------------------- core steps


def _registry(ctx: DemoContext) -> None:
    from api.extensions import pii_cipher
    from api.identity.registry_import import upsert_person
    from api.unit_of_work import commit

    for row in (RESIDENT, CHILD, STAFF):
        upsert_person(row, pii=pii_cipher())
    commit()
    ctx.out["child"] = {key: CHILD[key] for key in ("name", "id_type", "id_number", "birth_date")} | {
        "relation": "minor_child"}


def _operator(ctx: DemoContext) -> None:
    from api.identity.accounts import grant_roles
    from api.identity.phones import normalise_phone

    user = grant_roles(normalise_phone(OPERATOR_PHONE), ["operator"], now=ctx.now)
    ctx.operator = Principal(user_id=user.id, session_id="demo", roles=frozenset(user.roles))
    ctx.out["operator"] = {"phone": OPERATOR_PHONE, "user_id": user.id, "roles": sorted(user.roles)}


def _resident(ctx: DemoContext) -> None:
    from api.extensions import population_registry
    from api.identity.accounts import grant_roles, verify_real_name
    from api.identity.phones import normalise_phone

    user = grant_roles(normalise_phone(RESIDENT_PHONE), [], now=ctx.now)
    if not user.is_verified:
        verify_real_name(user.id, name=RESIDENT["name"], id_type=RESIDENT["id_type"],
                         id_number=RESIDENT["id_number"], now=ctx.now, registry=population_registry())
    ctx.resident_id = user.id
    ctx.out["resident"] = {"phone": RESIDENT_PHONE, "user_id": user.id, "name": RESIDENT["name"],
                           "id_type": RESIDENT["id_type"], "id_number": RESIDENT["id_number"]}


def _venue(ctx: DemoContext) -> None:
    from api.codes import venues
    from api.identity.phones import normalise_phone

    assert ctx.operator is not None
    venue = venues.venue_named(VENUE["name"], created_by=ctx.operator.user_id) or venues.create_venue(
        operator=ctx.operator, scenes=None, now=ctx.now, **VENUE)
    grant = venues.grant_staff(operator=ctx.operator, venue_id=venue["id"], phone=normalise_phone(STAFF_PHONE),
                               scenes=STAFF_SCENES, now=ctx.now)
    ctx.staff_id = grant["user_id"]
    ctx.out["venue"] = {"id": venue["id"], "name": venue["name"], "scenes": venue["scenes"]}
    ctx.out["staff"] = {"phone": STAFF_PHONE, "user_id": grant["user_id"], "venue_id": venue["id"],
                        "scenes": grant["scenes"]}


def _licence(ctx: DemoContext) -> None:
    from api.licences import issuers, issuing

    assert ctx.operator is not None
    issuer = issuers.issuer_named(ISSUER_NAME, created_by=ctx.operator.user_id)
    if issuer is None:
        issuers.create_issuer(name=ISSUER_NAME, licence_types=[LICENCE["type"]], created_by=ctx.operator.user_id,
                              now=ctx.now)
        issuer = issuers.issuer_named(ISSUER_NAME, created_by=ctx.operator.user_id)
    assert issuer is not None
    holder = {"id_type": RESIDENT["id_type"], "id_number": RESIDENT["id_number"], "name": RESIDENT["name"]}
    licence = issuing.upsert_licence(issuer, licence_type=LICENCE["type"], number=LICENCE["number"], holder=holder,
                                     fields=LICENCE["fields"], valid_from=LICENCE["valid_from"],
                                     valid_until=LICENCE["valid_until"], region=LICENCE["region"], now=ctx.now)
    ctx.out["licence"] = {"id": licence["id"], "type": LICENCE["type"], "issuer": ISSUER_NAME}


def _policy(ctx: DemoContext) -> None:
    from api.notifications import policies

    assert ctx.operator is not None
    policy = policies.policy_titled(POLICY["title"], created_by=ctx.operator.user_id) or policies.create_policy(
        ctx.operator, now=ctx.now, **POLICY)
    # The policy's first run, started once: running the demo again starts no new run.
    campaign_id = policies.latest_run_id(policy["id"]) or \
        policies.start_campaign(ctx.operator, policy["id"], now=ctx.now)["campaign_id"]
    ctx.campaign_id = campaign_id
    ctx.out["policy"] = {"id": policy["id"], "title": policy["title"], "campaign_id": campaign_id}


# --------------------------------------------------------------------------- the command


@click.command("demo")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (resident, staff, operator, venue, "
                                                      "miniprogram, ...) instead of the text summary.")
@with_appcontext
def demo_command(as_json: bool) -> None:
    """Load demo data (idempotent) and print who to sign in as."""
    from api.errors import AppError
    from api.extensions import get_config, now

    try:
        out = load_demo(now=now())
    except DemoRefused as exc:
        raise click.ClickException(str(exc)) from None
    except AppError as exc:
        raise click.ClickException(f"{exc.error.name}: {exc.error.en}") from None
    if as_json:
        click.echo(json.dumps(out, ensure_ascii=False, indent=2, default=str))
        return
    click.echo(summary(out, sms_backend=get_config().SMS_BACKEND, base_url=get_config().PUBLIC_BASE_URL))


def summary(out: dict, *, sms_backend: str, base_url: str) -> str:
    """The text the command prints: who is who, and where the sign-in code shows up."""
    if sms_backend == "console":
        where = 'the server (make run) prints each code on its own line: "SMS to +86138****8000: code 123456"'
    elif sms_backend.startswith("file:"):
        where = f"codes are appended to {sms_backend[len('file:'):]} (one JSON object a line)"
    else:
        where = "codes go out through the SMS gateway"
    venue, staff = out["venue"], out["staff"]
    lines = [
        "Demo data ready (run it again any time: same people, venue, licence and app).",
        "",
        f"Sign in with POST /v1/auth/otp then /v1/auth/login, or on {base_url}/code and {base_url}/scan;",
        f"  {where}.",
        (f"  resident  {out['resident']['phone']}  {out['resident']['name']}, real-name verified; "
         f"a {out['licence']['type']} in the wallet; policy \"{out['policy']['title']}\" in the inbox"),
        f"  staff     {staff['phone']}  at {venue['name']} ({venue['id']}), scenes {', '.join(staff['scenes'])}",
        f"  operator  {out['operator']['phone']}  roles {', '.join(out['operator']['roles'])}",
        "",
        f"Venue:        {venue['name']}  id {venue['id']}  (staff pick it on {base_url}/scan)",
    ]
    if "miniprogram" in out:
        mp = out["miniprogram"]
        lines.append(f"Mini-program: {mp['name']}  appid {mp['appid']}  secret {mp['secret']}  ({mp['secret_source']})")
    child = out["child"]
    lines.append(f"Registry:     the resident's child {child['name']} ({child['id_type']} {child['id_number']}): "
                 "POST /v1/me/dependents with relation minor_child")
    return "\n".join(lines)
