"""Web pages for review: the queue with claim-next, the scoring screen (evidence beside the rubric, keyboard
shortcuts), calibration, adjudication, and for org admins qualifications, settings and reports."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from flask import Blueprint, Flask, Response, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse

from assessors import access, appeals, reports, scoring, settings, sla, waiting
from assessors import calibration as calibration_rules
from assessors import qualifications as qualification_rules
from assessors import queue as review_queue
from assessors.models import BreachAction, Qualification
from assessors.schemas import load_settings
from core import clock, storage
from core.authz import can
from core.db import db
from core.errors import NotFound, ServiceError, ValidationFailed
from core.models import Membership, Role, User
from core.views import require_sign_in, signed_in_user
from credentials.authoring import offerings
from credentials.authoring.models import CredentialVersion, VersionState
from credentials.portfolios import previews
from credentials.portfolios.models import EvidenceFile

bp = Blueprint(
    "review",
    __name__,
    url_prefix="/review",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
require_sign_in(bp)
Page = str | WerkzeugResponse


class CsrfForm(FlaskForm):
    """Only the CSRF check: the pages' fields are read into the same shapes the API takes."""


_user = signed_in_user


def _credentials(organisation_id: uuid.UUID) -> list[CredentialVersion]:
    """What the organisation reviews: its published versions and the versions it adopted, by title."""
    own = db.session.scalars(
        select(CredentialVersion).where(
            CredentialVersion.organisation_id == organisation_id,
            CredentialVersion.state == VersionState.PUBLISHED.value,
        )
    )
    return sorted([*own, *offerings.adopted_versions(organisation_id)], key=lambda v: v.title)


def review_organisations(user: User | None) -> list[Any]:
    """Organisations where ``user`` reviews (assessor) or runs review (org admin), by name."""
    if user is None:
        return []
    roles = {Role.ASSESSOR.value, Role.ORG_ADMIN.value}
    orgs = {m.organisation_id: m.organisation for m in user.memberships if m.role in roles}
    return sorted(orgs.values(), key=lambda o: o.name)


def is_reviewer(user: User | None) -> bool:
    return bool(review_organisations(user))


@bp.get("/")
def index() -> Page:
    """Where to review: straight to the queue when there is one organisation, else a list with counts."""
    actor = _user()
    organisations = review_organisations(actor)
    if len(organisations) == 1:
        return redirect(url_for("review.queue", organisation_id=organisations[0].id))
    rows = []
    for organisation in organisations:
        try:
            counts = review_queue.list_queue(actor=actor, organisation_id=organisation.id)
        except ServiceError:
            db.session.rollback()
            counts = None
        rows.append((organisation, counts))
    return render_template("assessors/index.html", rows=rows)


@bp.route("/<uuid:organisation_id>")
def queue(organisation_id: uuid.UUID) -> Page:
    actor = _user()
    micro_credential_id = request.args.get("credential", type=uuid.UUID)
    listing = review_queue.list_queue(
        actor=actor, organisation_id=organisation_id, micro_credential_id=micro_credential_id
    )
    titles = {v.micro_credential_id: v.title for v in _credentials(organisation_id)}
    mine = list(
        db.session.scalars(
            select(Qualification).where(
                Qualification.user_id == actor.id, Qualification.organisation_id == organisation_id
            )
        )
    )
    calibration = [(q, calibration_rules.calibration_status(actor, q)) for q in mine]
    waits = (
        waiting.why_waiting(actor=actor, organisation_id=organisation_id, items=listing.items)
        if can(actor, "review.manage", organisation_id)
        else None
    )
    return render_template(
        "assessors/queue.html",
        waits=waits,
        calibration=[(q, status) for q, status in calibration if status["required"]],
        organisation=access.organisation_of(organisation_id),
        queue=listing,
        titles=titles,
        selected=micro_credential_id,
        claims=review_queue.my_claims(actor=actor),
        leads=[q for q in mine if q.is_lead and q.micro_credential_id in titles],
        may_manage=can(actor, "review.manage", organisation_id),
        form=CsrfForm(),
    )


@bp.post("/<uuid:organisation_id>/claim")
def claim(organisation_id: uuid.UUID) -> Page:
    actor = _user()
    form = CsrfForm()
    if not form.validate_on_submit():
        return Response("The form expired; reload the page.", status=400)
    micro_credential_id = request.form.get("credential", type=uuid.UUID)
    task = review_queue.claim_next(
        actor=actor, organisation_id=organisation_id, micro_credential_id=micro_credential_id
    )
    if task is None:
        flash(_("Nothing you may review is waiting (or your calibration is due)."))
        return redirect(url_for("review.queue", organisation_id=organisation_id))
    return redirect(url_for("review.task", task_id=task.id))


@bp.get("/evidence/<uuid:file_id>")
def evidence(file_id: uuid.UUID) -> Page:
    """An evidence file for the assessor holding its submission, under its blind name (``?inline=1`` shows a
    raster image in place, for the preview beside the rubric)."""
    evidence_file = db.session.get(EvidenceFile, file_id)
    if evidence_file is None:
        raise NotFound("No such evidence file.")
    return scoring.evidence_download(_user(), evidence_file, inline=request.args.get("inline") == "1")


