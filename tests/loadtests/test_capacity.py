"""Capacity report: the arithmetic, from small synthetic Locust CSV files in Locust's format."""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import pytest

from loadtests import capacity, locust_csv, sizing, throughput
from loadtests import model as traffic

PERCENTILES = ["50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%"]
STATS_HEADER = ["Type", "Name", "Request Count", "Failure Count", "Median Response Time",
                "Average Response Time", "Min Response Time", "Max Response Time",
                "Average Content Size", "Requests/s", "Failures/s", *PERCENTILES]
HISTORY_HEADER = ["Timestamp", "User Count", "Type", "Name", "Requests/s", "Failures/s",
                  *PERCENTILES, "Total Request Count", "Total Failure Count",
                  "Total Median Response Time", "Total Average Response Time",
                  "Total Min Response Time", "Total Max Response Time",
                  "Total Average Content Size"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _pct(p95: float | str) -> list[str | float]:
    if p95 == "N/A":
        return ["N/A"] * len(PERCENTILES)
    p95 = float(p95)
    return [p95 / 3, p95 / 2, p95 / 2, p95 / 1.5, p95 / 1.2, p95, p95 * 1.2, p95 * 1.5,
            p95 * 2, p95 * 2, p95 * 3]


def write_stats(path: Path, rows: list[tuple[str, str, int, int, float, float]],
                agg: tuple[int, int, float, float]) -> Path:
    """rows: (method, name, requests, failures, rps, p95); agg: (requests, failures, rps, p95)."""
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(STATS_HEADER)
        for method, name, n, f, rps, p95 in rows:
            w.writerow([method, name, n, f, p95 / 2, p95 / 2, 1, p95 * 3, 120, rps, 0, *_pct(p95)])
        n, f, rps, p95 = agg
        w.writerow(["", "Aggregated", n, f, p95 / 2, p95 / 2, 1, p95 * 3, 120, rps, 0,
                    *_pct(p95)])
    return path


def write_history(path: Path, samples: list[tuple[int, float, float | str]],
                  full_history: bool = True, start: int = 1_700_000_000) -> Path:
    """samples: (users, rps, p95) one second apart; full_history adds a per-endpoint row."""
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HISTORY_HEADER)
        total = 0
        for i, (users, rps, p95) in enumerate(samples):
            total += int(rps)
            tail = [total, 0, 10, 12, 1, 90, 120]
            if full_history:
                w.writerow([start + i, users, "GET", "/v1/codes/suishen", f"{rps:2f}", "0.000000",
                            *_pct(p95), *tail])
            w.writerow([start + i, users, "", "Aggregated", f"{rps:2f}", "0.000000", *_pct(p95),
                        *tail])
    return path


def step_history() -> list[tuple[int, float, float | str]]:
    """A step load: 500 req/s held under 200 ms for 12 s, then 700 req/s at 450 ms."""
    return ([(0, 0.0, "N/A")] + [(50, 300.0, 40.0)] * 12 + [(100, 500.0, 150.0)] * 12
            + [(150, 700.0, 450.0)] * 12 + [(150, 520.0, 120.0)])  # last: a lone spike-free dip


def run_report(tmp_path: Path, *extra: str) -> tuple[str, Path]:
    out, png = tmp_path / "docs" / "capacity.md", tmp_path / "docs" / "capacity.png"
    rc = capacity.main([*extra, "--out", str(out), "--plot", str(png)])
    assert rc == 0
    return out.read_text(), png


@pytest.fixture()
def run1(tmp_path: Path) -> tuple[Path, Path]:
    stats = write_stats(tmp_path / "r1_stats.csv",
                        [("GET", "/v1/codes/suishen", 9000, 0, 300.0, 180.0),
                         ("POST", "/v1/verify", 3000, 3, 100.0, 220.0),
                         ("GET", "/v1/unmodelled", 10, 0, 0.1, 20.0)],
                        agg=(12010, 3, 400.0, 190.0))
    return stats, write_history(tmp_path / "r1_stats_history.csv", step_history())


