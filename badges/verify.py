"""The public verifier: ``POST /api/v1/verify`` and the "verify a badge" page (DESIGN.md "Public URLs").

Both are thin: they turn the request into one input (a credential object, text, file bytes or a URL), call
``badges.verifier.verify`` and show its report. Input that is not a credential at all is a 422 problem
document (a form error on the page); anything that *is* a credential gets a 200 report, however bad.
Both are rate limited per client address (``VERIFY_RATE_LIMIT``): each verification may fetch URLs and run
JSON-LD canonicalisation.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from flask import Blueprint, Flask, current_app, render_template, request
from flask.views import MethodView
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from marshmallow import Schema, fields
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import EmailField, HiddenField, TextAreaField

from badges.verdict import explain, long_date, recipient_matches
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
                    "recipient": {
                        "type": "string",
                        "format": "email",
                        "description": "Optional: an e-mail address to check against the badge's recipient "
                        "identifier (hashed or plain); the answer's recipient_matches says if it is the earner's.",
                    },
                },
            }
        },
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {
                    "file": {"type": "string", "format": "binary", "description": "PNG, SVG, JSON or JWT"},
                    "recipient": {"type": "string", "format": "email", "description": "Optional e-mail to check"},
                },
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
    kind = fields.String(metadata={"enum": ["conformance", "authenticity", "proof", "nested", "endorsement"]})


class WarningSchema(Schema):
    step = fields.String()
    kind = fields.String(
        metadata={
            "enum": ["conformance", "authenticity", "proof", "nested", "endorsement"],
            "description": "conformance: a genuinely signed credential breaks an Open Badges rule; authenticity: "
            "the signature is genuine but its key is not shown to belong to the issuer; proof: a proof of a "
            "kind we cannot check, beside one that verified; nested: a credential a CLR holds is revoked, "
            "suspended, expired or not yet valid; endorsement: an embedded endorsement does not verify",
        }
    )
    detail = fields.String()


class NestedReportSchema(Schema):
    id = fields.String(allow_none=True)
    type = fields.List(fields.String())
    name = fields.String()
    issuer = fields.String(metadata={"description": "the issuer's name, or its id"})
    verified = fields.Boolean()
    status = fields.String(metadata={"enum": ["valid", "revoked", "suspended", "expired", "not_yet_valid", "invalid"]})
    checks = fields.List(fields.Nested(CheckSchema))
    warnings = fields.List(fields.Nested(WarningSchema))
    where = fields.String(metadata={"description": "endorsements only: what it is embedded in"})
    comment = fields.String(allow_none=True, metadata={"description": "endorsements only: endorsementComment"})


class ReportSchema(Schema):
    verified = fields.Boolean(metadata={"description": "true only when status is valid (warnings allowed)"})
    status = fields.String(metadata={"enum": ["valid", "revoked", "suspended", "expired", "not_yet_valid", "invalid"]})
    checks = fields.List(fields.Nested(CheckSchema))
    warnings = fields.List(fields.Nested(WarningSchema), metadata={"description": "the checks that are warnings"})
    credential = fields.Dict(allow_none=True, metadata={"description": "the credential as read (JWT claims removed)"})
    nested_credentials = fields.List(
        fields.Nested(NestedReportSchema),
        metadata={
            "description": "a ClrCredential's credentials (credentialSubject.verifiableCredential), each verified"
        },
    )
    endorsements = fields.List(
        fields.Nested(NestedReportSchema),
        metadata={"description": "EndorsementCredentials embedded in the credential, its issuer or achievements"},
    )
    recipient_matches = fields.Boolean(
        allow_none=True,
        metadata={
            "description": "only when a recipient was given: true if the badge names that e-mail, false if it names "
            "someone else, null if it names its earner in no way an e-mail can be checked against"
        },
    )


# A plausible address: something@something.tld without spaces; the check only hashes it, it is never mailed.
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_EMAIL = 254


def _verify_limit() -> str:
    return current_app.config["VERIFY_RATE_LIMIT"]


def _recipient(value: Any) -> str | None:
    """The optional e-mail to check, validated; None when not given."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_EMAIL or not EMAIL.match(value.strip()):
        raise ValidationFailed.field("recipient", "Must be an e-mail address.")
    return value.strip()


