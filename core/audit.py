"""The audit log: one helper, ``record``, called by every state-changing service."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from core import clock
from core.db import Page, db, paginate
from core.models import AuditEvent, User

# Never copied into the log, whatever a snapshot names.
_SECRET_FIELDS = {"password", "password_hash", "token", "token_hash", "private_key"}


def snapshot(obj: Any, fields: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """A JSON-safe picture of ``obj``'s ``fields`` for the before/after columns."""
    return {name: _jsonable(getattr(obj, name)) for name in fields if name not in _SECRET_FIELDS}


def _jsonable(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def record(
    *,
    actor: User | None,
    action: str,
    obj: Any,
    organisation_id: uuid.UUID | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit event in the current transaction (it commits or rolls back with the change)."""
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        organisation_id=organisation_id,
        action=action,
        object_type=type(obj).__name__,
        object_id=str(obj.id),
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
    )
    db.session.add(event)
    db.session.flush()
    return event


_INSERT = AuditEvent.__table__.insert()


def record_row(
    *,
    actor_id: uuid.UUID | None,
    action: str,
    object_type: str,
    object_id: Any,
    organisation_id: uuid.UUID | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> uuid.UUID:
    """``record`` for hot paths (issuing a badge): the same row through one prebuilt Core INSERT, without an
    ORM object or a flush — the unit of work for one small row costs more than signing a badge. Returns its id."""
    event_id = uuid.uuid4()
    db.session.execute(
        _INSERT,
        {
            "id": event_id,
            "occurred_at": clock.now(),
            "actor_id": actor_id,
            "organisation_id": organisation_id,
            "action": action,
            "object_type": object_type,
            "object_id": str(object_id),
            "before": _jsonable(before) if before is not None else None,
            "after": _jsonable(after) if after is not None else None,
        },
    )
    return event_id


def list_events(
    *,
    organisation_id: uuid.UUID | None,
    page: int,
    page_size: int,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    actor_id: uuid.UUID | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Page[AuditEvent]:
    """Newest first; ``organisation_id=None`` means every organisation (platform admins only)."""
    stmt = select(AuditEvent)
    if organisation_id is not None:
        stmt = stmt.where(AuditEvent.organisation_id == organisation_id)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if object_type:
        stmt = stmt.where(AuditEvent.object_type == object_type)
    if object_id:
        stmt = stmt.where(AuditEvent.object_id == object_id)
    if actor_id:
        stmt = stmt.where(AuditEvent.actor_id == actor_id)
    if since:
        stmt = stmt.where(AuditEvent.occurred_at >= since)
    if until:
        stmt = stmt.where(AuditEvent.occurred_at < until)
    return paginate(stmt.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id), page=page, page_size=page_size)
