"""Pages for design teams (routes on the authoring blueprint of ``views``): the organisation's teams, one team
with its members and micro-credentials, a version's changes history, and the programme lead's page with its
CSV export. The services hold every rule; these pages only offer what the services allow."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError as SchemaValidationError

from core.authz import can
from core.db import db
from core.errors import ServiceError, flatten_messages
from core.models import Organisation, Role, User
from credentials.authoring import changes, programme, teams
from credentials.authoring import schemas as s
from credentials.authoring.models import CredentialVersion, MicroCredential
from credentials.authoring.team_models import DesignTeam, may_draft_for
from credentials.authoring.team_schemas import TeamMemberSchema
from credentials.authoring.views import Page, _user, _version, bp

TEAM_ROLES = (Role.AUTHOR.value, Role.ORG_ADMIN.value, Role.PROGRAMME_LEAD.value)


def _team_organisations(user: User) -> list[Organisation]:
    """Organisations whose teams ``user`` may see (all of them for a platform admin), by name."""
    if user.is_platform_admin:
        return list(db.session.scalars(db.select(Organisation).order_by(Organisation.name)))
    seen = {m.organisation_id: m.organisation for m in user.memberships if m.role in TEAM_ROLES}
    return sorted(seen.values(), key=lambda o: o.name)


def _chosen(organisations: list[Organisation]) -> Organisation:
    if not organisations:
        abort(403, "Only an organisation's authors, admins and programme leads see its design teams.")
    wanted = request.args.get("org", "")
    return next((o for o in organisations if str(o.id) == wanted), organisations[0])


def _fail(exc: ServiceError) -> None:
    db.session.rollback()
    flash(_("Not done: %(errors)s", errors=exc.errors[0]["detail"] if exc.errors else exc.detail))


@bp.get("/teams")
def team_list() -> Page:
    user = _user()
    organisations = _team_organisations(user)
    organisation = _chosen(organisations)
    return render_template(
        "credentials/authoring/teams.html",
        organisation=organisation,
        organisations=organisations,
        teams=teams.list_teams(actor=user, organisation_id=organisation.id),
        my_teams=teams.teams_of(user),
        may_manage=can(user, "team.manage", organisation),
        may_lead=can(user, "programme.read", organisation),
    )


@bp.post("/teams")
def team_create() -> Page:
    user = _user()
    try:
        organisation_id = uuid.UUID(request.form.get("organisation", ""))
    except ValueError:
        abort(400, "Choose an organisation.")
    try:
        team = teams.create_team(
            actor=user,
            organisation_id=organisation_id,
            name=request.form.get("name", ""),
            description=request.form.get("description", ""),
        )
    except ServiceError as exc:
        _fail(exc)
        return redirect(url_for("authoring.team_list", org=organisation_id))
    flash(_("Team %(name)s created. Add its members.", name=team.name))
    return redirect(url_for("authoring.team_page", team_id=team.id))


def _newest_versions(team: DesignTeam) -> list[CredentialVersion]:
    owned = db.session.scalars(
        db.select(MicroCredential).where(MicroCredential.team_id == team.id).order_by(MicroCredential.created_at)
    )
    return [mc.versions[-1] for mc in owned if mc.versions]


@bp.get("/teams/<uuid:team_id>")
def team_page(team_id: uuid.UUID) -> Page:
    user = _user()
    team = teams.get_team(actor=user, team_id=team_id)
    may_manage = can(user, "team.manage", team.organisation)
    on_team = {m.user_id for m in team.members}
    unowned: list[CredentialVersion] = []
    if may_manage:
        others = db.session.scalars(
            db.select(MicroCredential)
            .where(MicroCredential.organisation_id == team.organisation_id)
            .where((MicroCredential.team_id != team.id) | MicroCredential.team_id.is_(None))
            .order_by(MicroCredential.created_at)
        )
        unowned = [mc.versions[-1] for mc in others if mc.versions]
    return render_template(
        "credentials/authoring/team.html",
        team=team,
        versions=_newest_versions(team),
        candidates=[u for u in teams.eligible_members(team.organisation_id) if u.id not in on_team]
        if may_manage
        else [],
        unowned=unowned,
        may_manage=may_manage,
        may_draft=may_draft_for(user, team),
        member_rows=teams_member_rows(team),
    )


def teams_member_rows(team: DesignTeam) -> list[dict[str, Any]]:
    """Each member with their name, unit and job role (as the API shows them)."""
    return [{"row": m, **TeamMemberSchema().dump(m)} for m in team.members]


def _uuid_form(name: str) -> uuid.UUID:
    try:
        return uuid.UUID(request.form.get(name, ""))
    except ValueError:
        abort(400, f"Choose a {name.replace('_', ' ')}.")


@bp.post("/teams/<uuid:team_id>/edit")
def team_update(team_id: uuid.UUID) -> Page:
    changes_ = {k: request.form[k] for k in ("name", "description") if k in request.form}
    try:
        teams.update_team(actor=_user(), team_id=team_id, changes=changes_)
    except ServiceError as exc:
        _fail(exc)
    else:
        flash(_("Team saved."))
    return redirect(url_for("authoring.team_page", team_id=team_id))


@bp.post("/teams/<uuid:team_id>/members")
def team_add_member(team_id: uuid.UUID) -> Page:
    try:
        team = teams.add_member(actor=_user(), team_id=team_id, user_id=_uuid_form("user_id"))
    except ServiceError as exc:
        _fail(exc)
    else:
        flash(_("%(name)s joined the team.", name=team.members[-1].user.name))
    return redirect(url_for("authoring.team_page", team_id=team_id))


@bp.post("/teams/<uuid:team_id>/members/<uuid:user_id>/remove")
def team_remove_member(team_id: uuid.UUID, user_id: uuid.UUID) -> Page:
    try:
        teams.remove_member(actor=_user(), team_id=team_id, user_id=user_id)
    except ServiceError as exc:
        _fail(exc)
    else:
        flash(_("Taken off the team."))
    return redirect(url_for("authoring.team_page", team_id=team_id))


@bp.post("/teams/<uuid:team_id>/credentials")
def team_new_credential(team_id: uuid.UUID) -> Page:
    try:
        content = s.VersionContentSchema().load({"title": request.form.get("title", "")})
        version = teams.create_team_credential(actor=_user(), team_id=team_id, content=content)
    except SchemaValidationError as exc:
        flash(_("Not created: %(flatten_messages)s", flatten_messages=flatten_messages(exc.messages)[0]["detail"]))
    except ServiceError as exc:
        _fail(exc)
    else:
        flash(_("Draft created for the team. Fill in the rest and save."))
        return redirect(url_for("authoring.edit", version_id=version.id))
    return redirect(url_for("authoring.team_page", team_id=team_id))


@bp.post("/teams/<uuid:team_id>/assign")
def team_assign(team_id: uuid.UUID) -> Page:
    try:
        teams.set_credential_team(actor=_user(), micro_credential_id=_uuid_form("micro_credential_id"), team_id=team_id)
    except ServiceError as exc:
        _fail(exc)
    else:
        flash(_("The micro-credential now belongs to this team."))
    return redirect(url_for("authoring.team_page", team_id=team_id))


@bp.get("/versions/<uuid:version_id>/changes")
def version_changes(version_id: uuid.UUID) -> Page:
    """Every edit and review step of the version: who, when, which fields."""
    version = _version(version_id)
    entries = changes.list_changes(actor=_user(), version_id=version.id)
    return render_template(
        "credentials/authoring/changes.html",
        version=version,
        tab="changes",
        versions=list(version.micro_credential.versions),
        entries=entries,
    )


def _programme_args() -> tuple[Organisation, str | None, uuid.UUID | None]:
    user = _user()
    organisation = _chosen([o for o in _team_organisations(user) if can(user, "programme.read", o)])
    stage = request.args.get("state") or None
    stage = stage if stage in programme.STAGES else None
    try:
        team_id = uuid.UUID(request.args["team"]) if request.args.get("team") else None
    except ValueError:
        team_id = None
    return organisation, stage, team_id


@bp.get("/programme")
def programme_page() -> Page:
    """Every design team of an organisation and its units, with its micro-credentials' stages."""
    user = _user()
    organisation, stage, team_id = _programme_args()
    try:
        report = programme.programme(actor=user, organisation_id=organisation.id, stage=stage, team_id=team_id)
    except ServiceError:  # a team of another organisation in the address: show them all
        team_id = None
        report = programme.programme(actor=user, organisation_id=organisation.id, stage=stage)
    return render_template(
        "credentials/authoring/programme.html",
        report=report,
        organisations=[o for o in _team_organisations(user) if can(user, "programme.read", o)],
        stage=stage or "",
        team_id=str(team_id) if team_id else "",
        stages=programme.STAGES,
    )


@bp.get("/programme.csv")
def programme_csv() -> Response:
    user = _user()
    organisation, stage, team_id = _programme_args()
    report = programme.programme(actor=user, organisation_id=organisation.id, stage=stage, team_id=team_id)
    return Response(
        programme.as_csv(report),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="programme-{organisation.slug}.csv"'},
    )


def _is_programme_lead(user: User | None) -> bool:
    return user is not None and any(m.role == Role.PROGRAMME_LEAD.value for m in user.memberships)


def init_app() -> None:
    """The programme page in the main navigation, for programme leads (admins reach it from their lists)."""
    from core.views import register_nav

    register_nav(_l("Programme"), "authoring.programme_page", visible=_is_programme_lead, order=21)
