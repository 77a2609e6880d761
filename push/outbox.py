"""The push outbox relay: sends what is pending, marks each row with the provider's result.

Outbox rows are written in the same transaction as their inbox rows (``deliver_to_user``,
campaign chunks), so a Redis outage or a crash loses nothing: whatever is pending is sent by
the next relay run -- the ``relay_outbox`` job (kicked after each write, best effort) or the
``flask --app wsgi push relay [--loop]`` command (the periodic safety net, which also resumes
unfinished campaigns).

Claiming: due rows are leased (``lease_until``) in a short transaction (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL), so concurrent relays never send a row twice; a relay that dies after
sending but before recording the result lets the lease expire, and the row is sent again
(at-least-once towards providers; ``collapse_key`` makes the device show it once).

Per row: its resident's reachable devices (active, session still signed in); the daily cap
(non-urgent, non-security pushes counted per local day); each provider's retry helper for
transient failures inside one run, then row-level backoff across runs; dead tokens deactivated.
Those decisions are pure functions in ``push/relay_plan.py``; this module loads their inputs,
calls the providers and stores the outcome.
"""
from __future__ import annotations

import logging
import time
from collections import defaultdict

from sqlalchemy import func, or_, select, update

from api.db import from_timestamp
from api.extensions import db
from api.extensions import now as clock_now
from api.jobs import job
from api.localtime import local_day_start
from api.notifications import devices as device_service
from api.notifications.models import Campaign, InboxMessage, NotificationPreference, PushOutbox
from api.unit_of_work import commit
from push.clients import push_providers
from push.providers import RetryPolicy, SendResult, send_with_retry
from push.relay_plan import UNCAPPED, RowUpdate, SendPlan, plan_sends, settle

log = logging.getLogger("ssb.push")

QUEUE = "push"
BATCH = 500
LEASE_SECONDS = 120
SEND_RETRY = RetryPolicy(max_attempts=3, base_delay=0.5, max_delay=5.0)


# ---------------------------------------------------------------------------------------------
# Kicking the relay (best effort)


def kick(*, delay_until: int | None = None, now: int | None = None) -> bool:
    try:
        if delay_until is not None and now is not None and delay_until > now:
            relay_outbox.send_with_options(delay=(delay_until - now) * 1000 + 500)
        else:
            relay_outbox.send()
        return True
    except Exception as exc:    # Redis down: `flask push relay` sends it later
        log.warning("relay kick failed", extra={"error": type(exc).__name__})
        return False


# ---------------------------------------------------------------------------------------------
# Relay


def _claim(now: int, limit: int) -> list[int]:
    q = (select(PushOutbox.id).where(PushOutbox.status == "pending", PushOutbox.not_before <= now,
                                     or_(PushOutbox.lease_until.is_(None), PushOutbox.lease_until <= now))
         .order_by(PushOutbox.not_before, PushOutbox.id).limit(limit))
    if db.session.get_bind().dialect.name == "postgresql":
        ids = list(db.session.scalars(q.with_for_update(skip_locked=True)))
        if ids:
            db.session.execute(update(PushOutbox).where(PushOutbox.id.in_(ids))
                               .values(lease_until=now + LEASE_SECONDS))
    else:
        # No row locks (SQLite): select-and-lease in one statement, so two relays running at
        # once (worker threads) can never lease, and send, the same row.
        ids = list(db.session.scalars(update(PushOutbox).where(PushOutbox.id.in_(q.scalar_subquery()))
                                      .values(lease_until=now + LEASE_SECONDS).returning(PushOutbox.id)))
    commit()
    return ids


def _contents(rows: list[PushOutbox]) -> dict:
    """Content per row id: (key, zh (title, body), en (title, body) or None, deep_link, data)."""
    inbox_ids = [r.inbox_id for r in rows if r.inbox_id]
    campaign_ids = {r.campaign_id for r in rows if r.campaign_id and not r.inbox_id}
    inbox = {m.id: m for m in db.session.scalars(select(InboxMessage).where(InboxMessage.id.in_(inbox_ids)))} \
        if inbox_ids else {}
    campaigns = {c.id: c for c in db.session.scalars(select(Campaign).where(Campaign.id.in_(campaign_ids)))} \
        if campaign_ids else {}
    out = {}
    for r in rows:
        src = inbox.get(r.inbox_id) if r.inbox_id else campaigns.get(r.campaign_id)
        if src is None:
            continue
        if r.inbox_id:
            key, data = f"inbox-{r.inbox_id}", {"inbox_id": str(r.inbox_id)}
        else:
            key, data = f"campaign-{r.campaign_id}", {"campaign_id": str(r.campaign_id)}
        data["category"] = r.category
        if src.deep_link:
            data["deep_link"] = src.deep_link
        en = (src.title_en, src.body_en) if src.title_en and src.body_en else None
        out[r.id] = (key, (src.title, src.body), en, data)
    return out


