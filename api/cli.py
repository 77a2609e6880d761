"""Operator commands: `flask --app wsgi create-admin`, `flask --app wsgi registry import-persons`,
`flask --app wsgi registry import-enterprises`."""
from __future__ import annotations

import csv

import click
from flask import Flask
from flask.cli import with_appcontext

from api.unit_of_work import commit

ROLE_CHOICES = ["operator", "staff", "issuer-admin"]


def register_cli(app: Flask) -> None:
    app.cli.add_command(create_admin)
    app.cli.add_command(registry)
    from api.demo import demo_command  # `demo [--json]`: the newcomer's demo data
    app.cli.add_command(demo_command)
    from api.keys.cli import register as register_keys  # `keys rotate`, `keys list`
    register_keys(app)
    from api.trust.cli import register as register_trust  # `trust refresh`, `trust purge`
    register_trust(app)


@click.command("create-admin")
@with_appcontext
@click.option("--phone", required=True, help="The operator's mobile number; they sign in by SMS code.")
@click.option("--role", "roles", multiple=True, type=click.Choice(ROLE_CHOICES), default=["operator"],
              show_default=True)
def create_admin(phone: str, roles: tuple[str, ...]) -> None:
    """Create (or promote) an account with operator roles."""
    import time

    from api.errors import AppError
    from api.identity.accounts import grant_roles
    from api.identity.phones import normalise_phone

    try:
        phone = normalise_phone(phone)
    except AppError:
        raise click.BadParameter("not a valid mobile number", param_hint="--phone") from None
    user = grant_roles(phone, roles, now=int(time.time()))
    click.echo(f"account {user.id} ({phone[:5]}****{phone[-4:]}) has roles: {', '.join(user.roles)}")


@click.group("registry")
def registry() -> None:
    """Load the local mirrors of the population and enterprise registries."""


@registry.command("import-persons")
@with_appcontext
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--batch", default=5000, show_default=True)
def import_persons(csv_file: str, batch: int) -> None:
    """Upsert persons from CSV: id_type,id_number,name,birth_date,district,hukou

    Optional: guardian_id_numbers (the `;`-separated identity numbers of a minor's guardians,
    kept only as blind indexes); veteran, disabled, living_alone, home_service (booleans); any
    other column is kept as an attribute. Every column's rule is in api/identity/person_rows.py
    (and docs/registry-import.md): a row breaking one is reported with its line number, the
    column and the rule, and skipped; good rows are committed in batches."""
    from api.extensions import pii_cipher
    from api.identity.person_rows import RowError, missing_columns
    from api.identity.registry_import import upsert_person

    pii = pii_cipher()
    done = skipped = pending = 0
    with open(csv_file, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = missing_columns(reader.fieldnames)
        if missing:
            raise click.UsageError(f"missing columns: {', '.join(missing)}")
        for line, row in enumerate(reader, start=2):
            try:
                upsert_person(row, pii=pii)
            except RowError as exc:
                click.echo(f"line {line}: {exc.describe()}", err=True)
                skipped += 1
                continue
            done += 1
            pending += 1
            if pending >= batch:
                commit()
                pending = 0
        commit()
    click.echo(f"imported {done} persons, skipped {skipped}")


@registry.command("import-enterprises")
@with_appcontext
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--batch", default=2000, show_default=True)
def import_enterprises(csv_file: str, batch: int) -> None:
    """Upsert enterprises from CSV: credit_code,name,legal_rep_id_number,district,industry,size

    Optional columns: founded_on (YYYY-MM-DD), legal_rep_id_type (default resident_id); others
    are kept as attributes. A new legal representative takes over the enterprise account's
    administrator role (see api.enterprises.services). Bad rows are reported and skipped."""
    from api.enterprises.services import import_registry_row
    from api.errors import AppError
    from api.extensions import now, pii_cipher

    pii = pii_cipher()
    required = {"credit_code", "name", "legal_rep_id_number", "district", "industry", "size"}
    counts = {"created": 0, "updated": 0, "legal_rep_changed": 0}
    skipped = pending = 0
    with open(csv_file, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = required - set(reader.fieldnames or [])
        if missing:
            raise click.UsageError(f"missing columns: {', '.join(sorted(missing))}")
        for line, row in enumerate(reader, start=2):
            try:   # every check runs before the row touches the session
                counts[import_registry_row(row, pii=pii, now=now())] += 1
            except (AppError, ValueError) as exc:
                what = exc.error.name if isinstance(exc, AppError) else "invalid value"
                click.echo(f"line {line}: {what}, skipped", err=True)
                skipped += 1
                continue
            pending += 1
            if pending >= batch:
                commit()
                pending = 0
        commit()
    click.echo(f"imported {counts['created'] + counts['updated'] + counts['legal_rep_changed']} enterprises "
               f"({counts['created']} new, {counts['legal_rep_changed']} with a new legal representative), "
               f"skipped {skipped}")
