"""Authors' pages for stacks: the list, and one page to make, edit, publish or retire a stack (routes on the
authoring blueprint of ``views``, kept apart so each module stays one idea)."""

from __future__ import annotations

import uuid

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError as SchemaValidationError

from core.db import db
from core.errors import ServiceError, flatten_messages
from core.models import Organisation
from credentials.authoring import catalogue
from credentials.authoring import schemas as s
from credentials.authoring import stacks as stack_rules
from credentials.authoring.forms import Parsed, field_errors
from credentials.authoring.models import CredentialVersion, StackState
from credentials.authoring.views import Page, _author_organisations, _chosen_organisation, _user, bp


@bp.get("/stacks")
def stacks() -> Page:
    user = _user()
    organisation = _chosen_organisation(user)
    page = stack_rules.list_stacks(actor=user, organisation_id=organisation.id, page=1, page_size=200)
    return render_template(
        "credentials/authoring/stacks.html",
        organisation=organisation,
        organisations=_author_organisations(user),
        stacks=page.items,
    )


def _published_choices(organisation_id: uuid.UUID) -> list[CredentialVersion]:
    """What a stack can hold: the organisation's published micro-credentials (their current versions)."""
    return catalogue.catalogue(organisation=organisation_id, page=1, page_size=200).items


@bp.route("/stacks/new", methods=["GET", "POST"])
@bp.route("/stacks/<uuid:stack_id>", methods=["GET", "POST"])
def stack(stack_id: uuid.UUID | None = None) -> Page:
    user = _user()
    existing = stack_rules.get_stack(actor=user, stack_id=stack_id) if stack_id else None
    organisation = db.session.get(Organisation, existing.organisation_id) if existing else _chosen_organisation(user)
    errors: dict[str, list[str]] = {}
    form = request.form
    if request.method == "POST" and form.get("state") in {"published", "retired", "draft"}:
        try:
            stack_rules.set_stack_state(actor=user, stack_id=existing.id, state=StackState(form["state"]))  # type: ignore[union-attr]
        except ServiceError as exc:
            db.session.rollback()
            flash(_("Not done: %(detail)s", detail=exc.detail))
        else:
            flash(_("The stack is %(form)s.", form=form["state"]))
        return redirect(url_for("authoring.stack", stack_id=existing.id))  # type: ignore[union-attr]
    if request.method == "POST":
        parsed = Parsed()
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
                stack_id = stack_rules.create_stack(actor=user, organisation_id=organisation.id, **loaded).id
            else:
                stack_rules.update_stack(actor=user, stack_id=existing.id, changes=s.UpdateStackSchema().load(data))
        except SchemaValidationError as exc:
            errors = field_errors(_top_level(flatten_messages(exc.messages)), None)
        except ServiceError as exc:
            errors = field_errors(_top_level(exc.errors), None) or {"_form": [exc.detail]}
        else:
            flash(_("Stack saved."))
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
