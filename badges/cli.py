"""`flask badges keys rotate --org …`, `flask badges import-awards FILE --org …`, `flask badges revoke …`,
`flask badges suspend …`, `flask badges reinstate …`, `flask badges expiry-notices`,
`flask badges renewal-invitations`."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from badges import expiry, imports, issuers, renewal_invitations, revocation
from core.cli import console_operator
from core.db import db, unit_of_work
from core.errors import ServiceError
from core.models import Organisation

badges_cli = AppGroup("badges", help="Issued badges: signing keys, bulk import of past awards, revocation, suspension.")
keys_cli = AppGroup("keys", help="Issuer signing keys.")
badges_cli.add_command(keys_cli)


def _fail(exc: ServiceError) -> None:
    click.echo(f"error: {exc.detail}", err=True)
    for error in exc.errors:
        click.echo(f"  {error['field']}: {error['detail']}", err=True)
    sys.exit(2)


def _organisation(ref: str) -> Organisation:
    """An organisation by slug or id."""
    organisation = db.session.scalar(select(Organisation).where(Organisation.slug == ref))
    if organisation is None:
        try:
            organisation = db.session.get(Organisation, uuid.UUID(ref))
        except ValueError:
            organisation = None
    if organisation is None:
        click.echo(f"error: no organisation {ref!r} (give its slug or id)", err=True)
        sys.exit(2)
    return organisation


@keys_cli.command("rotate")
@click.option("--org", "org_ref", required=True, help="Organisation slug or id.")
def rotate(org_ref: str) -> None:
    """Retire the organisation's active keys and make new ones; retired keys stay published."""
    try:
        with unit_of_work():
            organisation = _organisation(org_ref)
            fresh = issuers.rotate_keys(actor=console_operator(), organisation_id=organisation.id)
            urls = [f"{row.algorithm}: {issuers.key_url(row)}" for row in fresh]
    except ServiceError as exc:
        _fail(exc)
    click.echo("New active keys:")
    for url in urls:
        click.echo(f"  {url}")


@keys_cli.command("list")
@click.option("--org", "org_ref", required=True, help="Organisation slug or id.")
def list_keys(org_ref: str) -> None:
    """Every published key of the organisation."""
    organisation = _organisation(org_ref)
    for row in issuers.list_keys(organisation_id=organisation.id):
        click.echo(f"{row.kid}  {row.algorithm:8} {row.state:8} {issuers.key_url(row)}")


@badges_cli.command("import-awards")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--org", "org_ref", required=True, help="Organisation slug or id.")
def import_awards(file: Path, org_ref: str) -> None:
    """Issue badges for past awards listed in a CSV (columns in docs/issuing.md). The file is checked
    whole first and nothing is issued if any row is wrong; rows issued by an earlier run are skipped."""
    data = file.read_bytes()
    try:
        with unit_of_work():
            organisation = _organisation(org_ref)
            rows = imports.parse_import(organisation_id=organisation.id, data=data)
            with click.progressbar(length=len(rows), label="Issuing", file=sys.stderr) as bar:
                report = imports.import_awards(
                    actor=console_operator(), organisation_id=organisation.id, data=data, progress=bar.update
                )
    except ServiceError as exc:
        _fail(exc)
    click.echo(f"Issued {report['issued']} badge(s); skipped {report['skipped']} row(s) issued before.")


@badges_cli.command("revoke")
@click.argument("badge_id", type=click.UUID)
@click.option("--reason", required=True)
def revoke(badge_id: uuid.UUID, reason: str) -> None:
    """Revoke a badge."""
    try:
        with unit_of_work():
            revocation.revoke(actor=console_operator(), badge_id=badge_id, reason=reason)
    except ServiceError as exc:
        _fail(exc)
    click.echo(f"Revoked {badge_id}.")


@badges_cli.command("suspend")
@click.argument("badge_id", type=click.UUID)
@click.option("--reason", required=True)
def suspend(badge_id: uuid.UUID, reason: str) -> None:
    """Suspend a badge until it is reinstated."""
    try:
        with unit_of_work():
            revocation.suspend(actor=console_operator(), badge_id=badge_id, reason=reason)
    except ServiceError as exc:
        _fail(exc)
    click.echo(f"Suspended {badge_id}.")


@badges_cli.command("reinstate")
@click.argument("badge_id", type=click.UUID)
@click.option("--reason", required=True)
def reinstate(badge_id: uuid.UUID, reason: str) -> None:
    """Lift a badge's suspension."""
    try:
        with unit_of_work():
            revocation.reinstate(actor=console_operator(), badge_id=badge_id, reason=reason)
    except ServiceError as exc:
        _fail(exc)
    click.echo(f"Reinstated {badge_id}.")


@badges_cli.command("expiry-notices")
def expiry_notices() -> None:
    """Mail the expiry notices due now (EXPIRY_NOTICE_DAYS before validUntil, and at it), each once; run daily."""
    with unit_of_work():
        sent = expiry.send_notices()
    click.echo(f"Sent {sent} expiry notice(s).")


@badges_cli.command("verify-all")
@click.option("--sample", type=click.IntRange(min=1), default=None, help="Check this many random badges, not all.")
def verify_all(sample: int | None) -> None:
    """Verify every stored badge (JSON and VC-JWT) against its keys and status lists, as after a restore; exits 1
    when any verdict differs from the status the database records."""
    from badges import integrity

    summary = integrity.check_all(sample=sample)
    counts = ", ".join(f"{n} {status}" for status, n in sorted(summary.by_status.items())) or "none"
    click.echo(f"Checked {summary.checked} badge(s): {counts}.")
    for finding in summary.findings:
        click.echo(
            f"DIFFERS {finding.badge_id} ({finding.form}): database says {finding.expected}, verifier says "
            f"{finding.got}: {finding.detail}",
            err=True,
        )
    if not summary.ok:
        sys.exit(1)
    click.echo("Every verdict matches the database.")


@badges_cli.command("close-appeal-windows")
def close_appeal_windows() -> None:
    """Revoke the badges whose misconduct appeal window closed without an appeal (the badges.misconduct job)."""
    from badges import misconduct

    closed = misconduct.close_expired_windows()
    click.echo(f"Revoked {closed} badge(s) whose appeal window closed.")


@badges_cli.command("renewal-invitations")
def renewal_invitations_command() -> None:
    """Invite earners to renew their badges by evidence, RENEWAL_INVITATION_DAYS before validUntil, each once."""
    with unit_of_work():
        sent = renewal_invitations.send_invitations()
    click.echo(f"Sent {sent} renewal invitation(s).")


def init_app(app: Flask) -> None:
    app.cli.add_command(badges_cli)
