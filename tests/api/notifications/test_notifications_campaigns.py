"""Campaigns: the policy finds its people exactly once each, honouring preferences, through
real Dramatiq workers, real push clients against the loopback fakes, and real faults."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select

from api.extensions import db
from api.localtime import local_today
from api.notifications.models import CampaignChunk, Device, InboxMessage, PushOutbox
from api.notifications.preferences import local_minute
from push import campaigns as campaign_jobs
from push.outbox import relay
from tests.api.notifications.conftest import HUANGPU_60_LOCAL, register_device


@pytest.fixture(autouse=True)
def small_chunks(app, monkeypatch):
    monkeypatch.setattr(app.extensions["ssb.config"], "CAMPAIGN_CHUNK_SIZE", 3)


def years_ago(today: date, years: int, days: int = 0) -> str:
    return (today.replace(year=today.year - years) + timedelta(days=days)).isoformat()


@pytest.fixture
def town(app, residents):
    """Eleven residents around the rule "黄浦区, 60+, local hukou"; returns (eligible, others)."""
    today = local_today(int(app.extensions["ssb.clock"]()))
    specs = [
        {"name": "eligible-70", "birth_date": years_ago(today, 70)},
        {"name": "eligible-birthday-today", "birth_date": years_ago(today, 60)},
        {"name": "eligible-veteran", "birth_date": years_ago(today, 81), "veteran": True},
        {"name": "eligible-2", "birth_date": years_ago(today, 65)},
        {"name": "eligible-3", "birth_date": years_ago(today, 66)},
        {"name": "eligible-4", "birth_date": years_ago(today, 90)},
        {"name": "59-birthday-tomorrow", "birth_date": years_ago(today, 60, days=1)},
        {"name": "other-district", "birth_date": years_ago(today, 70), "district": "徐汇区"},
        {"name": "no-hukou", "birth_date": years_ago(today, 70), "hukou": False},
        {"name": "young", "birth_date": years_ago(today, 30)},
        {"name": "unverified", "birth_date": years_ago(today, 70), "verified": False},
    ]
    people = residents(specs)
    return [p for p in people if p.spec["name"].startswith("eligible")], \
        [p for p in people if not p.spec["name"].startswith("eligible")]


def publish(client, operator, rule=HUANGPU_60_LOCAL, topic="elderly") -> int:
    r = client.post("/v1/admin/policies", headers=operator, json={
        "title": "高龄津贴", "body": "您可申请高龄津贴", "title_en": "Senior allowance",
        "body_en": "You may apply for the senior allowance", "topic": topic, "rule": rule})
    assert r.status_code == 201, r.json
    return r.json["id"]


def start(client, operator, policy_id) -> int:
    r = client.post(f"/v1/admin/policies/{policy_id}/campaigns", headers=operator)
    assert r.status_code == 202, r.json
    return r.json["campaign_id"]


def status(client, operator, campaign_id) -> dict:
    r = client.get(f"/v1/admin/campaigns/{campaign_id}", headers=operator)
    assert r.status_code == 200, r.json
    return r.json


def inbox_counts(app, campaign_id) -> dict[int, int]:
    with app.app_context():
        rows = db.session.execute(select(InboxMessage.user_id, func.count()).where(
            InboxMessage.campaign_id == campaign_id).group_by(InboxMessage.user_id)).all()
        return dict(rows)


def test_campaign_reaches_exactly_the_eligible_once(app, client, operator, town, worker):
    eligible, others = town
    campaign_id = start(client, operator, publish(client, operator))
    worker()
    assert inbox_counts(app, campaign_id) == {p.user_id: 1 for p in eligible}
    s = status(client, operator, campaign_id)
    assert s["status"] == "done"
    assert s["matched"] == len(eligible) == s["detail"]["inbox_written"]
    assert s["detail"]["chunks"] == s["detail"]["chunks_done"] >= 4          # 11 persons, chunks of 3
    assert s["skipped"] == s["detail"]["skipped_no_device"] == len(eligible)   # nobody registered a device
    # The resident sees it, in their language.
    msg = client.get("/v1/inbox", headers={**eligible[0].headers, "Accept-Language": "en"}).json["items"][0]
    assert (msg["category"], msg["title"]) == ("policy", "Senior allowance")
    assert msg["deep_link"].startswith("ssb://policies/")
    for p in others:
        assert client.get("/v1/inbox/unread-count", headers=p.headers).json == {"unread": 0}


def test_starting_twice_is_the_same_campaign_until_it_finishes(app, client, operator, town, worker):
    eligible, _ = town
    policy_id = publish(client, operator)
    first = start(client, operator, policy_id)
    r = client.post(f"/v1/admin/policies/{policy_id}/campaigns", headers=operator)
    assert r.status_code == 202 and r.json["campaign_id"] == first and r.json["created"] is False
    worker()
    rerun = start(client, operator, policy_id)      # finished: a new run, for the newly eligible only
    worker()
    assert rerun != first and inbox_counts(app, rerun) == {}
    assert inbox_counts(app, first) == {p.user_id: 1 for p in eligible}


def test_campaign_errors(client, operator, residents):
    [me] = residents([{}])
    assert client.post("/v1/admin/policies/424242/campaigns", headers=operator).json["error"] == "POLICY_NOT_FOUND"
    assert client.get("/v1/admin/campaigns/424242", headers=operator).json["error"] == "CAMPAIGN_NOT_FOUND"
    r = client.post("/v1/admin/policies", headers=operator, json={
        "title": "小微企业补贴", "body": "...", "topic": "business", "subject": "enterprise",
        "rule": {"==": [{"var": "size"}, "small"]}})
    r = client.post(f"/v1/admin/policies/{r.json['id']}/campaigns", headers=operator)
    assert (r.status_code, r.json["error"]) == (409, "CAMPAIGN_SUBJECT_UNSUPPORTED")
    assert client.post("/v1/admin/policies/1/campaigns", headers=me.headers).status_code == 403


def test_pushes_honour_preferences_quiet_hours_caps_and_clean_dead_tokens(app, client, clock, operator, town,
                                                                           worker, hms, fcm):
    eligible, _ = town
    pushed, muted, quiet, dead, capped, via_fcm = eligible
    register_device(client, pushed, "hms-ok-1")
    register_device(client, pushed, "err-hms-2")                 # a transient 500 first: retried
    register_device(client, muted, "hms-muted")
    register_device(client, quiet, "hms-quiet")
    dead_id = register_device(client, dead, "dead-hms-token")
    register_device(client, capped, "hms-capped")
    register_device(client, via_fcm, "fcm-token-1", platform="fcm")
    client.put("/v1/me/preferences", headers=muted.headers, json={"topics": {"elderly": False}})
    minute, _ = local_minute(int(clock()))
    client.put("/v1/me/preferences", headers=quiet.headers, json={"quiet_hours": {
        "start": f"{(minute - 60) % 1440 // 60:02d}:{(minute - 60) % 60:02d}",
        "end": f"{(minute + 90) % 1440 // 60:02d}:{(minute + 90) % 60:02d}"}})
    client.put("/v1/me/preferences", headers=capped.headers, json={"daily_cap": 0})

    campaign_id = start(client, operator, publish(client, operator))
    worker()

    sent = [t for req in hms.send_requests for t in req.json()["message"]["token"]]
    assert sorted(set(sent)) == ["dead-hms-token", "err-hms-2", "hms-ok-1"]
    assert "hms-muted" not in sent and "hms-quiet" not in sent and "hms-capped" not in sent
    assert [r.json()["message"]["token"] for r in fcm.send_requests] == ["fcm-token-1"]
    first = hms.send_requests[0].json()["message"]
    assert first["notification"]["title"] == "高龄津贴" and "campaign_id" in first["data"]
    with app.app_context():
        assert db.session.get(Device, dead_id).active is False
    s = status(client, operator, campaign_id)
    assert s["status"] == "done"            # only the quiet-hours push waits, and it is not due
    assert (s["matched"], s["delivered"], s["failed"]) == (6, 2, 0)
    d = s["detail"]
    assert (d["skipped_by_preference"], d["skipped_daily_cap"], d["skipped_dead_token"]) == (1, 1, 1)
    assert (d["deferred_quiet_hours"], d["waiting_quiet_hours"]) == (1, 1)
    assert s["skipped"] == 3
    # Every eligible resident has the inbox entry at once, whatever their push settings.
    for p in eligible:
        assert client.get("/v1/inbox/unread-count", headers=p.headers).json == {"unread": 1}

    # When quiet hours end, the deferred push goes out.
    clock.advance(91 * 60)
    with app.app_context():
        relay(sleep=lambda s: None)
        from api.notifications.policies import campaign_status
        s = campaign_status(campaign_id, now=int(clock()))     # (the operator's access token has expired)
    assert "hms-quiet" in [t for req in hms.send_requests for t in req.json()["message"]["token"]]
    assert (s["status"], s["delivered"], s["detail"]["waiting_quiet_hours"]) == ("done", 3, 0)


def test_signed_out_devices_get_nothing(app, client, operator, town, worker, hms):
    eligible, _ = town
    register_device(client, eligible[0], "hms-signed-out")
    register_device(client, eligible[1], "hms-still-in")
    assert client.post("/v1/auth/logout", headers=eligible[0].headers).status_code == 204
    start(client, operator, publish(client, operator))
    worker()
    sent = [t for req in hms.send_requests for t in req.json()["message"]["token"]]
    assert sent == ["hms-still-in"]


# -- faults -----------------------------------------------------------------------------------


def _unreachable_broker(app):
    """A real broker on a Redis that is not there (as during a restart)."""
    from api.jobs import init_broker
    return init_broker(app, "redis://127.0.0.1:1/0")


@contextmanager
def jobs_cannot_be_enqueued(app):
    """The app's broker is `_unreachable_broker` until the block ends: every enqueue fails as it
    does while Redis is down, through the real job handles."""
    import dramatiq
    good = app.extensions["ssb.broker"]
    app.extensions["ssb.broker"] = _unreachable_broker(app)
    try:
        yield
    finally:
        app.extensions["ssb.broker"] = good
        dramatiq.set_broker(good)


def test_worker_killed_mid_chunk_then_chunks_run_twice(app, client, operator, town):
    """Run the chunk job functions directly: die between the inbox and outbox inserts, run each
    chunk twice, and even forget a chunk's `done` mark: still one inbox row per resident."""
    eligible, _ = town
    with jobs_cannot_be_enqueued(app):                                     # nothing reaches Redis
        campaign_id = start(client, operator, publish(client, operator))
        with app.app_context():
            seqs = campaign_jobs.plan_chunks(campaign_id)
            assert len(seqs) >= 4
            with pytest.raises(RuntimeError), worker_dies_when_writing_the_outbox():
                campaign_jobs.write_chunk(campaign_id, seqs[0])
            db.session.rollback()                  # what the dying worker's connection does
            assert inbox_counts(app, campaign_id) == {}
            for seq in seqs:
                campaign_jobs.run_chunk(campaign_id, seq)
                campaign_jobs.run_chunk(campaign_id, seq)        # redelivered after a lost ack
            assert campaign_jobs.write_chunk(campaign_id, seqs[0]) == {"skipped": True}
            # Even if a chunk's done mark were lost, ON CONFLICT DO NOTHING keeps rows unique.
            db.session.execute(CampaignChunk.__table__.update().where(CampaignChunk.campaign_id == campaign_id)
                               .values(done=False))
            db.session.commit()
            for seq in seqs:
                assert campaign_jobs.write_chunk(campaign_id, seq)["matched"] == 0
            outbox = db.session.execute(select(PushOutbox.user_id, func.count()).where(
                PushOutbox.campaign_id == campaign_id).group_by(PushOutbox.user_id)).all()
    assert inbox_counts(app, campaign_id) == {p.user_id: 1 for p in eligible}
    assert dict(outbox) == {p.user_id: 1 for p in eligible}


