"""Importing standards frameworks from 1EdTech CASE packages, and the frameworks bundled with the service.

Importing is the one write: platform admins may import any framework; an org admin may import a new one
(owned by their organisation) and re-import one their organisation owns. A re-import updates items in place and
keeps their ids. Services ``flush``; the caller's boundary (request or CLI command) commits once or rolls back.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from core import audit, clock
from core.authz import authorize, has_role, rule
from core.db import db
from core.errors import Conflict, ValidationFailed, field_error
from core.models import Organisation, Role, User
from standards.case import Package, package_digest, parse_package
from standards.models import Framework, StandardAssociation, StandardItem

# Rows per executemany batch when writing items and associations.
CHUNK = 2000


# Identifiers per IN (…) list, well under SQLite's limit on bound parameters.
IN_CHUNK = 500


FRAMEWORK_FIELDS = (
    "uri",
    "title",
    "creator",
    "publisher",
    "description",
    "version",
    "language",
    "adoption_status",
    "subject",
    "official_source_url",
    "notes",
    "rights",
    "licence_uri",
    "last_change",
)


ITEM_FIELDS = (
    "uri",
    "human_coding_scheme",
    "full_statement",
    "abbreviated_statement",
    "item_type",
    "list_enumeration",
    "notes",
    "education_level",
    "language",
    "last_change",
    "parent_id",
    "position",
    "depth",
    "path",
    "search_text",
    "obsolete_at",
)


COUNT_FIELDS = ("title", "item_count", "obsolete_item_count", "association_count")


Progress = Callable[[int, int], None]


@rule("framework.import")
def _may_import(actor: User | None, organisation_id: Any) -> bool:
    """A new framework, owned by ``organisation_id`` (None: not yet known, any organisation the actor runs)."""
    if actor is None:
        return False
    if actor.is_platform_admin:
        return True
    if organisation_id is None:
        return any(m.role == Role.ORG_ADMIN.value for m in actor.memberships)
    return has_role(actor, organisation_id, Role.ORG_ADMIN)


@rule("framework.reimport")
def _may_reimport(actor: User | None, framework: Any) -> bool:
    if actor is None:
        return False
    if actor.is_platform_admin:
        return True
    owner = framework.imported_by_organisation_id
    return owner is not None and has_role(actor, owner, Role.ORG_ADMIN)


@dataclass
class ImportReport:
    """What one import did."""

    framework_id: uuid.UUID
    case_identifier: str
    title: str
    created: bool
    unchanged: bool = False
    items: int = 0
    items_added: int = 0
    items_updated: int = 0
    items_obsoleted: int = 0
    items_revived: int = 0
    associations: int = 0
    warnings: list[str] = field(default_factory=list)


def import_package(
    *,
    actor: User | None,
    data: bytes | str | dict[str, Any],
    source_note: str = "",
    organisation_id: uuid.UUID | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import a CASE package, or update the framework with its CFDocument identifier in place.

    The package is checked completely before anything is written. Item ids stay stable across re-imports;
    items missing from the new package are marked obsolete, re-appearing ones revived. ``progress`` is
    called with (items written, items in the package).
    """
    authorize(actor, "framework.import", organisation_id)
    digest = package_digest(data)
    framework = db.session.scalar(select(Framework).where(Framework.package_sha256 == digest))
    if framework is not None:  # this very package was imported before: nothing to parse or write
        _authorize_reimport(actor, framework, organisation_id)
        return _unchanged(framework)
    package = parse_package(data, digest=digest)
    framework = db.session.scalar(
        select(Framework).where(Framework.case_identifier == package.identifier).with_for_update()
    )
    created = framework is None
    if framework is None:
        if organisation_id is None and not (actor and actor.is_platform_admin):
            raise ValidationFailed.field("organisation_id", "Name the organisation that will own the framework.")
        if organisation_id is not None and db.session.get(Organisation, organisation_id) is None:
            raise ValidationFailed.field("organisation_id", "No organisation with this id.")
        framework = Framework(
            id=uuid.uuid4(), case_identifier=package.identifier, imported_by_organisation_id=organisation_id
        )
        before = None
    else:
        _authorize_reimport(actor, framework, organisation_id)
        before = audit.snapshot(framework, COUNT_FIELDS)

    for name in FRAMEWORK_FIELDS:
        setattr(framework, name, package.document[name])
    framework.source_note = source_note or framework.source_note or ""
    framework.package_sha256 = package.sha256
    framework.last_imported_at = clock.now()
    if created:
        _add_new(framework)
    report = ImportReport(
        framework_id=framework.id,
        case_identifier=framework.case_identifier,
        title=framework.title,
        created=created,
        warnings=package.warnings,
    )
    id_by_identifier = _write_items(framework, package, report, progress)
    _write_associations(framework, package, id_by_identifier)
    framework.item_count = report.items
    framework.obsolete_item_count = db.session.scalar(
        select(func.count())
        .select_from(StandardItem)
        .where(StandardItem.framework_id == framework.id, StandardItem.obsolete_at.is_not(None))
    )
    framework.association_count = report.associations = len(package.associations)
    _expire_items_in_session(framework.id)
    audit.record(
        actor=actor,
        action="framework.imported" if created else "framework.reimported",
        obj=framework,
        organisation_id=framework.imported_by_organisation_id,
        before=before,
        after={
            **audit.snapshot(framework, COUNT_FIELDS),
            "items_added": report.items_added,
            "items_updated": report.items_updated,
            "items_obsoleted": report.items_obsoleted,
            "items_revived": report.items_revived,
            "source_note": framework.source_note,
        },
    )
    return report


