"""Rows of the population registry CSV (`flask registry import-persons`): one rule per column, in
one table, so a new column is one more entry (docs/registry-import.md lists the same rules).

`parse_row` turns a CSV row into typed values or raises `RowError` naming the column and its
rule. Values are echoed in messages only for columns that carry no personal data.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from api.errors import AppError
from api.identity.identity_numbers import ID_TYPES, normalise

SHANGHAI_DISTRICTS = ("黄浦区", "徐汇区", "长宁区", "静安区", "普陀区", "虹口区", "杨浦区", "闵行区", "宝山区",
                      "嘉定区", "浦东新区", "金山区", "松江区", "青浦区", "奉贤区", "崇明区")
TRUE_WORDS = frozenset({"1", "true", "yes", "y", "是"})
FALSE_WORDS = frozenset({"0", "false", "no", "n", "否"})
BOOLEAN_RULE = "true/false, 1/0, yes/no, y/n or 是/否"
MAX_NAME = 64


class RowError(ValueError):
    """A value breaks its column's rule."""

    def __init__(self, column: str, rule: str, value: str | None = None) -> None:
        super().__init__(f"{column}: {rule}")
        self.column, self.rule, self.value = column, rule, value

    @property
    def reason(self) -> str:
        return f"invalid {self.column}"

    def describe(self) -> str:
        shown = f"{self.value!r} " if self.value is not None else ""
        return f"invalid {self.column}, skipped: {shown}must be {self.rule}"


@dataclass(frozen=True)
class Column:
    name: str
    required: bool             # must be in the header
    rule: str                  # what a value must be (messages and docs)
    parse: Callable[[str, dict], object]   # (raw value, parsed so far) -> value, or ValueError
    echo: bool = True          # may the bad value be shown? never for personal data
    attribute: bool = False    # stored in persons.attributes rather than its own column


def _id_type(raw: str, _parsed: dict) -> str:
    value = raw.strip()
    if value not in ID_TYPES:
        raise ValueError
    return value


def _id_number(raw: str, parsed: dict) -> str:
    try:
        return normalise(parsed["id_type"], raw)
    except AppError as exc:
        detail = "; ".join(m for ms in (exc.errors or {}).values() for m in ms)
        raise ValueError(detail) from None


def _name(raw: str, _parsed: dict) -> str:
    value = raw.strip()
    if not value or len(value) > MAX_NAME:
        raise ValueError
    return value


def _date(raw: str, _parsed: dict) -> date | None:
    value = raw.strip()
    if not value:
        return None
    if len(value) != 10:
        raise ValueError
    return date.fromisoformat(value)


def _district(raw: str, _parsed: dict) -> str | None:
    value = raw.strip()
    if value and value not in SHANGHAI_DISTRICTS:
        raise ValueError
    return value or None


def boolean(raw: str, _parsed: dict | None = None) -> bool:
    value = raw.strip().lower()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS or not value:
        return False
    raise ValueError


def _flag(raw: str, parsed: dict) -> bool | str:
    """A registry flag kept as an attribute: a boolean, or empty (unknown) kept as ""."""
    return boolean(raw) if raw.strip() else ""


def _guardians(raw: str, _parsed: dict) -> str:
    return raw                 # checked by the import, which holds the blind-index key


COLUMNS: tuple[Column, ...] = (
    Column("id_type", True, "one of " + ", ".join(ID_TYPES), _id_type),
    Column("id_number", True, "a valid number of its id_type (resident_id: 18 characters, GB 11643 check "
                              "character, a real birth date)", _id_number, echo=False),
    Column("name", True, f"not empty, at most {MAX_NAME} characters", _name, echo=False),
    Column("birth_date", True, "a date YYYY-MM-DD, or empty", _date),
    Column("district", True, "a Shanghai district (" + "、".join(SHANGHAI_DISTRICTS) + "), or empty", _district),
    Column("hukou", True, f"{BOOLEAN_RULE} (empty: false)", boolean),
    Column("guardian_id_numbers", False, "the `;`-separated identity numbers (at most 4) of a minor's guardians, "
                                         "or empty", _guardians, echo=False),
    Column("veteran", False, f"{BOOLEAN_RULE}, or empty", _flag, attribute=True),
    Column("disabled", False, f"{BOOLEAN_RULE}, or empty", _flag, attribute=True),
    Column("living_alone", False, f"{BOOLEAN_RULE}, or empty", _flag, attribute=True),
    Column("home_service", False, f"{BOOLEAN_RULE}, or empty", _flag, attribute=True),
)
BY_NAME = {c.name: c for c in COLUMNS}
REQUIRED = tuple(c.name for c in COLUMNS if c.required)


def missing_columns(header: list[str] | None) -> list[str]:
    return [name for name in REQUIRED if name not in (header or [])]


def parse_row(row: dict) -> tuple[dict, dict]:
    """(values of the known columns present in the row, attributes: flags and unknown columns).
    Raises RowError for the first value that breaks its column's rule."""
    parsed: dict = {}
    attributes: dict = {}
    for column in COLUMNS:
        if column.name not in row:
            continue
        raw = row[column.name] or ""
        try:
            value = column.parse(raw, parsed)
        except ValueError as exc:
            rule = f"{column.rule} ({exc})" if str(exc) else column.rule
            raise RowError(column.name, rule, raw if column.echo else None) from None
        (attributes if column.attribute else parsed)[column.name] = value
    for name, raw in row.items():
        if name and name not in BY_NAME:
            attributes[name] = extra_value(raw)
    return parsed, attributes


def extra_value(raw: str | None):
    """A column we have no rule for, kept as an attribute: yes/no words as booleans, else text."""
    value = (raw or "").strip()
    if value.lower() in TRUE_WORDS | FALSE_WORDS:
        return boolean(value)
    return value
