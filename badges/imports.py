"""Bulk import of past awards from a CSV file: the whole file is checked first (every problem with its line
number), then each row is issued once, so sending a file again issues nothing twice. A badge imported to someone
who is not a member of the organisation waits for their acceptance (``badges.consent``). The API and the CLI
issue in their own transaction (``import_awards``); the page queues an ``AwardImport`` whose job
(``run_import``) issues it in chunks and shows its progress (``start_import``)."""

from __future__ import annotations

import csv
import hashlib
import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, select

from badges import consent
from badges.access import _organisation
from badges.issuing import issue
from badges.models import AwardImport, BadgeSource, ImportState
from badges.signing import Recipient, _existing, batch
from core import audit, clock, tasks
from core.authz import authorize
from core.db import db
from core.errors import NotFound, ValidationFailed
from core.models import User
from credentials.authoring.models import CredentialVersion, VersionState

IMPORT_COLUMNS = ("email", "name", "version_id", "awarded_on", "award_id", "did")
REQUIRED_COLUMNS = ("email", "version_id", "awarded_on")
MAX_IMPORT_ROWS = 10000


@dataclass
class ImportRow:
    line: int
    email: str
    name: str
    version: CredentialVersion
    awarded_at: datetime
    did: str | None
    key: str


def _parse_date(value: str) -> datetime:
    value = value.strip()
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(12, 0), tzinfo=UTC)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("use a date like 2024-06-30 or a time like 2024-06-30T14:00:00Z") from None
    if moment.tzinfo is None:
        raise ValueError("give the time zone, e.g. 2024-06-30T14:00:00Z")
    return moment.astimezone(UTC)


def _importable(reference: str, organisation_id: uuid.UUID) -> CredentialVersion | None:
    """The published (or retired) version of this organisation that ``reference`` names, else None."""
    try:
        candidate = db.session.get(CredentialVersion, uuid.UUID(reference))
    except ValueError:
        return None
    ok = (
        candidate is not None
        and candidate.organisation_id == organisation_id
        and candidate.state in (VersionState.PUBLISHED.value, VersionState.RETIRED.value)
    )
    return candidate if ok else None


def importable_versions(*, actor: User, organisation_id: uuid.UUID) -> list[CredentialVersion]:
    """The versions awards can be imported for (published, then retired; by title), for the page's picker."""
    authorize(actor, "badge.import", _organisation(organisation_id))
    return list(
        db.session.scalars(
            select(CredentialVersion)
            .where(
                CredentialVersion.organisation_id == organisation_id,
                CredentialVersion.state.in_([VersionState.PUBLISHED.value, VersionState.RETIRED.value]),
            )
            .order_by(CredentialVersion.state, func.lower(CredentialVersion.title), CredentialVersion.number.desc())
        )
    )


def template_csv(version: CredentialVersion | None = None) -> str:
    """The header line of an import file (without ``version_id`` when the rows are for one chosen version)."""
    columns = [c for c in IMPORT_COLUMNS if version is None or c != "version_id"]
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(columns)
    return out.getvalue()