def _add_new(framework: Framework) -> None:
    db.session.add(framework)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        # The unique CASE identifier: someone else's import of the same framework committed first.
        raise Conflict("This framework is being imported by someone else right now; try again.") from None


def _authorize_reimport(actor: User | None, framework: Framework, organisation_id: uuid.UUID | None) -> None:
    authorize(actor, "framework.reimport", framework)
    if organisation_id is not None and organisation_id != framework.imported_by_organisation_id:
        raise Conflict(
            "This framework is already owned by another organisation (or by the platform); "
            "re-import it without naming an organisation.",
            errors=[field_error("organisation_id", "The framework has another owner.")],
        )


def _unchanged(framework: Framework) -> ImportReport:
    return ImportReport(
        framework_id=framework.id,
        case_identifier=framework.case_identifier,
        title=framework.title,
        created=False,
        unchanged=True,
        items=framework.item_count,
        associations=framework.association_count,
    )


def _write_items(
    framework: Framework, package: Package, report: ImportReport, progress: Progress | None
) -> dict[str, uuid.UUID]:
    """Insert new items and update changed ones in bulk; mark the missing ones obsolete. Returns the ids."""
    columns = [getattr(StandardItem, name) for name in ITEM_FIELDS]
    existing = {
        row[1]: row
        for row in db.session.execute(
            select(StandardItem.id, StandardItem.case_identifier, *columns).where(
                StandardItem.framework_id == framework.id
            )
        )
    }
    id_by_identifier = {identifier: row[0] for identifier, row in existing.items()}
    for item in package.items:
        id_by_identifier.setdefault(item.identifier, uuid.uuid4())

    now = clock.now()
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for item in package.items:  # tree order: every parent comes before its children
        values = item.fields()
        values["parent_id"] = id_by_identifier[item.parent] if item.parent else None
        values["obsolete_at"] = None
        old = existing.get(item.identifier)
        if old is None:
            inserts.append(
                {
                    "id": id_by_identifier[item.identifier],
                    "framework_id": framework.id,
                    "case_identifier": item.identifier,
                    "created_at": now,
                    "updated_at": now,
                    **values,
                }
            )
            continue
        old_values = dict(zip(ITEM_FIELDS, old[2:], strict=True))
        if old_values["obsolete_at"] is not None:
            report.items_revived += 1
        if old_values != values:
            updates.append({"id": old[0], "updated_at": now, **values})
    report.items = len(package.items)
    report.items_added = len(inserts)
    report.items_updated = len(updates)

    total, done = len(inserts) + len(updates), 0
    for rows, statement in ((inserts, insert(StandardItem)), (updates, update(StandardItem))):
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            db.session.execute(statement, chunk)
            done += len(chunk)
            if progress:
                progress(done, total)
    if progress and total == 0:
        progress(0, 0)

    present = {item.identifier for item in package.items}
    obsolete_at = 2 + ITEM_FIELDS.index("obsolete_at")
    vanished = [
        row[0] for identifier, row in existing.items() if identifier not in present and row[obsolete_at] is None
    ]
    for start in range(0, len(vanished), IN_CHUNK):
        db.session.execute(
            update(StandardItem)
            .where(StandardItem.id.in_(vanished[start : start + IN_CHUNK]))
            .values(obsolete_at=now, updated_at=now)
        )
    report.items_obsoleted = len(vanished)
    return id_by_identifier


