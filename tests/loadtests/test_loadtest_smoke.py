"""CI smoke of the load test: seed a few hundred residents, run Locust headless for ~30 s against
gunicorn (SQLite + embedded Redis, or PostgreSQL when TEST_DATABASE_URL is set), and check that
the run produced its CSV files and that almost nothing failed. Throughput is not asserted here
(speed goes in bench/ and docs/capacity.md, never in timed asserts)."""
from __future__ import annotations

import csv
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(importlib.util.find_spec("locust") is None,
                                reason="locust not installed (requirements-loadtest.txt)")

MAX_FAILURE_RATIO = 0.02


def test_locust_smoke_run_produces_csvs_and_few_failures():
    from loadtests import run, stack

    workdir = Path(tempfile.mkdtemp(prefix="ssb-lt-smoke-"))
    os.chmod(workdir, 0o755)
    db_url = os.environ.get("TEST_DATABASE_URL")
    if db_url:   # a database of its own inside the test server, so the suite's tables stay untouched
        from sqlalchemy import create_engine, text

        from api.config import Config
        url = Config(DATABASE_URL=db_url).finalised().DATABASE_URL
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("DROP DATABASE IF EXISTS ssb_loadtest_smoke"))
            conn.execute(text("CREATE DATABASE ssb_loadtest_smoke"))
        engine.dispose()
        db_url = url.rsplit("/", 1)[0] + "/ssb_loadtest_smoke"
    dep = run.Deployment(workdir, database_url=db_url, redis_url=None, sqlite=not db_url, workers=2)
    prefix = workdir / "smoke"
    try:
        dep.start()
        stack.seed(dep.env, workdir / "seed", residents=300, log=workdir / "seed.log", staff=10, venues=5,
                   verified=100, licences=30, miniprograms=2)
        stack.locust(dep.env, dep.host, prefix, seconds=30, users=15, spawn_rate=5, html=False,
                     extra_env={"SSB_SEED_DIR": str(workdir / "seed"), "SSB_SMS_FILE": str(workdir / "sms.jsonl")},
                     timeout=150)
        for suffix in ("_stats.csv", "_stats_history.csv", "_failures.csv"):
            assert Path(f"{prefix}{suffix}").exists(), suffix
        with open(f"{prefix}_stats.csv", newline="") as fh:
            names = {row["Name"] for row in csv.DictReader(fh)}
        assert {"/v1/codes/suishen", "/v1/verify"} <= names
        agg = run.aggregated(Path(f"{prefix}_stats.csv"))
        assert agg["requests"] > 50
        assert agg["failure_ratio"] <= MAX_FAILURE_RATIO, Path(f"{prefix}_failures.csv").read_text()
    finally:
        dep.stop()
        shutil.rmtree(workdir, ignore_errors=True)
