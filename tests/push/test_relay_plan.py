"""The relay's pure decisions (push/relay_plan.py): planning and settling without a database,
a network or an app. Rows, preferences and devices are plain objects with the attributes read."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from api.notifications.preferences import DEFAULT_DAILY_CAP
from push.providers import SendResult
from push.relay_plan import ROW_RETRY, RowUpdate, classify, plan_sends, settle, summarize

NOW = 1_750_000_000
ZH = ("标题", "正文")
EN = ("Title", "Body")


def row(id, user_id=1, *, category="service", urgent=False, attempts=0):
    return SimpleNamespace(id=id, user_id=user_id, category=category, urgent=urgent, attempts=attempts)


def device(id, user_id=1, platform="hms", token=None):
    return SimpleNamespace(id=id, user_id=user_id, platform=platform, token=token or f"tok-{id}")


def content(key="inbox-1", en=None):
    return (key, ZH, en, {"inbox_id": key.split("-")[-1], "category": "service"})


def pref(daily_cap=DEFAULT_DAILY_CAP, language="zh-CN"):
    return SimpleNamespace(daily_cap=daily_cap, language=language)


def plan(rows, *, contents=None, prefs=None, sent_today=None, devices=None):
    return plan_sends(rows, contents=contents if contents is not None else {r.id: content(f"inbox-{r.id}") for r in rows},
                      prefs=prefs or {}, sent_today=sent_today or {},
                      devices_by_user=devices if devices is not None else {1: [device(10)]})


# ---------------------------------------------------------------------------- planning

def test_a_row_without_content_fails_before_anything_else():
    p = plan([row(1)], contents={}, sent_today={1: 10**6}, devices={})
    assert p.settled == {1: RowUpdate("failed", "no_content")} and not p.groups


def test_daily_cap_counts_rows_planned_earlier_in_the_batch():
    rows = [row(1), row(2), row(3)]
    p = plan(rows, prefs={1: pref(daily_cap=3)}, sent_today={1: 1})
    assert set(p.targets) == {1, 2}
    assert p.settled == {3: RowUpdate("skipped", "daily_cap")}


def test_default_cap_applies_without_preferences():
    p = plan([row(1)], sent_today={1: DEFAULT_DAILY_CAP})
    assert p.settled[1].reason == "daily_cap"


@pytest.mark.parametrize("kind", [{"urgent": True}, {"category": "security"}])
def test_urgent_and_security_pushes_pass_a_reached_cap_and_do_not_count(kind):
    rows = [row(1, **kind), row(2)]
    p = plan(rows, prefs={1: pref(daily_cap=1)}, sent_today={1: 0})
    assert set(p.targets) == {1, 2}     # the first did not use up the single allowed push


def test_a_resident_without_reachable_devices_is_skipped():
    p = plan([row(1)], devices={})
    assert p.settled == {1: RowUpdate("skipped", "no_device")}


def test_tokens_are_grouped_by_platform_and_message():
    devices = {1: [device(10, 1, "hms"), device(11, 1, "fcm")], 2: [device(20, 2, "hms")]}
    contents = {1: content("campaign-7"), 2: content("campaign-7")}
    p = plan([row(1, 1), row(2, 2)], contents=contents, devices=devices)
    mkey = ("campaign-7", "zh-CN", False)
    assert dict(p.groups) == {("hms", mkey): ["tok-10", "tok-20"], ("fcm", mkey): ["tok-11"]}
    assert list(p.messages) == [mkey] and p.messages[mkey].collapse_key == "campaign-7"


def test_english_only_when_chosen_and_written():
    rows = [row(1, 1), row(2, 2), row(3, 3)]
    contents = {1: content("inbox-1", en=EN), 2: content("inbox-2"), 3: content("inbox-3", en=EN)}
    prefs = {1: pref(language="en"), 2: pref(language="en"), 3: pref()}
    devices = {u: [device(u * 10, u)] for u in (1, 2, 3)}
    p = plan(rows, contents=contents, prefs=prefs, devices=devices)
    by_key = {k[0]: (k[1], m.title, m.body) for k, m in p.messages.items()}
    assert by_key == {"inbox-1": ("en", *EN), "inbox-2": ("zh-CN", *ZH), "inbox-3": ("zh-CN", *ZH)}


def test_urgent_messages_are_high_priority_and_kept_apart():
    contents = {1: content("campaign-7"), 2: content("campaign-7")}
    devices = {1: [device(10, 1)], 2: [device(20, 2)]}
    p = plan([row(1, 1, urgent=True), row(2, 2)], contents=contents, devices=devices)
    assert {k: m.priority for k, m in p.messages.items()} == {("campaign-7", "zh-CN", True): "high",
                                                              ("campaign-7", "zh-CN", False): "normal"}


# ---------------------------------------------------------------------------- settling

def ok(t):
    return SendResult(t, "ok")


def test_one_device_taking_it_makes_the_row_sent():
    update = classify([SendResult("a", "dead_token"), ok("b")], attempts=0, now=NOW)
    assert update.status == "sent" and update.count_key == "sent"
    assert update.result == {"devices": 2, "ok": 1, "dead": 1, "detail": None}


def test_transient_failures_retry_later_with_the_providers_hint_as_a_floor():
    outcomes = [SendResult("a", "rate_limited", retry_after=900.0), SendResult("b", "retryable", detail="503")]
    update = classify(outcomes, attempts=0, now=NOW, random=lambda: 0.0)
    assert (update.status, update.reason, update.attempts) == ("pending", "retrying", 1)
    assert update.not_before == NOW + 900 + 1
    assert update.count_key == "pending:retrying" and update.result["detail"] == "503"


def test_backoff_grows_with_attempts():
    later = [classify([SendResult("a", "retryable")], attempts=n, now=NOW, random=lambda: 1.0).not_before
             for n in range(4)]
    assert later == sorted(later) and len(set(later)) == 4


def test_retries_run_out():
    update = classify([SendResult("a", "retryable")], attempts=ROW_RETRY.max_attempts - 1, now=NOW)
    assert (update.status, update.reason) == ("failed", "retries_exhausted") and update.attempts is None


def test_all_tokens_dead_is_skipped_and_a_permanent_failure_fails():
    assert classify([SendResult("a", "dead_token")], attempts=0, now=NOW).count_key == "skipped:dead_tokens"
    mixed = classify([SendResult("a", "dead_token"), SendResult("b", "failed", detail="bad key")], attempts=0, now=NOW)
    assert mixed.count_key == "failed:provider_error" and mixed.result["detail"] == "bad key"


def test_settle_keeps_planned_outcomes_and_collects_dead_devices():
    devices = {1: [device(10, 1), device(11, 1)]}
    rows = [row(1), row(2, 2)]
    p = plan(rows, devices=devices)
    mkey = ("inbox-1", "zh-CN", False)
    results = {("hms", mkey, "tok-10"): SendResult("tok-10", "dead_token"),
               ("hms", mkey, "tok-11"): SendResult("tok-11", "dead_token")}
    updates, dead = settle(rows, p, results, now=NOW)
    assert updates == {1: RowUpdate("skipped", "dead_tokens", result=summarize(list(results.values()))),
                       2: RowUpdate("skipped", "no_device")}
    assert dead == [10, 11]


def test_a_device_the_providers_never_answered_for_has_failed():
    rows = [row(1)]
    updates, dead = settle(rows, plan(rows), {}, now=NOW)
    assert updates[1].count_key == "failed:provider_error" and updates[1].result["detail"] == "no result"
    assert dead == []
