"""Design teams: org admins make them and choose their members (authors of the organisation or of its units);
a team owns micro-credentials, which only its members draft and a reviewer outside it approves.

Rules registered here: ``team.manage`` (admins of the organisation or above it), ``team.read``, ``team.draft``
(create a credential owned by the team), ``credential.review`` and ``credential.comment``. Services flush; the
request or CLI command commits.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core import audit, mail
from core.authz import admin_above, authorize, can, has_role, org_id_of, rule
from core.db import db
from core.errors import Conflict, NotFound, ValidationFailed
from core.members import unit_choices
from core.models import Membership, Organisation, Role, User
from credentials.authoring.models import CredentialVersion, MicroCredential
from credentials.authoring.team_models import (
    DesignTeam,
    DesignTeamMember,
    authors_in_or_under,
    leads_above,
    may_draft_for,
    name_key,
)
from credentials.authoring.versions import create_micro_credential

NAME_MAX = 120
TEAM_FIELDS = ("name", "description")
HIDDEN = "No such design team."


@rule("team.manage", description="manage this organisation's design teams (its admins do)")
def _may_manage(actor: User | None, target: Any) -> bool:
    return has_role(actor, target, Role.ORG_ADMIN) or admin_above(actor, target)


@rule("team.read")
def _may_read(actor: User | None, target: Any) -> bool:
    if isinstance(target, DesignTeam) and target.has_member(actor):
        return True
    roles = (Role.AUTHOR, Role.ORG_ADMIN, Role.PROGRAMME_LEAD)
    return has_role(actor, target, *roles) or leads_above(actor, org_id_of(target))


@rule("team.draft", description="draft for this design team: only its members who author here do")
def _may_draft(actor: User | None, team: DesignTeam) -> bool:
    return may_draft_for(actor, team)


@rule("credential.review", description="review this version: the reviewer must not be on its design team")
def _may_review(actor: User | None, version: CredentialVersion) -> bool:
    team = version.micro_credential.team
    if team is None:  # the organisation-wide team of before: another of its authors reviews
        return has_role(actor, version, Role.AUTHOR)
    if team.has_member(actor):
        return False
    return has_role(actor, version, Role.AUTHOR, Role.ORG_ADMIN) or admin_above(actor, version)


@rule("credential.comment", description="comment on this version")
def _may_comment(actor: User | None, version: CredentialVersion) -> bool:
    return can(actor, "credential.edit", version) or can(actor, "credential.review", version)


def _team(team_id: uuid.UUID, actor: User) -> DesignTeam:
    team = db.session.get(DesignTeam, team_id)
    if team is None or not can(actor, "team.read", team):
        raise NotFound(HIDDEN)
    return team


def _organisation(organisation_id: uuid.UUID) -> Organisation:
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound("No such organisation.")
    return organisation


def get_team(*, actor: User, team_id: uuid.UUID) -> DesignTeam:
    return _team(team_id, actor)


def list_teams(*, actor: User, organisation_id: uuid.UUID) -> list[DesignTeam]:
    """The organisation's teams by name (its authors, admins, programme leads and admins above it)."""
    organisation = _organisation(organisation_id)
    authorize(actor, "team.read", organisation, hidden="No such organisation.")
    return list(
        db.session.scalars(
            select(DesignTeam).where(DesignTeam.organisation_id == organisation.id).order_by(DesignTeam.name_key)
        )
    )


def teams_of(user: User) -> list[DesignTeam]:
    """The teams ``user`` is on, by name."""
    return list(
        db.session.scalars(
            select(DesignTeam)
            .join(DesignTeamMember, DesignTeamMember.team_id == DesignTeam.id)
            .where(DesignTeamMember.user_id == user.id)
            .order_by(DesignTeam.name_key)
        )
    )