def _api_input() -> tuple[Any, str, str | None]:
    """The one thing to verify in an API request, the field it came in and the optional recipient e-mail to
    check; ValidationFailed if there is nothing to verify."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise ValidationFailed.field("file", "Upload the badge as a form field named file.")
        return upload.read(), "file", _recipient(request.form.get("recipient"))
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        raise ValidationFailed("The JSON body is nested too deeply.") from None
    if not isinstance(body, dict):
        raise ValidationFailed("Send a JSON object with a credential or a url.")
    unknown = set(body) - {"credential", "url", "recipient"}
    if unknown:
        raise ValidationFailed.field(sorted(unknown)[0], "Unknown field.")
    if ("credential" in body) == ("url" in body):
        raise ValidationFailed("Give exactly one of credential or url.")
    recipient = _recipient(body.get("recipient"))
    if "url" in body:
        if not isinstance(body["url"], str) or not body["url"].lower().startswith(("http://", "https://")):
            raise ValidationFailed.field("url", "Must be an http(s) URL.")
        return body["url"], "url", recipient
    if not isinstance(body["credential"], dict | str):
        raise ValidationFailed.field("credential", "Must be a credential object or a string.")
    return body["credential"], "credential", recipient


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
        """Verify an Open Badges 3.0 credential given as JSON, a VC-JWT, a baked PNG/SVG or a URL; optionally
        check that it names a given recipient e-mail."""
        value, field, recipient = _api_input()
        report = _run(value, field)
        answer = report.as_dict()
        if recipient is not None:
            answer["recipient_matches"] = recipient_matches(report.credential, recipient)
        return answer


class VerifyForm(FlaskForm):
    text = TextAreaField(_l("Paste a badge: its JSON, its VC-JWT, or its URL"))
    file = FileField(_l("…or upload the badge file (PNG, SVG, JSON or JWT)"))
    recipient = EmailField(_l("Recipient's e-mail (optional)"))
    kept = HiddenField()  # the file last verified, so the recipient can be checked without uploading it again


# The file verified is kept in the page (base64) for a recipient check only while the re-post stays well under
# MAX_CONTENT_LENGTH; a larger one is uploaded again with the e-mail filled in.
KEEP_FILE_BYTES = 512 * 1024


def _page_input(form: VerifyForm) -> tuple[Any, str | None]:
    """What the page was asked to verify, and the file to keep in the page; (None, None) when nothing."""
    upload = form.file.data
    if upload and getattr(upload, "filename", ""):
        raw = upload.read()
        return raw, base64.b64encode(raw).decode() if len(raw) <= KEEP_FILE_BYTES else None
    text = (form.text.data or "").strip()
    if text:
        return text, None
    if form.kept.data:
        try:
            raw = base64.b64decode(form.kept.data, validate=True)
        except (binascii.Error, ValueError):
            return None, None
        return raw, form.kept.data
    return None, None


@page_bp.route("/verify", methods=["GET", "POST"])
@limiter.limit(_verify_limit, methods=["POST"])
def verify_page() -> str | WerkzeugResponse | tuple[str, int]:
    form = VerifyForm()
    report: Report | None = None
    error: str | None = None
    recipient_error: str | None = None
    kept: str | None = None
    recipient: str | None = None
    matches: bool | None = None
    if form.validate_on_submit():
        value, kept = _page_input(form)
        wanted = (form.recipient.data or "").strip()
        if wanted and (len(wanted) > MAX_EMAIL or not EMAIL.match(wanted)):
            recipient_error = "Enter the recipient's e-mail address, like name@example.org."
        elif wanted:
            recipient = wanted
        if value is None:
            error = "Paste a badge or choose a file."
        else:
            try:
                report = verify(value)
            except NotACredential as exc:
                error = f"This is not a badge we can read: {exc}"
        if report is not None and recipient is not None:
            matches = recipient_matches(report.credential, recipient)
    elif request.method == "POST":
        error = "The form expired; please try again."
    form.kept.data = kept or ""
    status = 422 if (error or recipient_error) and request.method == "POST" else 200
    return render_template(
        "badges/verify.html",
        form=form,
        report=report,
        verdict=explain(report) if report else None,
        explain=explain,
        error=error,
        recipient_error=recipient_error,
        recipient=recipient,
        matches=matches,
        long_date=long_date,
    ), status


def init_app(app: Flask) -> None:
    """Register the verify API and page."""
    from core.views import register_nav

    register(app, verify_blp)
    app.register_blueprint(page_bp)
    register_nav(_l("Verify a badge"), f"{page_bp.name}.verify_page", order=50)
