"""Profiles the rule language reads: one person's in Python, the population's as SQL expressions.

The two must agree row by row (tests/api/notifications/test_profiles_properties.py checks it
on the real ``persons`` table, on SQLite and PostgreSQL):

- ``age``: whole years between ``birth_date`` and the as-of date (Asia/Shanghai), computed as
  ``(yyyymmdd(as_of) - yyyymmdd(birth_date)) / 10000`` truncated toward zero; a birthday on
  29 February counts on 1 March in common years, in both evaluators.
- ``district``, ``hukou``: the registry columns.
- ``veteran``, ``disabled``, ``living_alone``: JSON booleans in ``persons.attributes`` (extra
  CSV columns of ``registry import-persons``); anything that is not a JSON boolean is missing.
"""
from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

FLAG_ATTRIBUTES = ("veteran", "disabled", "living_alone")


def _date_key(d: date) -> int:
    return d.year * 10000 + d.month * 100 + d.day


def age_on(birth: date | None, as_of: date) -> int | None:
    if birth is None:
        return None
    diff = _date_key(as_of) - _date_key(birth)
    return diff // 10000 if diff >= 0 else -((-diff) // 10000)   # truncation, as SQL does


def person_profile(person: Any, *, as_of: date) -> dict[str, Any]:
    """The attributes of one ``Person`` row (or None: an unverified resident has no profile)."""
    if person is None:
        return {}
    attributes = person.attributes if isinstance(person.attributes, dict) else {}
    profile: dict[str, Any] = {"age": age_on(person.birth_date, as_of), "district": person.district,
                               "hukou": bool(person.hukou) if person.hukou is not None else None}
    for name in FLAG_ATTRIBUTES:
        value = attributes.get(name)
        profile[name] = value if isinstance(value, bool) else None
    return profile


# ---------------------------------------------------------------------------------------------
# SQL


class date_key(FunctionElement):
    """yyyymmdd of a DATE column as an integer."""

    type = sa.Integer()
    inherit_cache = True
    name = "date_key"


@compiles(date_key, "sqlite")
def _date_key_sqlite(element, compiler, **kw):
    return "CAST(strftime('%%Y%%m%%d', %s) AS INTEGER)" % compiler.process(element.clauses, **kw)


@compiles(date_key, "postgresql")
def _date_key_pg(element, compiler, **kw):
    col = compiler.process(element.clauses, **kw)
    return (f"(CAST(EXTRACT(YEAR FROM {col}) AS INTEGER) * 10000 + CAST(EXTRACT(MONTH FROM {col}) AS INTEGER) * 100"
            f" + CAST(EXTRACT(DAY FROM {col}) AS INTEGER))")


class _JsonFlag(FunctionElement):
    """A JSON boolean under a fixed key of a JSON column; NULL for anything else. One subclass
    per key, so the key is part of the construct (and of SQLAlchemy's statement cache key)."""

    type = sa.Boolean()
    inherit_cache = True
    key = ""


_FLAG_CLASSES = {name: type(f"json_flag_{name}", (_JsonFlag,), {"key": name, "name": f"json_flag_{name}",
                                                               "inherit_cache": True})
                 for name in FLAG_ATTRIBUTES}


@compiles(_JsonFlag, "sqlite")
def _json_flag_sqlite(element, compiler, **kw):
    col = compiler.process(element.clauses, **kw)
    return f"(CASE json_type({col}, '$.{element.key}') WHEN 'true' THEN 1 WHEN 'false' THEN 0 END)"


@compiles(_JsonFlag, "postgresql")
def _json_flag_pg(element, compiler, **kw):
    col = compiler.process(element.clauses, **kw)
    return (f"(CASE WHEN json_typeof(CAST({col} AS json) -> '{element.key}') = 'boolean' "
            f"THEN CAST(CAST({col} AS json) ->> '{element.key}' AS boolean) END)")


class _IntDiv(FunctionElement):
    """a / b truncating toward zero on both dialects (SQLAlchemy 2 renders ``/`` on integers as
    true division on PostgreSQL)."""

    type = sa.Integer()
    inherit_cache = True
    name = "intdiv"


@compiles(_IntDiv)
def _intdiv(element, compiler, **kw):
    a, b = element.clauses.clauses
    return f"(({compiler.process(a, **kw)}) / ({compiler.process(b, **kw)}))"


def person_columns(person_table: Any, *, as_of: date) -> dict[str, ColumnElement[Any]]:
    """SQL expressions for every person attribute over ``person_table`` (the Person entity, an
    alias or a Table with the persons columns)."""
    c = getattr(person_table, "c", None)
    if c is None:
        c = sa.inspect(person_table).columns if not hasattr(person_table, "birth_date") else person_table
    days = sa.literal(_date_key(as_of), sa.Integer) - date_key(c.birth_date)
    columns: dict[str, ColumnElement[Any]] = {
        "age": _IntDiv(days, sa.literal(10000, sa.Integer)),
        "district": c.district,
        "hukou": c.hukou,
    }
    for name in FLAG_ATTRIBUTES:
        columns[name] = _FLAG_CLASSES[name](c.attributes)
    return columns
