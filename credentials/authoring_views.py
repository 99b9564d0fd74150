"""Web pages for authors: their organisations' micro-credentials, the editor, standards picker, preview,
review and publication, version history with differences, and stacks.

Every page works without JavaScript: the editor is one ordinary form whose repeating rows (requirements,
rubric criteria and their levels) always offer a blank row to fill, and ``authoring/editor.js`` only adds
"add another" buttons and search-as-you-type. Views translate form fields to the API's content document,
load it with the API's schema and call the services; the services hold every rule.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError as SchemaValidationError
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as WerkzeugResponse

from core.authz import has_role
from core.db import db
from core.errors import ServiceError, flatten_messages
from core.models import Organisation, Role, User
from core.views import register_nav, require_sign_in, signed_in_user, text_arg
from credentials import schemas as s
from credentials import services
from credentials.models import ACHIEVEMENT_TYPES, FILE_TYPES, CredentialVersion, EvidenceKind, StackState, VersionState
from standards import services as standards

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
BLANK_LEVELS = 4  # level rows a criterion offers at least (most rubrics have three or four)
SCALARS = ("title", "short_description", "competency_statement", "key_method")
NUMBERS = {"estimated_hours": float, "credits": float, "validity_days": int, "max_attempts": int}
# Simple repeating rows: content field -> its columns (a row with every column blank is ignored).
LISTS = {
    "method_components": ("name", "description"),
    "resources": ("title", "url", "description"),
    "supporting_research": ("citation", "url"),
}


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


# --- form <-> content document ------------------------------------------------------------------------


def _blank_requirement() -> dict[str, Any]:
    return {"key": "", "title": "", "prompt": "", "evidence_kind": "text", "required": True, "min_words": "",
            "max_words": "", "allowed_file_types": [], "min_files": "", "max_files": ""}  # fmt: skip


def _blank_level() -> dict[str, Any]:
    return {"name": "", "points": "", "descriptor": ""}


def _blank_criterion() -> dict[str, Any]:
    return {"key": "", "name": "", "description": "", "requirements": "", "levels": []}


def _pad_levels(criterion: dict[str, Any]) -> dict[str, Any]:
    levels = list(criterion["levels"])
    while len(levels) < max(BLANK_LEVELS, len(criterion["levels"]) + 1):
        levels.append(_blank_level())
    return {**criterion, "levels": levels}


def _rows_of(version: CredentialVersion) -> dict[str, Any]:
    """The editor's rows for a stored version: its content plus one blank row of each kind."""
    content = services.content_of(version)
    rule = content["passing_rule"] or {}
    return {
        "fields": {
            **{name: content[name] or "" for name in SCALARS},
            "tags": ", ".join(content["tags"] or []),
            "achievement_type": content["achievement_type"] or "MicroCredential",
            **{name: "" if content[name] is None else _number_text(content[name]) for name in NUMBERS},
        },
        "requirements": [
            {**r, **{k: "" if r[k] is None else r[k] for k in ("min_words", "max_words", "min_files", "max_files")}}
            for r in content["requirements"]
        ]
        + [_blank_requirement()],
        "rubric": [
            _pad_levels({**c, "requirements": ", ".join(c["requirements"])})
            for c in [*content["rubric"], _blank_criterion()]
        ],
        "passing_rule": {
            "level": rule.get("level") or "",
            "points": "" if rule.get("points") is None else rule["points"],
        },
        **{
            name: [{c: row.get(c) or "" for c in columns} for row in content[name] or []] + [dict.fromkeys(columns, "")]
            for name, columns in LISTS.items()
        },
    }


