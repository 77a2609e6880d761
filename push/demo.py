"""The demo data's delivery step (`flask --app wsgi demo`): the demo policy's campaign is fanned
out here and now, so the resident's inbox holds its message whether or not a job worker runs.
Chunk writes are idempotent: a worker that picks the same campaign up changes nothing."""
from __future__ import annotations

from api.demo import DemoContext


def deliver_demo_campaign(ctx: DemoContext) -> None:
    from api.notifications.inbox import unread_count
    from push.campaigns import finish_if_complete, plan_chunks, run_chunk

    if ctx.campaign_id is None:
        return
    for seq in plan_chunks(ctx.campaign_id):
        run_chunk(ctx.campaign_id, seq)
    finish_if_complete(ctx.campaign_id)
    if ctx.resident_id:
        ctx.out["inbox"] = {"unread": unread_count(ctx.resident_id)["unread"]}
