"""政策找人 runs again as people become eligible: a new run of a finished campaign reaches only
the newly eligible, and nobody is ever notified twice for the same policy (double starts,
concurrent runs, retries)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from api.extensions import db
from api.localtime import local_today
from api.notifications.models import Campaign, InboxMessage, PushOutbox
from tests.api.notifications.test_notifications_campaigns import publish, start, status
from tests.races import concurrent_insert_before


@pytest.fixture(autouse=True)
def small_chunks(app, monkeypatch):
    monkeypatch.setattr(app.extensions["ssb.config"], "CAMPAIGN_CHUNK_SIZE", 2)


def _born(app, years: int) -> str:
    today: date = local_today(int(app.extensions["ssb.clock"]()))
    return (today.replace(year=today.year - years) - timedelta(days=1)).isoformat()


def messages_per_resident(app, policy_id: int) -> dict[int, int]:
    """Policy messages each resident holds, across every run of the policy."""
    with app.app_context():
        rows = db.session.execute(
            select(InboxMessage.user_id, func.count()).join(Campaign, Campaign.id == InboxMessage.campaign_id)
            .where(Campaign.policy_id == policy_id).group_by(InboxMessage.user_id)).all()
        return dict(rows)


def test_a_rerun_reaches_only_the_newly_eligible(app, client, operator, residents, worker):
    first_wave = residents([{"birth_date": _born(app, 70)}, {"birth_date": _born(app, 65)},
                            {"birth_date": _born(app, 30)}])
    policy_id = publish(client, operator)
    first = start(client, operator, policy_id)
    worker()
    assert status(client, operator, first)["status"] == "done"

    newcomers = residents([{"birth_date": _born(app, 61)}, {"birth_date": _born(app, 80)}])
    r = client.post(f"/v1/admin/policies/{policy_id}/campaigns", headers=operator)
    assert r.status_code == 202 and r.json["created"] is True and r.json["campaign_id"] != first
    second = r.json["campaign_id"]
    worker()
    s = status(client, operator, second)
    assert s["status"] == "done" and s["matched"] == 2
    eligible = [first_wave[0], first_wave[1], *newcomers]
    assert messages_per_resident(app, policy_id) == {p.user_id: 1 for p in eligible}
    with app.app_context():   # one push each, for the run that reached them
        pushes = dict(db.session.execute(select(PushOutbox.user_id, PushOutbox.campaign_id)
                                         .where(PushOutbox.campaign_id.in_([first, second]))).all())
    assert pushes == {first_wave[0].user_id: first, first_wave[1].user_id: first,
                      newcomers[0].user_id: second, newcomers[1].user_id: second}


def test_a_rerun_with_nobody_new_notifies_nobody(app, client, operator, residents, worker):
    residents([{"birth_date": _born(app, 70)}])
    policy_id = publish(client, operator)
    start(client, operator, policy_id)
    worker()
    again = start(client, operator, policy_id)
    worker()
    assert status(client, operator, again)["matched"] == 0
    assert list(messages_per_resident(app, policy_id).values()) == [1]


def test_starting_while_a_run_is_unfinished_returns_that_run(app, client, operator, residents, worker):
    residents([{"birth_date": _born(app, 70)}])
    policy_id = publish(client, operator)
    first = start(client, operator, policy_id)
    worker()
    second = start(client, operator, policy_id)
    r = client.post(f"/v1/admin/policies/{policy_id}/campaigns", headers=operator)
    assert second != first and r.json["campaign_id"] == second and r.json["created"] is False


def test_concurrent_starts_of_a_rerun_make_one_run(app, client, operator, residents, worker):
    residents([{"birth_date": _born(app, 70)}])
    policy_id = publish(client, operator)
    first = start(client, operator, policy_id)
    worker()
    with app.app_context():
        template = db.session.get(Campaign, first)
        row = {"p": policy_id, "topic": template.topic, "title": template.title, "body": template.body,
               "as_of": template.as_of.isoformat(), "t": template.started_epoch}
    # Another request commits run 2 between our read of the runs and our insert.
    with concurrent_insert_before(app, "campaigns",
                                  "INSERT INTO campaigns (policy_id, run, status, category, topic, rule, title, body, "
                                  "as_of, started_epoch, chunk_size, created_at) VALUES (:p, 2, 'planning', 'policy', "
                                  ":topic, '{\"==\": [1, 1]}', :title, :body, :as_of, :t, 2, CURRENT_TIMESTAMP)",
                                  row) as fired:
        r = client.post(f"/v1/admin/policies/{policy_id}/campaigns", headers=operator)
    assert fired
    assert r.status_code == 202 and r.json["created"] is False
    with app.app_context():
        runs = db.session.scalars(select(Campaign.run).where(Campaign.policy_id == policy_id)
                                  .order_by(Campaign.run)).all()
    assert runs == [1, 2] and r.json["campaign_id"] != first


def test_two_runs_fanning_out_at_once_notify_each_resident_once(app, client, operator, residents, worker):
    """Even if two runs of one policy were planned side by side (a double start slipping past
    the run check, a restored backup), the (policy, resident) delivery key lets one through."""
    people = residents([{"birth_date": _born(app, 70)}, {"birth_date": _born(app, 75)}, {"birth_date": _born(app, 64)}])
    policy_id = publish(client, operator)
    first = start(client, operator, policy_id)
    with app.app_context():      # a second, overlapping run, before any chunk of the first ran
        template = db.session.get(Campaign, first)
        twin = Campaign(policy_id=policy_id, run=2, status="planning", category=template.category,
                        topic=template.topic, rule=template.rule, title=template.title, body=template.body,
                        as_of=template.as_of, started_epoch=template.started_epoch, chunk_size=1,
                        created_at=template.created_at)
        db.session.add(twin)
        db.session.commit()
        twin_id = twin.id
    from push.campaigns import enqueue_campaign
    with app.app_context():
        assert enqueue_campaign(twin_id)
    worker()
    assert messages_per_resident(app, policy_id) == {p.user_id: 1 for p in people}
    assert status(client, operator, first)["matched"] + status(client, operator, twin_id)["matched"] == 3
