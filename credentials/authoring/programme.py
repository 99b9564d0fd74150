"""The programme lead's view: every design team of an organisation and of the units below it, with its
micro-credentials at their current stage (draft, changes requested, in review, approved, published, retired),
counts and last activity; filtered by stage and team, and as CSV.

Admins and programme leads of an organisation see it and everything below it; a unit's people never see a
sibling unit's teams or drafts (the organisations listed are the chosen one and its descendants only).
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import load_only, selectinload

from core.authz import authorize, has_role, org_id_of, rule
from core.db import db
from core.errors import NotFound, ValidationFailed
from core.members import unit_choices
from core.models import Organisation, Role, User
from credentials.authoring.models import CredentialVersion, MicroCredential
from credentials.authoring.team_models import DesignTeam, leads_above

STAGES = ("draft", "changes_requested", "in_review", "approved", "published", "retired")


@rule("programme.read", description="see this organisation's programme page (its admins and programme leads do)")
def _may_read(actor: User | None, organisation: Any) -> bool:
    leads = has_role(actor, organisation, Role.ORG_ADMIN, Role.PROGRAMME_LEAD)
    return leads or leads_above(actor, org_id_of(organisation))


@dataclass
class TeamProgress:
    """One team (or ``team=None``: micro-credentials that belong to no team) in one organisation."""

    organisation: Organisation
    team: DesignTeam | None
    versions: list[CredentialVersion] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {stage: sum(1 for v in self.versions if v.stage == stage) for stage in STAGES}

    @property
    def last_activity(self) -> datetime | None:
        times = [v.updated_at for v in self.versions] + ([self.team.updated_at] if self.team else [])
        return max(times) if times else None


@dataclass
class Programme:
    organisation: Organisation
    organisations: list[Organisation]
    teams: list[TeamProgress]
    all_teams: list[DesignTeam]

    @property
    def counts(self) -> dict[str, int]:
        return {stage: sum(t.counts[stage] for t in self.teams) for stage in STAGES}


def _stage_filter(stage: str) -> Any:
    if stage == "draft":
        return and_(CredentialVersion.state == "draft", CredentialVersion.changes_requested_at.is_(None))
    if stage == "changes_requested":
        return and_(CredentialVersion.state == "draft", CredentialVersion.changes_requested_at.is_not(None))
    return CredentialVersion.state == stage


# What the page, the JSON and the CSV show of a version (its JSON content columns are left unread).
_SHOWN = (
    CredentialVersion.micro_credential_id, CredentialVersion.organisation_id, CredentialVersion.number,
    CredentialVersion.title, CredentialVersion.state, CredentialVersion.changes_requested_at,
    CredentialVersion.updated_at, CredentialVersion.lock_version,
)  # fmt: skip


def programme(
    *, actor: User, organisation_id: uuid.UUID, stage: str | None = None, team_id: uuid.UUID | None = None
) -> Programme:
    """The teams of the organisation and its units with the newest version of each of their micro-credentials;
    ``stage`` and ``team_id`` narrow the credentials (a team filter also hides the other teams)."""
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound("No such organisation.")
    authorize(actor, "programme.read", organisation, hidden="No such organisation.")
    if stage is not None and stage not in STAGES:
        raise ValidationFailed.field("state", f"Choose one of: {', '.join(STAGES)}.")
    organisations = unit_choices(organisation.id)
    org_ids = [o.id for o in organisations]
    all_teams = list(
        db.session.scalars(
            select(DesignTeam)
            .where(DesignTeam.organisation_id.in_(org_ids))
            .options(selectinload(DesignTeam.members))
            .order_by(DesignTeam.name_key, DesignTeam.id)
        )
    )
    if team_id is not None and team_id not in {t.id for t in all_teams}:
        raise ValidationFailed.field("team", "Choose a design team of this organisation or of its units.")
    newest = (
        select(CredentialVersion.micro_credential_id, func.max(CredentialVersion.number).label("number"))
        .where(CredentialVersion.organisation_id.in_(org_ids))
        .group_by(CredentialVersion.micro_credential_id)
        .subquery()
    )
    # The team id as a column of the same row: loading 1,000 MicroCredential objects only to read it costs more
    # than the rest of the page.
    stmt = (
        select(CredentialVersion, MicroCredential.team_id)
        .join(
            newest,
            and_(
                CredentialVersion.micro_credential_id == newest.c.micro_credential_id,
                CredentialVersion.number == newest.c.number,
            ),
        )
        .join(MicroCredential, MicroCredential.id == CredentialVersion.micro_credential_id)
        .options(load_only(*_SHOWN))
        .order_by(CredentialVersion.title, CredentialVersion.id)
    )
    if stage:
        stmt = stmt.where(_stage_filter(stage))
    if team_id is not None:
        stmt = stmt.where(MicroCredential.team_id == team_id)
    by_org = {o.id: o for o in organisations}
    rows: dict[tuple[uuid.UUID, uuid.UUID | None], TeamProgress] = {}
    for team in all_teams:
        if team_id is None or team.id == team_id:
            rows[(team.organisation_id, team.id)] = TeamProgress(by_org[team.organisation_id], team)
    for version, owner_id in db.session.execute(stmt):
        key = (version.organisation_id, owner_id)
        if key not in rows:  # no team: one row per organisation
            rows[key] = TeamProgress(by_org[version.organisation_id], None)
        rows[key].versions.append(version)
    order = {o.id: i for i, o in enumerate(organisations)}
    teams = sorted(
        rows.values(), key=lambda r: (order[r.organisation.id], r.team is None, r.team.name_key if r.team else "")
    )
    return Programme(organisation=organisation, organisations=organisations, teams=teams, all_teams=all_teams)


CSV_COLUMNS = (
    "organisation", "team", "team_members", "micro_credential_id", "title", "version", "stage", "last_activity",
)  # fmt: skip


def _cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (a title may start with = + - @)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def as_csv(report: Programme) -> str:
    """One line per micro-credential (and per team without any), columns ``CSV_COLUMNS``."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in report.teams:
        team_name = row.team.name if row.team else ""
        size = len(row.team.members) if row.team else ""
        for v in row.versions or [None]:
            writer.writerow(
                [_cell(x) for x in (
                    row.organisation.name, team_name, size, v.micro_credential_id if v else "", v.title if v else "",
                    v.number if v else "", v.stage if v else "", v.updated_at.isoformat() if v else "",
                )]
            )  # fmt: skip
    return out.getvalue()