@bp.get("/evidence/<uuid:file_id>/pages/<int:number>.png")
def evidence_page(file_id: uuid.UUID, number: int) -> Page:
    """Page ``number`` of a PDF evidence file as an image, for the preview beside the rubric: an image runs none
    of the file's scripts and reads no cookies (see credentials/portfolios/previews.py)."""
    evidence_file = db.session.get(EvidenceFile, file_id)
    if evidence_file is None:
        raise NotFound("No such evidence file.")
    data = scoring.evidence_page_source(_user(), evidence_file, number)
    # Rendering takes up to seconds in a child process: end the transaction first, so its writes (the blind
    # copy, the audit row) hold no lock meanwhile (SQLite has one writer; the page's images load in parallel).
    db.session.commit()
    png = scoring.render_evidence_page(data, number)
    # Private: only the assigned assessor may see it; the rendering of stored (immutable) content never changes.
    return Response(png, mimetype="image/png", headers={"Cache-Control": "private, max-age=3600"})


def _form_scores(view: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    scores = []
    for criterion in view["submission"]["rubric"]:
        level = request.form.get(f"level-{criterion['key']}", type=int)
        scores.append(
            {
                "criterion_key": criterion["key"],
                "level": level,
                "feedback": request.form.get(f"feedback-{criterion['key']}", "").strip(),
            }
        )
    return scores, request.form.get("summary", "").strip()


def _criterion_errors(errors: list[dict[str, str]], scores: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The service's errors with the form field each concerns (``/scores/2/feedback`` → ``feedback-<key>``), so
    the summary links to it and the message stands beside it."""
    out = []
    for error in errors:
        parts = error.get("field", "").strip("/").split("/")
        anchor, key = "", ""
        if len(parts) == 3 and parts[0] == "scores" and parts[1].isdigit() and int(parts[1]) < len(scores):
            key = scores[int(parts[1])]["criterion_key"]
            anchor = f"feedback-{key}" if parts[2] == "feedback" else f"criterion-{key}"
        elif parts == ["summary"]:
            anchor = "summary"
        out.append({**error, "anchor": anchor, "criterion_key": key})
    return out


@bp.route("/tasks/<uuid:task_id>", methods=["GET", "POST"])
def task(task_id: uuid.UUID) -> Page:
    actor = _user()
    view = scoring.task_view(actor=actor, task_id=task_id)
    form = CsrfForm()
    errors: list[dict[str, str]] = []
    posted: dict[str, Any] | None = None
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            return Response("The form expired; reload the page.", status=400)
        action = request.form.get("action", "save")
        scores, summary = _form_scores(view)
        try:
            if action == "release":
                review_queue.release(actor=actor, task_id=task_id)
                flash(_("Released: the submission is back in the queue."))
                return redirect(url_for("review.queue", organisation_id=view["task"].organisation_id))
            if action == "submit":
                review = scoring.submit_review(actor=actor, task_id=task_id, scores=scores, summary=summary)
                flash(scoring.submitted_message(review))
                return redirect(url_for("review.queue", organisation_id=view["task"].organisation_id))
            scoring.save_scores(actor=actor, task_id=task_id, scores=scores, summary=summary)
            flash(_("Draft saved."))
            return redirect(url_for("review.task", task_id=task_id))
        except ServiceError as exc:
            db.session.rollback()
            errors = _criterion_errors(exc.errors or [{"field": "", "detail": exc.detail}], scores)
            status = exc.status
            view = scoring.task_view(actor=actor, task_id=task_id)
            # Show the assessor what they sent, not the last saved draft: a refusal must not lose their work.
            posted = {
                "scores": {sc["criterion_key"]: sc for sc in scores},
                "summary": summary,
            }
    return (
        render_template(
            "assessors/task.html",
            view=view,
            form=form,
            errors=errors,
            posted=posted,
            inline_types=storage.INLINE_IMAGE_TYPES,
            pdf_pages={f["id"]: scoring.pdf_preview_pages(f) for f in view["submission"]["files"]},
            max_pdf_pages=previews.MAX_PAGES,
            now=clock.now(),
        ),
        status,
    )  # type: ignore[return-value]


@bp.route("/<uuid:organisation_id>/admin", methods=["GET", "POST"])
def admin(organisation_id: uuid.UUID) -> Page:
    actor = _user()
    form = CsrfForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            return Response("The form expired; reload the page.", status=400)
        try:
            action = request.form.get("action")
            if action == "qualify":
                qualification_rules.qualify(
                    actor=actor,
                    micro_credential_id=uuid.UUID(request.form.get("micro_credential_id", "")),
                    user_id=uuid.UUID(request.form.get("user_id", "")),
                    is_lead=request.form.get("is_lead") == "on",
                    organisation_id=organisation_id,
                )
                flash(_("Assessor qualified."))
            elif action == "unqualify":
                qualification_rules.unqualify(
                    actor=actor, qualification_id=uuid.UUID(request.form.get("qualification_id", ""))
                )
                flash(_("Qualification withdrawn."))
            elif action == "settings":
                changes = {
                    "turnaround_hours": int(request.form["turnaround_hours"]),
                    "double_share": float(request.form["double_share"]) / 100,
                    "double_first_n": int(request.form["double_first_n"]),
                    "calibration_threshold": float(request.form["calibration_threshold"]) / 100,
                    "recalibration_days": int(request.form["recalibration_days"] or 0) or None,
                    "conflict_by_unit": request.form.get("conflict_by_unit") == "on",
                    "conflict_by_parent": request.form.get("conflict_by_parent") == "on",
                }
                form_sla = {  # the service-level fields, where the form has them
                    "turnaround_business_days": lambda v: int(v or 0) or None,
                    "reminder_business_days": lambda v: int(v or 0),
                    "breach_action": str,
                }
                changes |= {k: read(request.form[k]) for k, read in form_sla.items() if k in request.form}
                settings.update_settings(actor=actor, organisation_id=organisation_id, changes=load_settings(changes))
                flash(_("Settings saved."))
            elif action == "add_day":
                day = _form_date("day")
                sla.add_non_working_day(
                    actor=actor, organisation_id=organisation_id, day=day, label=request.form.get("label", "")
                )
                flash(_("%(day)s is now a non-working day.", day=format_date(day, "long")))
            elif action == "remove_day":
                sla.remove_non_working_day(
                    actor=actor, organisation_id=organisation_id, day_id=uuid.UUID(request.form.get("day_id", ""))
                )
                flash(_("That day is a working day again."))
        except (ValueError, KeyError):
            db.session.rollback()
            flash(_("Some values were not numbers; nothing was changed."))
        except ServiceError as exc:
            db.session.rollback()
            flash(exc.detail)
        return redirect(url_for("review.admin", organisation_id=organisation_id))
    qualifications = qualification_rules.list_qualifications(actor=actor, organisation_id=organisation_id)
    assessors = list(
        db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.organisation_id == organisation_id, Membership.role == Role.ASSESSOR.value)
            .order_by(User.name)
        )
    )
    return render_template(
        "assessors/admin.html",
        organisation=access.organisation_of(organisation_id),
        qualifications=qualifications,
        assessors=assessors,
        names={u.id: u.name for u in assessors},
        credentials=_credentials(organisation_id),
        settings=settings.settings_for(organisation_id),
        anchor_counts=calibration_rules.anchor_counts(organisation_id),
        non_working_days=sla.list_non_working_days(actor=actor, organisation_id=organisation_id),
        overdue=sla.overdue(actor=actor, organisation_id=organisation_id),
        breach_actions=list(BreachAction),
        form=form,
    )


def _form_date(name: str) -> date:
    try:
        return date.fromisoformat(request.form.get(name, ""))
    except ValueError:
        raise ValidationFailed("Not added: choose a date.") from None


@bp.route("/<uuid:organisation_id>/reports")
def report_page(organisation_id: uuid.UUID) -> Page:
    actor = _user()
    return render_template(
        "assessors/reports.html",
        organisation=access.organisation_of(organisation_id),
        by_credential=reports.credential_report(actor=actor, organisation_id=organisation_id),
        by_assessor=reports.assessor_report(actor=actor, organisation_id=organisation_id),
        trend=reports.monthly_trend(actor=actor, organisation_id=organisation_id),
    )


@bp.route("/<uuid:organisation_id>/reports/<any(credentials, assessors, trend):kind>.csv")
def report_csv(organisation_id: uuid.UUID, kind: str) -> Response:
    actor = _user()
    make = {"credentials": reports.credential_report, "assessors": reports.assessor_report}.get(
        kind, reports.monthly_trend
    )
    return Response(
        reports.to_csv(make(actor=actor, organisation_id=organisation_id)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="review-by-{kind}.csv"'},
    )


@bp.post("/appeals/<uuid:submission_id>")
def appeal(submission_id: uuid.UUID) -> Page:
    """The earner's appeal of a "not yet" (the form is on the earner's submission page in ``portfolio``)."""
    actor = _user()
    back = url_for("portfolio.submission", submission_id=submission_id)
    try:
        appeals.appeal(actor=actor, submission_id=submission_id, reason=request.form.get("reason", ""))
    except ServiceError as exc:
        db.session.rollback()
        flash(_("Not appealed: %(reason)s", reason=exc.errors[0]["detail"] if exc.errors else exc.detail))
        return redirect(back + "#appeal")
    flash(_("Appeal sent: another assessor will review your submission afresh."))
    return redirect(back)


def init_app(app: Flask) -> None:
    from core.views import register_nav

    app.register_blueprint(bp)
    register_nav(_l("Review"), "review.index", visible=is_reviewer, order=30)