@contextmanager
def worker_dies_when_writing_the_outbox():
    """The worker process dies as it sends the outbox INSERT (after the inbox rows, on SQLite)."""
    def die(conn, cursor, statement, *args):
        if "INSERT INTO push_outbox" in statement:
            raise RuntimeError("worker killed mid-chunk")

    event.listen(db.engine, "before_cursor_execute", die)
    try:
        yield
    finally:
        event.remove(db.engine, "before_cursor_execute", die)


def test_redis_down_when_the_campaign_starts_then_relay_resumes(app, client, operator, town, worker, hms):
    eligible, _ = town
    register_device(client, eligible[0], "hms-after-outage")
    with jobs_cannot_be_enqueued(app):
        campaign_id = start(client, operator, publish(client, operator))    # still 202: the row is in the DB
        assert status(client, operator, campaign_id)["status"] == "queued"
        result = app.test_cli_runner().invoke(args=["push", "relay"])      # Redis still down: nothing lost
        assert result.exit_code == 0, result.output
    assert inbox_counts(app, campaign_id) == {}
    result = app.test_cli_runner().invoke(args=["push", "relay"])          # Redis is back
    assert result.exit_code == 0, result.output
    worker()
    assert inbox_counts(app, campaign_id) == {p.user_id: 1 for p in eligible}
    assert [t for r in hms.send_requests for t in r.json()["message"]["token"]] == ["hms-after-outage"]
    s = status(client, operator, campaign_id)
    assert s["status"] == "done", s


