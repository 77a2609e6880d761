"""Policies (the catalogue and "which apply to me") and their campaigns (政策找人).

A resident's profile is their registry row: the verified user's Person, joined by the blind
index of the identity number. Unverified residents have no profile and match nothing.
"""
from __future__ import annotations

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError

from api import hooks
from api.db import from_timestamp
from api.errors import AppError
from api.extensions import db, get_config
from api.identity.models import Person, User
from api.identity.tokens import Principal
from api.localtime import local_today
from api.notifications import rules
from api.notifications.models import Campaign, CampaignChunk, Policy, PushOutbox
from api.notifications.profiles import person_profile
from api.unit_of_work import after_commit, commit, rollback


def _view(p: Policy) -> dict:
    return {"id": p.id, "title": p.title, "body": p.body, "title_en": p.title_en, "body_en": p.body_en,
            "topic": p.topic, "subject": p.subject, "rule": p.rule, "deep_link": p.deep_link,
            "created_at": p.created_at}


def create_policy(principal: Principal, *, title: str, body: str, topic: str, rule, subject: str = "person",
                  title_en: str | None = None, body_en: str | None = None, deep_link: str | None = None,
                  now: int, chinese: bool = False) -> dict:
    """``rule`` is validated for ``subject``; a RuleError becomes RULE_INVALID (422) naming the
    JSON Pointer of the fault, in both languages under ``errors.rule``."""
    try:
        rules.validate(rule, subject)
    except rules.RuleError as exc:
        raise AppError("RULE_INVALID", detail=f"{exc.path or '/'}: {exc.message_zh if chinese else exc.message_en}",
                       errors={"rule": {"path": exc.path or "/", "en": exc.message_en, "zh": exc.message_zh}}) from None
    policy = Policy(title=title, body=body, title_en=title_en, body_en=body_en, topic=topic, subject=subject,
                    rule=rule, deep_link=deep_link, created_by=principal.user_id, created_at=from_timestamp(now))
    db.session.add(policy)
    commit()
    if not policy.deep_link:
        policy.deep_link = f"ssb://policies/{policy.id}"
        commit()
    return _view(policy)


