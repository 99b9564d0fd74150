"""Who may read the impact reports and what they count: the organisations (one, or its whole subtree), the date
range, the filters (micro-credential, the earner's unit and job role), each checked against the hierarchy; and
the earner's placement (unit and job role) joined into a report's query when a filter or a split needs it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import ARRAY

from core import clock
from core.authz import admin_above, ancestor_ids, authorize, has_role, rule
from core.db import db
from core.errors import NotFound, ValidationFailed
from core.members import _job_role, unit_choices
from core.models import Membership, Organisation, Role, User
from credentials.authoring.models import MicroCredential

MAX_MONTHS = 120
EARLIEST, LATEST = date(1970, 1, 1), date(2099, 12, 31)


@rule("impact.report", description="read the impact reports of this organisation")
def _may_report(actor: User | None, organisation: Any) -> bool:
    # A parent's admins report across their units; a unit's admins see their own subtree only.
    return has_role(actor, organisation, Role.ORG_ADMIN) or admin_above(actor, organisation)


@dataclass(frozen=True)
class Scope:
    """Which rows a report counts: the organisations, the date range [start, end) and the filters."""

    organisation: Organisation
    organisation_ids: tuple[uuid.UUID, ...]
    include_children: bool
    date_from: date
    date_to: date
    months: tuple[str, ...]
    micro_credential_id: uuid.UUID | None = None
    unit_ids: tuple[uuid.UUID, ...] = ()
    unit_id: uuid.UUID | None = None
    job_role: str | None = None
    # (organisation, organisation or one above it, how far above): where an earner's placement is looked up.
    chain: tuple[tuple[uuid.UUID, uuid.UUID, int], ...] = field(default=(), repr=False)

    @property
    def start(self) -> datetime:
        return datetime(self.date_from.year, self.date_from.month, self.date_from.day, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        return datetime(self.date_to.year, self.date_to.month, self.date_to.day, tzinfo=UTC) + timedelta(days=1)

    @property
    def placed(self) -> bool:
        return bool(self.unit_ids or self.job_role)

    def filters(self) -> dict[str, Any]:
        """The filters as a client would send them back (echoed in JSON exports)."""
        return {
            "organisation_id": str(self.organisation.id),
            "include_children": self.include_children,
            "from": self.date_from.isoformat(),
            "to": self.date_to.isoformat(),
            "micro_credential_id": str(self.micro_credential_id) if self.micro_credential_id else None,
            "unit_id": str(self.unit_id) if self.unit_id else None,
            "job_role": self.job_role,
        }


def _month_labels(start: date, end: date) -> list[str]:
    labels, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month) and len(labels) <= MAX_MONTHS:
        labels.append(f"{year:04d}-{month:02d}")
        year, month = (year, month + 1) if month < 12 else (year + 1, 1)
    return labels


def scope(
    *,
    actor: User,
    organisation_id: uuid.UUID,
    include_children: bool = False,
    date_from: date | None = None,
    date_to: date | None = None,
    micro_credential_id: uuid.UUID | None = None,
    unit_id: uuid.UUID | None = None,
    job_role: str | None = None,
) -> Scope:
    """Check the actor may report on the organisation and the filters name things inside it; the default range
    is the last 12 calendar months up to today. Unknown and foreign ids get the same 404."""
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound("No such organisation.")
    authorize(actor, "impact.report", organisation, hidden="No such organisation.")
    for name, value in (("from", date_from), ("to", date_to)):
        if value is not None and not EARLIEST <= value <= LATEST:
            raise ValidationFailed.field(name, f"Choose a date from {EARLIEST} to {LATEST}.")
    date_to = date_to or clock.now().date()
    if date_from is None:
        year, month = (
            (date_to.year, date_to.month - 11) if date_to.month > 11 else (date_to.year - 1, date_to.month + 1)
        )
        date_from = date(year, month, 1)
    if date_from > date_to:
        raise ValidationFailed.field("from", "The start date is after the end date.")
    months = _month_labels(date_from, date_to)
    if len(months) > MAX_MONTHS:
        raise ValidationFailed.field("from", f"Choose at most {MAX_MONTHS} months at a time.")
    subtree = unit_choices(organisation.id)
    orgs = subtree if include_children else [organisation]
    ids = tuple(o.id for o in orgs)
    if micro_credential_id is not None:
        credential = db.session.get(MicroCredential, micro_credential_id)
        if credential is None or credential.organisation_id not in ids:
            raise NotFound("No such micro-credential.")
    unit_ids: tuple[uuid.UUID, ...] = ()
    if unit_id is not None:
        if unit_id not in {o.id for o in subtree}:
            raise NotFound("No such unit.")
        unit_ids = tuple(o.id for o in unit_choices(unit_id))  # the unit and the units below it
    chain = tuple((org.id, above, depth) for org in orgs for depth, above in enumerate([org.id, *ancestor_ids(org.id)]))
    return Scope(
        organisation=organisation,
        organisation_ids=ids,
        include_children=include_children,
        date_from=date_from,
        date_to=date_to,
        months=tuple(months),
        micro_credential_id=micro_credential_id,
        unit_ids=unit_ids,
        unit_id=unit_id,
        job_role=_job_role(job_role),
        chain=chain,
    )


def _chain(links: list[tuple[uuid.UUID, uuid.UUID, int]]) -> Any:
    """The (org_id, above_id, depth) rows as a table: one unnest of three arrays on PostgreSQL (hundreds of
    literal SELECTs cost the planner a second), a UNION ALL of literal rows on SQLite."""
    if db.session.get_bind().dialect.name == "postgresql":
        arrays = [
            sa.bindparam(f"chain_{i}", [link[i] for link in links], type_=ARRAY(kind))
            for i, kind in enumerate((sa.Uuid, sa.Uuid, sa.Integer))
        ]
        return (
            func.unnest(*arrays)
            .table_valued(sa.column("org_id", sa.Uuid), sa.column("above_id", sa.Uuid), sa.column("depth", sa.Integer))
            .render_derived(name="chain")
        )
    rows = [
        select(
            sa.literal(org, sa.Uuid).label("org_id"),
            sa.literal(above, sa.Uuid).label("above_id"),
            sa.literal(depth, sa.Integer).label("depth"),
        )
        for org, above, depth in links
    ]
    return (sa.union_all(*rows) if len(rows) > 1 else rows[0]).subquery("chain")


def _placement(scope: Scope, holders: set[uuid.UUID]) -> Any:
    """(organisation, user) → the unit and job role named on the user's nearest membership that names one, for
    the organisations in ``holders`` (those with rows to place: every other one would multiply each membership
    above it by the size of its subtree)."""
    links = [link for link in scope.chain if link[0] in holders] or [(uuid.UUID(int=0), uuid.UUID(int=0), 0)]
    chain = _chain(links)
    ranked = (
        select(
            chain.c.org_id,
            Membership.user_id,
            Membership.unit_id,
            Membership.job_role,
            func.row_number()
            .over(partition_by=(Membership.user_id, chain.c.org_id), order_by=chain.c.depth)
            .label("nearest"),
        )
        .select_from(Membership)
        .join(chain, Membership.organisation_id == chain.c.above_id)
        .where(sa.or_(Membership.unit_id.is_not(None), Membership.job_role.is_not(None)))
        .subquery("ranked")
    )
    return (
        select(ranked.c.org_id, ranked.c.user_id, ranked.c.unit_id, ranked.c.job_role)
        .where(ranked.c.nearest == 1)
        .subquery("placement")
    )


def _holders(scope: Scope, organisation: Any) -> set[uuid.UUID]:
    """The organisations of the scope that hold any row of ``organisation``'s table (one index probe each)."""
    return set(
        db.session.scalars(
            select(Organisation.id).where(
                Organisation.id.in_(scope.organisation_ids),
                sa.exists().where(organisation == Organisation.id),
            )
        )
    )


def join_placement(stmt: Any, scope: Scope, earner: Any, organisation: Any, needed: bool) -> tuple[Any, Any]:
    """Join the earner's placement when a filter or a split needs it, and apply the unit / job role filters."""
    if not (needed or scope.placed):
        return stmt, None
    place = _placement(scope, _holders(scope, organisation))
    stmt = stmt.outerjoin(place, sa.and_(place.c.user_id == earner, place.c.org_id == organisation))
    if scope.unit_ids:
        stmt = stmt.where(place.c.unit_id.in_(scope.unit_ids))
    if scope.job_role:
        stmt = stmt.where(place.c.job_role == scope.job_role)
    return stmt, place