def test_reads_locust_files(run1: tuple[Path, Path]) -> None:
    stats = locust_csv.read_stats(run1[0])
    assert stats.aggregated.rps == 400.0 and stats.aggregated.p95_ms == 190.0
    assert [r.endpoint for r in stats.rows][:2] == ["GET /v1/codes/suishen", "POST /v1/verify"]
    history = locust_csv.read_history(run1[1])
    assert history.current_percentiles
    assert len(history.points) == len(step_history())
    assert history.points[0].p95_ms is None  # "N/A"


def test_sustained_throughput_takes_highest_window_under_target(run1: tuple[Path, Path]) -> None:
    points = locust_csv.read_history(run1[1]).points
    s = throughput.sustained_throughput(points, p95_target_ms=200, sustain_seconds=10)
    assert s is not None
    assert s.rps == 500.0 and s.users == 100 and s.samples == 10
    # The lone 520 req/s sample at the end is not a 10-second window.
    assert throughput.sustained_throughput(points, p95_target_ms=100, sustain_seconds=10).rps == 300.0
    assert throughput.sustained_throughput(points, p95_target_ms=10) is None


def test_fast_failures_are_not_capacity() -> None:
    ok = [locust_csv.HistoryPoint(float(t), 10, 300.0, 0.0, 50.0) for t in range(10)]
    failing = [locust_csv.HistoryPoint(float(t), 20, 900.0, 200.0, 5.0) for t in range(10, 20)]
    s = throughput.sustained_throughput(ok + failing, p95_target_ms=200, sustain_seconds=5)
    assert s is not None and s.rps == 300.0


def test_instances_arithmetic() -> None:
    assert sizing.instances_needed(12_000, 500, 0.6) == 40
    assert sizing.instances_needed(12_001, 500, 0.6) == 41
    assert sizing.instances_needed(10, 500, 0.6) == 1
    with pytest.raises(ValueError):
        sizing.instances_needed(100, 0, 0.6)


def test_report_shows_the_instance_arithmetic(tmp_path: Path, run1: tuple[Path, Path]) -> None:
    text, png = run_report(tmp_path, "--stats", str(run1[0]), "--stats-history", str(run1[1]),
                           "--instances", "1", "--p95-target-ms", "200", "--peak-rps", "12000",
                           "--target-utilisation", "0.6")
    assert "**500.0 requests/s**" in text  # measured per instance
    assert "ceil(12,000.0 / (500.0 x 0.6)) = ceil(40.00) = **40 instances**" in text
    assert "`--peak-rps`" in text  # the override is labelled as such
    assert "Measured on this machine" in text and "assumption" in text
    assert "(not in model)" in text  # GET /v1/unmodelled
    assert png.read_bytes().startswith(PNG_MAGIC)
    assert png.stat().st_size > 1000


def test_report_stores_arithmetic(tmp_path: Path, run1: tuple[Path, Path]) -> None:
    text, _ = run_report(tmp_path, "--stats", str(run1[0]), "--stats-history", str(run1[1]),
                         "--peak-rps", "12000", "--redis-ops-per-request", "4",
                         "--redis-node-ops", "10000", "--db-writes-per-request", "0.5",
                         "--db-reads-per-request", "1.5", "--pg-primary-writes", "5000",
                         "--pg-replica-reads", "4000")
    # Redis: 4 x 12,000 = 48,000 ops/s over 10,000 per node -> 5 nodes.
    assert "Redis ops/s = 4.000 x 12,000.0 = 48,000; nodes = ceil(48,000 / 10,000) = **5" in text
    assert "`GET /v1/codes/suishen`" in text  # the modelled table is included
    # PostgreSQL: 6,000 writes/s -> 2 primaries; 18,000 reads/s -> 5 replicas.
    assert "primaries = ceil(6,000 / 5,000) = **2**" in text
    assert "replicas = max(1, ceil(18,000 / 4,000)) = **5**" in text
    assert "2 primary + 5 replicas = **7**" in text
    assert "given on the command line" in text


