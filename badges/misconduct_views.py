"""Misconduct pages: an org admin records a decision against a badge (a confirmation page that says what will
happen), lists the organisation's cases and rules on an appeal; the earner reads the decision and appeals it.
The rules are in ``badges.misconduct``; these views translate forms and show refusals beside their field."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse

from badges import issuers, issuing, misconduct
from badges.models import Badge, MisconductCase
from core import clock
from core.authz import authorize
from core.db import db
from core.errors import ServiceError
from core.models import User
from core.views import require_sign_in, signed_in_user, text_arg

bp = Blueprint("misconduct", __name__)
Page = str | WerkzeugResponse | tuple[str, int]
require_sign_in(bp)


def _attempt(act: Callable[[], Any]) -> tuple[Any, dict[str, list[str]], int]:
    """Run a service call; on a refusal roll back and return its errors by field (``_form`` for the page)."""
    try:
        return act(), {}, 200
    except ServiceError as exc:
        db.session.rollback()
        return None, exc.messages_by_field(), exc.status


def _people(case: MisconductCase) -> dict[str, User | None]:
    return {
        "decided_by": db.session.get(User, case.decided_by_id) if case.decided_by_id else None,
        "outcome_by": db.session.get(User, case.outcome_by_id) if case.outcome_by_id else None,
    }


@bp.route("/organisations/<uuid:organisation_id>/badges/<uuid:badge_id>/misconduct", methods=["GET", "POST"])
def decide(organisation_id: uuid.UUID, badge_id: uuid.UUID) -> Page:
    """The confirmation page of a misconduct decision, and its form."""
    actor = signed_in_user()
    badge = issuing.get_badge(badge_id=badge_id)
    if badge.organisation_id != organisation_id:
        abort(404)
    authorize(actor, "badge.revoke", badge)
    form = {"finding": request.form.get("finding", ""), "policy": request.form.get("policy", "")}
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        case, errors, status = _attempt(
            lambda: misconduct.decide(actor=actor, badge_id=badge_id, finding=form["finding"], policy=form["policy"])
        )
        if case is not None:
            flash(_("Decision recorded: %(title)s is suspended until the appeal window closes.", title=badge.title))
            return redirect(url_for("misconduct.case", organisation_id=organisation_id, case_id=case.id))
    organisation, _profile = issuers.issuer_profile(organisation_id=organisation_id)
    html = render_template(
        "badges/misconduct_decide.html",
        organisation=organisation,
        badge=badge,
        refusal=misconduct.refusal(badge),
        form=form,
        errors=errors,
        appeal_days=current_app.config["MISCONDUCT_APPEAL_DAYS"],
    )
    return html, status


@bp.get("/organisations/<uuid:organisation_id>/misconduct")
def cases(organisation_id: uuid.UUID) -> Page:
    """The organisation's cases, appeals waiting for a ruling first."""
    actor = signed_in_user()
    state = text_arg("state", 16) or None
    rows = misconduct.list_cases(actor=actor, organisation_id=organisation_id, state=state)
    organisation, _profile = issuers.issuer_profile(organisation_id=organisation_id)
    ids = {c.badge_id for c in rows}
    badges = {b.id: b for b in db.session.scalars(select(Badge).where(Badge.id.in_(ids)))} if ids else {}
    return render_template(
        "badges/misconduct_cases.html",
        organisation=organisation,
        cases=rows,
        badges=badges,
        state=state or "",
        words=misconduct.state_words,
    )


@bp.route("/organisations/<uuid:organisation_id>/misconduct/<uuid:case_id>", methods=["GET", "POST"])
def case(organisation_id: uuid.UUID, case_id: uuid.UUID) -> Page:
    """One case as its organisation's admins see it, with the ruling form when an appeal waits."""
    actor = signed_in_user()
    found = misconduct.get_case(actor=actor, case_id=case_id)
    if found.organisation_id != organisation_id or not misconduct._may_rule(actor, found):
        abort(404)
    form = {"outcome": request.form.get("outcome", ""), "reason": request.form.get("reason", "")}
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        ruled, errors, status = _attempt(
            lambda: misconduct.rule(actor=actor, case_id=case_id, outcome=form["outcome"], reason=form["reason"])
        )
        if ruled is not None:
            flash(_("Appeal ruled on: %(outcome)s", outcome=misconduct.state_words(ruled)))
            return redirect(url_for("misconduct.case", organisation_id=organisation_id, case_id=case_id))
        found = db.session.get(MisconductCase, case_id) or found
    organisation, _profile = issuers.issuer_profile(organisation_id=organisation_id)
    html = render_template(
        "badges/misconduct_case.html",
        organisation=organisation,
        case=found,
        badge=issuing.get_badge(badge_id=found.badge_id),
        may_rule=misconduct.may_rule(actor, found),
        state_words=misconduct.state_words(found),
        form=form,
        errors=errors,
        **_people(found),
    )
    return html, status


@bp.route("/my/misconduct/<uuid:case_id>", methods=["GET", "POST"])
def my_case(case_id: uuid.UUID) -> Page:
    """The decision as its earner reads it, with the appeal form while it is open."""
    actor = signed_in_user()
    found = misconduct.get_case(actor=actor, case_id=case_id)
    badge = issuing.get_badge(badge_id=found.badge_id)
    if badge.earner_id != actor.id:
        abort(404)
    statement = request.form.get("statement", "")
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        appealed, errors, status = _attempt(
            lambda: misconduct.appeal(actor=actor, case_id=case_id, statement=statement)
        )
        if appealed is not None:
            flash(_("Your appeal is sent. The badge stays suspended until someone other than the decider rules on it."))
            return redirect(url_for("misconduct.my_case", case_id=case_id))
        found = db.session.get(MisconductCase, case_id) or found
    organisation, _profile = issuers.issuer_profile(organisation_id=found.organisation_id)
    html = render_template(
        "badges/misconduct_mine.html",
        organisation=organisation,
        case=found,
        badge=badge,
        state_words=misconduct.state_words(found),
        statement=statement,
        errors=errors,
        now=clock.now(),
    )
    return html, status


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