def _sent_today(user_ids: list[int], now: int) -> dict[int, int]:
    day_start = from_timestamp(local_day_start(now))
    rows = db.session.execute(select(PushOutbox.user_id, func.count()).where(
        PushOutbox.status == "sent", PushOutbox.user_id.in_(user_ids), PushOutbox.sent_at >= day_start,
        PushOutbox.urgent.is_(False), PushOutbox.category.not_in(UNCAPPED)).group_by(PushOutbox.user_id))
    return dict(rows.all())


def _load_inputs(rows: list[PushOutbox], now: int) -> dict:
    """What planning reads: contents, preferences, today's capped sends and reachable devices
    (devices whose session was signed out are deactivated first)."""
    user_ids = sorted({r.user_id for r in rows})
    contents = _contents(rows)
    prefs = {p.user_id: p for p in db.session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id.in_(user_ids)))}
    sent_today = _sent_today(user_ids, now)
    device_service.deactivate_signed_out(user_ids, now=now)
    by_user: dict[int, list] = defaultdict(list)
    for d in device_service.reachable_devices(user_ids):
        by_user[d.user_id].append(d)
    return {"contents": contents, "prefs": prefs, "sent_today": sent_today, "devices_by_user": by_user}


def _send(plan: SendPlan, *, sleep) -> dict[tuple, SendResult]:
    """Each group's tokens through its platform's client: results by (platform, message, token)."""
    results: dict[tuple, SendResult] = {}
    clients = push_providers()
    for (platform, mkey), tokens in plan.groups.items():
        provider = clients.get(platform)
        if provider is None:
            out = [SendResult(t, "failed", detail=f"{platform} not configured") for t in tokens]
        else:
            try:
                out = send_with_retry(provider, tokens, plan.messages[mkey], policy=SEND_RETRY, sleep=sleep)
            except Exception as exc:   # a client bug must not lose the batch: retry the rows later
                log.exception("push provider crashed")
                out = [SendResult(t, "retryable", detail=f"client error: {type(exc).__name__}") for t in tokens]
        for res in out:
            results[(platform, mkey, res.token)] = res
    return results


def _store(row: PushOutbox, update: RowUpdate, *, sent_at) -> None:
    row.status = update.status
    row.reason = update.reason if update.status != "sent" else ("quiet_hours" if row.deferred else None)
    row.result = update.result
    row.lease_until = None
    if update.attempts is not None:
        row.attempts = update.attempts
    else:
        row.attempts = row.attempts + (0 if update.status == "pending" else 1)
    if update.not_before is not None:
        row.not_before = update.not_before
    if update.status == "sent":
        row.sent_at = sent_at


def relay_once(*, now: int, limit: int = BATCH, sleep=time.sleep) -> dict:
    """Send one batch of due pushes; returns counts by outcome."""
    ids = _claim(now, limit)
    if not ids:
        return {"claimed": 0}
    rows = list(db.session.scalars(select(PushOutbox).where(PushOutbox.id.in_(ids)).order_by(PushOutbox.id)))
    plan = plan_sends(rows, **_load_inputs(rows, now))
    updates, dead_devices = settle(rows, plan, _send(plan, sleep=sleep), now=now)
    counts: dict[str, int] = defaultdict(int)
    counts["claimed"] = len(ids)
    sent_at = from_timestamp(now)
    for r in rows:
        _store(r, updates[r.id], sent_at=sent_at)
        counts[updates[r.id].count_key] += 1
    device_service.deactivate(dead_devices, reason="dead_token", now=now)
    commit()
    counts["dead_tokens"] = len(dead_devices)
    return dict(counts)


def relay(*, now: int | None = None, budget_seconds: float = 50.0, sleep=time.sleep) -> dict:
    """Send batches until nothing is due or the time budget is spent; returns summed counts."""
    total: dict[str, int] = defaultdict(int)
    started = time.monotonic()
    while True:
        counts = relay_once(now=now if now is not None else clock_now(), sleep=sleep)
        for k, v in counts.items():
            total[k] += v
        if not counts.get("claimed") or time.monotonic() - started > budget_seconds:
            break
    total["more"] = int(bool(counts.get("claimed")))
    return dict(total)


@job(queue_name=QUEUE, max_retries=5)
def relay_outbox() -> None:
    result = relay()
    if result.get("more"):
        kick()
