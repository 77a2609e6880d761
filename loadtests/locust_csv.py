"""Reading Locust's CSV output (``--csv PREFIX [--csv-full-history]``): the per-endpoint totals
of ``PREFIX_stats.csv`` and the Aggregated samples of ``PREFIX_stats_history.csv``."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass


def _num(value: str | None) -> float | None:
    """Locust writes "N/A" for percentiles of an entry with no requests yet."""
    if value is None:
        return None
    value = value.strip()
    if not value or value.upper() == "N/A":
        return None
    try:
        return float(value)
    except ValueError:
        return None


@dataclass(frozen=True)
class StatsRow:
    """One row of ``PREFIX_stats.csv`` (an endpoint, or the "Aggregated" total)."""

    method: str
    name: str
    requests: int
    failures: int
    rps: float
    median_ms: float | None
    p95_ms: float | None
    p99_ms: float | None

    @property
    def endpoint(self) -> str:
        return f"{self.method} {self.name}".strip()


@dataclass(frozen=True)
class StatsFile:
    rows: list[StatsRow]
    aggregated: StatsRow


def read_stats(path: str | os.PathLike[str]) -> StatsFile:
    """Parse ``PREFIX_stats.csv``; the "Aggregated" row is the whole-run total."""
    rows: list[StatsRow] = []
    aggregated: StatsRow | None = None
    with open(path, newline="", encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            row = StatsRow(
                method=(rec.get("Type") or "").strip(),
                name=(rec.get("Name") or "").strip(),
                requests=int(_num(rec.get("Request Count")) or 0),
                failures=int(_num(rec.get("Failure Count")) or 0),
                rps=_num(rec.get("Requests/s")) or 0.0,
                median_ms=_num(rec.get("50%")) or _num(rec.get("Median Response Time")),
                p95_ms=_num(rec.get("95%")),
                p99_ms=_num(rec.get("99%")),
            )
            if row.name == "Aggregated":
                aggregated = row
            else:
                rows.append(row)
    if aggregated is None:
        raise ValueError(f"{path}: no 'Aggregated' row; is this a Locust *_stats.csv file?")
    return StatsFile(rows=rows, aggregated=aggregated)


@dataclass(frozen=True)
class HistoryPoint:
    """One Aggregated sample of ``PREFIX_stats_history.csv``."""

    timestamp: float
    users: int
    rps: float
    failures_per_s: float
    p95_ms: float | None


@dataclass(frozen=True)
class History:
    points: list[HistoryPoint]
    # True when the file has per-endpoint rows, i.e. Locust ran with --csv-full-history, in
    # which case the percentiles are over the recent window rather than since the start.
    current_percentiles: bool


def read_history(path: str | os.PathLike[str]) -> History:
    """Parse ``PREFIX_stats_history.csv``, keeping the Aggregated samples in time order."""
    points: list[HistoryPoint] = []
    per_endpoint_rows = False
    with open(path, newline="", encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            if (rec.get("Name") or "").strip() != "Aggregated":
                per_endpoint_rows = True
                continue
            points.append(HistoryPoint(
                timestamp=_num(rec.get("Timestamp")) or 0.0,
                users=int(_num(rec.get("User Count")) or 0),
                rps=_num(rec.get("Requests/s")) or 0.0,
                failures_per_s=_num(rec.get("Failures/s")) or 0.0,
                p95_ms=_num(rec.get("95%")),
            ))
    points.sort(key=lambda p: p.timestamp)
    return History(points=points, current_percentiles=per_endpoint_rows)
