"""Property: push/profiles.py's SQL over the real (migrated) persons table agrees with the
Python profile, for any valid person rule -- on SQLite and, in CI, PostgreSQL.

Complements test_rules_properties.py (rules over a synthetic table): here the attributes are
derived the way campaigns derive them (age from birth_date at an as-of date, flags from the
JSON attributes column, including non-boolean junk that must count as missing)."""
from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select

from api.extensions import db
from api.identity.models import Person
from api.notifications import rules
from api.notifications.profiles import person_columns, person_profile
from tests.api.notifications.test_rules_properties import combine, leaves

PERSON_NAMES = ["age", "district", "hukou", "veteran", "disabled", "living_alone"]


@st.composite
def person_leaves(draw):
    leaf = draw(leaves())
    (op, args), = leaf.items()
    var = args[0] if isinstance(args[0], dict) else args[1]
    if var["var"] not in PERSON_NAMES:
        name = draw(st.sampled_from(["hukou", "veteran", "disabled", "living_alone"]))
        return {"==": [{"var": name}, draw(st.booleans())]}
    return leaf


person_rules = st.recursive(person_leaves() | st.booleans(), combine, max_leaves=6)
flag = st.sampled_from([True, False, None, "", "yes", 1, 0, [True]])
person_rows = st.fixed_dictionaries({
    "birth_date": st.none() | st.dates(min_value=date(1900, 1, 1), max_value=date(2030, 12, 31))
    | st.sampled_from([date(1964, 2, 29), date(1966, 3, 1), date(1966, 2, 28)]),
    "district": st.none() | st.sampled_from(["黄浦区", "徐汇区", "浦东新区", ""]),
    "hukou": st.booleans(),
    "attributes": st.dictionaries(st.sampled_from(["veteran", "disabled", "living_alone", "other"]), flag),
})
as_of_dates = st.sampled_from([date(2026, 2, 28), date(2026, 3, 1), date(2028, 2, 29), date(2026, 11, 22)])


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(rule=person_rules, people=st.lists(person_rows, min_size=1, max_size=8), as_of=as_of_dates)
def test_sql_profile_equals_python_profile(app_ctx, rule, people, as_of):
    parsed = rules.parse(rule, "person")
    db.session.execute(delete(Person))
    db.session.execute(insert(Person), [
        {"id_type": "resident_id", "id_number_bidx": f"bidx-{i}", "id_number_enc": b"x", "name": "n", **p}
        for i, p in enumerate(people)])
    matched = parsed.to_sql(person_columns(Person, as_of=as_of)).label("matched")
    got = dict(db.session.execute(select(Person.id_number_bidx, matched)).tuples().all())
    persons = {p.id_number_bidx: p for p in db.session.scalars(select(Person))}
    for bidx, person in persons.items():
        assert got[bidx] is not None, "SQL produced NULL"
        profile = person_profile(person, as_of=as_of)
        assert bool(got[bidx]) is parsed.evaluate(profile), (rule, profile)
    db.session.rollback()


def test_age_boundaries(app_ctx):
    """Birthdays today, tomorrow, and 29 February in a common year."""
    rows = {"today": date(1966, 11, 22), "tomorrow": date(1966, 11, 23), "leap": date(1964, 2, 29)}
    db.session.execute(insert(Person), [
        {"id_type": "resident_id", "id_number_bidx": k, "id_number_enc": b"x", "name": "n", "birth_date": v,
         "hukou": True, "attributes": {}} for k, v in rows.items()])
    age = person_columns(Person, as_of=date(2026, 11, 22))["age"]
    got = dict(db.session.execute(select(Person.id_number_bidx, age)).tuples().all())
    assert got == {"today": 60, "tomorrow": 59, "leap": 62}
    on_feb_28 = person_columns(Person, as_of=date(2026, 2, 28))["age"]
    assert db.session.scalar(select(on_feb_28).where(Person.id_number_bidx == "leap")) == 61
    db.session.rollback()
