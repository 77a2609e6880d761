"""好差评 at scale: a venue with N ratings, its summary and listing pages vs a bare primary-key read.

Seeds N ratings of one venue (plus N/4 of 100 other venues, interleaved, so the venue's rows
are not contiguous; every 10th rating replied) with one `INSERT ... SELECT` over a generated
series, and its counters row as the write path would have kept it. Then, in turns on the same
session (in-process, no HTTP):

- summary: `services.rating_summary` (the counters row: one primary-key read);
- listing, first page: `services.list_ratings(limit=20)` (index range scan, newest first);
- listing, a deep page: the same from a cursor in the middle of the venue's ratings;
- baseline: a bare `SELECT id, stars FROM ratings WHERE id = :k`.

For reference it also times once what the counters spare: the aggregate scan of the venue's
rows that a summary without counters would run.

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/ssb_bench \\
        .venv/bin/python -m bench.micro.ratings [--quick] [--n 1000000]

PostgreSQL: a scratch schema, dropped afterwards (BENCH_KEEP_SCHEMA=1 keeps it). Without
BENCH_DATABASE_URL: SQLite in a temporary directory. N defaults to 1,000,000 on PostgreSQL and
200,000 on SQLite (a tenth with --quick).
"""
from __future__ import annotations

import argparse
import base64
import os
import statistics
import tempfile
import time
import urllib.parse

from bench.types import MicroResult

SCHEMA = "bench_ratings"
VENUE = "vn_bench0000000001"
PAGE = 20


def _url_with_schema(url: str) -> str:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options={urllib.parse.quote(f'-csearch_path={SCHEMA}')}"


def _series(dialect: str, n_expr: str) -> tuple[str, str]:
    """(FROM clause yielding column g = 1..n, prefix needed before INSERT) per dialect."""
    if dialect == "postgresql":
        return f"generate_series(CAST(1 AS bigint), {n_expr}) AS s(g)", ""
    return "s", f"WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {n_expr}) "


def _seed(conn, n: int, now: int) -> None:
    from sqlalchemy import text
    dialect = conn.dialect.name
    total = n + n // 4
    source, prefix = _series(dialect, ":total")
    if dialect == "postgresql":
        public_id, stamp = "'rt_' || lpad(to_hex(g), 16, '0')", "to_timestamp(:now - (:total - g))"
    else:
        public_id, stamp = "printf('rt_%016x', g)", "datetime(:now - (:total - g), 'unixepoch')"
    subject = f"CASE WHEN g % 5 = 4 THEN 'vn_other_' || (g % 100) ELSE '{VENUE}' END"
    conn.execute(text(f"""{prefix}
        INSERT INTO ratings (id, public_id, subject_type, subject_id, service_kind, stars, tags, comment,
                             created_at, reply, replied_at)
        SELECT g, {public_id}, 'venue', {subject}, 'checkin', 1 + (g * 7) % 5, '["quick","courteous"]',
               '办事很快，工作人员*先生态度很好', {stamp},
               CASE WHEN g % 10 = 0 THEN '感谢您的评价' END, CASE WHEN g % 10 = 0 THEN {stamp} END
        FROM {source}"""), {"total": total, "now": now})
    conn.execute(text("""
        INSERT INTO rating_counters (subject_type, subject_id, count, stars_sum, star_1, star_2, star_3, star_4,
                                     star_5, replied)
        SELECT subject_type, subject_id, count(*), sum(stars), sum(CASE WHEN stars = 1 THEN 1 ELSE 0 END),
               sum(CASE WHEN stars = 2 THEN 1 ELSE 0 END), sum(CASE WHEN stars = 3 THEN 1 ELSE 0 END),
               sum(CASE WHEN stars = 4 THEN 1 ELSE 0 END), sum(CASE WHEN stars = 5 THEN 1 ELSE 0 END),
               sum(CASE WHEN reply IS NOT NULL THEN 1 ELSE 0 END)
        FROM ratings GROUP BY subject_type, subject_id"""))
    if dialect == "postgresql":
        conn.execute(text("SELECT setval(pg_get_serial_sequence('ratings', 'id'), :total)"), {"total": total})
        conn.execute(text("ANALYZE ratings; ANALYZE rating_counters"))
    else:
        conn.execute(text("ANALYZE"))


def _rate(fn, seconds: float) -> float:
    fn()
    n, start = 0, time.perf_counter()
    while True:
        for _ in range(20):
            fn()
        n += 20
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n / elapsed


def _pair(ours, base, seconds: float, repeats: int = 5) -> tuple[float, float]:
    """Alternate short slices of both and keep each one's best (the least disturbed slice)."""
    o = b = 0.0
    for _ in range(repeats):
        o = max(o, _rate(ours, seconds / repeats / 2))
        b = max(b, _rate(base, seconds / repeats / 2))
    return o, b