def parse_import(
    *, organisation_id: uuid.UUID, data: bytes, default_version_id: uuid.UUID | None = None
) -> list[ImportRow]:
    """Check the whole file; every problem is reported with its line number, nothing is issued if any. With
    ``default_version_id`` (chosen on the page), a row with no ``version_id`` is an award of that version."""
    default = None
    if default_version_id is not None:
        default = _importable(str(default_version_id), organisation_id)
        if default is None:
            raise ValidationFailed.field("version", "Choose a published micro-credential of this organisation.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed.field("file", "The file is not UTF-8 text.") from None
    if "\x00" in text:
        raise ValidationFailed.field("file", "The file contains NUL bytes; send a CSV text file.")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise ValidationFailed.field("file", "The file is empty; the first line must name the columns.") from None
    except csv.Error as exc:
        raise ValidationFailed.field("line 1", f"not CSV: {exc}") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in header and not (c == "version_id" and default)]
    unknown = [c for c in header if c not in IMPORT_COLUMNS]
    if missing or unknown or len(set(header)) != len(header):
        problems = []
        if missing:
            problems.append(f"missing column(s) {', '.join(missing)}")
        if unknown:
            problems.append(f"unknown column(s) {', '.join(unknown)}")
        if len(set(header)) != len(header):
            problems.append("a column is named twice")
        raise ValidationFailed.field(
            "line 1", "; ".join(problems) + f" (expected columns: {', '.join(IMPORT_COLUMNS)})"
        )
    errors: list[tuple[str, str]] = []
    rows: list[ImportRow] = []
    versions: dict[str, CredentialVersion | None] = {}
    seen: dict[str, int] = {}
    now = clock.now()
    try:
        records = list(enumerate(reader, start=2))
    except csv.Error as exc:
        raise ValidationFailed.field(f"line {reader.line_num}", f"not CSV: {exc}") from None
    if len(records) > MAX_IMPORT_ROWS:
        raise ValidationFailed.field("file", f"At most {MAX_IMPORT_ROWS} rows per file; split it.")
    for line, cells in records:
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            errors.append((f"line {line}", f"has {len(cells)} cells, the header has {len(header)}"))
            continue
        row = {h: c.strip() for h, c in zip(header, cells, strict=True)}
        before = len(errors)
        email = row["email"]
        if "@" not in email or len(email) > 254 or any(c.isspace() for c in email):
            errors.append((f"line {line}.email", "not an email address"))
        name = row.get("name", "")[:200]
        version_ref = row.get("version_id", "")
        if not version_ref and default is not None:
            version_ref = str(default.id)
        if version_ref not in versions:
            versions[version_ref] = _importable(version_ref, organisation_id)
        version = versions[version_ref]
        if version is None and not version_ref:
            errors.append((f"line {line}.version_id", "empty: give the version_id, or choose the micro-credential"))
        elif version is None:
            errors.append((f"line {line}.version_id", "not a published micro-credential version of this organisation"))
        try:
            awarded_at = _parse_date(row["awarded_on"])
            if awarded_at > now:
                errors.append((f"line {line}.awarded_on", "is in the future"))
        except ValueError as exc:
            errors.append((f"line {line}.awarded_on", str(exc)))
            awarded_at = now
        did = row.get("did") or None
        if did and (not did.startswith("did:") or any(c.isspace() for c in did) or len(did) > 500):
            errors.append((f"line {line}.did", "not a DID"))
        award_id = row.get("award_id", "")
        if len(award_id) > 200:
            errors.append((f"line {line}.award_id", "longer than 200 characters"))
        if len(errors) > before or version is None:
            continue
        # The row key: an explicit award id, else the award itself (who, what, when) — not the line number,
        # so re-sending the file, reordered or with rows added, issues each award once.
        identity = award_id or f"{email.lower()}|{version.id}|{awarded_at.date().isoformat()}"
        key = "import:" + hashlib.sha256(f"{organisation_id}|{identity}".encode()).hexdigest()
        if key in seen:
            errors.append((f"line {line}", f"repeats the award on line {seen[key]}"))
            continue
        seen[key] = line
        rows.append(ImportRow(line, email, name, version, awarded_at, did, key))
    if errors:
        raise ValidationFailed(
            f"{len(errors)} problem(s) in the file; nothing was issued.",
            errors=[
                {"field": f, "pointer": "#/" + f.replace(" ", "/").replace(".", "/"), "detail": d}
                for f, d in errors[:200]
            ],
        )
    if not rows:
        raise ValidationFailed.field("file", "The file has no award rows.")
    return rows


