"""Loading the local mirror of the population registry, one person (a CSV row) at a time.

Used by `flask --app wsgi registry import-persons` and by the demo data (`api.demo`). A
composed writer: the caller commits (in batches for a large file).
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from api.errors import AppError
from api.extensions import db
from api.identity.guardians import COLUMN as GUARDIAN_COLUMN
from api.identity.guardians import guardian_indexes
from api.identity.identity_numbers import normalise
from api.identity.models import Person
from api.pii import PiiCipher

PERSON_COLUMNS = frozenset({"id_type", "id_number", "name", "birth_date", "district", "hukou"})


class InvalidPersonRow(ValueError):
    """The row cannot be imported; `reason` says why in words for the operator."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def upsert_person(row: dict, *, pii: PiiCipher) -> Person:
    """Create or update the registry person of `row` (keyed by the identity number's blind index).

    Optional `guardian_id_numbers`: the `;`-separated identity numbers of a minor's guardians,
    kept only as blind indexes. Other extra columns (veteran, disabled, living_alone, ...) are
    kept as attributes. Everything is checked before the session is touched."""
    try:
        number = normalise(row["id_type"], row["id_number"])
        born = date.fromisoformat(row["birth_date"]) if row["birth_date"] else None
    except (AppError, ValueError):
        raise InvalidPersonRow("invalid identity number or birth date") from None
    guardians = None
    if GUARDIAN_COLUMN in row:
        try:
            guardians = guardian_indexes(row[GUARDIAN_COLUMN], pii.blind_index)
        except ValueError:
            raise InvalidPersonRow(f"invalid {GUARDIAN_COLUMN}") from None
    bidx = pii.blind_index(row["id_type"], number)
    person = db.session.scalar(select(Person).where(Person.id_number_bidx == bidx))
    if person is None:
        person = Person(id_type=row["id_type"], id_number_bidx=bidx)
        db.session.add(person)
    person.id_number_enc = pii.encrypt(number, context="persons.id_number")
    person.name = row["name"].strip()
    person.birth_date = born
    person.district = row["district"] or None
    person.hukou = truthy(row["hukou"])
    person.attributes = {k: _parse_extra(v) for k, v in row.items()
                         if k and k not in PERSON_COLUMNS and k != GUARDIAN_COLUMN}
    if guardians is not None:
        person.guardian_bidxs = guardians
    return person


def truthy(value) -> bool:
    if isinstance(value, bool):
        return value
    return (value or "").strip().lower() in ("1", "true", "yes", "y", "是")


def _parse_extra(value):
    if isinstance(value, bool):
        return value
    v = (value or "").strip()
    if v.lower() in ("true", "false", "yes", "no", "1", "0", "是", "否"):
        return truthy(v)
    return v