def _scan_seconds(db, subject_id: str, rounds: int = 3) -> float:
    """What the counters spare: the aggregate a summary without them would run (median)."""
    from sqlalchemy import case, func, select

    from api.ratings.models import Rating
    query = select(func.count(), func.avg(Rating.stars), func.count(Rating.reply),
                   *[func.sum(case((Rating.stars == s, 1), else_=0)) for s in range(1, 6)]).where(
        Rating.subject_type == "venue", Rating.subject_id == subject_id)
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        db.session.execute(query).one()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _measure(app, n: int, seconds: float) -> list[MicroResult]:
    from sqlalchemy import select

    from api.extensions import db
    from api.ratings import services
    from api.ratings.models import Rating
    from api.ratings.subjects import Subject

    subject = Subject("venue", VENUE)
    results = []
    with app.app_context():
        summary = services.rating_summary(subject)
        assert summary["count"] == n, summary
        middle = db.session.scalar(select(Rating.public_id).where(Rating.subject_id == VENUE)
                                   .order_by(Rating.id).offset(n // 2).limit(1))
        keys = iter(range(1, 10**12))

        def baseline():
            db.session.execute(select(Rating.id, Rating.stars).where(Rating.id == 1 + next(keys) % n)).one()

        cases = {
            "summary": lambda: services.rating_summary(subject),
            f"listing, first page of {PAGE}": lambda: services.list_ratings(subject, cursor=None, limit=PAGE),
            f"listing, page of {PAGE} from a cursor mid-way": lambda: services.list_ratings(
                subject, cursor=middle, limit=PAGE),
        }
        for label, ours in cases.items():
            ours_s, base_s = _pair(ours, baseline, seconds)
            results.append(MicroResult(f"ratings {label}, {n:,} ratings ({db.engine.dialect.name})", ours_s,
                                       "bare primary-key SELECT", base_s, unit="ops/s"))
        scan = _scan_seconds(db, VENUE)
        print(f"ratings: a summary by scanning instead of counters takes {scan * 1000:.1f} ms "
              f"({1 / scan:,.1f}/s) at {n:,} ratings; the counters row: {1 / results[0].ours_per_s * 1000:.3f} ms")
        db.session.remove()
    return results


def _app(database_url: str, tmp: str):
    from api import embedded_redis
    from api.config import Config
    from wsgi import create_app
    redis_url = os.environ.get("BENCH_REDIS_URL") or embedded_redis.ensure_running(tmp)
    return create_app(Config(DATABASE_URL=database_url, REDIS_URL=redis_url, INSTANCE_DIR=tmp,
                             KEYS_DIR=f"{tmp}/keys", SECRET_KEY="bench", TESTING=True, LOG_LEVEL="WARNING",
                             DATA_KEY=base64.b64encode(b"b" * 32).decode()).finalised())


def run(quick: bool, n: int | None = None, seconds: float | None = None) -> list[MicroResult]:
    from sqlalchemy import create_engine, text

    from api import embedded_redis
    from tests.conftest import run_migrations

    url = os.environ.get("BENCH_DATABASE_URL", "")
    postgres = url.startswith("postgresql")
    n = n or (1_000_000 if postgres else 200_000) // (10 if quick else 1)
    seconds = seconds or (2.0 if quick else 6.0)
    tmp = tempfile.mkdtemp(prefix="bench-ratings-")
    database_url = _url_with_schema(url) if postgres else f"sqlite:///{tmp}/ratings.sqlite3"
    admin = create_engine(database_url.split("?")[0]) if postgres else None
    if admin is not None:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}"))
    try:
        run_migrations(database_url)
        app = _app(database_url, tmp)
        with app.app_context():
            from api.extensions import db
            started = time.perf_counter()
            with db.engine.begin() as conn:
                _seed(conn, n, int(time.time()))
            print(f"ratings: {n + n // 4:,} ratings seeded ({n:,} for the venue) "
                  f"in {time.perf_counter() - started:.1f}s")
        return _measure(app, n, seconds)
    finally:
        if admin is not None:
            if not os.environ.get("BENCH_KEEP_SCHEMA"):
                with admin.begin() as conn:
                    conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            admin.dispose()
        if not os.environ.get("BENCH_REDIS_URL"):
            embedded_redis.stop(tmp)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--n", type=int, default=None, help="ratings of the benchmarked venue")
    parser.add_argument("--seconds", type=float, default=None, help="measuring time per comparison")
    args = parser.parse_args()
    for r in run(quick=args.quick, n=args.n, seconds=args.seconds):
        print(f"{r.name}: ours {r.ours_per_s:,.0f} {r.unit}, {r.baseline_name} {r.baseline_per_s:,.0f} {r.unit}, "
              f"ratio {r.ratio:.2f}")
