"""Traffic model: linear in users, peaks consistent, Locust weights follow the parameters."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from loadtests import model as traffic
from loadtests.model import TrafficModel

ROOT = Path(__file__).resolve().parents[2]
CONTRACT_ENDPOINTS = [
    "GET /v1/codes/suishen", "POST /v1/verify", "POST /v1/licences/{id}/presentations",
    "POST /v1/presentations/verify", "GET /v1/inbox", "GET /v1/inbox/unread-count",
    "GET /v1/policies/for-me", "GET /sns/jscode2session", "POST /v1/auth/refresh",
    "POST /v1/auth/otp", "POST /v1/auth/login", "GET /v1/me",
]


def by_endpoint(m: TrafficModel) -> dict[str, traffic.EndpointLoad]:
    return {x.endpoint: x for x in traffic.derive(m)}


def test_covers_the_contract_endpoints_once() -> None:
    endpoints = [x.endpoint for x in traffic.derive(TrafficModel())]
    assert len(endpoints) == len(set(endpoints))
    assert set(CONTRACT_ENDPOINTS) <= set(endpoints)
    for cls, owned in traffic.USER_CLASS_ENDPOINTS.items():
        assert owned, f"{cls} drives no endpoint"


def test_user_driven_rates_scale_linearly_with_mau() -> None:
    base = by_endpoint(TrafficModel(mau=15_000_000))
    double = by_endpoint(TrafficModel(mau=30_000_000))
    for name, x in base.items():
        factor = 2.0 if x.scales_with_users else 1.0
        for attr in ("daily", "peak_hour_rps", "peak_second_rps"):
            assert getattr(double[name], attr) == pytest.approx(factor * getattr(x, attr)), name
    # The bulk of the traffic is user-driven, so the total nearly doubles too.
    ratio = (traffic.total(list(double.values())).daily
             / traffic.total(list(base.values())).daily)
    assert ratio == pytest.approx(2.0, rel=1e-3)


def test_arithmetic_of_one_endpoint() -> None:
    m = TrafficModel(mau=1_000_000, dau_ratio=0.5, codes_shown_per_dau=3,
                     code_fetches_per_showing=2, peak_hour_share=0.12, peak_second_factor=2.5)
    code = by_endpoint(m)["GET /v1/codes/suishen"]
    assert code.daily == pytest.approx(500_000 * 3 * 2)
    assert code.peak_hour_rps == pytest.approx(3_000_000 * 0.12 / 3600)
    assert code.peak_second_rps == pytest.approx(code.peak_hour_rps * 2.5)


@pytest.mark.parametrize("preset", sorted(traffic.PRESETS))
def test_peak_second_at_least_peak_hour_average(preset: str) -> None:
    loads = traffic.derive(traffic.PRESETS[preset])
    for x in [*loads, traffic.total(loads)]:
        assert x.peak_second_rps >= x.peak_hour_rps >= x.daily / 86_400


def test_rejects_impossible_peaks() -> None:
    with pytest.raises(ValueError):
        TrafficModel(peak_second_factor=0.5)
    with pytest.raises(ValueError):
        TrafficModel(peak_hour_share=0.01)  # below the average hour
    with pytest.raises(ValueError):
        TrafficModel(dau_ratio=1.5)


@pytest.mark.parametrize("cls", traffic.USER_CLASSES)
def test_weights_are_positive_ints_for_the_class_endpoints(cls: str) -> None:
    weights = traffic.task_weights(TrafficModel(), cls)
    assert list(weights) == list(traffic.USER_CLASS_ENDPOINTS[cls])
    assert all(isinstance(w, int) and w >= 1 for w in weights.values())


def test_weights_are_requests_per_thousand_daily_users() -> None:
    m = TrafficModel()
    weights = traffic.task_weights(m, "resident")
    loads = by_endpoint(m)
    for endpoint, w in weights.items():
        assert w == max(1, round(loads[endpoint].daily / m.dau * 1000))
    # Proportional: 3 inbox badge polls vs 2 × 2 code fetches per daily user.
    assert weights["GET /v1/inbox/unread-count"] / weights["GET /v1/codes/suishen"] == 3 / 4
    # Rare city-level operator endpoints are kept at the floor of 1.
    assert traffic.task_weights(m, "operator")["POST /v1/admin/policies/{id}/campaigns"] == 1


def test_weights_follow_the_model() -> None:
    base = TrafficModel()
    more_codes = dataclasses.replace(base, codes_shown_per_dau=2 * base.codes_shown_per_dau)
    w0, w1 = (traffic.task_weights(m, "resident") for m in (base, more_codes))
    assert w1["GET /v1/codes/suishen"] == 2 * w0["GET /v1/codes/suishen"]
    assert {k: v for k, v in w1.items() if k != "GET /v1/codes/suishen"} == \
        {k: v for k, v in w0.items() if k != "GET /v1/codes/suishen"}
    longer = dataclasses.replace(base, code_fetches_per_showing=3.0)
    assert traffic.task_weights(longer, "resident")["GET /v1/codes/suishen"] > \
        w0["GET /v1/codes/suishen"]
    # More scanning shifts users towards the scanner class.
    busy = dataclasses.replace(base, codes_scanned_per_dau=4.0)
    c0, c1 = traffic.user_class_weights(base), traffic.user_class_weights(busy)
    assert c1["scanner"] / c1["resident"] > c0["scanner"] / c0["resident"]
    # The user count does not change how a user behaves.
    assert traffic.task_weights(dataclasses.replace(base, mau=30_000_000), "resident") == w0


def test_unknown_user_class() -> None:
    with pytest.raises(ValueError):
        traffic.task_weights(TrafficModel(), "admin")


def test_main_prints_aligned_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert traffic.main(["--mau", "1000000", "--dau-ratio", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "DAU 500,000" in out
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("endpoint"))
    assert "peak-second rps" in header
    row = next(line for line in lines if line.startswith("GET /v1/codes/suishen"))
    total = next(line for line in lines if line.startswith("TOTAL"))
    assert len(row) == len(total) == len(header)  # right-aligned numeric columns
    assert row.split()[-3] == "2,000,000"  # 500,000 DAU × 2 showings × 2 fetches


def test_main_markdown_and_weights(capsys: pytest.CaptureFixture[str]) -> None:
    assert traffic.main(["--markdown", "--weights", "--preset", "pandemic-2022"]) == 0
    out = capsys.readouterr().out
    assert "| `GET /v1/codes/suishen` |" in out and "|---|" in out
    assert "scanner:" in out and "POST /v1/verify" in out


def test_main_rejects_bad_parameters(capsys: pytest.CaptureFixture[str]) -> None:
    assert traffic.main(["--peak-second-factor", "0.2"]) == 2
    assert "peak_second_factor" in capsys.readouterr().err


def test_module_runs_as_a_script() -> None:
    proc = subprocess.run([sys.executable, "-m", "loadtests.model", "--mau", "2000000"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)
    assert "TOTAL" in proc.stdout and "GET /v1/codes/suishen" in proc.stdout
