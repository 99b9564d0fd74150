"""A person's archive: everything the service holds about them as one ZIP, with a manifest and a README.

The archive is streamed: records are read first (they are small), then each evidence file is copied from the
store into the ZIP a megabyte at a time, so memory stays flat however large the evidence.
"""

from __future__ import annotations

import hashlib
import json
import uuid
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import select

from core import audit, clock, storage
from core.db import db
from core.models import ApiToken, AuditEvent, ErasureRequest, Invitation, Membership, OutboxMessage, User
from core.privacy import ExportPart, StoredFile, exporters, viewer_label

ARCHIVE_FORMAT = 1

README = """\
Your data from {service}
{underline}

This archive holds everything the service keeps about you, as it stood on {when} (UTC).

  manifest.json     the list of every file in this archive, with its size and SHA-256 checksum
  account.json      your account: name, email address, when it was made and last used
  memberships.json  the organisations you belong to and your roles in them
  invitations.json  invitations to join an organisation sent to your email address
  api_tokens.json   your personal API tokens: names and dates only (their secrets are never kept)
  emails.json       the emails the service sent you (subjects and dates)
  erasure_requests.json  any request you made to have your data erased
{parts}  audit.json        the service's record of what you did, and of what others did to your things
                    (someone else appears as "another person", an assessor as "an assessor")

Assessors score evidence without knowing whose it is, and you are not told which assessor scored you:
their reviews of your work appear here signed "an assessor".

JSON files can be opened with any text editor. Badges are the signed credentials exactly as they were
issued; you can check one at {base}/verify.
"""


@dataclass
class Archive:
    """A person's archive, ready to stream: its file name and the chunks of the ZIP."""

    filename: str
    chunks: Iterator[bytes]


def export(*, actor: User) -> Archive:
    """Everything held about ``actor`` (a person exports only their own data) as a streamed ZIP. Audited."""
    person = actor
    parts = _core_parts(person) + [part for fn in exporters() for part in fn(person)]
    objects = {person.id, *(obj for part in parts for obj in part.objects)}
    parts.append(_audit_part(person, objects))
    documents = _documents(person, parts)
    audit.record(
        actor=actor,
        action="privacy.exported",
        obj=person,
        after={"parts": [p.name for p in parts], "files": sum(len(p.files) for p in parts)},
    )
    stamp = clock.now().strftime("%Y%m%d")
    store = storage.backend()
    return Archive(filename=f"my-data-{stamp}.zip", chunks=_zip_stream(documents, parts, store))


def _core_parts(person: User) -> list[ExportPart]:
    memberships = db.session.scalars(
        select(Membership).where(Membership.user_id == person.id).order_by(Membership.created_at)
    )
    tokens = db.session.scalars(select(ApiToken).where(ApiToken.user_id == person.id).order_by(ApiToken.created_at))
    emails = db.session.scalars(
        select(OutboxMessage)
        .where(sa.func.lower(OutboxMessage.to) == person.email.lower())
        .order_by(OutboxMessage.created_at)
    )
    requests = db.session.scalars(
        select(ErasureRequest).where(ErasureRequest.user_id == person.id).order_by(ErasureRequest.requested_at)
    )
    invitations = list(
        db.session.scalars(
            select(Invitation)
            .where(sa.func.lower(Invitation.email) == person.email.lower())
            .order_by(Invitation.created_at)
        )
    )
    membership_rows = list(memberships)
    token_rows = list(tokens)
    return [
        ExportPart(
            name="account",
            description="Your account",
            records=[
                {
                    "id": person.id,
                    "name": person.name,
                    "email": person.email,
                    "unit": person.unit,
                    "platform_admin": person.is_platform_admin,
                    "active": person.is_active,
                    "created_at": person.created_at,
                    "last_login_at": person.last_login_at,
                }
            ],
        ),
        ExportPart(
            name="memberships",
            description="Your organisations and roles",
            records=[
                {
                    "organisation": m.organisation.name,
                    "role": m.role,
                    "since": m.created_at,
                    "unit": m.unit.name if m.unit else None,
                    "job_role": m.job_role,
                }
                for m in membership_rows
            ],
            objects=[m.id for m in membership_rows],
        ),
        ExportPart(
            name="invitations",
            description="Invitations sent to your email address",
            records=[
                {"organisation": i.organisation.name, "roles": i.roles, "state": i.state, "created_at": i.created_at}
                for i in invitations
            ],
            objects=[i.id for i in invitations],
        ),
        ExportPart(
            name="api_tokens",
            description="Your personal API tokens, without their secrets",
            records=[
                {
                    "name": t.name,
                    "prefix": t.prefix,
                    "created_at": t.created_at,
                    "expires_at": t.expires_at,
                    "last_used_at": t.last_used_at,
                    "revoked_at": t.revoked_at,
                }
                for t in token_rows
            ],
            objects=[t.id for t in token_rows],
        ),
        ExportPart(
            name="emails",
            description="Emails sent to you (subjects and dates; links in them were one-time secrets)",
            records=[{"subject": m.subject, "created_at": m.created_at, "sent_at": m.sent_at} for m in emails],
        ),
        ExportPart(
            name="erasure_requests",
            description="Your requests to have your data erased",
            records=[{"state": r.state, "reason": r.reason, "requested_at": r.requested_at} for r in requests],
        ),
    ]


