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
"""
from __future__ import annotations

import logging
import time
from collections import defaultdict

from flask import current_app
from sqlalchemy import func, or_, select, update

from api.db import from_timestamp
from api.extensions import db, get_config
from api.extensions import now as clock_now
from api.jobs import job
from api.localtime import local_day_start
from api.notifications import devices as device_service
from api.notifications.models import Campaign, InboxMessage, NotificationPreference, PushOutbox
from api.notifications.preferences import DEFAULT_DAILY_CAP
from api.unit_of_work import commit
from push.providers import PushMessage, RetryPolicy, SendResult, backoff_delay, send_with_retry

log = logging.getLogger("ssb.push")

QUEUE = "push"
BATCH = 500
LEASE_SECONDS = 120
SEND_RETRY = RetryPolicy(max_attempts=3, base_delay=0.5, max_delay=5.0)
ROW_RETRY = RetryPolicy(max_attempts=8, base_delay=30.0, max_delay=3600.0)
UNCAPPED = frozenset({"security"})


# ---------------------------------------------------------------------------------------------
# Providers, chosen by configuration (PUSH_APNS_*, PUSH_FCM_*, PUSH_HMS_*)


def build_providers(cfg) -> dict:
    providers: dict = {}
    if cfg.PUSH_APNS_KEY_FILE and cfg.PUSH_APNS_TEAM_ID and cfg.PUSH_APNS_KEY_ID:
        from push.providers.apns import PRODUCTION_URL, ApnsProvider
        with open(cfg.PUSH_APNS_KEY_FILE, "rb") as fh:
            key = fh.read()
        providers["apns"] = ApnsProvider(team_id=cfg.PUSH_APNS_TEAM_ID, key_id=cfg.PUSH_APNS_KEY_ID, private_key=key,
                                         topic=cfg.PUSH_APNS_TOPIC, base_url=cfg.PUSH_APNS_URL or PRODUCTION_URL)
    if cfg.PUSH_FCM_CREDENTIALS_FILE:
        from push.providers.fcm import PRODUCTION_URL, FcmProvider, ServiceAccount
        providers["fcm"] = FcmProvider(service_account=ServiceAccount.from_file(cfg.PUSH_FCM_CREDENTIALS_FILE),
                                       base_url=cfg.PUSH_FCM_URL or PRODUCTION_URL)
    if cfg.PUSH_HMS_APP_ID and cfg.PUSH_HMS_CLIENT_SECRET:
        from push.providers.hms import PRODUCTION_URL, TOKEN_URL, HmsProvider
        providers["hms"] = HmsProvider(app_id=cfg.PUSH_HMS_APP_ID, client_secret=cfg.PUSH_HMS_CLIENT_SECRET,
                                       base_url=cfg.PUSH_HMS_URL or PRODUCTION_URL,
                                       token_url=cfg.PUSH_HMS_TOKEN_URL or TOKEN_URL)
    return providers


def providers() -> dict:
    """The app's provider clients, built once per process (they hold connections and tokens)."""
    cached = current_app.extensions.get("ssb.push_providers")
    if cached is None:
        cached = current_app.extensions["ssb.push_providers"] = build_providers(get_config())
    return cached


def reset_providers() -> None:
    for provider in (current_app.extensions.pop("ssb.push_providers", None) or {}).values():
        try:
            provider.close()
        except Exception:  # pragma: no cover
            pass


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


