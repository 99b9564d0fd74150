"""CLR 2.0 transcripts on the web: each transcript's stable public URL, the earner's download from "My badges", and
an org admin's download for one earner. The rules (who may ask, what goes in, when a version is signed) are in
``badges.clr``."""

from __future__ import annotations

import json
import uuid

from flask import Blueprint, Flask, Response, request
from werkzeug.exceptions import NotFound as HttpNotFound
from werkzeug.wrappers import Response as WerkzeugResponse

from badges import clr
from badges.record_models import ClrVersion
from badges.views import JSON_TYPES, JWT_TYPES, SHORT_CACHE, _json, _negotiate, _text
from core.views import sign_in_redirect, signed_in_user

bp = Blueprint("clr_views", __name__)


def _stack_arg() -> uuid.UUID | None:
    text = request.args.get("stack", "")
    if not text:
        return None
    try:
        return uuid.UUID(text)
    except ValueError:
        raise HttpNotFound("No such stack.") from None


def _attachment(version: ClrVersion) -> Response:
    record_id = version.credential["id"].rsplit("/", 1)[-1]
    response = Response(json.dumps(version.credential, ensure_ascii=False), mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="transcript-{record_id}.json"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/clrs/<uuid:record_id>")
def transcript(record_id: uuid.UUID) -> Response:
    """The transcript's current signed ClrCredential: JSON (with its Data Integrity proof), or its VC-JWT by
    ``Accept``."""
    version = clr.public_version(record_id)
    wanted = _negotiate(*JSON_TYPES, *JWT_TYPES, "text/html")
    if wanted in JWT_TYPES:
        return _text(version.jwt, wanted, SHORT_CACHE)
    return _json(version.credential, wanted if wanted in JSON_TYPES else "application/json", SHORT_CACHE)


@bp.get("/clrs/<uuid:record_id>.json")
def transcript_json(record_id: uuid.UUID) -> Response:
    return _json(clr.public_version(record_id).credential, "application/json", SHORT_CACHE)


@bp.get("/clrs/<uuid:record_id>.jwt")
def transcript_jwt(record_id: uuid.UUID) -> Response:
    return _text(clr.public_version(record_id).jwt, "text/plain", SHORT_CACHE)


@bp.get("/my/transcripts/<uuid:organisation_id>.json")
def my_transcript(organisation_id: uuid.UUID) -> Response | WerkzeugResponse:
    """The signed-in earner's transcript from one organisation (``?stack=<id>``: of one of its stacks)."""
    if (redirect_to_sign_in := sign_in_redirect()) is not None:
        return redirect_to_sign_in
    user = signed_in_user()
    version = clr.transcript(actor=user, organisation_id=organisation_id, earner_id=user.id, stack_id=_stack_arg())
    return _attachment(version)


@bp.get("/organisations/<uuid:organisation_id>/earners/<uuid:earner_id>/transcript.json")
def earner_transcript(organisation_id: uuid.UUID, earner_id: uuid.UUID) -> Response | WerkzeugResponse:
    """An org admin's download of one earner's transcript from the organisation (404 for anyone else)."""
    if (redirect_to_sign_in := sign_in_redirect()) is not None:
        return redirect_to_sign_in
    version = clr.transcript(
        actor=signed_in_user(), organisation_id=organisation_id, earner_id=earner_id, stack_id=_stack_arg()
    )
    return _attachment(version)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
