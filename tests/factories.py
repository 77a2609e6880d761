"""Test data through the real code paths (CLI import, services), never hand-written rows."""
from __future__ import annotations

import csv
from pathlib import Path

from api.identity.identity_numbers import gb11643_check_char


def resident_id(region: str = "310101", birth: str = "19900307", seq: str = "123") -> str:
    first17 = region + birth + seq
    return first17 + gb11643_check_char(first17)


def import_persons(app, tmp_path: Path, rows: list[dict]) -> None:
    path = tmp_path / "persons.csv"
    columns = ["id_type", "id_number", "name", "birth_date", "district", "hukou"]
    extra = sorted({k for r in rows for k in r} - set(columns))
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns + extra)
        writer.writeheader()
        for r in rows:
            writer.writerow(r)
    result = app.test_cli_runner().invoke(args=["registry", "import-persons", str(path)])
    assert result.exit_code == 0, (result.output, result.exception)
