"""Campaign fan-out: a policy's compiled rule matched against the whole population in SQL,
written in keyset chunks by Dramatiq jobs.

Chunks are keyset slices of the population (persons.id, CAMPAIGN_CHUNK_SIZE a chunk): each chunk scans its
slice of the registry by primary key, applies the rule, and probes users by the blind-index
unique key only for the persons that match -- one pass over the population in total, so a
selective rule costs little more than PostgreSQL's own single INSERT ... SELECT.

Exactly once, whatever fails:

- the campaign row is committed before anything is enqueued; chunks are planned (rows in
  ``campaign_chunks``) in one transaction by ``plan_campaign``;
- ``run_chunk`` writes the chunk's inbox rows (``INSERT ... SELECT ... ON CONFLICT DO NOTHING``
  on the unique (campaign_id, user_id) and (policy_id, user_id) keys), its outbox rows (same,
  from the inbox rows this run wrote) and marks the chunk done, all in one transaction: a
  worker killed mid-chunk leaves nothing, a chunk run twice (retry, redelivery, two workers)
  inserts nothing the second time, and a resident an earlier (or overlapping) run of the same
  policy reached gets nothing from a later one: a rerun reaches only the newly eligible;
- if Redis is down when a job should be enqueued, the work is still in the database:
  ``resume_campaigns`` (run by ``flask push relay`` / the relay job) re-enqueues it, or runs it
  inline.
"""
from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy import func, literal, select, update
from sqlalchemy.exc import IntegrityError

from api.db import from_timestamp
from api.extensions import db, get_config
from api.extensions import now as clock_now
from api.identity.models import Person, User
from api.jobs import job
from api.notifications import rules
from api.notifications.models import (
    Campaign,
    CampaignChunk,
    InboxMessage,
    NotificationPreference,
    PushOutbox,
    TopicOptOut,
)
from api.notifications.profiles import person_columns
from api.unit_of_work import commit
from push.outbox import kick

log = logging.getLogger("ssb.campaigns")

# Persons per chunk: one job scans this slice of the registry (a few hundred ms on PostgreSQL
# for a broad rule); larger chunks amortise the per-transaction cost for selective rules.
QUEUE = "campaigns"


def _insert(table):
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover
        raise RuntimeError(f"unsupported database {dialect}")
    return insert(table)


def eligible_users(campaign: Campaign):
    """SELECT users.id of every verified, active resident the campaign's rule matches."""
    rule = rules.parse(campaign.rule, "person")
    condition = rule.to_sql(person_columns(Person, as_of=campaign.as_of))
    return (select(User.id.label("user_id"))
            .select_from(Person).join(User, User.id_number_bidx == Person.id_number_bidx)
            .where(User.status == "active", condition))


# ---------------------------------------------------------------------------------------------
# Enqueueing (best effort: the database is the source of truth)


def _enqueue(handle, *args, delay_ms: int | None = None) -> bool:
    try:
        if delay_ms:
            handle.send_with_options(args=args, delay=delay_ms)
        else:
            handle.send(*args)
        return True
    except Exception as exc:   # Redis down: resume_campaigns picks the work up later
        log.warning("enqueue failed", extra={"job": handle.name, "error": type(exc).__name__})
        return False


def enqueue_campaign(campaign_id: int) -> bool:
    return _enqueue(plan_campaign, campaign_id)


# ---------------------------------------------------------------------------------------------
# Planning


