"""Web pages for authors: their organisations' micro-credentials, the editor, standards picker, preview,
review and publication, version history with differences, and stacks.

Every page works without JavaScript: the editor is one ordinary form whose repeating rows (requirements,
rubric criteria and their levels) always offer a blank row to fill, and ``authoring/editor.js`` only adds
"add another" buttons and search-as-you-type. Views translate form fields to the API's content document,
load it with the API's schema and call the services; the services hold every rule."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, NoReturn

from flask import Blueprint, Flask, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError as SchemaValidationError
from werkzeug.wrappers import Response as WerkzeugResponse

from core.authz import can
from core.db import db
from core.errors import ServiceError, flatten_messages
from core.i18n import label
from core.models import Organisation, Role, User
from core.views import register_nav, require_sign_in, signed_in_user, text_arg
from credentials.authoring import catalogue, publication, teams
from credentials.authoring import schemas as s
from credentials.authoring import versions as version_rules
from credentials.authoring.forms import LISTS, field_errors, parse, rows_from_form, rows_of
from credentials.authoring.models import (
    ACHIEVEMENT_TYPES,
    FILE_TYPES,
    CredentialVersion,
    EvidenceKind,
    VersionState,
    achievement_type_label,
)
from standards import frameworks as standards

bp = Blueprint(
    "authoring",
    __name__,
    url_prefix="/authoring",
    template_folder="templates",
    static_folder="static/authoring",
    static_url_path="/static",
)


Page = str | WerkzeugResponse | tuple[str, int]


PAGE_SIZE = 50


_user = signed_in_user


def _author_organisations(user: User | None) -> list[Organisation]:
    """Organisations whose credentials ``user`` may author (all of them for a platform admin)."""
    if user is None:
        return []
    if user.is_platform_admin:
        return list(db.session.scalars(db.select(Organisation).order_by(Organisation.name)))
    seen: dict[uuid.UUID, Organisation] = {}
    for membership in user.memberships:
        if membership.role in (Role.AUTHOR.value, Role.ORG_ADMIN.value):
            seen.setdefault(membership.organisation_id, membership.organisation)
    return sorted(seen.values(), key=lambda o: o.name)


def is_author(user: User | None) -> bool:
    return bool(_author_organisations(user))


require_sign_in(bp)


def _not_an_author(user: User) -> NoReturn:
    """Instead of a bare 403: what to do to become an author (create an organisation, or ask an admin)."""
    html = render_template("credentials/authoring/not_an_author.html", may_create=can(user, "organisation.create"))
    abort(make_response(html, 403))


def _chosen_organisation(user: User) -> Organisation:
    """The organisation named by ``?org=`` among those ``user`` authors for (the first by default)."""
    organisations = _author_organisations(user)
    if not organisations:
        _not_an_author(user)
    wanted = request.args.get("org", "")
    return next((o for o in organisations if str(o.id) == wanted), organisations[0])


@bp.get("/")
def index() -> Page:
    """The newest version of each of the chosen organisation's micro-credentials."""
    user = _user()
    organisation = _chosen_organisation(user)
    q = text_arg("q")
    state = request.args.get("state") or None
    if state not in {None, *(v.value for v in VersionState)}:
        state = None
    page = version_rules.list_organisation_credentials(
        actor=user, organisation_id=organisation.id, page=1, page_size=200, q=q or None, state=state
    )
    return render_template(
        "credentials/authoring/index.html",
        organisation=organisation,
        organisations=_author_organisations(user),
        versions=page.items,
        total=page.total,
        q=q,
        state=state or "",
        states=[v.value for v in VersionState],
        may_see_teams=can(user, "team.read", organisation),
        may_lead=can(user, "programme.read", organisation),
    )


@bp.route("/new", methods=["GET", "POST"])
def create() -> Page:
    user = _user()
    organisations = _author_organisations(user)
    if not organisations:
        _not_an_author(user)
    errors: dict[str, list[str]] = {}
    values = {
        "title": request.form.get("title", ""),
        "organisation": request.form.get("organisation", request.args.get("org", "")),
        "team": request.form.get("team", request.args.get("team", "")),
    }
    my_teams = [t for t in teams.teams_of(user) if can(user, "team.draft", t)]
    if request.method == "POST":
        try:
            content = s.VersionContentSchema().load({"title": values["title"]})
            if values["team"]:
                version = teams.create_team_credential(actor=user, team_id=uuid.UUID(values["team"]), content=content)
            else:
                version = version_rules.create_micro_credential(
                    actor=user, organisation_id=uuid.UUID(values["organisation"]), content=content
                )
        except SchemaValidationError as exc:
            errors = field_errors(flatten_messages(exc.messages), None)
        except ValueError:
            errors = {"team" if values["team"] else "organisation": [_("Choose one from the list.")]}
        except ServiceError as exc:
            errors = field_errors(exc.errors, None) or {"_form": [exc.detail]}
        else:
            flash(_("Draft created. Fill in the rest and save."))
            return redirect(url_for("authoring.edit", version_id=version.id))
    return render_template(
        "credentials/authoring/new.html", organisations=organisations, teams=my_teams, values=values, errors=errors
    ), (422 if errors else 200)


