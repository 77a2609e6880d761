"""Operator commands `flask --app wsgi push relay|resume`."""
from __future__ import annotations

import time
from datetime import UTC, datetime

import click
from flask.cli import AppGroup

from api.extensions import db
from api.ops import invalidations
from push.campaigns import resume_campaigns
from push.outbox import relay

push_cli = AppGroup("push", help="Push delivery: the outbox relay and campaign recovery.")


@push_cli.command("relay")
@click.option("--loop", is_flag=True, help="Keep running: resume campaigns and send due pushes every --interval.")
@click.option("--interval", default=10.0, show_default=True)
@click.option("--inline", is_flag=True, help="Run unfinished campaign chunks here instead of enqueueing them.")
def relay_command(loop: bool, interval: float, inline: bool) -> None:
    """Resume unfinished campaigns, apply cache invalidations that failed while Redis was
    down, and send every due push (the periodic safety net)."""
    while True:
        try:
            resumed = resume_campaigns(inline=inline)
        except Exception as exc:   # e.g. Redis down while enqueueing: sending still goes on
            db.session.rollback()
            resumed = {"error": type(exc).__name__}
        try:   # cache invalidations that failed while Redis was down
            drained = invalidations.drain()
        except Exception as exc:
            db.session.rollback()
            drained = {"error": type(exc).__name__}
        try:
            sent = relay()
        except Exception as exc:   # a store is down: the loop goes on, the next round retries
            if not loop:
                raise
            db.session.rollback()
            sent = {"error": type(exc).__name__}
        if not loop or resumed.get("campaigns") or "error" in resumed or "error" in sent or sent.get("claimed") \
                or drained:
            # A looping relay that found nothing to do stays quiet (make run's terminal is for people).
            click.echo(f"{datetime.now(UTC).isoformat(timespec='seconds')} resume={resumed} relay={sent} "
                       f"cache_invalidations={drained}")
        if not loop:
            return
        db.session.remove()
        time.sleep(interval)


@push_cli.command("resume")
@click.option("--inline", is_flag=True, help="Run the remaining chunks in this process.")
def resume_command(inline: bool) -> None:
    """Re-enqueue (or run) the remaining work of unfinished campaigns."""
    click.echo(str(resume_campaigns(inline=inline)))