def plan_chunks(campaign_id: int) -> list[int]:
    """Create the chunk rows once (keyset boundaries over persons.id); returns pending seqs."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        return []
    existing = db.session.scalar(select(func.count()).select_from(CampaignChunk)
                                 .where(CampaignChunk.campaign_id == campaign_id))
    if not existing:
        size = campaign.chunk_size or get_config().CAMPAIGN_CHUNK_SIZE
        numbered = select(Person.id.label("id"), func.row_number().over(order_by=Person.id).label("rn")).subquery()
        bounds = list(db.session.scalars(select(numbered.c.id).where(numbered.c.rn % size == 0)
                                         .order_by(numbered.c.id)))
        top = db.session.scalar(select(func.max(Person.id))) or 0
        if not bounds or bounds[-1] < top:
            bounds.append(top)
        lo = 0
        rows = []
        for seq, hi in enumerate(bounds):
            rows.append({"campaign_id": campaign_id, "seq": seq, "lo": lo, "hi": hi, "done": False, "matched": 0,
                         "outbox_written": 0, "attempts": 0})
            lo = hi
        try:
            db.session.execute(sa.insert(CampaignChunk), rows)
            db.session.execute(update(Campaign).where(Campaign.id == campaign_id, Campaign.status == "planning")
                               .values(status="running"))
            commit()
        except IntegrityError:       # planned concurrently by another worker: use theirs
            db.session.rollback()
    pending = list(db.session.scalars(select(CampaignChunk.seq).where(
        CampaignChunk.campaign_id == campaign_id, CampaignChunk.done.is_(False)).order_by(CampaignChunk.seq)))
    commit()
    if not pending:
        finish_if_complete(campaign_id)
    return pending


@job(queue_name=QUEUE, max_retries=20)
def plan_campaign(campaign_id: int) -> None:
    for seq in plan_chunks(campaign_id):
        if not _enqueue(run_chunk, campaign_id, seq):
            break                    # Redis is gone; resume re-enqueues the rest


# ---------------------------------------------------------------------------------------------
# One chunk


def write_chunk(campaign_id: int, seq: int) -> dict:
    """Match and write one chunk in one transaction; a no-op if the chunk is already done."""
    session = db.session
    chunk_q = select(CampaignChunk).where(CampaignChunk.campaign_id == campaign_id, CampaignChunk.seq == seq)
    if session.get_bind().dialect.name == "postgresql":
        chunk_q = chunk_q.with_for_update()      # two workers on one chunk: the second waits, then sees done
        # psycopg prepares repeated statements; a generic plan cannot see that (lo, hi] is a small
        # slice and scans the whole registry. Plan each chunk for its own bounds.
        session.execute(sa.text("SET LOCAL plan_cache_mode = force_custom_plan"))
        # No WAL flush wait per chunk: if the database crashes before the flush, this whole
        # transaction -- rows *and* the done mark -- is gone together, and resume redoes it.
        session.execute(sa.text("SET LOCAL synchronous_commit = off"))
    chunk = session.scalar(chunk_q)
    campaign = session.get(Campaign, campaign_id)
    if chunk is None or campaign is None or chunk.done:
        session.rollback()
        return {"skipped": True}
    chunk.attempts += 1
    created = from_timestamp(campaign.started_epoch)

    m = eligible_users(campaign).where(Person.id > chunk.lo, Person.id <= chunk.hi).subquery()
    ins = _inbox_insert(campaign, created, m)
    if session.get_bind().dialect.name == "postgresql":
        # One statement: the inbox rows actually inserted feed the outbox insert (a data-modifying
        # CTE), so the population slice is matched once. Outbox rows = inbox rows inserted.
        written = ins.returning(InboxMessage.__table__.c.user_id).cte("written")
        outboxed = inserted = session.execute(_outbox_insert(campaign, written)
                                              .execution_options(preserve_rowcount=True)).rowcount
    else:
        # preserve_rowcount: psycopg 3 otherwise reports -1 for INSERT .. SELECT through SQLAlchemy.
        inserted = session.execute(ins.execution_options(preserve_rowcount=True)).rowcount
        i = InboxMessage.__table__.c
        mine = (select(m.c.user_id).join(InboxMessage.__table__, sa.and_(i.campaign_id == campaign.id,
                                                                         i.user_id == m.c.user_id)).subquery())
        outboxed = session.execute(_outbox_insert(campaign, mine).execution_options(preserve_rowcount=True)).rowcount
    session.execute(update(CampaignChunk).where(CampaignChunk.campaign_id == campaign_id, CampaignChunk.seq == seq,
                                                CampaignChunk.done.is_(False))
                    .values(done=True, matched=inserted, outbox_written=outboxed, attempts=chunk.attempts,
                            done_at=from_timestamp(clock_now())))
    session.commit()
    return {"matched": inserted, "outbox": outboxed}


def _inbox_insert(campaign: Campaign, created, recipients):
    """The inbox rows of ``recipients`` (a subquery of user_id) for this run. DO NOTHING without
    a conflict target covers both keys: (campaign_id, user_id) for retries of this run, and
    (policy_id, user_id) for residents any run of the policy already reached."""
    rows = select(recipients.c.user_id, literal(campaign.category, sa.String).label("category"),
                  literal(campaign.id, sa.BigInteger).label("campaign_id"),
                  literal(campaign.policy_id, sa.BigInteger).label("policy_id"),
                  literal(False, sa.Boolean).label("urgent"),
                  literal(created, InboxMessage.__table__.c.created_at.type).label("created_at")
                  ).where(sa.true())   # SQLite needs a WHERE before an upsert's ON CONFLICT
    return _insert(InboxMessage.__table__).from_select(
        ["user_id", "category", "campaign_id", "policy_id", "urgent", "created_at"], rows).on_conflict_do_nothing()


def _outbox_insert(campaign: Campaign, matched):
    """The pushes for the chunk's matched residents (``matched``: a subquery of user_id), with
    preferences applied in SQL: a muted topic is written as skipped; quiet hours (evaluated at
    the campaign's start) defer the push to their end."""
    from api.notifications.preferences import DAY_MINUTES, local_minute

    now = campaign.started_epoch
    minute, second = local_minute(now)
    i = matched.c
    p = NotificationPreference.__table__.c
    muted = select(TopicOptOut.user_id).where(TopicOptOut.user_id == i.user_id,
                                              TopicOptOut.topic.in_([campaign.category, campaign.topic])).exists()
    quiet = sa.and_(p.quiet_start.is_not(None), p.quiet_end.is_not(None), sa.or_(
        sa.and_(p.quiet_start < p.quiet_end, p.quiet_start <= minute, p.quiet_end > minute),
        sa.and_(p.quiet_start > p.quiet_end, sa.or_(p.quiet_start <= minute, p.quiet_end > minute))))
    quiet_end_at = literal(now - second, sa.BigInteger) + \
        ((p.quiet_end - literal(minute, sa.Integer) + literal(DAY_MINUTES, sa.Integer)) % DAY_MINUTES) * 60
    base = (select(i.user_id, muted.label("muted"), sa.case((quiet, True), else_=False).label("quiet"),
                   sa.case((quiet, quiet_end_at), else_=literal(now, sa.BigInteger)).label("at"))
            .select_from(matched.outerjoin(NotificationPreference.__table__, p.user_id == i.user_id))).subquery()
    created = from_timestamp(now)
    rows = select(
        base.c.user_id,
        literal(campaign.id, sa.BigInteger),
        literal(campaign.category, sa.String),
        literal(False, sa.Boolean),
        sa.case((base.c.muted, "skipped"), else_="pending"),
        sa.case((base.c.muted, "topic_off"), (base.c.quiet, "quiet_hours"), else_=sa.null()),
        sa.and_(base.c.quiet, sa.not_(base.c.muted)),
        base.c.at,
        literal(0, sa.Integer),
        literal(created, PushOutbox.__table__.c.created_at.type),
    ).where(sa.true())
    cols = ["user_id", "campaign_id", "category", "urgent", "status", "reason", "deferred", "not_before", "attempts",
            "created_at"]
    return _insert(PushOutbox.__table__).from_select(cols, rows).on_conflict_do_nothing(index_elements=["campaign_id", "user_id"])


def finish_if_complete(campaign_id: int) -> bool:
    left = db.session.scalar(select(func.count()).select_from(CampaignChunk).where(
        CampaignChunk.campaign_id == campaign_id, CampaignChunk.done.is_(False)))
    planned = db.session.scalar(select(func.count()).select_from(CampaignChunk).where(
        CampaignChunk.campaign_id == campaign_id))
    if left or not planned:
        return False
    n = db.session.execute(update(Campaign).where(Campaign.id == campaign_id, Campaign.status != "fanned_out")
                           .values(status="fanned_out", fanned_out_at=from_timestamp(clock_now()))).rowcount
    commit()
    return bool(n)


@job(queue_name=QUEUE, max_retries=20)
def run_chunk(campaign_id: int, seq: int) -> None:
    result = write_chunk(campaign_id, seq)
    if result.get("skipped"):
        return
    kick(now=db.session.get(Campaign, campaign_id).started_epoch)
    finish_if_complete(campaign_id)


# ---------------------------------------------------------------------------------------------
# Recovery


def resume_campaigns(*, inline: bool = False) -> dict:
    """Re-enqueue (or, ``inline``, run here) every unfinished campaign's remaining work. Safe to
    run any time: chunk jobs are idempotent."""
    ids = list(db.session.scalars(select(Campaign.id).where(Campaign.status != "fanned_out").order_by(Campaign.id)))
    commit()
    enqueued = ran = 0
    for campaign_id in ids:
        if inline:
            for seq in plan_chunks(campaign_id):
                write_chunk(campaign_id, seq)
                ran += 1
            finish_if_complete(campaign_id)
            continue
        planned = db.session.scalar(select(func.count()).select_from(CampaignChunk)
                                    .where(CampaignChunk.campaign_id == campaign_id))
        commit()
        if not planned:
            enqueued += _enqueue(plan_campaign, campaign_id)
            continue
        for seq in plan_chunks(campaign_id):
            if not _enqueue(run_chunk, campaign_id, seq):
                break
            enqueued += 1
    return {"campaigns": len(ids), "enqueued": enqueued, "ran_inline": ran}
