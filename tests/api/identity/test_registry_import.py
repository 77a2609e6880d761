"""`flask registry import-persons`: every column has a rule; a row breaking one is refused with
its line number and the rule, and nothing of it is stored; good rows are imported."""
from __future__ import annotations

import csv

import pytest
from sqlalchemy import select

from api.extensions import db, pii_cipher
from api.identity.models import Person
from tests.factories import resident_id

GOOD = {"id_type": "resident_id", "id_number": resident_id(seq="321"), "name": "陈六", "birth_date": "1990-03-07",
        "district": "浦东新区", "hukou": "yes"}


def run_import(app, tmp_path, rows: list[dict], columns: list[str] | None = None):
    path = tmp_path / "persons.csv"
    columns = columns or list(dict.fromkeys(k for r in rows for k in r))
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return app.test_cli_runner().invoke(args=["registry", "import-persons", str(path)])


def stored(app, row: dict) -> Person | None:
    with app.app_context():
        bidx = pii_cipher().blind_index(row["id_type"], row["id_number"])
        return db.session.scalar(select(Person).where(Person.id_number_bidx == bidx))


@pytest.mark.parametrize("column,value,rule", [
    ("hukou", "local", "true/false"),
    ("hukou", "2", "true/false"),
    ("district", "火星区", "Shanghai district"),
    ("district", "南京市", "Shanghai district"),
    ("id_type", "foo", "resident_id, passport"),
    ("birth_date", "1990-02-30", "YYYY-MM-DD"),
    ("birth_date", "07/03/1990", "YYYY-MM-DD"),
    ("name", "", "not empty"),
    ("id_number", resident_id(seq="321")[:-1] + "0", "check character"),
    ("veteran", "maybe", "true/false"),
])
def test_a_bad_value_is_refused_with_its_line_and_the_rule(app, tmp_path, column, value, rule):
    other = {**GOOD, "id_number": resident_id(seq="654")}
    bad = {**GOOD, column: value}
    if column == "id_number" and value == GOOD["id_number"]:
        pytest.fail("the bad number must differ")
    result = run_import(app, tmp_path, [other, {**bad, "veteran": bad.get("veteran", "")}],
                        columns=[*GOOD, "veteran"])
    assert result.exit_code == 0, result.output
    line = next(li for li in result.output.splitlines() if li.startswith("line 3:"))
    assert f"invalid {column}" in line and rule in line and "skipped" in line, line
    assert "imported 1 persons, skipped 1" in result.output
    if column != "id_number":
        assert GOOD["id_number"] not in result.output          # identity numbers never echoed
        assert stored(app, GOOD) is None
    assert stored(app, other) is not None


def test_an_identity_number_is_never_echoed(app, tmp_path):
    bad_number = resident_id(seq="321")[:-1] + "0"
    result = run_import(app, tmp_path, [{**GOOD, "id_number": bad_number}])
    assert "invalid id_number" in result.output and bad_number not in result.output


@pytest.mark.parametrize("value,expected", [("1", True), ("true", True), ("YES", True), ("y", True), ("是", True),
                                            ("0", False), ("false", False), ("No", False), ("n", False),
                                            ("否", False), ("", False)])
def test_hukou_words(app, tmp_path, value, expected):
    result = run_import(app, tmp_path, [{**GOOD, "hukou": value}])
    assert "imported 1 persons, skipped 0" in result.output, result.output
    assert stored(app, GOOD).hukou is expected


def test_every_shanghai_district_and_an_empty_one_are_accepted(app, tmp_path):
    from api.identity.person_rows import SHANGHAI_DISTRICTS
    assert len(SHANGHAI_DISTRICTS) == 16
    rows = [{**GOOD, "id_number": resident_id(seq=f"{i:03d}"), "district": d}
            for i, d in enumerate([*SHANGHAI_DISTRICTS, ""])]
    result = run_import(app, tmp_path, rows)
    assert f"imported {len(rows)} persons, skipped 0" in result.output, result.output


def test_unknown_extra_columns_are_kept_as_attributes(app, tmp_path):
    result = run_import(app, tmp_path, [{**GOOD, "medical_insurance": "active", "hobby": "围棋", "disabled": "是"}])
    assert "imported 1 persons" in result.output, result.output
    assert stored(app, GOOD).attributes == {"medical_insurance": "active", "hobby": "围棋", "disabled": True}


def test_a_missing_required_column_refuses_the_file(app, tmp_path):
    row = {k: v for k, v in GOOD.items() if k != "district"}
    result = run_import(app, tmp_path, [row])
    assert result.exit_code != 0 and "district" in result.output


def test_the_documentation_names_every_column_rule():
    from api.config import PROJECT_ROOT
    from api.identity.person_rows import COLUMNS
    page = (PROJECT_ROOT / "docs" / "registry-import.md").read_text(encoding="utf-8")
    for column in COLUMNS:
        assert f"`{column.name}`" in page, column.name