def relay_once(*, now: int, limit: int = BATCH, sleep=time.sleep) -> dict:
    """Send one batch of due pushes; returns counts by outcome."""
    ids = _claim(now, limit)
    counts: dict[str, int] = defaultdict(int)
    if not ids:
        return {"claimed": 0}
    counts["claimed"] = len(ids)
    rows = list(db.session.scalars(select(PushOutbox).where(PushOutbox.id.in_(ids)).order_by(PushOutbox.id)))
    user_ids = sorted({r.user_id for r in rows})
    contents = _contents(rows)
    prefs = {p.user_id: p for p in db.session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id.in_(user_ids)))}
    sent_today = _sent_today(user_ids, now)
    device_service.deactivate_signed_out(user_ids, now=now)
    by_user: dict[int, list] = defaultdict(list)
    for d in device_service.reachable_devices(user_ids):
        by_user[d.user_id].append(d)

    # Decide per row, grouping tokens by (platform, message) so a campaign batches its tokens.
    plans: dict[int, list] = {}
    groups: dict[tuple, list[str]] = defaultdict(list)
    messages: dict[tuple, PushMessage] = {}
    final: dict[int, dict] = {}
    for r in rows:
        content = contents.get(r.id)
        if content is None:
            final[r.id] = {"status": "failed", "reason": "no_content"}
            continue
        pref = prefs.get(r.user_id)
        capped = not r.urgent and r.category not in UNCAPPED
        cap = pref.daily_cap if pref is not None else DEFAULT_DAILY_CAP
        if capped and sent_today.get(r.user_id, 0) >= cap:
            final[r.id] = {"status": "skipped", "reason": "daily_cap"}
            continue
        devices = by_user.get(r.user_id) or []
        if not devices:
            final[r.id] = {"status": "skipped", "reason": "no_device"}
            continue
        key, zh, en, data = content
        lang = "en" if pref is not None and pref.language == "en" and en else "zh-CN"
        title, body = en if lang == "en" else zh
        mkey = (key, lang, r.urgent)
        if mkey not in messages:
            messages[mkey] = PushMessage(title=title or "", body=body or "", data=data, collapse_key=key,
                                         priority="high" if r.urgent else "normal")
        plans[r.id] = [(d, (d.platform, mkey)) for d in devices]
        for d, g in plans[r.id]:
            groups[g].append(d.token)
        if capped:
            sent_today[r.user_id] = sent_today.get(r.user_id, 0) + 1

    results: dict[tuple, SendResult] = {}
    clients = providers()
    for (platform, mkey), tokens in groups.items():
        provider = clients.get(platform)
        if provider is None:
            out = [SendResult(t, "failed", detail=f"{platform} not configured") for t in tokens]
        else:
            try:
                out = send_with_retry(provider, tokens, messages[mkey], policy=SEND_RETRY, sleep=sleep)
            except Exception as exc:   # a client bug must not lose the batch: retry the rows later
                log.exception("push provider crashed")
                out = [SendResult(t, "retryable", detail=f"client error: {type(exc).__name__}") for t in tokens]
        for res in out:
            results[(platform, mkey, res.token)] = res

    dead_devices: list[int] = []
    for r in rows:
        if r.id in final:
            continue
        outcomes = []
        for d, (platform, mkey) in plans[r.id]:
            res = results.get((platform, mkey, d.token)) or SendResult(d.token, "failed", detail="no result")
            outcomes.append(res)
            if res.outcome == "dead_token":
                dead_devices.append(d.id)
        summary = {"devices": len(outcomes), "ok": sum(o.outcome == "ok" for o in outcomes),
                   "dead": sum(o.outcome == "dead_token" for o in outcomes),
                   "detail": next((o.detail for o in outcomes if o.outcome != "ok" and o.detail), None)}
        if summary["ok"]:
            final[r.id] = {"status": "sent", "reason": None, "result": summary}
        elif any(o.should_retry for o in outcomes):
            attempts = r.attempts + 1
            if attempts >= ROW_RETRY.max_attempts:
                final[r.id] = {"status": "failed", "reason": "retries_exhausted", "result": summary}
            else:
                hints = [o.retry_after for o in outcomes if o.retry_after is not None]
                delay = backoff_delay(attempts, ROW_RETRY, retry_after=max(hints) if hints else None)
                final[r.id] = {"status": "pending", "reason": "retrying", "result": summary,
                               "not_before": now + int(delay) + 1, "attempts": attempts}
        elif summary["dead"] == len(outcomes):
            final[r.id] = {"status": "skipped", "reason": "dead_tokens", "result": summary}
        else:
            final[r.id] = {"status": "failed", "reason": "provider_error", "result": summary}

    sent_at = from_timestamp(now)
    for r in rows:
        f = final[r.id]
        r.status = f["status"]
        r.reason = f.get("reason") if f["status"] != "sent" else ("quiet_hours" if r.deferred else None)
        r.result = f.get("result")
        r.lease_until = None
        r.attempts = f.get("attempts", r.attempts + (0 if f["status"] == "pending" else 1))
        if "not_before" in f:
            r.not_before = f["not_before"]
        if f["status"] == "sent":
            r.sent_at = sent_at
        counts[f["status"] + (":" + f["reason"] if f.get("reason") and f["status"] != "sent" else "")] += 1
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
