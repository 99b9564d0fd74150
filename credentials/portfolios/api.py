"""HTTP API for earners' submissions and their evidence files."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, request
from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters
from werkzeug.exceptions import BadRequest
from werkzeug.formparser import FormDataParser

from core import storage
from core.auth import require_user
from core.http import accepts, api_blueprint, expected_version, register, set_page, version_etag
from credentials.portfolios import evidence, services
from credentials.portfolios import schemas as s

blp = api_blueprint("submissions", __name__, "/submissions", "Earners' submissions and evidence files")

UPLOAD_OVERHEAD = 64 * 1024  # multipart boundaries and the form field around the file bytes


def _etag(submission: Any) -> dict[str, str]:
    return {"ETag": version_etag("submission", submission.id, submission.lock_version)}


def _expected(submission_id: uuid.UUID) -> int | None:
    return expected_version("submission", submission_id)


def parse_upload() -> None:
    """Parse this upload's multipart body now: up to one evidence file in size, file parts written straight
    into storage staging (hashed on the way), and strictly, so a cut-off or malformed body is a 400 naming
    the problem rather than an empty form (web pages call this too)."""
    limit = current_app.config["EVIDENCE_MAX_FILE_SIZE"]
    request.max_content_length = limit + UPLOAD_OVERHEAD
    created: list[storage.StagedFile] = []
    factory = storage.staging_stream_factory(storage.backend(), limit, created)

    class StrictStagingParser(FormDataParser):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **{**kwargs, "stream_factory": factory})
            self.silent = False

    request.form_data_parser_class = StrictStagingParser
    try:
        request.files  # noqa: B018 (the property parses the body)
    except BaseException as exc:
        for staged in created:  # parts already staged when the body broke off
            staged.close()
        if isinstance(exc, ValueError):
            raise BadRequest("The multipart body is incomplete or malformed (was the upload cut off?).") from None
        raise


def upload_limit(view: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``parse_upload`` before the view (and before flask-smorest reads the form)."""

    @functools.wraps(view)
    def limited(*args: Any, **kwargs: Any) -> Any:
        parse_upload()
        return view(*args, **kwargs)

    return limited


@blp.route("")
class Submissions(MethodView):
    @blp.arguments(s.SubmissionArgsSchema, location="query")
    @blp.response(200, s.SubmissionSummarySchema(many=True))
    @blp.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: PaginationParameters) -> Any:
        """Your submissions, newest first (filter by `state`)."""
        page = services.list_mine(
            actor=require_user(), page=pagination_parameters.page, page_size=pagination_parameters.page_size, **args
        )
        return set_page(pagination_parameters, page)

    @blp.arguments(s.StartSubmissionSchema)
    @blp.response(201, s.SubmissionSchema)
    @blp.alt_response(409, description="An open submission exists, the credential is earned, or no attempts are left")
    def post(self, data: dict[str, Any]) -> Any:
        """Start a draft for a published version (prefilled from your last attempt after "not yet")."""
        submission = services.start(actor=require_user(), **data)
        return submission, 201, _etag(submission)


@blp.route("/<uuid:submission_id>")
class SubmissionItem(MethodView):
    @blp.response(200, s.SubmissionSchema)
    def get(self, submission_id: uuid.UUID) -> Any:
        """A submission with its answers, files, released feedback and, for a draft, what is still missing."""
        submission = services.get(actor=require_user(), submission_id=submission_id)
        return submission, 200, _etag(submission)

    @blp.arguments(s.UpdateSubmissionSchema)
    @blp.response(200, s.SubmissionSchema)
    @blp.alt_response(412, description="If-Match names an older save (another tab saved meanwhile)")
    def patch(self, data: dict[str, Any], submission_id: uuid.UUID) -> Any:
        """Save draft answers and/or the evidence-public choice. Send `If-Match` with the last ETag."""
        actor, expected = require_user(), _expected(submission_id)
        submission = None
        if "answers" in data:
            submission = services.save_draft(
                actor=actor, submission_id=submission_id, answers=data["answers"], expected_version=expected
            )
            expected = None  # checked once; the evidence-public flag below is part of the same save
        if "evidence_public" in data:
            submission = services.set_evidence_public(
                actor=actor,
                submission_id=submission_id,
                evidence_public=data["evidence_public"],
                expected_version=expected,
            )
        if submission is None:
            submission = services.get(actor=actor, submission_id=submission_id)
        return submission, 200, _etag(submission)


