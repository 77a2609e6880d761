"""Operator commands: `flask --app wsgi create-admin`, `flask --app wsgi registry import-persons`,
`flask --app wsgi registry import-enterprises`."""
from __future__ import annotations

import csv
from datetime import date

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy import select

from api.unit_of_work import commit

ROLE_CHOICES = ["operator", "staff", "issuer-admin"]


def register_cli(app: Flask) -> None:
    app.cli.add_command(create_admin)
    app.cli.add_command(registry)
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
    from api.identity.phones import normalise_phone
    from api.identity.sessions import get_or_create_user

    try:
        phone = normalise_phone(phone)
    except AppError:
        raise click.BadParameter("not a valid mobile number", param_hint="--phone") from None
    user = get_or_create_user(phone, now=int(time.time()))
    user.roles = sorted(set(user.roles) | {"resident", *roles})
    commit()
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

    Optional guardian_id_numbers: the `;`-separated identity numbers of a minor's guardians
    (kept only as blind indexes). Extra columns (veteran, disabled, living_alone, ...) are kept
    as attributes. Bad rows are reported with their line number and skipped; good rows are
    committed in batches."""
    from api.errors import AppError
    from api.extensions import db, pii_cipher
    from api.identity.identity_numbers import normalise
    from api.identity.models import Person

    pii = pii_cipher()
    known = {"id_type", "id_number", "name", "birth_date", "district", "hukou"}
    done = skipped = 0
    with open(csv_file, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = known - set(reader.fieldnames or [])
        if missing:
            raise click.UsageError(f"missing columns: {', '.join(sorted(missing))}")
        pending = 0
        for line, row in enumerate(reader, start=2):
            try:
                number = normalise(row["id_type"], row["id_number"])
                born = date.fromisoformat(row["birth_date"]) if row["birth_date"] else None
            except (AppError, ValueError):
                click.echo(f"line {line}: invalid identity number or birth date, skipped", err=True)
                skipped += 1
                continue
            try:
                guardians = _guardian_column(row, pii)
            except ValueError:
                click.echo(f"line {line}: invalid guardian_id_numbers, skipped", err=True)
                skipped += 1
                continue
            bidx = pii.blind_index(row["id_type"], number)
            person = db.session.scalar(select(Person).where(Person.id_number_bidx == bidx))
            if person is None:
                person = Person(id_type=row["id_type"], id_number_bidx=bidx)
                db.session.add(person)
            person.id_number_enc = pii.encrypt(number, context="persons.id_number")
            person.name = row["name"].strip()
            person.birth_date = born
            person.district = row["district"] or None
            person.hukou = _truthy(row["hukou"])
            person.attributes = {k: _parse_extra(v) for k, v in row.items()
                                 if k not in known and k and k != GUARDIAN_COLUMN}
            if guardians is not None:
                person.guardian_bidxs = guardians
            done += 1
            pending += 1
            if pending >= batch:
                commit()
                pending = 0
        commit()
    click.echo(f"imported {done} persons, skipped {skipped}")


GUARDIAN_COLUMN = "guardian_id_numbers"


def _guardian_column(row: dict, pii) -> list[str] | None:
    """The optional `guardian_id_numbers` column (`;`-separated identity numbers) as blind
    indexes (never stored in clear); None when the file has no such column. ValueError if bad."""
    if GUARDIAN_COLUMN not in row:
        return None
    from api.identity.guardians import guardian_indexes
    return guardian_indexes(row[GUARDIAN_COLUMN], pii.blind_index)


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "y", "是")


def _parse_extra(value: str | None):
    v = (value or "").strip()
    if v.lower() in ("true", "false", "yes", "no", "1", "0", "是", "否"):
        return _truthy(v)
    return v


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
