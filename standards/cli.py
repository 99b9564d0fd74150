"""`flask standards import FILE…` and `flask standards load-bundled`; the demo step that loads the educator
frameworks."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from core.cli import console_operator
from core.db import db, unit_of_work
from core.demo import DemoContext, demo_step
from core.errors import ServiceError
from core.models import Organisation
from standards import imports

standards_cli = AppGroup("standards", help="Import and load standards frameworks (CASE).")


@contextmanager
def _progress_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """A progress callback drawing a click progress bar, made once the number of items is known."""
    state: dict[str, Any] = {"bar": None, "shown": 0}

    def update(done: int, total: int) -> None:
        if state["bar"] is None:
            state["bar"] = click.progressbar(length=max(total, 1), label=label, show_pos=True)
            state["bar"].__enter__()
        state["bar"].update(done - state["shown"])
        state["shown"] = done

    try:
        yield update
    finally:
        if state["bar"] is not None:
            state["bar"].__exit__(None, None, None)


def _describe(report: imports.ImportReport) -> str:
    if report.unchanged:
        return f"{report.title}: unchanged ({report.items} items)."
    verb = "imported" if report.created else "updated"
    parts = [f"{report.items} items", f"{report.associations} associations"]
    if not report.created:
        parts.append(
            f"{report.items_added} added, {report.items_updated} changed, {report.items_obsoleted} now obsolete, "
            f"{report.items_revived} revived"
        )
    return f"{report.title}: {verb} ({'; '.join(parts)}) as {report.framework_id}."


def _import_one(path: Path, *, organisation_id: Any, note: str | None) -> bool:
    """Import one file in its own transaction; print the outcome. False when the file was refused."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        click.echo(f"{path}: cannot read: {exc.strerror}", err=True)
        return False
    try:
        with unit_of_work(), _progress_bar(path.name) as progress:
            report = imports.import_package(
                actor=console_operator(),
                data=data,
                organisation_id=organisation_id,
                source_note=note or f"Imported from the file {path.name} by an operator.",
                progress=progress,
            )
    except ServiceError as exc:
        click.echo(f"{path}: refused: {exc.detail}", err=True)
        for error in exc.errors[1:]:
            click.echo(f"  {error['pointer']}: {error['detail']}", err=True)
        return False
    click.echo(_describe(report))
    for warning in report.warnings:
        click.echo(f"  warning: {warning}")
    return True


@standards_cli.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--org", "org_slug", help="Slug of the organisation that will own new frameworks (default: none).")
@click.option("--note", help="Where the files come from (shown with each framework's rights notice).")
def import_command(files: tuple[Path, ...], org_slug: str | None, note: str | None) -> None:
    """Import CASE packages (CFPackage JSON); a framework imported before is updated in place."""
    organisation_id = None
    if org_slug:
        organisation = db.session.scalar(select(Organisation).where(Organisation.slug == org_slug))
        if organisation is None:
            click.echo(f"error: no organisation with slug {org_slug}", err=True)
            sys.exit(2)
        organisation_id = organisation.id
    failed = [path for path in files if not _import_one(path, organisation_id=organisation_id, note=note)]
    if failed:
        click.echo(f"{len(failed)} of {len(files)} files refused; nothing of them was imported.", err=True)
        sys.exit(2)


@standards_cli.command("load-bundled")
@click.option(
    "--only",
    type=click.Choice(imports.BUNDLED_GROUPS),
    multiple=True,
    help="Load one group of the bundled data only (repeatable).",
)
def load_bundled_command(only: tuple[str, ...]) -> None:
    """Load the frameworks shipped in standards/data/ (safe to run again: unchanged files change nothing)."""
    paths = imports.bundled_files(*only)
    failed = [
        path for path in paths if not _import_one(path, organisation_id=None, note=imports.bundled_source_note(path))
    ]
    if failed:
        sys.exit(2)


@demo_step(order=10)
def _educator_frameworks(ctx: DemoContext) -> None:
    """The demo's standards: the bundled educator frameworks (InTASC, PSEL, NBPTS, ISTE)."""
    for report in imports.load_bundled(actor=console_operator(), groups=("educator",)):
        ctx.echo(_describe(report))


def init_app(app: Flask) -> None:
    app.cli.add_command(standards_cli)
