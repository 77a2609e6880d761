"""Operator commands `flask --app wsgi trust refresh [--loop] [--inline] [--peer ID]` and `trust purge`."""
from __future__ import annotations

import time
from datetime import UTC, datetime

import click
from flask import Flask
from flask.cli import AppGroup

from api.extensions import db
from api.extensions import now as clock_now

trust_cli = AppGroup("trust", help="Trust federation: refresh peers' keys, purge old peer scans.")


def register(app: Flask) -> None:
    app.cli.add_command(trust_cli)


@trust_cli.command("refresh")
@click.option("--peer", "peer_id", type=int, default=None, help="Refresh this peer now, due or not.")
@click.option("--loop", is_flag=True, help="Keep running: refresh due peers and purge every --interval.")
@click.option("--interval", default=30.0, show_default=True)
@click.option("--inline", is_flag=True, help="Fetch here instead of enqueueing a job per due peer.")
def refresh_command(peer_id: int | None, loop: bool, interval: float, inline: bool) -> None:
    """Refresh every peer whose keys are due (the periodic scheduler), or one peer now."""
    from api.trust.refresh import purge, refresh_due, refresh_quietly

    if peer_id is not None:
        click.echo(refresh_quietly(peer_id, now=clock_now()))
        return
    while True:
        try:
            counts = refresh_due(now=clock_now(), inline=inline)
            purged = purge(now=clock_now())
        except Exception as exc:   # the database is briefly away: try again next round
            db.session.rollback()
            counts, purged = {"error": type(exc).__name__}, {}
        if not loop or any(counts.values()) or any(purged.values()):
            # A looping scheduler with nothing to do stays quiet (make run's terminal is for people).
            click.echo(f"{datetime.now(UTC).isoformat(timespec='seconds')} refresh={counts} purge={purged}")
        if not loop:
            return
        db.session.remove()
        time.sleep(interval)


@trust_cli.command("purge")
def purge_command() -> None:
    """Delete peer scans and refresh records older than TRUST_SCAN_RETENTION_DAYS."""
    from api.trust.refresh import purge

    click.echo(str(purge(now=clock_now())))