def _audit_part(person: User, objects: set[uuid.UUID]) -> ExportPart:
    """Audit entries by the person or about their things. An entry by the person about someone else's thing
    keeps only what was done and when: its before/after may name the other person."""
    ids = sorted(str(o) for o in objects)
    events: dict[uuid.UUID, AuditEvent] = {}
    for event in db.session.scalars(select(AuditEvent).where(AuditEvent.actor_id == person.id)):
        events[event.id] = event
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for event in db.session.scalars(select(AuditEvent).where(AuditEvent.object_id.in_(chunk))):
            events[event.id] = event
    records = []
    for event in sorted(events.values(), key=lambda e: (e.occurred_at, str(e.id))):
        mine = event.object_id in ids
        record: dict[str, Any] = {
            "occurred_at": event.occurred_at,
            "action": event.action,
            "by": viewer_label(event, person.id),
            "object_type": event.object_type,
            "object_id": event.object_id if mine else None,
        }
        if mine:
            record["before"] = _without_actor_ids(event.before)
            record["after"] = _without_actor_ids(event.after)
        records.append(record)
    return ExportPart(name="audit", description="What you did, and what others did to your things", records=records)


def _without_actor_ids(values: dict[str, Any] | None) -> dict[str, Any] | None:
    """Snapshots may carry the id of the person who acted (an assessor's id would end their anonymity)."""
    if values is None:
        return None
    return {k: v for k, v in values.items() if not k.endswith("_by_id") and k not in {"assessor_id", "actor_id"}}


def _json(value: Any) -> bytes:
    return json.dumps(audit._jsonable(value), indent=2, ensure_ascii=False, sort_keys=True).encode()


def _documents(person: User, parts: list[ExportPart]) -> dict[str, bytes]:
    """Every small file of the archive (README, JSON records, documents), the manifest last."""
    documents: dict[str, bytes] = {}
    for part in parts:
        documents[f"{part.name}.json"] = _json(part.records)
        documents.update(part.documents)
    core_names = {"account", "memberships", "invitations", "api_tokens", "emails", "erasure_requests", "audit"}
    listed = "".join(
        f"  {part.name}.json{' ' * max(1, 16 - len(part.name) - 5)}{part.description.lower()}\n"
        for part in parts
        if part.name not in core_names
    )
    if any(part.files for part in parts):
        listed += "  evidence/         the files you uploaded, as you uploaded them, one folder per submission\n"
    service = "the micro-credential service"
    title = f"Your data from {service}"
    readme = README.format(
        service=service,
        underline="=" * len(title),
        when=clock.now().strftime("%Y-%m-%d %H:%M"),
        parts=listed,
        base=current_app.config["BASE_URL"],
    )
    documents = {"README.txt": readme.encode()} | documents
    manifest = {
        "format": ARCHIVE_FORMAT,
        "generated_at": clock.now(),
        "person": str(person.id),
        "files": [
            {"path": path, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            for path, data in documents.items()
        ]
        + [{"path": f.path, "size": f.size, "sha256": f.sha256} for part in parts for f in part.files],
        "parts": [{"name": p.name, "description": p.description, "records": len(p.records)} for p in parts],
    }
    documents["manifest.json"] = _json(manifest)
    return documents


class _Spout:
    """A write-only file for ``zipfile``: what is written is handed on in chunks (it is not seekable, so
    zipfile writes each entry's sizes after its data)."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        out = b"".join(self._chunks)
        self._chunks.clear()
        return out


def _zip_stream(documents: dict[str, bytes], parts: list[ExportPart], store: storage.Backend) -> Iterator[bytes]:
    spout = _Spout()
    with zipfile.ZipFile(spout, mode="w", compression=zipfile.ZIP_DEFLATED) as archive:  # type: ignore[arg-type]
        for path, data in documents.items():
            archive.writestr(path, data)
            yield spout.take()
        for stored in (f for part in parts for f in part.files):
            yield from _copy_stored(archive, spout, stored, store)
    yield spout.take()


def _copy_stored(
    archive: zipfile.ZipFile, spout: _Spout, stored: StoredFile, store: storage.Backend
) -> Iterable[bytes]:
    try:
        source = store.open(stored.sha256)
    except (storage.StorageUnavailable, OSError):
        archive.writestr(stored.path + ".missing.txt", "This file could not be read from storage just now.\n")
        yield spout.take()
        return
    info = zipfile.ZipInfo(stored.path, date_time=clock.now().timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    try:
        with archive.open(info, mode="w", force_zip64=stored.size >= zipfile.ZIP64_LIMIT // 2) as target:
            while chunk := source.read(storage.CHUNK):
                target.write(chunk)
                yield spout.take()
    finally:
        source.close()
    yield spout.take()
