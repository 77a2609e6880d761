"""The relay's decisions, free of the database and the network.

`plan_sends`: which claimed rows go to which devices with which message (content, daily cap,
language preference, reachable devices), tokens grouped by (platform, message) so a campaign's
tokens travel in batches. `settle`: what each row becomes once the providers answered (sent,
retried later with backoff, skipped, failed) and which devices turned out dead.

`push/outbox.py` loads the inputs, calls the providers and stores the outputs; these functions
only read the attributes of the rows and devices they are given.
"""
from __future__ import annotations

import random as random_module
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from api.notifications.preferences import DEFAULT_DAILY_CAP
from push.providers import PushMessage, RetryPolicy, SendResult, backoff_delay

UNCAPPED = frozenset({"security"})
ROW_RETRY = RetryPolicy(max_attempts=8, base_delay=30.0, max_delay=3600.0)

# (collapse key, zh (title, body), en (title, body) or None, data)
Content = tuple[str, tuple[str, str], "tuple[str, str] | None", dict]
MessageKey = tuple[str, str, bool]          # (collapse key, language, urgent)
GroupKey = tuple[str, MessageKey]           # (platform, message key)


@dataclass(frozen=True)
class RowUpdate:
    """What one outbox row becomes. `attempts` None: one more unless the row stays pending."""

    status: str
    reason: str | None = None
    result: dict | None = None
    not_before: int | None = None
    attempts: int | None = None

    @property
    def count_key(self) -> str:
        """The relay's counter for this outcome: `sent`, `skipped:daily_cap`, `pending:retrying`..."""
        if self.status == "sent" or not self.reason:
            return self.status
        return f"{self.status}:{self.reason}"


@dataclass
class SendPlan:
    """Rows settled without sending, and for the others the devices and messages to send."""

    settled: dict[int, RowUpdate] = field(default_factory=dict)
    targets: dict[int, list[tuple[Any, GroupKey]]] = field(default_factory=dict)
    groups: dict[GroupKey, list[str]] = field(default_factory=lambda: defaultdict(list))
    messages: dict[MessageKey, PushMessage] = field(default_factory=dict)


# ---------------------------------------------------------------------------- planning

def is_capped(row) -> bool:
    """Urgent and security pushes never count against (nor stop at) the daily cap."""
    return not row.urgent and row.category not in UNCAPPED


def daily_cap(pref) -> int:
    return pref.daily_cap if pref is not None else DEFAULT_DAILY_CAP


def language_for(pref, en) -> str:
    """English when the resident chose it and the message has an English text."""
    return "en" if pref is not None and pref.language == "en" and en else "zh-CN"


def _skip(row, *, content, pref, sent_today: Mapping[int, int], devices: Sequence) -> RowUpdate | None:
    if content is None:
        return RowUpdate("failed", "no_content")
    if is_capped(row) and sent_today.get(row.user_id, 0) >= daily_cap(pref):
        return RowUpdate("skipped", "daily_cap")
    if not devices:
        return RowUpdate("skipped", "no_device")
    return None


def _message_key(plan: SendPlan, row, content: Content, pref) -> MessageKey:
    """The key of the row's message in the plan, adding the message the first time it is seen."""
    key, zh, en, data = content
    lang = language_for(pref, en)
    title, body = en if lang == "en" and en else zh
    mkey = (key, lang, row.urgent)
    if mkey not in plan.messages:
        plan.messages[mkey] = PushMessage(title=title or "", body=body or "", data=data, collapse_key=key,
                                          priority="high" if row.urgent else "normal")
    return mkey


def plan_sends(rows: Iterable, *, contents: Mapping[int, Content], prefs: Mapping[int, Any],
               sent_today: Mapping[int, int], devices_by_user: Mapping[int, Sequence]) -> SendPlan:
    """Decide per row, in order: no content, daily cap reached (rows planned earlier in the batch
    count), no reachable device; otherwise one target per device of the resident."""
    plan = SendPlan()
    counted = dict(sent_today)
    for row in rows:
        pref = prefs.get(row.user_id)
        devices = devices_by_user.get(row.user_id) or []
        skip = _skip(row, content=contents.get(row.id), pref=pref, sent_today=counted, devices=devices)
        if skip is not None:
            plan.settled[row.id] = skip
            continue
        mkey = _message_key(plan, row, contents[row.id], pref)
        plan.targets[row.id] = [(d, (d.platform, mkey)) for d in devices]
        for d in devices:
            plan.groups[(d.platform, mkey)].append(d.token)
        if is_capped(row):
            counted[row.user_id] = counted.get(row.user_id, 0) + 1
    return plan


# ---------------------------------------------------------------------------- settling

def summarize(outcomes: Sequence[SendResult]) -> dict:
    """The row's stored result: device count, successes, dead tokens, the first failure's detail."""
    return {"devices": len(outcomes), "ok": sum(o.outcome == "ok" for o in outcomes),
            "dead": sum(o.outcome == "dead_token" for o in outcomes),
            "detail": next((o.detail for o in outcomes if o.outcome != "ok" and o.detail), None)}


def classify(outcomes: Sequence[SendResult], *, attempts: int, now: int,
             random: Callable[[], float] = random_module.random) -> RowUpdate:
    """A row sent to its devices: sent when any device took it; retried with backoff (the
    providers' Retry-After as a floor) while a failure is transient and attempts remain; skipped
    when every token was dead; failed otherwise."""
    summary = summarize(outcomes)
    if summary["ok"]:
        return RowUpdate("sent", result=summary)
    if any(o.should_retry for o in outcomes):
        attempts += 1
        if attempts >= ROW_RETRY.max_attempts:
            return RowUpdate("failed", "retries_exhausted", result=summary)
        hints = [o.retry_after for o in outcomes if o.retry_after is not None]
        delay = backoff_delay(attempts, ROW_RETRY, retry_after=max(hints) if hints else None, random=random)
        return RowUpdate("pending", "retrying", result=summary, not_before=now + int(delay) + 1, attempts=attempts)
    if summary["dead"] == len(outcomes):
        return RowUpdate("skipped", "dead_tokens", result=summary)
    return RowUpdate("failed", "provider_error", result=summary)


def outcomes_for(targets: Sequence[tuple[Any, GroupKey]],
                 results: Mapping[tuple, SendResult]) -> list[SendResult]:
    """One result per target device (a device the providers never answered for has failed)."""
    return [results.get((platform, mkey, d.token)) or SendResult(d.token, "failed", detail="no result")
            for d, (platform, mkey) in targets]


def settle(rows: Iterable, plan: SendPlan, results: Mapping[tuple, SendResult], *, now: int,
           random: Callable[[], float] = random_module.random) -> tuple[dict[int, RowUpdate], list[int]]:
    """Every row's update, and the ids of the devices whose tokens the providers called dead."""
    updates: dict[int, RowUpdate] = {}
    dead_devices: list[int] = []
    for row in rows:
        if row.id in plan.settled:
            updates[row.id] = plan.settled[row.id]
            continue
        outcomes = outcomes_for(plan.targets[row.id], results)
        dead_devices += [d.id for (d, _), o in zip(plan.targets[row.id], outcomes) if o.outcome == "dead_token"]
        updates[row.id] = classify(outcomes, attempts=row.attempts, now=now, random=random)
    return updates, dead_devices