def _version(version_id: uuid.UUID) -> CredentialVersion:
    user = _user()
    version = version_rules.get_version(actor=user, version_id=version_id)
    if not teams.may_work_on(user, version):
        abort(403, "Only the organisation's authors work on its micro-credentials.")
    return version


def _render_version(template: str, version: CredentialVersion, tab: str, **context: Any) -> str:
    return render_template(
        template,
        version=version,
        tab=tab,
        versions=list(version.micro_credential.versions),
        **context,
    )


@bp.get("/versions/<uuid:version_id>")
def overview(version_id: uuid.UUID) -> Page:
    """State, the next steps the author can take, and the team's comments."""
    version = _version(version_id)
    comments = publication.list_comments(actor=_user(), version_id=version.id)
    complete_errors = version_rules.missing_for_review(version) if version.is_editable else []
    return _render_version(
        "credentials/authoring/overview.html",
        version,
        "overview",
        comments=comments,
        missing=complete_errors,
        user=_user(),
        may_edit=can(_user(), "credential.edit", version),
        may_review=can(_user(), "credential.review", version) and version.review_requested_by_id != _user().id,
        may_comment=can(_user(), "credential.comment", version),
    )


@bp.route("/versions/<uuid:version_id>/edit", methods=["GET", "POST"])
def edit(version_id: uuid.UUID) -> Page:
    version = _version(version_id)
    if not version.is_editable:
        flash(
            _(
                "Version %(number)s is %(state)s; only drafts can be edited.",
                number=version.number,
                state=label(version.state),
            )
        )
        return redirect(url_for("authoring.overview", version_id=version.id))
    if not can(_user(), "credential.edit", version):
        flash("Only the members of its design team edit this micro-credential.")
        return redirect(url_for("authoring.overview", version_id=version.id))
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        rows = rows_from_form(request.form)
        parsed = parse(rows)
        try:
            if parsed.errors:
                raise ServiceError("Some numbers are not numbers.", errors=parsed.errors)
            changes = s.UpdateVersionSchema().load(parsed.content)
            version_rules.update_draft(
                actor=_user(),
                version_id=version.id,
                changes=changes,
                expected_version=request.form.get("lock_version", type=int),
            )
        except SchemaValidationError as exc:
            errors = field_errors(flatten_messages(exc.messages), parsed)
        except ServiceError as exc:
            errors = field_errors(exc.errors, parsed) or {"_form": [exc.detail]}
        else:
            flash(_("Saved."))
            return redirect(url_for("authoring.edit", version_id=version.id))
        db.session.rollback()
        version = _version(version_id)
    else:
        rows = rows_of(version)
    return _render_version(
        "credentials/authoring/edit.html",
        version,
        "edit",
        rows=rows,
        errors=errors,
        evidence_kinds=[k.value for k in EvidenceKind],
        achievement_types=ACHIEVEMENT_TYPES,
        lists=LISTS,
        file_types=sorted(FILE_TYPES),
    ), (422 if errors else 200)


@bp.route("/versions/<uuid:version_id>/standards", methods=["GET", "POST"])
def alignments(version_id: uuid.UUID) -> Page:
    """The standards picker: search by code or words, or browse a framework's tree; align or remove."""
    version = _version(version_id)
    user = _user()
    if request.method == "POST":
        current = [a.standard_item_id for a in version.alignments]
        try:
            item_id = uuid.UUID(request.form.get("item", ""))
        except ValueError:
            abort(400, "Choose a standard item.")
        wanted = (
            [i for i in current if i != item_id]
            if request.form.get("action") == "remove"
            else [*current, item_id]
            if item_id not in current
            else current
        )
        try:
            version_rules.update_draft(actor=user, version_id=version.id, changes={"alignments": wanted})
        except ServiceError as exc:
            flash(_("Not changed: %(errors)s", errors=exc.errors[0]["detail"] if exc.errors else exc.detail))
        else:
            flash(_("Alignment removed.") if request.form.get(_("action")) == _("remove") else _("Aligned."))
        return redirect(url_for("authoring.alignments", version_id=version.id, **_picker_args()))
    q = text_arg("q")
    framework_id = _uuid_arg("framework")
    results = standards.search_items(q=q, framework_id=framework_id, page=1, page_size=25) if q else None
    tree = _picker_tree(framework_id) if framework_id and not q else None
    frameworks = standards.list_frameworks(page=1, page_size=200).items
    return _render_version(
        "credentials/authoring/standards.html",
        version,
        "standards",
        aligned=catalogue.aligned_items(version),
        aligned_ids={a.standard_item_id for a in version.alignments},
        q=q,
        framework_id=framework_id,
        frameworks=frameworks,
        results=results,
        tree=tree,
    )


TREE_LIMIT = 400  # items a browsed tree shows at most; deeper levels are found by search


