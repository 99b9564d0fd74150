"""Personal data: what each domain holds about a person, for their archive (``core.exports``) and their
erasure (``core.erasure``).

Core imports no domain, so each domain says what it holds about a person through three small registries:
``register_exporter`` (a function giving its parts of the archive: records, stored files, documents),
``register_eraser`` (a function removing or anonymising its rows, noting what it counted and which stored
files it let go) and ``register_ties`` (which people an organisation holds data about, e.g. earners who
submitted to it, so that organisation's admins see and carry out those people's erasure requests).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from core.models import AuditEvent, User


@dataclass
class StoredFile:
    """An evidence file to copy from the store into the archive at ``path``."""

    path: str
    sha256: str
    size: int


@dataclass
class ExportPart:
    """One domain's part of a person's archive: ``records`` become ``<name>.json``; ``files`` are copied from
    the store, ``documents`` (path → bytes) written as they are. ``objects`` are the ids of the person's
    things (submissions, badges …): audit entries about them go into ``audit.json``."""

    name: str
    description: str
    records: list[dict[str, Any]]
    files: list[StoredFile] = field(default_factory=list)
    documents: dict[str, bytes] = field(default_factory=dict)
    objects: list[uuid.UUID] = field(default_factory=list)


@dataclass
class Erasure:
    """What a domain's eraser is given and gives back: the person, their pseudonym, the stored files it no
    longer needs (deleted from the store when no other row uses them) and counts for the summary."""

    person: User
    pseudonym: str
    digests: set[str] = field(default_factory=set)
    counts: dict[str, int] = field(default_factory=dict)
    objects: list[uuid.UUID] = field(default_factory=list)


Exporter = Callable[[User], list[ExportPart]]
Eraser = Callable[[Erasure], None]
Ties = Callable[[uuid.UUID], sa.Select[Any]]  # an organisation id → SELECT of the user ids it holds data about

_exporters: dict[str, Exporter] = {}
_erasers: dict[str, Eraser] = {}
_ties: dict[str, Ties] = {}


def register_exporter(name: str, fn: Exporter) -> None:
    """Add a domain's parts to every person's archive (registering a name again replaces it)."""
    _exporters[name] = fn


def register_eraser(name: str, fn: Eraser) -> None:
    """Run ``fn`` when an erasure request is carried out, after the others registered before it."""
    _erasers[name] = fn


def register_ties(name: str, fn: Ties) -> None:
    _ties[name] = fn


def exporters() -> list[Exporter]:
    return list(_exporters.values())


def erasers() -> list[Eraser]:
    return list(_erasers.values())


def ties() -> list[Ties]:
    return list(_ties.values())


def viewer_label(event: AuditEvent, person_id: uuid.UUID) -> str:
    """Who did ``event``, as the person it is about may be told: "you", "an assessor" (assessors stay
    anonymous to earners), a named admin who opened their evidence, or "another person"."""
    if event.actor_id == person_id:
        return "you"
    viewer = (event.after or {}).get("viewer")
    if viewer == "assessor":
        return "an assessor"
    if viewer in {"org_admin", "platform_admin"} and event.actor is not None:
        role = "organisation admin" if viewer == "org_admin" else "platform admin"
        return f"{event.actor.name} ({role})"
    return "another person"
