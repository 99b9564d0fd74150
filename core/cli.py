"""Command-line tools: `flask demo`, `flask users …`, `flask orgs …`, `flask keygen …`, `flask outbox send`,
`flask worker` and `flask scheduler` (the task queue)."""

from __future__ import annotations

import base64
import os
import secrets
import signal
import sys
import threading

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from core import accounts, organisations
from core.db import unit_of_work
from core.errors import ServiceError
from core.models import OrganisationKind, User

users_cli = AppGroup("users", help="Manage accounts.")
orgs_cli = AppGroup("orgs", help="Manage organisations.")
keygen_cli = AppGroup("keygen", help="Generate secrets for configuration.")


def _fail(exc: ServiceError) -> None:
    details = "; ".join(f"{e['field']}: {e['detail']}" for e in exc.errors) or exc.detail
    click.echo(f"error: {details}", err=True)
    sys.exit(2)


def console_operator() -> User:
    # The operator at the console acts as a platform admin; the audit log shows no user for it.
    actor = User(email="operator@localhost", name="console operator", is_platform_admin=True, is_active=True)
    actor.id = None  # type: ignore[assignment]
    return actor


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--platform-admin", is_flag=True, help="Give the account platform-admin rights.")
def create_user(email: str, name: str, password: str, platform_admin: bool) -> None:
    """Create an account (e.g. the first platform admin)."""
    try:
        with unit_of_work():
            user = accounts.create_user(
                actor=console_operator(), email=email, name=name, password=password, is_platform_admin=platform_admin
            )
    except ServiceError as exc:
        _fail(exc)
    click.echo(f"Created {user.email} ({user.id}).")


@users_cli.command("set-password")
@click.option("--email", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def set_password(email: str, password: str) -> None:
    """Set an account's password and sign it out everywhere."""
    from core.auth import find_user_by_email, hash_password

    try:
        with unit_of_work():
            user = find_user_by_email(email)
            if user is None:
                raise ServiceError(f"no account with email {email}")
            accounts.check_password_strength(password, email=user.email)
            user.password_hash = hash_password(password)
            user.token_version += 1
            from core import audit

            audit.record(actor=None, action="user.password_set_by_operator", obj=user)
    except ServiceError as exc:
        _fail(exc)
    click.echo(f"Password set for {email}.")


@orgs_cli.command("create")
@click.option("--slug", required=True)
@click.option("--name", required=True)
@click.option("--kind", type=click.Choice([k.value for k in OrganisationKind]), default="other")
@click.option("--admin-email", required=True, help="Existing account that becomes the first org admin.")
@click.option("--parent", "parent_slug", help="Slug of the organisation it is a unit of (a district's school).")
def create_org(slug: str, name: str, kind: str, admin_email: str, parent_slug: str | None) -> None:
    """Create an organisation (or a unit of another) with its first org admin."""
    from core.auth import find_user_by_email
    from core.schemas import CreateOrganisationSchema

    errors = CreateOrganisationSchema().validate({"slug": slug, "name": name, "kind": kind})
    if errors:
        click.echo(f"error: {errors}", err=True)
        sys.exit(2)
    try:
        with unit_of_work():
            admin = find_user_by_email(admin_email)
            if admin is None:
                raise ServiceError(f"no account with email {admin_email}")
            parent = organisations.find_by_slug(parent_slug) if parent_slug else None
            if parent_slug and parent is None:
                raise ServiceError(f"no organisation with slug {parent_slug}")
            org = organisations.create_organisation(
                actor=console_operator(),
                slug=slug,
                name=name,
                kind=kind,
                admin_user_id=admin.id,
                parent_id=parent.id if parent else None,
            )
    except ServiceError as exc:
        _fail(exc)
    click.echo(f"Created organisation {org.slug} ({org.id}).")


@keygen_cli.command("secret")
def keygen_secret() -> None:
    """Print a new SECRET_KEY."""
    click.echo(secrets.token_urlsafe(48))


@keygen_cli.command("kek")
def keygen_kek() -> None:
    """Print a new KEY_ENCRYPTION_KEY (32 random bytes, URL-safe base64)."""
    click.echo(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())


outbox_cli = AppGroup("outbox", help="Outgoing mail.")


@outbox_cli.command("send")
@click.option("--limit", default=500, show_default=True, help="Most messages to deliver in this run.")
def outbox_send(limit: int) -> None:
    """Deliver unsent messages from the outbox (SMTP when SMTP_URL is set, the log otherwise)."""
    from core import mail

    click.echo(f"Delivered {mail.deliver_all(limit)} message(s).")


@click.command("worker")
@click.option("--processes", default=1, show_default=True, type=click.IntRange(1, 64), help="Worker processes.")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 256), help="Threads per process.")
@click.option("--queues", multiple=True, help="Work only these queues (repeat; default: all, i.e. default and mail).")
@click.option("--with-scheduler", is_flag=True, help="Also run the scheduler (TASK_SCHEDULE) in one more process.")
def worker(processes: int, threads: int, queues: tuple[str, ...], with_scheduler: bool) -> None:
    """Run task-queue workers (Dramatiq on TASK_QUEUE_URL) until stopped; SIGTERM finishes the jobs in hand."""
    from core.config import PROJECT_ROOT

    if "tasks" not in current_app.extensions:
        click.echo(
            "error: TASK_QUEUE_URL is not set; without a queue jobs run inline and no worker is needed", err=True
        )
        sys.exit(2)
    argv = [sys.executable, "-m", "dramatiq", "core.worker:broker", "--path", str(PROJECT_ROOT)]
    argv += ["--processes", str(processes), "--threads", str(threads)]
    if queues:
        argv += ["--queues", *queues]
    if with_scheduler:
        argv += ["--fork-function", "core.worker:scheduler"]
    sys.stdout.flush()
    os.execv(sys.executable, argv)  # noqa: S606 (our own interpreter, arguments we built)


@click.command("scheduler")
def scheduler() -> None:
    """Send the periodic jobs of TASK_SCHEDULE to the task queue until stopped (any number may run at once)."""
    from core import tasks

    if "tasks" not in current_app.extensions:
        click.echo("error: TASK_QUEUE_URL is not set; run the cron commands instead (see docs/deploy.md)", err=True)
        sys.exit(2)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    tasks.run_scheduler(current_app._get_current_object(), stop)  # type: ignore[attr-defined]


def init_app(app: Flask) -> None:
    app.cli.add_command(worker)
    app.cli.add_command(scheduler)
    app.cli.add_command(users_cli)
    app.cli.add_command(orgs_cli)
    app.cli.add_command(keygen_cli)
    app.cli.add_command(outbox_cli)

    @app.cli.command("demo")
    def demo() -> None:
        """Load the demo data (safe to run again: it adds only what is missing)."""
        from core.demo import run_demo

        with unit_of_work():
            ctx = run_demo()
        click.echo(f"Open {current_app.config['BASE_URL']}/ and sign in with one of the accounts above.")
        for line in ctx.closing:
            click.echo(line)