def _picker_tree(framework_id: uuid.UUID) -> list[standards.TreeNode]:
    """The framework's tree, as deep as fits in ``TREE_LIMIT`` items (a big framework shows its top levels)."""

    def size(nodes: list[standards.TreeNode]) -> int:
        return sum(1 + size(n.children) for n in nodes)

    for depth in (3, 1, 0):  # depth 0 is the top level
        nodes = standards.tree(framework_id=framework_id, max_depth=depth)
        if depth == 0 or size(nodes) <= TREE_LIMIT:
            return nodes
    return nodes  # pragma: no cover (the loop always returns)


def _picker_args() -> dict[str, str]:
    return {k: v for k in ("q", "framework") if (v := request.form.get(k, ""))}


def _uuid_arg(name: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(request.args.get(name, ""))
    except ValueError:
        return None


@bp.get("/versions/<uuid:version_id>/preview")
def preview(version_id: uuid.UUID) -> Page:
    version = _version(version_id)
    return _render_version(
        "credentials/authoring/preview.html", version, "preview", aligned=catalogue.aligned_items(version)
    )


@bp.get("/versions/<uuid:version_id>/history")
def history(version_id: uuid.UUID) -> Page:
    """Every version, and what changed from the one compared against (the previous by default)."""
    version = _version(version_id)
    user = _user()
    versions = version_rules.visible_versions(user, version.micro_credential)
    against_id = _uuid_arg("against")
    if against_id is None:
        older = [v for v in versions if v.number < version.number]
        against_id = older[-1].id if older else None
    changes = None
    if against_id is not None:
        changes = version_rules.diff(actor=user, version_id=version.id, against_id=against_id)["changes"]
    return _render_version(
        "credentials/authoring/history.html", version, "history", changes=changes, against_id=against_id
    )


_STEPS: dict[str, tuple[Callable[..., Any], str, str | None]] = {
    # step: (service, flash message, form field passed as ``comment`` or ``reason``)
    "request_review": (publication.request_review, _l("Review requested. A teammate can now approve it."), "comment"),
    "withdraw_review": (publication.withdraw_review, _l("Review withdrawn; the version is a draft again."), None),
    "approve": (publication.approve, _l("Approved. It can now be published."), "comment"),
    "request_changes": (publication.request_changes, _l("Sent back to the author with your comment."), "comment"),
    "publish": (publication.publish, _l("Published. Earners can find it in the catalogue."), None),
    "retire": (publication.retire, _l("Retired: no new submissions; badges already issued stay valid."), "reason"),
}


@bp.post(
    "/versions/<uuid:version_id>/<any(request_review, withdraw_review, approve, request_changes, publish, retire):step>"
)
def transition(version_id: uuid.UUID, step: str) -> Page:
    version = _version(version_id)
    call, message, text_field = _STEPS[step]
    kwargs: dict[str, Any] = {}
    if text_field:
        text = (request.form.get(text_field) or "").strip()
        if text or step in {"request_changes", "retire"}:
            kwargs[text_field] = text
    try:
        if step in {"request_changes", "retire"} and not kwargs[text_field]:
            raise ServiceError(f"Write a {'comment' if text_field == 'comment' else 'reason'} first.")
        call(actor=_user(), version_id=version.id, **kwargs)
    except ServiceError as exc:
        db.session.rollback()
        flash(_("Not done: %(detail)s", detail=exc.detail))
    else:
        flash(str(message))
    return redirect(url_for("authoring.overview", version_id=version_id))


@bp.post("/versions/<uuid:version_id>/comments")
def comment(version_id: uuid.UUID) -> Page:
    version = _version(version_id)
    body = (request.form.get("body") or "").strip()
    if not body:
        flash(_("Not added: write a comment first."))
    else:
        try:
            publication.add_comment(
                actor=_user(), version_id=version.id, body=s.CommentInSchema().load({"body": body})["body"]
            )
        except SchemaValidationError as exc:
            flash(_("Not added: %(flatten_messages)s", flatten_messages=flatten_messages(exc.messages)[0]["detail"]))
        else:
            flash(_("Comment added."))
    return redirect(url_for("authoring.overview", version_id=version_id) + "#comments")


@bp.post("/credentials/<uuid:micro_credential_id>/new-version")
def start_new_version(micro_credential_id: uuid.UUID) -> Page:
    try:
        version = version_rules.new_version(actor=_user(), micro_credential_id=micro_credential_id)
    except ServiceError as exc:
        db.session.rollback()
        flash(_("Not done: %(detail)s", detail=exc.detail))
        return redirect(request.referrer or url_for("authoring.index"))
    flash(_("Version %(number)s started as a draft.", number=version.number))
    return redirect(url_for("authoring.edit", version_id=version.id))


def init_app(app: Flask) -> None:
    """Register the author pages and the public catalogue (one call from ``credentials.init_app``)."""
    from credentials.authoring import catalogue_views

    app.register_blueprint(bp)
    app.add_template_filter(achievement_type_label, "achievement_type")
    catalogue_views.init_app(app)
    register_nav(_l("My credentials"), "authoring.index", visible=is_author, order=20)
