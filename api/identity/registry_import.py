"""Loading the local mirror of the population registry, one person (a CSV row) at a time.

Used by `flask --app wsgi registry import-persons` and by the demo data (`api.demo`). A
composed writer: the caller commits (in batches for a large file). Every column's rule is in
`api.identity.person_rows` (one table); a row breaking one raises `RowError` before the
session is touched.
"""
from __future__ import annotations

from sqlalchemy import select

from api.extensions import db
from api.identity.guardians import COLUMN as GUARDIAN_COLUMN
from api.identity.guardians import guardian_indexes
from api.identity.models import Person
from api.identity.person_rows import BY_NAME, REQUIRED, RowError, parse_row
from api.pii import PiiCipher

PERSON_COLUMNS = frozenset(REQUIRED)
InvalidPersonRow = RowError     # the name callers used before the rules became a table


def upsert_person(row: dict, *, pii: PiiCipher) -> Person:
    """Create or update the registry person of `row` (keyed by the identity number's blind index).

    Optional `guardian_id_numbers`: the `;`-separated identity numbers of a minor's guardians,
    kept only as blind indexes. Registry flags (veteran, disabled, living_alone, home_service)
    and any other extra column are kept as attributes."""
    values, attributes = parse_row(row)
    guardians = None
    if GUARDIAN_COLUMN in row:
        try:
            guardians = guardian_indexes(row[GUARDIAN_COLUMN], pii.blind_index)
        except ValueError as exc:
            raise RowError(GUARDIAN_COLUMN, f"{BY_NAME[GUARDIAN_COLUMN].rule} ({exc})") from None
    bidx = pii.blind_index(values["id_type"], values["id_number"])
    person = db.session.scalar(select(Person).where(Person.id_number_bidx == bidx))
    if person is None:
        person = Person(id_type=values["id_type"], id_number_bidx=bidx)
        db.session.add(person)
    person.id_number_enc = pii.encrypt(values["id_number"], context="persons.id_number")
    person.name = values["name"]
    person.birth_date = values["birth_date"]
    person.district = values["district"]
    person.hukou = values["hukou"]
    person.attributes = attributes
    if guardians is not None:
        person.guardian_bidxs = guardians
    return person
