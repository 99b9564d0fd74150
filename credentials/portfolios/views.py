"""Earners' web pages: my submissions, the submission editor, submit / withdraw / next attempt, feedback.

Every form works without JavaScript (post, redirect, see the page again). ``static/portfolio.js`` adds a
live word count, autosave (answered in JSON, with a warning when another tab saved first: 412) and upload
progress. The rules live in ``credentials.portfolios.services`` and ``.evidence``; these views only translate
forms and errors.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response as WerkzeugResponse

from core import storage
from core.errors import PreconditionFailed, ServiceError, ValidationFailed
from core.extensions import csrf
from core.views import require_sign_in, signed_in_user
from credentials.authoring import catalogue
from credentials.authoring.models import EvidenceKind
from credentials.portfolios import evidence, services
from credentials.portfolios.api import parse_upload
from credentials.portfolios.models import SubmissionState

bp = Blueprint(
    "portfolio",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
    url_prefix="/portfolio",
)
Page = str | WerkzeugResponse | tuple[str, int] | tuple[WerkzeugResponse, int]


_user = signed_in_user


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _lock_version() -> int | None:
    value = request.form.get("lock_version", "")
    return int(value) if value.isdigit() else None


def _back(submission_id: uuid.UUID) -> WerkzeugResponse:
    return redirect(url_for("portfolio.submission", submission_id=submission_id))


def plain_message(exc: ServiceError) -> str:
    """What went wrong, once, in the earner's words: the field messages (each said once) when there are
    any, since a field error's ``detail`` repeats its message behind the field's name (``file: …``)."""
    details = list(dict.fromkeys(e["detail"] for e in exc.errors))
    return " ".join(details) if details else exc.detail


def _flash_error(exc: ServiceError) -> None:
    flash(plain_message(exc))


require_sign_in(bp)


@bp.get("/")
def index() -> Page:
    user = _user()
    mine = services.list_mine(actor=user, page=1, page_size=100).items
    open_ids = {s.micro_credential_id for s in mine if s.is_open}
    offered = [v for v in catalogue.catalogue(page=1, page_size=100).items if v.micro_credential_id not in open_ids]
    return render_template("credentials/my_submissions.html", submissions=mine, offered=offered)


@bp.post("/start")
def start() -> Page:
    try:
        version_id = uuid.UUID(request.form.get("version_id", ""))
        # "Issued by": the owner (empty) or an organisation's adoption of the version.
        adoption_id = uuid.UUID(request.form["adoption_id"]) if request.form.get("adoption_id") else None
    except ValueError:
        raise BadRequest("Choose a micro-credential.") from None
    try:
        submission = services.start(actor=_user(), version_id=version_id, adoption_id=adoption_id)
    except ServiceError as exc:
        _flash_error(exc)
        return redirect(url_for("portfolio.index"))
    return _back(submission.id)


# How to find the badge a passed submission earned: the badges domain registers a lookup (submission id →
# badge page URL, or None while it is being issued), since credentials cannot import badges.
BadgeLookup = Callable[[uuid.UUID], str | None]


_badge_lookups: list[BadgeLookup] = []


def on_badge_lookup(lookup: BadgeLookup) -> BadgeLookup:
    """Register ``lookup`` (idempotent, so an app factory may run twice in one process)."""
    if lookup not in _badge_lookups:
        _badge_lookups.append(lookup)
    return lookup


def badge_url_for(submission_id: uuid.UUID) -> str | None:
    """The page of the badge ``submission_id`` earned, when one is issued."""
    return next((url for lookup in _badge_lookups if (url := lookup(submission_id))), None)


def _anchor(problem: dict[str, str]) -> str:
    """The id of the control a checklist item is about: ``answers.<key>`` → its answer, ``files.<key>`` → its
    file input."""
    kind, _sep, key = problem.get("field", "").partition(".")
    return f"{'file' if kind == 'files' else 'answer'}-{key}"


def _render(
    submission: Any,
    *,
    status: int = 200,
    typed: dict[str, str] | None = None,
    conflict: bool = False,
    refused: str | None = None,
) -> Page:
    user = _user()
    editable = submission.state == SubmissionState.DRAFT.value and user.id == submission.earner_id
    answers = {a.requirement_key: a for a in submission.answers}
    files: dict[str, list[Any]] = {}
    for file in submission.files:
        files.setdefault(file.requirement_key, []).append(file)
    earlier = submission.previous
    if earlier is None or earlier.decided_at is None or submission.decided_at is not None:
        earlier = None  # the last attempt's feedback sits beside the editor until this attempt is decided
    problems = [{**p, "anchor": _anchor(p)} for p in services.problems(submission)] if editable else []
    html = render_template(
        "credentials/submission.html",
        submission=submission,
        editable=editable,
        is_earner=user.id == submission.earner_id,
        answers=answers,
        files=files,
        typed=typed or {},
        conflict=conflict,
        refused=refused,
        problems=problems,
        earlier=earlier,
        badge_url=badge_url_for(submission.id) if submission.state == SubmissionState.PASSED.value else None,
        history=services.history(actor=user, submission_id=submission.id),
        attempts_left=services.attempts_left(submission, submission.earner_id),
        kinds=EvidenceKind,
        max_file_size=current_app.config["EVIDENCE_MAX_FILE_SIZE"],
        openings=evidence.openings(actor=user, submission_id=submission.id) if user.id == submission.earner_id else [],
    )
    return html, status


@bp.get("/<uuid:submission_id>")
def submission(submission_id: uuid.UUID) -> Page:
    return _render(services.get(actor=_user(), submission_id=submission_id))


@bp.post("/<uuid:submission_id>/answers")
def save(submission_id: uuid.UUID) -> Page:
    """Save the draft's answers (the form posts every text and link field; autosave posts the same form)."""
    user = _user()
    typed = {k.removeprefix("answer-"): v for k, v in request.form.items() if k.startswith("answer-")}
    try:
        submission = services.save_draft(
            actor=user, submission_id=submission_id, answers=typed, expected_version=_lock_version()
        )
    except PreconditionFailed as exc:
        if _wants_json():
            return jsonify(error=exc.detail), 412  # type: ignore[return-value]
        return _render(services.get(actor=user, submission_id=submission_id), status=412, typed=typed, conflict=True)
    except ServiceError as exc:
        if _wants_json():
            return jsonify(error=plain_message(exc), errors=exc.errors), exc.status  # type: ignore[return-value]
        _flash_error(exc)
        return _render(services.get(actor=user, submission_id=submission_id), status=exc.status, typed=typed)
    if _wants_json():
        return jsonify(lock_version=submission.lock_version, problems=services.problems(submission))  # type: ignore[return-value]
    flash(_("Draft saved."))
    return _back(submission_id)


