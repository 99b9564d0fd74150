"""The public verifier: ``POST /api/v1/verify`` and the "verify a badge" page (DESIGN.md "Public URLs").

Both are thin: they turn the request into one input (a credential object, text, file bytes or a URL), call
``badges.verifier.verify`` and show its report. Input that is not a credential at all is a 422 problem
document (a form error on the page); anything that *is* a credential gets a 200 report, however bad.
Both are rate limited per client address (``VERIFY_RATE_LIMIT``): each verification may fetch URLs and run
JSON-LD canonicalisation.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app, render_template, request
from flask.views import MethodView
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from marshmallow import Schema, fields
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import TextAreaField

from badges.verifier import NotACredential, Report, verify
from core.errors import ValidationFailed
from core.extensions import limiter
from core.http import PUBLIC, accepts, api_blueprint, register

verify_blp = api_blueprint("verify", __name__, "/verify", "Verify any Open Badges 3.0 credential")
page_bp = Blueprint("verify_page", __name__)

REQUEST_BODY = {
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {
                    "credential": {
                        "oneOf": [{"type": "object"}, {"type": "string"}],
                        "description": "A credential object, or a compact VC-JWT (or credential JSON) as a string.",
                    },
                    "url": {"type": "string", "format": "uri", "description": "An http(s) URL serving a badge."},
                },
            }
        },
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary", "description": "PNG, SVG, JSON or JWT"}},
            }
        },
    }
}


class CheckSchema(Schema):
    step = fields.String(
        metadata={"description": "parse, fetch, context, type, schema, subject, issuer, proof, status, validity"}
    )
    passed = fields.Boolean()
    detail = fields.String()
    severity = fields.String(
        metadata={"enum": ["warning"], "description": "only on a failed check that does not make the badge invalid"}
    )
    kind = fields.String(metadata={"enum": ["conformance", "authenticity", "proof"]})


class WarningSchema(Schema):
    step = fields.String()
    kind = fields.String(
        metadata={
            "enum": ["conformance", "authenticity", "proof"],
            "description": "conformance: a genuinely signed credential breaks an Open Badges rule; authenticity: "
            "the signature is genuine but its key is not shown to belong to the issuer; proof: a proof of a "
            "kind we cannot check, beside one that verified",
        }
    )
    detail = fields.String()


class ReportSchema(Schema):
    verified = fields.Boolean(metadata={"description": "true only when status is valid (warnings allowed)"})
    status = fields.String(metadata={"enum": ["valid", "revoked", "expired", "not_yet_valid", "invalid"]})
    checks = fields.List(fields.Nested(CheckSchema))
    warnings = fields.List(fields.Nested(WarningSchema), metadata={"description": "the checks that are warnings"})
    credential = fields.Dict(allow_none=True, metadata={"description": "the credential as read (JWT claims removed)"})


def _verify_limit() -> str:
    return current_app.config["VERIFY_RATE_LIMIT"]


def _api_input() -> tuple[Any, str]:
    """The one thing to verify in an API request and the field it came in; ValidationFailed if there is none."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise ValidationFailed.field("file", "Upload the badge as a form field named file.")
        return upload.read(), "file"
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        raise ValidationFailed("The JSON body is nested too deeply.") from None
    if not isinstance(body, dict):
        raise ValidationFailed("Send a JSON object with a credential or a url.")
    unknown = set(body) - {"credential", "url"}
    if unknown:
        raise ValidationFailed.field(sorted(unknown)[0], "Unknown field.")
    if ("credential" in body) == ("url" in body):
        raise ValidationFailed("Give exactly one of credential or url.")
    if "url" in body:
        if not isinstance(body["url"], str) or not body["url"].lower().startswith(("http://", "https://")):
            raise ValidationFailed.field("url", "Must be an http(s) URL.")
        return body["url"], "url"
    if not isinstance(body["credential"], dict | str):
        raise ValidationFailed.field("credential", "Must be a credential object or a string.")
    return body["credential"], "credential"


def _run(value: Any, field: str) -> Report:
    try:
        return verify(value)
    except NotACredential as exc:
        raise ValidationFailed.field(field, f"Not a credential: {exc}") from None


@verify_blp.route("")
class Verify(MethodView):
    @verify_blp.doc(security=PUBLIC, requestBody=REQUEST_BODY)
    @verify_blp.response(200, ReportSchema, description="The step-by-step verification report")
    @verify_blp.alt_response(413, description="The upload is too large")
    @verify_blp.alt_response(422, description="The input is not a credential at all")
    @verify_blp.alt_response(429, description="Too many verifications")
    @accepts("application/json", "multipart/form-data")
    @limiter.limit(_verify_limit)
    def post(self) -> Any:
        """Verify an Open Badges 3.0 credential given as JSON, a VC-JWT, a baked PNG/SVG or a URL."""
        return _run(*_api_input()).as_dict()


class VerifyForm(FlaskForm):
    text = TextAreaField("Paste a badge: its JSON, its VC-JWT, or its URL")
    file = FileField("…or upload the badge file (PNG, SVG, JSON or JWT)")


@page_bp.route("/verify", methods=["GET", "POST"])
@limiter.limit(_verify_limit, methods=["POST"])
def verify_page() -> str | WerkzeugResponse | tuple[str, int]:
    form = VerifyForm()
    report: Report | None = None
    error: str | None = None
    if form.validate_on_submit():
        upload = form.file.data
        text = (form.text.data or "").strip()
        if upload and getattr(upload, "filename", ""):
            value: Any = upload.read()
        elif text:
            value = text
        else:
            value = None
            error = "Paste a badge or choose a file."
        if value is not None:
            try:
                report = verify(value)
            except NotACredential as exc:
                error = f"This is not a badge we can read: {exc}"
    elif request.method == "POST":
        error = "The form expired; please try again."
    status = 422 if error and request.method == "POST" else 200
    return render_template("badges/verify.html", form=form, report=report, error=error), status


def init_app(app: Flask) -> None:
    """Register the verify API and page."""
    from core.views import register_nav

    register(app, verify_blp)
    app.register_blueprint(page_bp)
    register_nav("Verify a badge", f"{page_bp.name}.verify_page", order=50)
