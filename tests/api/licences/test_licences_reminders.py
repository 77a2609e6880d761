"""Expiry reminders: 30, 7 and 1 day before valid_until, once each, with an injected clock."""
from datetime import timedelta

import pytest
from sqlalchemy import select

DAY = 86400


@pytest.fixture
def run(app, clock):
    def _run() -> int:
        from api.licences.reminders import run_expiry_reminders
        with app.app_context():
            return run_expiry_reminders(now=int(clock()))
    return _run


def _recorded(app):
    from api.extensions import db
    from api.licences.models import LicenceReminder
    with app.app_context():
        return [(r.threshold_days, r.status) for r in db.session.scalars(select(LicenceReminder).order_by(LicenceReminder.id))]


def test_each_threshold_fires_once(app, push, resident, today, clock, run):
    assert push(valid_until=today() + timedelta(days=40)).status_code == 200
    assert run() == 0                      # 40 days left: nothing yet
    clock.advance(10 * DAY)                # 30 days left
    assert run() == 1
    assert run() == 0                      # same threshold: never twice
    clock.advance(1 * DAY)
    assert run() == 0
    clock.advance(22 * DAY)                # 7 days left
    assert run() == 1 and run() == 0
    clock.advance(6 * DAY)                 # 1 day left
    assert run() == 1 and run() == 0
    clock.advance(2 * DAY)                 # expired
    assert run() == 0
    assert [t for t, _ in _recorded(app)] == [30, 7, 1]


def test_a_late_run_sends_only_the_current_threshold(app, push, resident, today, run):
    assert push(valid_until=today() + timedelta(days=5)).status_code == 200
    assert run() == 1
    assert [t for t, _ in _recorded(app)] == [7]


def test_due_reminders_lists_what_is_due(app, push, resident, today, clock):
    assert push(valid_until=today() + timedelta(days=30)).status_code == 200
    from api.licences.reminders import due_reminders
    with app.app_context():
        [due] = due_reminders(int(clock()))
    assert due.threshold_days == 30 and due.days_left == 30 and due.licence_type == "driving_licence"


def test_unregistered_holders_and_revoked_licences_get_none(app, client, push, registry, police, today, run):
    assert push(valid_until=today() + timedelta(days=7)).status_code == 200
    assert run() == 0                      # nobody has verified this identity yet
    from tests.api.licences.conftest import ZHANG
    client.delete(f"/v1/issuer/licences/driving_licence/DL{ZHANG}", headers=police)
    assert run() == 0


def test_a_renewed_licence_is_reminded_again(app, push, resident, today, clock, run):
    assert push(valid_until=today() + timedelta(days=7)).status_code == 200
    assert run() == 1
    assert push(valid_until=today() + timedelta(days=6)).status_code == 200   # corrected expiry date
    assert run() == 1
    assert push(valid_until=today() + timedelta(days=5 * 365)).status_code == 200
    assert run() == 0


def test_reminders_reach_the_inbox_without_pii(app, client, push, resident, today, run):
    push(valid_until=today() + timedelta(days=1))
    assert run() == 1
    assert _recorded(app) == [(1, "sent")]
    inbox = client.get("/v1/inbox", headers=resident)
    assert inbox.status_code == 200, inbox.json
    [message] = inbox.json["items"]
    assert "机动车驾驶证" in message["title"] and (today() + timedelta(days=1)).isoformat() in message["body"]
    from tests.api.licences.conftest import ZHANG
    assert ZHANG not in inbox.get_data(as_text=True) and "张三" not in inbox.get_data(as_text=True)


def test_the_job_and_cli_run_the_same_thing(app, push, resident, today):
    push(valid_until=today() + timedelta(days=30))
    result = app.test_cli_runner().invoke(args=["licences", "send-reminders"])
    assert result.exit_code == 0 and "sent 1" in result.output, result.output
    from api.licences.reminders import send_expiry_reminders
    with app.app_context():
        assert send_expiry_reminders() == 0