def _number_text(value: float | int) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _rows_from_form(form: MultiDict[str, str]) -> dict[str, Any]:
    """The editor's rows as posted (kept verbatim, so a refused save shows what the author typed)."""

    def count(name: str, limit: int) -> int:
        return min(max(form.get(name, 0, type=int) or 0, 0), limit)

    requirements = []
    for i in range(count("requirement_count", 60)):
        p = f"requirements-{i}-"
        requirements.append(
            {
                **{k: form.get(p + k, "") for k in ("key", "title", "prompt", "evidence_kind")},
                **{k: form.get(p + k, "") for k in ("min_words", "max_words", "min_files", "max_files")},
                "required": p + "required" in form,
                "allowed_file_types": form.getlist(p + "allowed_file_types"),
                "remove": p + "remove" in form,
            }
        )
    rubric = []
    for i in range(count("criterion_count", 60)):
        p = f"rubric-{i}-"
        levels = [
            {k: form.get(f"{p}levels-{j}-{k}", "") for k in ("name", "points", "descriptor")}
            for j in range(count(p + "level_count", 20))
        ]
        rubric.append(
            {
                **{k: form.get(p + k, "") for k in ("key", "name", "description", "requirements")},
                "levels": levels,
                "remove": p + "remove" in form,
            }
        )
    lists = {
        name: [{c: form.get(f"{name}-{i}-{c}", "") for c in columns} for i in range(count(f"{name}_count", 60))]
        for name, columns in LISTS.items()
    }
    return {
        **lists,
        "fields": {name: form.get(name, "") for name in (*SCALARS, "tags", "achievement_type", *NUMBERS)},
        "requirements": requirements,
        "rubric": rubric,
        "passing_rule": {"level": form.get("passing_rule-level", ""), "points": form.get("passing_rule-points", "")},
    }


def _blank(row: dict[str, Any], *names: str) -> bool:
    return not any(str(row.get(n) or "").strip() for n in names)


class _Parsed:
    """A content document built from rows, with where each of its list entries came from in the form."""

    def __init__(self) -> None:
        self.content: dict[str, Any] = {}
        self.errors: list[dict[str, str]] = []
        self.requirement_rows: list[int] = []
        self.criterion_rows: list[int] = []
        self.level_rows: dict[int, list[int]] = {}

    def number(self, raw: Any, name: str, kind: Callable[[str], Any] = int) -> Any:
        text = str(raw or "").strip()
        if not text:
            return None
        try:
            return kind(text)
        except ValueError:
            self.errors.append({"field": name, "detail": "Enter a number."})
            return None


def _parse(rows: dict[str, Any]) -> _Parsed:
    parsed = _Parsed()
    fields = rows["fields"]
    content: dict[str, Any] = {name: fields[name] for name in SCALARS}
    content["tags"] = [t.strip() for t in fields["tags"].split(",") if t.strip()]
    content["achievement_type"] = fields["achievement_type"].strip() or "MicroCredential"
    for name, columns in LISTS.items():
        kept = [row for row in rows[name] if not _blank(row, *columns)]
        content[name] = [{c: (row[c] or None) if c == "url" else row[c] for c in columns} for row in kept]
        setattr(parsed, f"{name}_rows", [i for i, row in enumerate(rows[name]) if not _blank(row, *columns)])
    for name, kind in NUMBERS.items():
        value = parsed.number(fields[name], name, kind)
        if value is not None or name != "max_attempts":
            content[name] = value
    content["requirements"] = []
    for i, r in enumerate(rows["requirements"]):
        if r.get("remove") or _blank(r, "key", "title", "prompt"):
            continue
        p = f"requirements.{i}."
        requirement: dict[str, Any] = {
            "key": r["key"].strip(),
            "title": r["title"],
            "prompt": r["prompt"],
            "evidence_kind": r["evidence_kind"],
            "required": bool(r["required"]),
        }
        for k in ("min_words", "max_words", "min_files", "max_files"):
            value = parsed.number(r[k], p + k)
            if value is not None:
                requirement[k] = value
        if r["allowed_file_types"]:
            requirement["allowed_file_types"] = r["allowed_file_types"]
        content["requirements"].append(requirement)
        parsed.requirement_rows.append(i)
    content["rubric"] = []
    for i, c in enumerate(rows["rubric"]):
        levels = [lv for lv in c["levels"] if not _blank(lv, "name", "descriptor", "points")]
        if c.get("remove") or (_blank(c, "key", "name", "description", "requirements") and not levels):
            continue
        ci = len(content["rubric"])
        parsed.level_rows[ci] = []
        criterion: dict[str, Any] = {
            "key": c["key"].strip(),
            "name": c["name"],
            "description": c["description"],
            "requirements": [k.strip() for k in c["requirements"].split(",") if k.strip()],
            "levels": [],
        }
        for j, lv in enumerate(c["levels"]):
            if _blank(lv, "name", "descriptor", "points"):
                continue
            points = parsed.number(lv["points"], f"rubric.{i}.levels.{j}.points")
            criterion["levels"].append({"name": lv["name"], "descriptor": lv["descriptor"], "points": points or 0})
            parsed.level_rows[ci].append(j)
        content["rubric"].append(criterion)
        parsed.criterion_rows.append(i)
    rule = rows["passing_rule"]
    level = rule["level"].strip() or None
    points = parsed.number(rule["points"], "passing_rule.points")
    content["passing_rule"] = None if level is None and points is None else {"level": level, "points": points}
    parsed.content = content
    return parsed


