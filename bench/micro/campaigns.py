"""Campaign fan-out on PostgreSQL: our chunked, exactly-once path vs PostgreSQL's own
`INSERT ... SELECT` of the same rows, measured in the same run on the same tables.

Needs BENCH_DATABASE_URL (PostgreSQL); everything happens in a scratch schema that is dropped
afterwards. The synthetic population (users + persons joined by blind index) is created with
generate_series. "Ours" is the real code path minus Redis: the campaign is started by the
service, then `plan_chunks` and every chunk's `write_chunk` run here, as a worker would run the
jobs (sequentially, one process). The baseline writes the same inbox and outbox rows with two
plain statements (no chunking, no ON CONFLICT, no preferences).

    BENCH_DATABASE_URL=postgresql+psycopg://ssb:ssb@127.0.0.1:5432/ssb_bench \\
        .venv/bin/python -m bench.micro.campaigns [--quick]
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
import urllib.parse

from bench.types import MicroResult

SCHEMA = "bench_campaigns"
DISTRICTS = ["黄浦区", "徐汇区", "长宁区", "静安区", "普陀区", "虹口区", "杨浦区", "闵行区", "宝山区", "嘉定区",
             "浦东新区", "金山区", "松江区", "青浦区", "奉贤区", "崇明区"]
RULES = {
    "黄浦区 60+ local hukou": {"and": [{">=": [{"var": "age"}, 60]}, {"==": [{"var": "district"}, "黄浦区"]},
                                    {"==": [{"var": "hukou"}, True]}]},
    "adults (broad)": {">=": [{"var": "age"}, 18]},
}


def _url_with_schema(url: str) -> str:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options={urllib.parse.quote(f'-csearch_path={SCHEMA}')}"


def _populate(conn, n: int) -> None:
    from sqlalchemy import text
    districts = "ARRAY[" + ",".join(f"'{d}'" for d in DISTRICTS) + "]"
    conn.execute(text(f"""
        INSERT INTO persons (id, id_type, id_number_bidx, id_number_enc, name, birth_date, district, hukou, attributes)
        SELECT g, 'resident_id', 'bidx-' || g, '\\x00'::bytea, '居民', DATE '1926-01-01' + CAST((g * 7919) % 36500 AS integer),
               ({districts})[1 + (g * 31) % 16], (g % 3) <> 0,
               CAST('{{"veteran": ' || CASE WHEN g % 50 = 0 THEN 'true' ELSE 'false' END || '}}' AS json)
        FROM generate_series(CAST(1 AS bigint), :n) AS g"""), {"n": n})
    conn.execute(text("""
        INSERT INTO users (id, phone, roles, status, holder_id, created_at, id_type, id_number_bidx,
                           real_name_verified_at)
        SELECT g, '+86' || (13000000000 + g), '["resident"]', 'active', md5(g::text), now(), 'resident_id',
               'bidx-' || g, now()
        FROM generate_series(CAST(1 AS bigint), :n) AS g"""), {"n": n})
    conn.execute(text("SELECT setval(pg_get_serial_sequence('users', 'id'), :n)"), {"n": n})
    conn.execute(text("ANALYZE users; ANALYZE persons"))


def _baseline(conn, campaign, now: int) -> tuple[int, float]:
    """PostgreSQL's own INSERT ... SELECT of the same rows (same match, same tables)."""
    from sqlalchemy import func, insert, literal, select

    from api.notifications.models import InboxMessage, PushOutbox
    from push.campaigns import eligible_users

    created = literal(campaign.created_at, InboxMessage.__table__.c.created_at.type)
    m = eligible_users(campaign).subquery()
    started = time.perf_counter()
    conn.execute(insert(InboxMessage.__table__).from_select(
        ["user_id", "category", "campaign_id", "urgent", "created_at"],
        select(m.c.user_id, literal("policy"), literal(campaign.id), literal(False), created)))
    i = InboxMessage.__table__.c
    conn.execute(insert(PushOutbox.__table__).from_select(
        ["user_id", "campaign_id", "category", "urgent", "status", "deferred", "not_before", "attempts", "created_at"],
        select(i.user_id, i.campaign_id, literal("policy"), literal(False), literal("pending"), literal(False),
               literal(now), literal(0), created).where(i.campaign_id == campaign.id)))
    conn.commit()
    elapsed = time.perf_counter() - started
    rows = conn.execute(select(func.count()).select_from(InboxMessage.__table__)
                        .where(i.campaign_id == campaign.id)).scalar_one()
    return rows, elapsed