def test_report_uses_the_model_peak_by_default(tmp_path: Path, run1: tuple[Path, Path]) -> None:
    text, _ = run_report(tmp_path, "--stats", str(run1[0]), "--stats-history", str(run1[1]))
    peak = traffic.total(traffic.derive(traffic.TrafficModel())).peak_second_rps
    assert f"Sizing uses the peak second: **{peak:,.1f} requests/s**" in text
    expected = math.ceil(peak / (500 * 0.6))
    assert f"**{expected} instances**" in text
    # Hour sizing and a different MAU flow through from the model options.
    text, _ = run_report(tmp_path, "--stats", str(run1[0]), "--stats-history", str(run1[1]),
                         "--peak", "hour", "--mau", "30000000")
    peak = traffic.total(traffic.derive(traffic.TrafficModel(mau=30_000_000))).peak_hour_rps
    assert f"Sizing uses the peak hour: **{peak:,.1f} requests/s**" in text


def test_second_run_scaling_efficiency(tmp_path: Path, run1: tuple[Path, Path]) -> None:
    hist2 = write_history(tmp_path / "r2_stats_history.csv",
                          [(0, 0.0, "N/A")] + [(100, 500.0, 60.0)] * 12
                          + [(200, 900.0, 180.0)] * 12 + [(300, 1100.0, 600.0)] * 12)
    stats2 = write_stats(tmp_path / "r2_stats.csv", [("GET", "/v1/codes/suishen", 20000, 0,
                                                      800.0, 300.0)], agg=(20000, 0, 800.0, 300.0))
    text, png = run_report(tmp_path, "--stats", str(run1[0]), "--stats-history", str(run1[1]),
                           "--second-run", str(stats2), "--second-stats-history", str(hist2),
                           "--second-instances", "2")
    assert "1 vs 2 instances" in text
    assert "| run 2 | 2 | 900.0 | 450.0 |" in text
    # (900 / 500) / (2 / 1) = 0.9
    assert "(900.0 / 500.0) / (2 / 1) = **90%**" in text
    assert png.read_bytes().startswith(PNG_MAGIC)


def test_without_history_uses_whole_run_average(tmp_path: Path, run1: tuple[Path, Path]) -> None:
    text, png = run_report(tmp_path, "--stats", str(run1[0]), "--peak-rps", "4000")
    assert "whole-run average" in text
    assert "ceil(4,000.0 / (400.0 x 0.6)) = ceil(16.67) = **17 instances**" in text
    assert png.read_bytes().startswith(PNG_MAGIC)  # per-endpoint bars instead of a time series


def test_target_never_met_is_said_plainly(tmp_path: Path, run1: tuple[Path, Path]) -> None:
    text, _ = run_report(tmp_path, "--stats", str(run1[0]), "--stats-history", str(run1[1]),
                         "--p95-target-ms", "20")
    assert "Not computable: no run met the p95 target" in text
    assert re.search(r"\| API instances \| n/a \|", text)


def test_cumulative_history_is_flagged(tmp_path: Path, run1: tuple[Path, Path]) -> None:
    hist = write_history(tmp_path / "cum_stats_history.csv", step_history(), full_history=False)
    assert not locust_csv.read_history(hist).current_percentiles
    text, _ = run_report(tmp_path, "--stats", str(run1[0]), "--stats-history", str(hist))
    assert "--csv-full-history" in text and "optimistic" in text


def test_store_load_weights_costs_by_model_rates() -> None:
    loads = traffic.derive(traffic.TrafficModel())
    store = sizing.store_load(loads)
    expected = sum(x.peak_second_rps * sizing.ENDPOINT_COSTS[x.endpoint].db_writes for x in loads)
    assert store.db_writes_per_s == pytest.approx(expected)
    assert store.requests_per_s == pytest.approx(traffic.total(loads).peak_second_rps)
    # Every modelled endpoint has an explicit cost estimate.
    assert {x.endpoint for x in loads} <= set(sizing.ENDPOINT_COSTS)


def test_bad_input_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bogus = tmp_path / "x.csv"
    bogus.write_text("a,b\n1,2\n")
    assert capacity.main(["--stats", str(bogus), "--out", str(tmp_path / "o.md"),
                          "--plot", ""]) == 2
    assert "Aggregated" in capsys.readouterr().err