def _clean_name(name: str, organisation_id: uuid.UUID, except_id: uuid.UUID | None = None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationFailed.field("name", "Give the team a name.")
    if len(name) > NAME_MAX:
        raise ValidationFailed.field("name", f"At most {NAME_MAX} characters.")
    taken = db.session.scalar(
        select(DesignTeam.id).where(
            DesignTeam.organisation_id == organisation_id, DesignTeam.name_key == name_key(name)
        )
    )
    if taken is not None and taken != except_id:
        raise Conflict(
            f"A team named {name!r} exists already.",
            errors=[{"field": "name", "pointer": "#/name", "detail": "Already taken in this organisation."}],
        )
    return name


def create_team(
    *,
    actor: User,
    organisation_id: uuid.UUID,
    name: str,
    description: str = "",
    member_ids: list[uuid.UUID] | None = None,
) -> DesignTeam:
    """A new team of the organisation, with its first members."""
    organisation = _organisation(organisation_id)
    authorize(actor, "team.manage", organisation, hidden="No such organisation.")
    name = _clean_name(name, organisation.id)
    # Every member is checked before anything is written.
    members = [_eligible(organisation, uid, f"member_ids.{i}") for i, uid in enumerate(member_ids or [])]
    team = DesignTeam(
        organisation_id=organisation.id, name=name, name_key=name_key(name), description=description.strip(),
        created_by_id=actor.id,
    )  # fmt: skip
    team.members = [DesignTeamMember(user=u, added_by_id=actor.id) for u in dict.fromkeys(members)]
    db.session.add(team)
    try:
        db.session.flush()
    except IntegrityError:  # a concurrent request took the name between our check and our insert
        raise Conflict(f"A team named {name!r} exists already.") from None
    audit.record(
        actor=actor,
        action="team.created",
        obj=team,
        organisation_id=organisation.id,
        after=audit.snapshot(team, TEAM_FIELDS) | {"members": [str(m.user_id) for m in team.members]},
    )
    return team


def update_team(*, actor: User, team_id: uuid.UUID, changes: dict[str, Any]) -> DesignTeam:
    team = _team(team_id, actor)
    authorize(actor, "team.manage", team.organisation)
    before = audit.snapshot(team, TEAM_FIELDS)
    if "name" in changes:
        team.name = _clean_name(changes["name"], team.organisation_id, except_id=team.id)
        team.name_key = name_key(team.name)
    if "description" in changes:
        team.description = (changes["description"] or "").strip()
    db.session.flush()
    audit.record(
        actor=actor, action="team.updated", obj=team, organisation_id=team.organisation_id,
        before=before, after=audit.snapshot(team, TEAM_FIELDS),
    )  # fmt: skip
    return team


def eligible_members(organisation_id: uuid.UUID) -> list[User]:
    """Who may join the organisation's teams: its authors and the authors of its units, by name."""
    org_ids = [o.id for o in unit_choices(organisation_id)]
    author_ids = select(Membership.user_id).where(
        Membership.organisation_id.in_(org_ids), Membership.role == Role.AUTHOR.value
    )
    return list(
        db.session.scalars(
            select(User)
            .where(User.id.in_(author_ids), User.is_active.is_(True))
            .order_by(func.lower(User.name), User.id)
        )
    )


def _eligible(organisation: Organisation, user_id: uuid.UUID, field: str) -> User:
    user = db.session.get(User, user_id)
    if user is None or not authors_in_or_under(user, organisation.id):
        raise ValidationFailed.field(field, "Choose an author of this organisation or of one of its units.")
    return user


def add_member(*, actor: User, team_id: uuid.UUID, user_id: uuid.UUID) -> DesignTeam:
    team = _team(team_id, actor)
    authorize(actor, "team.manage", team.organisation)
    user = _eligible(team.organisation, user_id, "user_id")
    if team.has_member(user):
        raise Conflict(f"{user.name} is on the team already.")
    team.members.append(DesignTeamMember(user=user, added_by_id=actor.id))
    db.session.flush()
    audit.record(
        actor=actor, action="team.member_added", obj=team, organisation_id=team.organisation_id,
        after={"user_id": str(user.id)},
    )  # fmt: skip
    mail.send(
        to=user.email,
        subject=f"You are on the design team {team.name}",
        body=f"{actor.name} added you to the design team {team.name} of {team.organisation.name}. "
        f"You can now edit the team's micro-credentials:\n{_link('/authoring/teams/' + str(team.id))}",
    )
    return team


def remove_member(*, actor: User, team_id: uuid.UUID, user_id: uuid.UUID) -> DesignTeam:
    team = _team(team_id, actor)
    authorize(actor, "team.manage", team.organisation)
    row = next((m for m in team.members if m.user_id == user_id), None)
    if row is None:
        raise NotFound("This person is not on the team.")
    team.members.remove(row)
    db.session.flush()
    audit.record(
        actor=actor, action="team.member_removed", obj=team, organisation_id=team.organisation_id,
        before={"user_id": str(user_id)},
    )  # fmt: skip
    return team


def create_team_credential(*, actor: User, team_id: uuid.UUID, content: dict[str, Any]) -> CredentialVersion:
    """A new micro-credential owned by the team, drafted by one of its members."""
    team = _team(team_id, actor)
    authorize(actor, "team.draft", team)
    return create_micro_credential(actor=actor, organisation_id=team.organisation_id, content=content, team=team)


def set_credential_team(*, actor: User, micro_credential_id: uuid.UUID, team_id: uuid.UUID | None) -> MicroCredential:
    """Give a micro-credential to a team of its organisation, or back to the organisation's authors (None)."""
    micro_credential = db.session.get(MicroCredential, micro_credential_id)
    if micro_credential is None or not can(actor, "team.read", micro_credential.organisation):
        raise NotFound("No such micro-credential.")
    authorize(actor, "team.manage", micro_credential.organisation)
    team = None
    if team_id is not None:
        team = db.session.get(DesignTeam, team_id)
        if team is None or team.organisation_id != micro_credential.organisation_id:
            raise ValidationFailed.field("team_id", "Choose a design team of the micro-credential's organisation.")
    before = {"team_id": str(micro_credential.team_id) if micro_credential.team_id else None}
    micro_credential.team = team
    db.session.flush()
    audit.record(
        actor=actor, action="credential.team_set", obj=micro_credential,
        organisation_id=micro_credential.organisation_id, before=before,
        after={"team_id": str(team.id) if team else None},
    )  # fmt: skip
    return micro_credential


def _link(path: str) -> str:
    return f"{current_app.config['BASE_URL']}{path}"


def notify_team(*, actor: User, version: CredentialVersion, subject: str, text: str) -> int:
    """Mail the owning team's other members about ``version``; returns how many were told (0 without a team)."""
    team = version.micro_credential.team
    if team is None:
        return 0
    link = _link(f"/authoring/versions/{version.id}")
    told = 0
    for row in team.members:
        if row.user_id != actor.id and row.user.is_active and row.user.erased_at is None:
            mail.send(to=row.user.email, subject=subject, body=f"{text}\n\n{link}")
            told += 1
    return told


def may_work_on(user: User | None, version: CredentialVersion) -> bool:
    """Who sees a version's author pages: the organisation's authors, admins and programme leads, its design
    team (from a unit too), and the admins and leads of the organisations above it."""
    return (
        has_role(user, version, Role.AUTHOR, Role.ORG_ADMIN, Role.PROGRAMME_LEAD)
        or leads_above(user, version.organisation_id)
        or can(user, "credential.comment", version)
    )