@bp.post("/<uuid:submission_id>/files")
@csrf.exempt  # checked below, after the size limit is raised: the global check would parse the body at 1 MB
def upload(submission_id: uuid.UUID) -> Page:
    parse_upload()
    csrf.protect()
    try:
        added = evidence.add_files(
            actor=_user(),
            submission_id=submission_id,
            requirement_key=request.form.get("requirement_key", ""),
            files=[evidence.IncomingFile(stream=f.stream, filename=f.filename) for f in request.files.getlist("file")],
            expected_version=_lock_version(),
        )
    except ServiceError as exc:
        if _wants_json():
            return jsonify(error=plain_message(exc), errors=exc.errors), exc.status  # type: ignore[return-value]
        _flash_error(exc)
        return _back(submission_id)
    if _wants_json():
        return jsonify(ok=True, files=[f.filename for f in added])  # type: ignore[return-value]
    flash(_("%(len)s files uploaded.", len=len(added)) if len(added) > 1 else _("File uploaded."))
    return _back(submission_id)


@bp.post("/<uuid:submission_id>/files/<uuid:file_id>/delete")
def delete_file(submission_id: uuid.UUID, file_id: uuid.UUID) -> Page:
    try:
        evidence.remove_file(
            actor=_user(), submission_id=submission_id, file_id=file_id, expected_version=_lock_version()
        )
        flash(_("File removed."))
    except ServiceError as exc:
        _flash_error(exc)
    return _back(submission_id)


@bp.get("/<uuid:submission_id>/files/<uuid:file_id>")
def download(submission_id: uuid.UUID, file_id: uuid.UUID) -> WerkzeugResponse:
    file = evidence.open_file(actor=_user(), submission_id=submission_id, file_id=file_id)
    return storage.download(file.sha256, filename=file.filename, media_type=file.media_type)


@bp.get("/<uuid:submission_id>/files/<uuid:file_id>/assessor-copy")
def assessor_copy(submission_id: uuid.UUID, file_id: uuid.UUID) -> WerkzeugResponse:
    """What the assessor will see: the copy without identifying metadata."""
    file = evidence.blind_copy_of(actor=_user(), submission_id=submission_id, file_id=file_id)
    return storage.download(
        file.assessor_sha256, filename=evidence.assessor_copy_name(file), media_type=file.media_type
    )


@bp.post("/<uuid:submission_id>/submit")
def submit(submission_id: uuid.UUID) -> Page:
    user = _user()
    try:
        services.submit(actor=user, submission_id=submission_id, expected_version=_lock_version())
    except ValidationFailed as exc:
        # Not ready: the page again, headed by what to finish, each item a link to its field.
        return _render(services.get(actor=user, submission_id=submission_id), status=exc.status, refused=exc.detail)
    except ServiceError as exc:
        _flash_error(exc)
        return _back(submission_id)
    flash(_("Submitted. You will hear when an assessor has reviewed it."))
    return _back(submission_id)


@bp.post("/<uuid:submission_id>/withdraw")
def withdraw(submission_id: uuid.UUID) -> Page:
    try:
        services.withdraw(actor=_user(), submission_id=submission_id)
        flash(_("Withdrawn. It does not count as an attempt."))
    except ServiceError as exc:
        _flash_error(exc)
    return _back(submission_id)


@bp.post("/<uuid:submission_id>/next-attempt")
def next_attempt(submission_id: uuid.UUID) -> Page:
    try:
        submission = services.next_attempt(actor=_user(), submission_id=submission_id)
    except ServiceError as exc:
        _flash_error(exc)
        return _back(submission_id)
    flash(_("Your next attempt starts from your last one. Improve it with the feedback, then submit."))
    return _back(submission.id)


@bp.post("/<uuid:submission_id>/evidence-public")
def evidence_public(submission_id: uuid.UUID) -> Page:
    public = request.form.get("evidence_public") == "1"
    services.set_evidence_public(actor=_user(), submission_id=submission_id, evidence_public=public)
    flash(_("Your evidence will show on the public badge page.") if public else _("Your evidence stays private."))
    return _back(submission_id)


def init_app(app: Flask) -> None:
    from core.views import register_nav

    app.register_blueprint(bp)
    register_nav(_l("My submissions"), "portfolio.index", visible=lambda user: user is not None, order=15)