def _input_name(path: str, parsed: _Parsed) -> str:
    """The form field an error's content path points at (content indexes mapped back to form rows)."""
    parts = path.split(".")
    try:
        if parts[0] in LISTS and len(parts) > 1:
            parts[1] = str(getattr(parsed, f"{parts[0]}_rows")[int(parts[1])])
        elif parts[0] == "requirements" and len(parts) > 1:
            parts[1] = str(parsed.requirement_rows[int(parts[1])])
        elif parts[0] == "rubric" and len(parts) > 1:
            ci = int(parts[1])
            parts[1] = str(parsed.criterion_rows[ci])
            if len(parts) > 3 and parts[2] == "levels":
                parts[3] = str(parsed.level_rows[ci][int(parts[3])])
            elif len(parts) > 3 and parts[2] == "requirements":
                parts = parts[:3]
    except (IndexError, ValueError, KeyError, AttributeError):
        return path.replace(".", "-")
    if parts[0] == "tags":
        parts = parts[:1]
    return "-".join(parts)


def _field_errors(errors: list[dict[str, str]], parsed: _Parsed | None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for error in errors:
        field = error.get("field", "")
        name = _input_name(field, parsed) if parsed and field else field.replace(".", "-")
        out.setdefault(name or "_form", []).append(error["detail"])
    return out


# --- pages: my credentials ------------------------------------------------------------------------------


def _chosen_organisation(user: User) -> Organisation:
    """The organisation named by ``?org=`` among those ``user`` authors for (the first by default); 403 if none."""
    organisations = _author_organisations(user)
    if not organisations:
        abort(403, "You are not an author in any organisation.")
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
    page = services.list_organisation_credentials(
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
    )


@bp.route("/new", methods=["GET", "POST"])
def create() -> Page:
    user = _user()
    organisations = _author_organisations(user)
    if not organisations:
        abort(403, "You are not an author in any organisation.")
    errors: dict[str, list[str]] = {}
    values = {"title": request.form.get("title", ""), "organisation": request.form.get("organisation", "")}
    if request.method == "POST":
        try:
            content = s.VersionContentSchema().load({"title": values["title"]})
            organisation_id = uuid.UUID(values["organisation"])
            version = services.create_micro_credential(actor=user, organisation_id=organisation_id, content=content)
        except SchemaValidationError as exc:
            errors = _field_errors(flatten_messages(exc.messages), None)
        except ValueError:
            errors = {"organisation": ["Choose an organisation."]}
        except ServiceError as exc:
            errors = _field_errors(exc.errors, None) or {"_form": [exc.detail]}
        else:
            flash("Draft created. Fill in the rest and save.")
            return redirect(url_for("authoring.edit", version_id=version.id))
    return render_template(
        "credentials/authoring/new.html", organisations=organisations, values=values, errors=errors
    ), (422 if errors else 200)


# --- pages: one version --------------------------------------------------------------------------------


def _version(version_id: uuid.UUID) -> CredentialVersion:
    user = _user()
    version = services.get_version(actor=user, version_id=version_id)
    if not has_role(user, version, Role.AUTHOR, Role.ORG_ADMIN):
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
    comments = services.list_comments(actor=_user(), version_id=version.id)
    complete_errors = services.missing_for_review(version) if version.is_editable else []
    return _render_version(
        "credentials/authoring/overview.html",
        version,
        "overview",
        comments=comments,
        missing=complete_errors,
        user=_user(),
    )


@bp.route("/versions/<uuid:version_id>/edit", methods=["GET", "POST"])
def edit(version_id: uuid.UUID) -> Page:
    version = _version(version_id)
    if not version.is_editable:
        flash(f"Version {version.number} is {version.state.replace('_', ' ')}; only drafts can be edited.")
        return redirect(url_for("authoring.overview", version_id=version.id))
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        rows = _rows_from_form(request.form)
        parsed = _parse(rows)
        try:
            if parsed.errors:
                raise ServiceError("Some numbers are not numbers.", errors=parsed.errors)
            changes = s.UpdateVersionSchema().load(parsed.content)
            services.update_draft(
                actor=_user(),
                version_id=version.id,
                changes=changes,
                expected_version=request.form.get("lock_version", type=int),
            )
        except SchemaValidationError as exc:
            errors = _field_errors(flatten_messages(exc.messages), parsed)
        except ServiceError as exc:
            errors = _field_errors(exc.errors, parsed) or {"_form": [exc.detail]}
        else:
            flash("Saved.")
            return redirect(url_for("authoring.edit", version_id=version.id))
        db.session.rollback()
        version = _version(version_id)
    else:
        rows = _rows_of(version)
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
            services.update_draft(actor=user, version_id=version.id, changes={"alignments": wanted})
        except ServiceError as exc:
            flash(f"Not changed: {exc.errors[0]['detail'] if exc.errors else exc.detail}")
        else:
            flash("Alignment removed." if request.form.get("action") == "remove" else "Aligned.")
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
        aligned=services.aligned_items(version),
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
        "credentials/authoring/preview.html", version, "preview", aligned=services.aligned_items(version)
    )