def import_awards(
    *,
    actor: User,
    organisation_id: uuid.UUID,
    data: bytes,
    progress: Callable[[int], None] | None = None,
    default_version_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """Issue a badge per CSV row, all or nothing, in this transaction (the API and the CLI): the file is
    checked whole first; rows issued before (same row key) are reported as ``skipped``, so submitting a file
    twice issues each award once. The page queues the same work as a job instead (``start_import``)."""
    organisation = _organisation(organisation_id)
    authorize(actor, "badge.import", organisation)
    rows = parse_import(organisation_id=organisation_id, data=data, default_version_id=default_version_id)
    report: dict[str, Any] = {"issued": 0, "skipped": 0, "rows": []}
    with batch(len(rows)):
        for row in rows:
            result = _issue_row(row)
            report[result["result"]] += 1
            report["rows"].append(result)
            if progress:
                progress(1)
    _record_imported(actor.id, organisation, report["issued"], report["skipped"])
    return report


def _issue_row(row: ImportRow) -> dict[str, Any]:
    """Issue one row's badge unless its row key was issued before; ``{line, result, badge_id}``."""
    existing = _existing(row.key)
    if existing is not None:
        return {"line": row.line, "result": "skipped", "badge_id": existing.id}
    user = db.session.scalar(select(User).where(func.lower(User.email) == row.email.lower()))
    recipient = Recipient(
        email=row.email, name=row.name or (user.name if user else ""), user_id=user.id if user else None, did=row.did
    )
    badge = issue(
        version=row.version,
        recipient=recipient,
        results=[],
        evidence=[],
        awarded_at=row.awarded_at,
        source=BadgeSource.IMPORT,
        issue_key=row.key,
    )
    return {"line": row.line, "result": "issued", "badge_id": badge.id}


def _record_imported(actor_id: uuid.UUID | None, organisation: Any, issued: int, skipped: int) -> None:
    audit.record_row(
        actor_id=actor_id,
        action="badge.imported",
        object_type=type(organisation).__name__,
        object_id=organisation.id,
        organisation_id=organisation.id,
        after={"issued": issued, "skipped": skipped},
    )


# --- the same as a job, with its progress on a page ------------------------------------------------------

CHUNK = 100  # rows issued per transaction; progress moves (and a killed job resumes) chunk by chunk
LEASE = timedelta(minutes=5)  # renewed by every chunk; past it a job that died is taken over


def start_import(
    *, actor: User, organisation_id: uuid.UUID, data: bytes, default_version_id: uuid.UUID | None = None
) -> AwardImport:
    """Check the file whole (nothing is queued if any row is wrong), then queue its issuing as a job.
    ``default_version_id``: the micro-credential chosen on the page, for rows that name no version."""
    organisation = _organisation(organisation_id)
    authorize(actor, "badge.import", organisation)
    rows = parse_import(organisation_id=organisation_id, data=data, default_version_id=default_version_id)
    job = AwardImport(
        organisation_id=organisation_id,
        created_by_id=actor.id or None,
        total=len(rows),
        data=data,
        default_version_id=default_version_id,
        results=[],
    )
    db.session.add(job)
    db.session.flush()
    tasks.enqueue("badges.import_awards", import_id=str(job.id))
    audit.record(
        actor=actor if actor.id else None,
        action="badge.import_queued",
        obj=job,
        organisation_id=organisation_id,
        after={"rows": len(rows)},
    )
    return job


def not_accepted(job: AwardImport) -> int:
    """How many of the import's badges still wait for their earner's acceptance."""
    ids = [uuid.UUID(str(r["badge_id"])) for r in job.results if r.get("badge_id")]
    return consent.pending_count(ids)


def get_import(*, actor: User, organisation_id: uuid.UUID, import_id: uuid.UUID) -> AwardImport:
    authorize(actor, "badge.import", _organisation(organisation_id))
    job = db.session.get(AwardImport, import_id)
    if job is None or job.organisation_id != organisation_id:
        raise NotFound("No such import.")
    return job


def recent_imports(*, actor: User, organisation_id: uuid.UUID, limit: int = 10) -> list[AwardImport]:
    authorize(actor, "badge.import", _organisation(organisation_id))
    return list(
        db.session.scalars(
            select(AwardImport)
            .where(AwardImport.organisation_id == organisation_id)
            .order_by(AwardImport.created_at.desc())
            .limit(limit)
        )
    )


@tasks.job("badges.import_awards", max_retries=50)
def run_import(import_id: str) -> None:
    """Issue an import's rows chunk by chunk from where it stands; a duplicate or retried job changes nothing.

    Each chunk commits its badges together with the counters, through an UPDATE that holds only while this
    job's lease is the row's: a job that lost its lease rolls its chunk back (and badges are keyed per row
    anyway, so none is issued twice).
    """
    row_id = uuid.UUID(import_id)
    now = clock.now()
    lease = now + LEASE
    claimable = sa.or_(
        AwardImport.status == ImportState.QUEUED.value,
        sa.and_(AwardImport.status == ImportState.RUNNING.value, AwardImport.claimed_until <= now),
    )
    claimed = db.session.execute(
        sa.update(AwardImport)
        .where(AwardImport.id == row_id, claimable)
        .values(status=ImportState.RUNNING.value, claimed_until=lease)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    job = db.session.get(AwardImport, row_id)
    if job is None or job.status in {ImportState.DONE.value, ImportState.FAILED.value}:
        return
    if not claimed:
        wait = (job.claimed_until - now).total_seconds() if job.claimed_until else 1.0
        raise tasks.RetryLater(f"import {row_id} is running elsewhere", delay=max(wait, 1.0))
    try:
        rows = parse_import(
            organisation_id=job.organisation_id, data=job.data, default_version_id=job.default_version_id
        )
    except ValidationFailed as exc:  # a version withdrawn since the upload, say
        _advance(row_id, lease, status=ImportState.FAILED.value, error=exc.detail[:500], finished_at=clock.now())
        db.session.commit()
        return
    processed, results = job.processed, list(job.results)
    while processed < len(rows):
        with batch(CHUNK):
            chunk = [_issue_row(row) for row in rows[processed : processed + CHUNK]]
        issued = sum(r["result"] == "issued" for r in chunk)
        results += [{**r, "badge_id": str(r["badge_id"])} for r in chunk]
        processed += len(chunk)
        renewed = clock.now() + LEASE
        if not _advance(
            row_id,
            lease,
            processed=processed,
            issued=AwardImport.issued + issued,
            skipped=AwardImport.skipped + len(chunk) - issued,
            results=results,
            claimed_until=renewed,
        ):
            db.session.rollback()
            return  # another job took over
        db.session.commit()
        lease = renewed
    job = db.session.get(AwardImport, row_id)
    assert job is not None
    _record_imported(job.created_by_id, _organisation(job.organisation_id), job.issued, job.skipped)
    _advance(row_id, lease, status=ImportState.DONE.value, finished_at=clock.now(), claimed_until=None)
    db.session.commit()


@tasks.job("badges.resume_imports")
def resume_imports() -> int:
    """Send the job again for imports left waiting: queued over a minute ago (their job was lost, Redis was
    away at the upload) or running under a lease that ran out (their worker died). The scheduler runs this."""
    now = clock.now()
    stale = sa.or_(
        sa.and_(AwardImport.status == ImportState.QUEUED.value, AwardImport.created_at <= now - timedelta(minutes=1)),
        sa.and_(AwardImport.status == ImportState.RUNNING.value, AwardImport.claimed_until <= now),
    )
    ids = list(db.session.scalars(select(AwardImport.id).where(stale).limit(100)))
    db.session.commit()
    for import_id in ids:
        tasks.send("badges.import_awards", import_id=str(import_id))
    return len(ids)


def _advance(row_id: uuid.UUID, lease: datetime, **values: Any) -> bool:
    """Update the import while ``lease`` is still its claim; False when another job has taken it over."""
    result = db.session.execute(
        sa.update(AwardImport)
        .where(AwardImport.id == row_id, AwardImport.claimed_until == lease)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)