def _action(name: str, call: Any, doc: str) -> None:
    def post(self: MethodView, submission_id: uuid.UUID) -> Any:
        submission = call(actor=require_user(), submission_id=submission_id, expected_version=_expected(submission_id))
        return submission, 200, _etag(submission)

    post.__doc__ = doc
    view = blp.alt_response(409, description="Not in a state that allows this")(
        blp.response(200, s.SubmissionSchema)(post)
    )
    blp.route(f"/<uuid:submission_id>/{name}", endpoint=f"submission_{name.replace('-', '_')}")(
        type(f"Submission_{name}", (MethodView,), {"post": view})
    )


_action("submit", services.submit, "Submit the draft; a 422 lists every missing or out-of-bounds item.")
_action("withdraw", services.withdraw, "Withdraw a draft or a submission whose review has not started.")


@blp.route("/<uuid:submission_id>/next-attempt")
class NextAttempt(MethodView):
    @blp.response(201, s.SubmissionSchema)
    def post(self, submission_id: uuid.UUID) -> Any:
        """After "not yet": start the next attempt, prefilled from this one."""
        submission = services.next_attempt(actor=require_user(), submission_id=submission_id)
        return submission, 201, _etag(submission)


@blp.route("/<uuid:submission_id>/history")
class History(MethodView):
    @blp.response(200, s.SubmissionSchema(many=True))
    def get(self, submission_id: uuid.UUID) -> Any:
        """Every attempt at the same micro-credential, first to last, with released feedback."""
        return services.history(actor=require_user(), submission_id=submission_id)


@blp.route("/<uuid:submission_id>/openings")
class Openings(MethodView):
    @blp.response(200, s.OpeningSchema(many=True))
    def get(self, submission_id: uuid.UUID) -> Any:
        """Who other than the earner opened this submission's evidence files, newest first (assessors unnamed)."""
        return evidence.openings(actor=require_user(), submission_id=submission_id)


@blp.route("/<uuid:submission_id>/files")
class Files(MethodView):
    @accepts("multipart/form-data")
    @upload_limit
    @blp.arguments(s.UploadSchema, location="multipart")
    @blp.response(201, s.EvidenceFileSchema(many=True))
    @blp.alt_response(412, description="If-Match names an older save")
    @blp.alt_response(413, description="Larger than EVIDENCE_MAX_FILE_SIZE or the submission's total size limit")
    @blp.alt_response(422, description="Empty, wrong type (judged by content), bad name, or too many files")
    @blp.alt_response(503, description="The file store failed; nothing was recorded")
    def post(self, form: dict[str, Any], submission_id: uuid.UUID) -> Any:
        """Upload evidence files (multipart `file`, repeatable) for a file requirement: all are kept or none."""
        created = evidence.add_files(
            actor=require_user(),
            submission_id=submission_id,
            requirement_key=form["requirement_key"],
            files=[evidence.IncomingFile(stream=f.stream, filename=f.filename) for f in form["file"]],
            expected_version=_expected(submission_id),
        )
        return created, 201, _etag(created[0].submission)


@blp.route("/<uuid:submission_id>/files/<uuid:file_id>/assessor-copy")
class AssessorCopy(MethodView):
    @blp.doc(responses={"200": {"description": "The bytes, as an attachment"}, "302": {"description": "To S3"}})
    def get(self, submission_id: uuid.UUID, file_id: uuid.UUID) -> Response:
        """What a blind assessor will get for this file: the copy without identifying metadata."""
        file = evidence.blind_copy_of(actor=require_user(), submission_id=submission_id, file_id=file_id)
        return storage.download(
            file.assessor_sha256, filename=evidence.assessor_copy_name(file), media_type=file.media_type
        )


@blp.route("/<uuid:submission_id>/files/<uuid:file_id>")
class FileItem(MethodView):
    @blp.doc(responses={"200": {"description": "The bytes, as an attachment"}, "302": {"description": "To S3"}})
    def get(self, submission_id: uuid.UUID, file_id: uuid.UUID) -> Response:
        """Download a file: always as an attachment (local store) or a redirect to a presigned URL (S3)."""
        file = evidence.open_file(actor=require_user(), submission_id=submission_id, file_id=file_id)
        return storage.download(file.sha256, filename=file.filename, media_type=file.media_type)

    @blp.response(200, s.SubmissionSchema)
    def delete(self, submission_id: uuid.UUID, file_id: uuid.UUID) -> Any:
        """Remove a file from a draft."""
        submission = evidence.remove_file(
            actor=require_user(),
            submission_id=submission_id,
            file_id=file_id,
            expected_version=_expected(submission_id),
        )
        return submission, 200, _etag(submission)


def init_app(app: Flask) -> None:
    register(app, blp)