def test_redis_dies_mid_fan_out_and_resume_finishes_exactly_once(app, client, operator, town, worker):
    eligible, _ = town
    campaign_id = start(client, operator, publish(client, operator))
    worker()                                   # done once...
    with app.app_context():
        # ...now pretend half the chunks were lost with Redis: mark them pending again and resume
        db.session.execute(CampaignChunk.__table__.update().where(CampaignChunk.campaign_id == campaign_id,
                                                                  CampaignChunk.seq % 2 == 0).values(done=False))
        db.session.commit()
        campaign_jobs.resume_campaigns()
    worker()
    assert inbox_counts(app, campaign_id) == {p.user_id: 1 for p in eligible}


def test_resume_inline_without_any_worker(app, client, operator, town):
    eligible, _ = town
    with jobs_cannot_be_enqueued(app):
        campaign_id = start(client, operator, publish(client, operator))
        result = app.test_cli_runner().invoke(args=["push", "relay", "--inline"])
    assert result.exit_code == 0, result.output
    assert inbox_counts(app, campaign_id) == {p.user_id: 1 for p in eligible}
    assert status(client, operator, campaign_id)["status"] == "done"


def test_push_provider_outage_is_retried_with_backoff(app, client, clock, residents, hms, monkeypatch):
    from api.extensions import get_config
    from api.notifications.inbox import deliver_to_user
    from push.clients import rebuild_providers
    [me] = residents([{}])
    register_device(client, me, "hms-while-down")
    with app.app_context():
        real_url = get_config().PUSH_HMS_URL
        monkeypatch.setattr(get_config(), "PUSH_HMS_URL", "http://127.0.0.1:1")       # provider unreachable
        rebuild_providers(app)
        deliver_to_user(me.user_id, category="service", title="办件", body="已受理", deep_link=None,
                        now=int(clock()))
        db.session.commit()
        first = relay(sleep=lambda s: None)
        [row] = db.session.scalars(select(PushOutbox)).all()
        assert (row.status, row.reason, row.attempts) == ("pending", "retrying", 1)
        assert row.not_before > int(clock()) and first.get("pending:retrying") == 1
        monkeypatch.setattr(get_config(), "PUSH_HMS_URL", real_url)                     # provider is back
        rebuild_providers(app)
        assert relay(sleep=lambda s: None).get("claimed", 0) == 0                        # not due yet
        clock.advance(3600)
        relay(sleep=lambda s: None)
        db.session.expire_all()
        row = db.session.get(PushOutbox, row.id)
        assert (row.status, row.attempts, row.result["ok"]) == ("sent", 2, 1)
    assert [t for r in hms.send_requests for t in r.json()["message"]["token"]] == ["hms-while-down"]
