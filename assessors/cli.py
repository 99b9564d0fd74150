"""`flask review …`: tidy stale claims (and tell their assessors), pick up newly submitted work, and act on due
dates (reminders, breaches)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from assessors import queue, sla
from core.db import db, unit_of_work
from core.models import Organisation

review_cli = AppGroup("review", help="The review queue.")


@review_cli.command("stale-claims")
@click.option("--clear", is_flag=True, help="Also drop the expired claims (they are claimable either way).")
def stale_claims(clear: bool) -> None:
    """List claims whose lease ran out and mail each assessor once (run it from cron, e.g. hourly)."""
    with unit_of_work():
        tasks = queue.sweep_stale_claims(clear=clear)
        for task in tasks:
            click.echo(f"{task.id}  claimed {task.claimed_at or '-'}  lease ended {task.lease_expires_at or '-'}")
    click.echo(f"{len(tasks)} stale claim(s){' cleared' if clear else ''}.")


@review_cli.command("enqueue")
def enqueue() -> None:
    """Give newly submitted submissions of every organisation their review tasks (reading a queue does it too)."""
    with unit_of_work():
        total = sum(queue.enqueue_submitted(org_id) for org_id in db.session.scalars(select(Organisation.id)))
    click.echo(f"{total} submission(s) queued for review.")


@review_cli.command("due-dates")
def due_dates() -> None:
    """Remind assessors of claimed work nearing its due date and act on breaches (run it from cron, e.g. every
    15 minutes; each reminder and breach is acted on once)."""
    with unit_of_work():
        result = sla.sweep()
    click.echo(f"{result.reminded} reminder(s), {result.released} claim(s) released, {result.escalated} escalated.")


def init_app(app: Flask) -> None:
    app.cli.add_command(review_cli)