def run(quick: bool) -> list[MicroResult]:
    url = os.environ.get("BENCH_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        print("campaigns: skipped (set BENCH_DATABASE_URL to a PostgreSQL database to run it)")
        return []
    from sqlalchemy import create_engine, text

    from api import embedded_redis
    from api.config import Config
    from tests.conftest import run_migrations
    from wsgi import create_app

    n = 100_000 if quick else 1_000_000
    schema_url = _url_with_schema(url)
    admin = create_engine(_url_with_schema(url).split("?")[0])
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}"))
    tmp = tempfile.mkdtemp(prefix="bench-campaigns-")
    results: list[MicroResult] = []
    try:
        run_migrations(schema_url)
        redis_url = os.environ.get("BENCH_REDIS_URL") or embedded_redis.ensure_running(tmp)
        import base64
        app = create_app(Config(DATABASE_URL=schema_url, REDIS_URL=redis_url, INSTANCE_DIR=tmp,
                                KEYS_DIR=f"{tmp}/keys", SECRET_KEY="bench", TESTING=True, LOG_LEVEL="WARNING",
                                DATA_KEY=base64.b64encode(b"b" * 32).decode()).finalised())
        with app.app_context():
            from api.extensions import db
            from api.identity.tokens import Principal
            from api.localtime import local_today
            from api.notifications import policies
            from api.notifications.models import Campaign
            from push import campaigns as jobs

            started = time.perf_counter()
            with db.engine.connect() as conn:
                _populate(conn, n)
                conn.commit()
            print(f"campaigns: {n:,} residents generated in {time.perf_counter() - started:.1f}s")
            operator = Principal(user_id=1, session_id="bench", roles=frozenset({"operator"}))
            now = int(time.time())
            for label, rule in RULES.items():
                ours_policy = policies.create_policy(operator, title="津贴", body="...", topic="elderly", rule=rule,
                                                     now=now)
                base_policy = policies.create_policy(operator, title="津贴", body="...", topic="elderly", rule=rule,
                                                     now=now)
                # Baseline first (its campaign row is created the same way, never run).
                base = Campaign(policy_id=base_policy["id"], status="fanned_out", topic="elderly", rule=rule,
                                title="t", body="b", as_of=local_today(now),
                                started_epoch=now, chunk_size=app.extensions["ssb.config"].CAMPAIGN_CHUNK_SIZE)
                db.session.add(base)
                db.session.commit()
                with db.engine.connect() as conn:
                    base_rows, base_s = _baseline(conn, base, now)

                started = time.perf_counter()
                campaign_id = policies.start_campaign(operator, ours_policy["id"], now=now)["campaign_id"]
                seqs = jobs.plan_chunks(campaign_id)
                planned = time.perf_counter()
                for seq in seqs:
                    jobs.write_chunk(campaign_id, seq)
                jobs.finish_if_complete(campaign_id)
                ours_s = time.perf_counter() - started
                print(f"campaigns: {label}: start + plan {planned - started:.2f}s, {len(seqs)} chunks "
                      f"{ours_s - (planned - started):.2f}s")
                ours_rows = policies.campaign_status(campaign_id, now=now)["matched"]
                assert ours_rows == base_rows, (ours_rows, base_rows)
                print(f"campaigns: {label}: {ours_rows:,} recipients; ours {ours_s:.2f}s, "
                      f"INSERT ... SELECT {base_s:.2f}s")
                results.append(MicroResult(f"campaign fan-out, {label}, {n:,} residents", ours_rows / ours_s,
                                           "PostgreSQL INSERT ... SELECT (inbox + outbox)", base_rows / base_s,
                                           unit="recipients/s", aim=0.5))
                db.session.remove()
    finally:
        if not os.environ.get("BENCH_KEEP_SCHEMA"):      # keep it to EXPLAIN queries afterwards
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        admin.dispose()
        if not os.environ.get("BENCH_REDIS_URL"):
            embedded_redis.stop(tmp)
    return results


if __name__ == "__main__":
    for r in run(quick="--quick" in sys.argv):
        print(f"{r.name}: ours {r.ours_per_s:,.0f} {r.unit}, {r.baseline_name} {r.baseline_per_s:,.0f} {r.unit}, "
              f"ratio {r.ratio:.2f} (aim {r.aim})")