def list_policies(*, before_id: int | None, limit: int, topic: str | None = None) -> dict:
    q = select(Policy)
    if topic:
        q = q.where(Policy.topic == topic)
    if before_id:
        q = q.where(Policy.id < before_id)
    rows = list(db.session.scalars(q.order_by(Policy.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": [_view(p) for p in rows], "next_cursor": str(rows[-1].id) if more and rows else None}


def policy_titled(title: str, *, created_by: int) -> dict | None:
    """The oldest policy of this title an operator wrote, or None (lets scripts be re-run)."""
    policy = db.session.scalar(select(Policy).where(Policy.title == title, Policy.created_by == created_by)
                               .order_by(Policy.id).limit(1))
    return None if policy is None else _view(policy)


def get_policy(policy_id: int) -> dict:
    policy = db.session.get(Policy, policy_id)
    if policy is None:
        raise AppError("POLICY_NOT_FOUND")
    return _view(policy)


def profile_of(user_id: int, *, now: int) -> dict | None:
    person = db.session.scalar(select(Person).join(User, User.id_number_bidx == Person.id_number_bidx)
                               .where(User.id == user_id))
    return None if person is None else person_profile(person, as_of=local_today(now))


def policies_for_me(user_id: int, *, now: int) -> dict:
    """Every person policy whose rule holds for my registry profile, with the conditions that
    held (``why``; negated leaves are listed with ``negated``: they held against)."""
    profile = profile_of(user_id, now=now)
    if profile is None:
        return {"verified": False, "items": []}
    items = []
    for policy in db.session.scalars(select(Policy).where(Policy.subject == "person").order_by(Policy.id.desc())):
        try:
            rule = rules.parse(policy.rule, "person")
        except rules.RuleError:      # pragma: no cover - validated on the way in
            continue
        if rule.evaluate(profile):
            why = [c for c in rule.explain(profile) if c["held"] != c["negated"]]
            items.append({"policy": _view(policy), "why": why})
    return {"verified": True, "items": items}


# ---------------------------------------------------------------------------------------------
# Campaigns


def start_campaign(principal: Principal, policy_id: int, *, now: int) -> dict:
    """Start a run of the policy's campaign. While the latest run is still fanning out, starting
    again returns it (idempotent); once it has fanned out, a new run starts and reaches only the
    residents no run of this policy has reached (`PolicyDelivery`).

    The run row is committed before any job is enqueued, so a Redis outage here loses nothing:
    `flask push relay` resumes it. Two concurrent starts insert the same (policy, run): one wins,
    the other answers the winner's run."""
    policy = db.session.get(Policy, policy_id)
    if policy is None:
        raise AppError("POLICY_NOT_FOUND")
    if policy.subject != "person":
        raise AppError("CAMPAIGN_SUBJECT_UNSUPPORTED")
    latest = _latest_run(policy_id)
    if latest is not None and latest.status != "fanned_out":
        return {"campaign_id": latest.id, "status": _status(latest, now=now)["status"], "created": False}
    campaign = Campaign(policy_id=policy.id, run=(latest.run + 1) if latest else 1, status="planning",
                        category="policy", topic=policy.topic, rule=policy.rule, title=policy.title, body=policy.body,
                        title_en=policy.title_en, body_en=policy.body_en, deep_link=policy.deep_link,
                        as_of=local_today(now), started_epoch=now, chunk_size=get_config().CAMPAIGN_CHUNK_SIZE,
                        created_by=principal.user_id, created_at=from_timestamp(now))
    db.session.add(campaign)
    try:
        db.session.flush()
        after_commit(lambda: hooks.fire(hooks.CAMPAIGN_CREATED, campaign.id))
        commit()
    except IntegrityError:           # started concurrently: the run that won
        rollback()
        winner = _latest_run(policy_id)
        return {"campaign_id": winner.id, "status": "queued", "created": False}
    return {"campaign_id": campaign.id, "status": "queued", "created": True}


def latest_run_id(policy_id: int) -> int | None:
    """The id of the policy's latest campaign run, if it ever had one."""
    latest = _latest_run(policy_id)
    return latest.id if latest is not None else None


def _latest_run(policy_id: int) -> Campaign | None:
    return db.session.scalar(select(Campaign).where(Campaign.policy_id == policy_id)
                             .order_by(Campaign.run.desc()).limit(1))


def _status(campaign: Campaign, *, now: int) -> dict:
    chunks = db.session.execute(select(func.count(), func.coalesce(func.sum(CampaignChunk.matched), 0),
                                       func.coalesce(func.sum(case((CampaignChunk.done.is_(True), 1), else_=0)), 0))
                                .where(CampaignChunk.campaign_id == campaign.id)).one()
    total_chunks, matched, done_chunks = int(chunks[0]), int(chunks[1]), int(chunks[2])
    o = PushOutbox
    rows = db.session.execute(select(o.status, o.reason, o.deferred, func.count())
                              .where(o.campaign_id == campaign.id).group_by(o.status, o.reason, o.deferred)).all()
    waiting = db.session.scalar(select(func.count()).select_from(o).where(
        o.campaign_id == campaign.id, o.status == "pending", o.deferred.is_(True), o.attempts == 0,
        o.not_before > now)) or 0
    detail = {"inbox_written": matched, "pushed": 0, "skipped_by_preference": 0, "skipped_daily_cap": 0,
              "skipped_no_device": 0, "skipped_dead_token": 0, "deferred_quiet_hours": 0,
              "waiting_quiet_hours": int(waiting), "pending": 0, "failed": 0, "chunks": total_chunks,
              "chunks_done": done_chunks}
    for status, reason, deferred, n in rows:
        if deferred:
            detail["deferred_quiet_hours"] += n
        if status == "sent":
            detail["pushed"] += n
        elif status == "failed":
            detail["failed"] += n
        elif status == "skipped":
            key = {"topic_off": "skipped_by_preference", "daily_cap": "skipped_daily_cap",
                   "no_device": "skipped_no_device", "dead_tokens": "skipped_dead_token"}.get(reason,
                                                                                           "skipped_no_device")
            detail[key] += n
        else:
            detail["pending"] += n
    due_pending = detail["pending"] - detail["waiting_quiet_hours"]
    if campaign.status == "planning" and not total_chunks:
        status = "queued"
    elif total_chunks == 0 or done_chunks < total_chunks:
        status = "running"
    elif due_pending:
        status = "sending"
    else:
        status = "done"
    skipped = detail["skipped_by_preference"] + detail["skipped_daily_cap"] + detail["skipped_no_device"] + \
        detail["skipped_dead_token"]
    return {"id": campaign.id, "policy_id": campaign.policy_id, "status": status, "matched": matched,
            "delivered": detail["pushed"], "skipped": skipped, "failed": detail["failed"], "detail": detail,
            "started_at": campaign.created_at, "fanned_out_at": campaign.fanned_out_at}


def campaign_status(campaign_id: int, *, now: int) -> dict:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise AppError("CAMPAIGN_NOT_FOUND")
    result = _status(campaign, now=now)
    commit()
    return result