def _write_associations(framework: Framework, package: Package, id_by_identifier: dict[str, uuid.UUID]) -> None:
    """Associations are derived data nobody points at: replace them wholesale."""
    db.session.execute(delete(StandardAssociation).where(StandardAssociation.framework_id == framework.id))
    rows = [
        {
            "id": uuid.uuid4(),
            "framework_id": framework.id,
            "case_identifier": a.identifier,
            "uri": a.uri,
            "association_type": a.association_type,
            "sequence_number": a.sequence_number,
            "origin_identifier": a.origin.identifier,
            "origin_uri": a.origin.uri,
            "origin_title": a.origin.title,
            "origin_item_id": id_by_identifier.get(a.origin.identifier),
            "destination_identifier": a.destination.identifier,
            "destination_uri": a.destination.uri,
            "destination_title": a.destination.title,
            "destination_item_id": id_by_identifier.get(a.destination.identifier),
            "last_change": a.last_change,
        }
        for a in package.associations
    ]
    for start in range(0, len(rows), CHUNK):
        db.session.execute(insert(StandardAssociation), rows[start : start + CHUNK])


def _expire_items_in_session(framework_id: uuid.UUID) -> None:
    """Bulk statements bypass the identity map: make loaded items of this framework reload."""
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, StandardItem) and obj.framework_id == framework_id:
            db.session.expire(obj)


BUNDLED_DIR = Path(__file__).resolve().parent / "data"


BUNDLED_GROUPS = ("educator", "case-packages")


def bundled_files(*groups: str) -> list[Path]:
    """The CASE packages in ``standards/data/<group>/`` (every group when none is named), by name."""
    return [path for group in groups or BUNDLED_GROUPS for path in sorted((BUNDLED_DIR / group).glob("*.json"))]


def bundled_source_note(path: Path) -> str:
    """Where a bundled file comes from and under which terms: its row of standards/data/SOURCES.md."""
    relative = path.relative_to(BUNDLED_DIR).as_posix()
    header: list[str] = []
    for line in (BUNDLED_DIR / "SOURCES.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells and cells[0] == "File":
            header = cells
        elif cells and cells[0] == relative and header:
            facts = "; ".join(f"{name}: {value}" for name, value in zip(header[1:], cells[1:], strict=False))
            return f"Bundled with the service as standards/data/{relative}. {facts}"
    return f"Bundled with the service as standards/data/{relative} (see standards/data/SOURCES.md)."


def load_bundled(
    *, actor: User | None, groups: tuple[str, ...] = (), progress: Progress | None = None
) -> list[ImportReport]:
    """Import (or refresh) the bundled frameworks as platform-wide ones; unchanged files change nothing."""
    return [
        import_package(actor=actor, data=path.read_bytes(), source_note=bundled_source_note(path), progress=progress)
        for path in bundled_files(*groups)
    ]