@bp.get("/versions/<uuid:version_id>/history")
def history(version_id: uuid.UUID) -> Page:
    """Every version, and what changed from the one compared against (the previous by default)."""
    version = _version(version_id)
    user = _user()
    versions = services.visible_versions(user, version.micro_credential)
    against_id = _uuid_arg("against")
    if against_id is None:
        older = [v for v in versions if v.number < version.number]
        against_id = older[-1].id if older else None
    changes = None
    if against_id is not None:
        changes = services.diff(actor=user, version_id=version.id, against_id=against_id)["changes"]
    return _render_version(
        "credentials/authoring/history.html", version, "history", changes=changes, against_id=against_id
    )


# --- workflow: one POST per step ----------------------------------------------------------------------

_STEPS: dict[str, tuple[Callable[..., Any], str, str | None]] = {
    # step: (service, flash message, form field passed as ``comment`` or ``reason``)
    "request_review": (services.request_review, "Review requested. A teammate can now approve it.", "comment"),
    "withdraw_review": (services.withdraw_review, "Review withdrawn; the version is a draft again.", None),
    "approve": (services.approve, "Approved. It can now be published.", "comment"),
    "request_changes": (services.request_changes, "Sent back to the author with your comment.", "comment"),
    "publish": (services.publish, "Published. Earners can find it in the catalogue.", None),
    "retire": (services.retire, "Retired: no new submissions; badges already issued stay valid.", "reason"),
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
        flash(f"Not done: {exc.detail}")
    else:
        flash(message)
    return redirect(url_for("authoring.overview", version_id=version_id))


@bp.post("/versions/<uuid:version_id>/comments")
def comment(version_id: uuid.UUID) -> Page:
    version = _version(version_id)
    body = (request.form.get("body") or "").strip()
    if not body:
        flash("Not added: write a comment first.")
    else:
        try:
            services.add_comment(
                actor=_user(), version_id=version.id, body=s.CommentInSchema().load({"body": body})["body"]
            )
        except SchemaValidationError as exc:
            flash(f"Not added: {flatten_messages(exc.messages)[0]['detail']}")
        else:
            flash("Comment added.")
    return redirect(url_for("authoring.overview", version_id=version_id) + "#comments")


@bp.post("/credentials/<uuid:micro_credential_id>/new-version")
def start_new_version(micro_credential_id: uuid.UUID) -> Page:
    try:
        version = services.new_version(actor=_user(), micro_credential_id=micro_credential_id)
    except ServiceError as exc:
        db.session.rollback()
        flash(f"Not done: {exc.detail}")
        return redirect(request.referrer or url_for("authoring.index"))
    flash(f"Version {version.number} started as a draft.")
    return redirect(url_for("authoring.edit", version_id=version.id))


# --- stacks ------------------------------------------------------------------------------------------


@bp.get("/stacks")
def stacks() -> Page:
    user = _user()
    organisation = _chosen_organisation(user)
    page = services.list_stacks(actor=user, organisation_id=organisation.id, page=1, page_size=200)
    return render_template(
        "credentials/authoring/stacks.html",
        organisation=organisation,
        organisations=_author_organisations(user),
        stacks=page.items,
    )


def _published_choices(organisation_id: uuid.UUID) -> list[CredentialVersion]:
    """What a stack can hold: the organisation's published micro-credentials (their current versions)."""
    return services.catalogue(organisation=organisation_id, page=1, page_size=200).items


@bp.route("/stacks/new", methods=["GET", "POST"])
@bp.route("/stacks/<uuid:stack_id>", methods=["GET", "POST"])
def stack(stack_id: uuid.UUID | None = None) -> Page:
    user = _user()
    existing = services.get_stack(actor=user, stack_id=stack_id) if stack_id else None
    organisation = db.session.get(Organisation, existing.organisation_id) if existing else _chosen_organisation(user)
    errors: dict[str, list[str]] = {}
    form = request.form
    if request.method == "POST" and form.get("state") in {"published", "retired", "draft"}:
        try:
            services.set_stack_state(actor=user, stack_id=existing.id, state=StackState(form["state"]))  # type: ignore[union-attr]
        except ServiceError as exc:
            db.session.rollback()
            flash(f"Not done: {exc.detail}")
        else:
            flash(f"The stack is {form['state']}.")
        return redirect(url_for("authoring.stack", stack_id=existing.id))  # type: ignore[union-attr]
    if request.method == "POST":
        parsed = _Parsed()
        data = {
            "title": form.get("title", ""),
            "description": form.get("description", ""),
            "micro_credentials": form.getlist("micro_credentials"),
            "required_count": parsed.number(form.get("required_count"), "required_count"),
            "validity_days": parsed.number(form.get("validity_days"), "validity_days"),
        }
        try:
            if parsed.errors:
                raise ServiceError("Some numbers are not numbers.", errors=parsed.errors)
            if existing is None:
                loaded = s.StackInSchema().load(data)
                stack_id = services.create_stack(actor=user, organisation_id=organisation.id, **loaded).id
            else:
                services.update_stack(actor=user, stack_id=existing.id, changes=s.UpdateStackSchema().load(data))
        except SchemaValidationError as exc:
            errors = _field_errors(_top_level(flatten_messages(exc.messages)), None)
        except ServiceError as exc:
            errors = _field_errors(_top_level(exc.errors), None) or {"_form": [exc.detail]}
        else:
            flash("Stack saved.")
            return redirect(url_for("authoring.stack", stack_id=stack_id))
        db.session.rollback()
    values = {
        "title": form.get("title", existing.title if existing else ""),
        "description": form.get("description", existing.description if existing else ""),
        "required_count": form.get("required_count", existing.required_count if existing else "") or "",
        "validity_days": form.get("validity_days", existing.validity_days if existing else "") or "",
        "members": set(form.getlist("micro_credentials"))
        if request.method == "POST"
        else {str(m.micro_credential_id) for m in (existing.members if existing else [])},
    }
    return render_template(
        "credentials/authoring/stack.html",
        stack=existing,
        organisation=organisation,
        values=values,
        errors=errors,
        choices=_published_choices(organisation.id),
    ), (422 if errors else 200)


def _top_level(errors: list[dict[str, str]]) -> list[dict[str, str]]:
    """``micro_credentials.3`` is one checkbox of a group: the group's field carries the message."""
    return [{**e, "field": e.get("field", "").split(".")[0]} for e in errors]


def init_app(app: Flask) -> None:
    """Register the author pages and the public catalogue (one call from ``credentials.init_app``)."""
    from credentials import catalogue_views

    app.register_blueprint(bp)
    catalogue_views.init_app(app)
    register_nav("My credentials", "authoring.index", visible=is_author, order=20)
