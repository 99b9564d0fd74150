"""HTTP API for review: the queue and claims, blind scoring, calibration, qualifications and settings,
appeals (earners) and reports (org admins, JSON or CSV)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Flask, Response
from flask.views import MethodView

from assessors import appeals, calibration, qualifications, queue, reports, scoring, settings, sla
from assessors import schemas as s
from core.auth import require_user
from core.db import db
from core.errors import NotFound
from core.http import api_blueprint, register
from credentials.portfolios.models import EvidenceFile

blp = api_blueprint("review-api", __name__, "", "Review queue, scoring, calibration, appeals and reports")


@blp.route("/organisations/<uuid:organisation_id>/review-queue")
class QueueView(MethodView):
    @blp.arguments(s.QueueArgsSchema, location="query")
    @blp.response(200, s.QueueSchema)
    def get(self, args: dict[str, Any], organisation_id: uuid.UUID) -> Any:
        """Open review work, oldest first, with ages against the turnaround target and counts."""
        return queue.list_queue(actor=require_user(), organisation_id=organisation_id, **args)


@blp.route("/organisations/<uuid:organisation_id>/review-queue/claim")
class ClaimView(MethodView):
    @blp.arguments(s.ClaimSchema)
    @blp.response(200, s.TaskViewSchema)
    @blp.alt_response(204, description="Nothing you may take is waiting")
    def post(self, data: dict[str, Any], organisation_id: uuid.UUID) -> Any:
        """Claim the oldest submission you may review (blind) and hold it for `REVIEW_LEASE_HOURS`."""
        actor = require_user()
        task = queue.claim_next(actor=actor, organisation_id=organisation_id, **data)
        if task is None:
            return Response(status=204)
        return scoring.task_view(actor=actor, task_id=task.id)


@blp.route("/review-tasks/mine")
class MyTasks(MethodView):
    @blp.response(200, s.TaskSchema(many=True))
    def get(self) -> Any:
        """Your live claims."""
        return queue.my_claims(actor=require_user())


@blp.route("/review-tasks/<uuid:task_id>")
class TaskItem(MethodView):
    @blp.response(200, s.TaskViewSchema)
    def get(self, task_id: uuid.UUID) -> Any:
        """A task you hold: the blind submission, the rubric, your draft (and both reviews when adjudicating)."""
        return scoring.task_view(actor=require_user(), task_id=task_id)


@blp.route("/review-tasks/<uuid:task_id>/scores")
class Scores(MethodView):
    @blp.arguments(s.SaveScoresSchema)
    @blp.response(200, s.ReviewSchema)
    def put(self, data: dict[str, Any], task_id: uuid.UUID) -> Any:
        """Save scores as a draft (partial is fine; a null level clears one)."""
        return scoring.save_scores(actor=require_user(), task_id=task_id, **data)


@blp.route("/review-tasks/<uuid:task_id>/submit")
class Submit(MethodView):
    @blp.arguments(s.SaveScoresSchema)
    @blp.response(200, s.ReviewSchema)
    @blp.alt_response(409, description="Already submitted, or the claim expired")
    @blp.alt_response(422, description="Incomplete: every missing level or feedback is listed")
    def post(self, data: dict[str, Any], task_id: uuid.UUID) -> Any:
        """Submit the review (with any last scores); the decision follows from the rubric's passing rule."""
        return scoring.submit_review(actor=require_user(), task_id=task_id, **data)


@blp.route("/review-tasks/<uuid:task_id>/release")
class Release(MethodView):
    @blp.response(200, s.TaskSchema)
    def post(self, task_id: uuid.UUID) -> Any:
        """Give the submission back to the queue."""
        return queue.release(actor=require_user(), task_id=task_id)


@blp.route("/review-evidence/<uuid:file_id>")
class EvidenceDownload(MethodView):
    @blp.response(200)
    def get(self, file_id: uuid.UUID) -> Any:
        """Download an evidence file of a submission you hold (served under its blind label)."""
        evidence = db.session.get(EvidenceFile, file_id)
        if evidence is None:
            raise NotFound("No such evidence file.")
        return scoring.evidence_download(require_user(), evidence)


@blp.route("/organisations/<uuid:organisation_id>/assessor-qualifications")
class Qualifications(MethodView):
    @blp.response(200, s.QualificationSchema(many=True))
    def get(self, organisation_id: uuid.UUID) -> Any:
        """Who may assess which micro-credential (org admins)."""
        return qualifications.list_qualifications(actor=require_user(), organisation_id=organisation_id)

    @blp.arguments(s.QualifySchema)
    @blp.response(201, s.QualificationSchema)
    def post(self, data: dict[str, Any], organisation_id: uuid.UUID) -> Any:
        """Qualify an assessor of the organisation for a micro-credential; `is_lead` lets them adjudicate."""
        qualification = qualifications.qualify(actor=require_user(), organisation_id=organisation_id, **data)
        if qualification.organisation_id != organisation_id:
            raise NotFound("No such micro-credential in this organisation.")
        return qualification, 201


@blp.route("/assessor-qualifications/<uuid:qualification_id>")
class QualificationItem(MethodView):
    @blp.response(204)
    def delete(self, qualification_id: uuid.UUID) -> Any:
        """Withdraw a qualification."""
        qualifications.unqualify(actor=require_user(), qualification_id=qualification_id)
        return "", 204


@blp.route("/organisations/<uuid:organisation_id>/review-settings")
class OrgSettings(MethodView):
    @blp.response(200, s.SettingsSchema)
    def get(self, organisation_id: uuid.UUID) -> Any:
        """The organisation's programme settings (defaults where unset)."""
        qualifications.list_qualifications(actor=require_user(), organisation_id=organisation_id)  # authorises
        return settings.settings_for(organisation_id)

    @blp.arguments(s.SettingsInSchema)
    @blp.response(200, s.SettingsSchema)
    def patch(self, data: dict[str, Any], organisation_id: uuid.UUID) -> Any:
        """Change the organisation's programme settings (org admins)."""
        return settings.update_settings(actor=require_user(), organisation_id=organisation_id, changes=data)


@blp.route("/organisations/<uuid:organisation_id>/micro-credentials/<uuid:micro_credential_id>/review-settings")
class CredentialSettings(MethodView):
    @blp.response(200, s.SettingsSchema)
    def get(self, organisation_id: uuid.UUID, micro_credential_id: uuid.UUID) -> Any:
        """A micro-credential's effective settings (its own over the organisation's)."""
        qualifications.list_qualifications(actor=require_user(), organisation_id=organisation_id)  # authorises
        return settings.settings_for(organisation_id, micro_credential_id)

    @blp.arguments(s.SettingsInSchema)
    @blp.response(200, s.SettingsSchema)
    def patch(self, data: dict[str, Any], organisation_id: uuid.UUID, micro_credential_id: uuid.UUID) -> Any:
        """Override settings for one micro-credential (org admins)."""
        return settings.update_settings(
            actor=require_user(), organisation_id=organisation_id, micro_credential_id=micro_credential_id, changes=data
        )


@blp.route("/organisations/<uuid:organisation_id>/review-calendar")
class Calendar(MethodView):
    @blp.response(200, s.NonWorkingDaySchema(many=True))
    def get(self, organisation_id: uuid.UUID) -> Any:
        """The organisation's listed non-working days (weekends are never working days) (org admins)."""
        return sla.list_non_working_days(actor=require_user(), organisation_id=organisation_id)

    @blp.arguments(s.NonWorkingDayInSchema)
    @blp.response(201, s.NonWorkingDaySchema)
    def post(self, data: dict[str, Any], organisation_id: uuid.UUID) -> Any:
        """List a non-working day; due dates counted from now on skip it (org admins)."""
        return sla.add_non_working_day(actor=require_user(), organisation_id=organisation_id, **data)


@blp.route("/organisations/<uuid:organisation_id>/review-calendar/<uuid:day_id>")
class CalendarDay(MethodView):
    @blp.response(204)
    def delete(self, organisation_id: uuid.UUID, day_id: uuid.UUID) -> Any:
        """Make a listed day a working day again (org admins)."""
        sla.remove_non_working_day(actor=require_user(), organisation_id=organisation_id, day_id=day_id)
        return Response(status=204)


@blp.route("/organisations/<uuid:organisation_id>/review-overdue")
class Overdue(MethodView):
    @blp.response(200, s.OverdueItemSchema(many=True))
    def get(self, organisation_id: uuid.UUID) -> Any:
        """Open review work past its due date, most overdue first, with who holds it (org admins)."""
        return sla.overdue(actor=require_user(), organisation_id=organisation_id)


@blp.route("/micro-credentials/<uuid:micro_credential_id>/calibration-anchors")
class Anchors(MethodView):
    @blp.response(200, s.AnchorSchema(many=True))
    def get(self, micro_credential_id: uuid.UUID) -> Any:
        """The calibration set with agreed levels (authors, org admins)."""
        return calibration.list_anchors(actor=require_user(), micro_credential_id=micro_credential_id)

    @blp.arguments(s.AnchorInSchema)
    @blp.response(201, s.AnchorSchema)
    def post(self, data: dict[str, Any], micro_credential_id: uuid.UUID) -> Any:
        """Mark a submission as a calibration anchor with the levels the authors agreed."""
        anchor = calibration.mark_anchor(actor=require_user(), **data)
        if anchor.micro_credential_id != micro_credential_id:
            raise NotFound("That submission is not for this micro-credential.")
        return anchor, 201


@blp.route("/micro-credentials/<uuid:micro_credential_id>/calibration")
class Calibration(MethodView):
    @blp.response(200, s.CalibrationSetSchema)
    def get(self, micro_credential_id: uuid.UUID) -> Any:
        """The calibration set to score (blind, agreed levels withheld) and your status."""
        return calibration.calibration_set(actor=require_user(), micro_credential_id=micro_credential_id)

    @blp.arguments(s.CalibrateSchema)
    @blp.response(201, s.CalibrationAttemptSchema)
    def post(self, data: dict[str, Any], micro_credential_id: uuid.UUID) -> Any:
        """Score the whole set; the answer says whether you passed and where you diverged."""
        return calibration.calibrate(actor=require_user(), micro_credential_id=micro_credential_id, **data), 201


@blp.route("/submissions/<uuid:submission_id>/appeal")
class AppealView(MethodView):
    @blp.arguments(s.AppealSchema)
    @blp.response(201, s.AppealOutSchema)
    def post(self, data: dict[str, Any], submission_id: uuid.UUID) -> Any:
        """Appeal a "not yet" decision (once), with a reason; an assessor who has not seen it reviews it again."""
        return appeals.appeal(actor=require_user(), submission_id=submission_id, **data), 201


def _report(rows: list[dict[str, Any]], schema: Any, fmt: str, name: str) -> Any:
    if fmt == "csv":
        dumped = schema(many=True).dump(rows)
        return Response(
            reports.to_csv(dumped),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return rows


@blp.route("/organisations/<uuid:organisation_id>/review-reports/credentials")
class CredentialReport(MethodView):
    @blp.arguments(s.ReportArgsSchema, location="query")
    @blp.response(200, s.CredentialReportSchema(many=True))
    def get(self, args: dict[str, Any], organisation_id: uuid.UUID) -> Any:
        """Per micro-credential: received, decided, pass rate, turnaround, queue age, agreement, calibration.
        `format=csv` for a spreadsheet."""
        rows = reports.credential_report(actor=require_user(), organisation_id=organisation_id, since=args.get("since"))
        return _report(rows, s.CredentialReportSchema, args["format"], "review-by-credential")


@blp.route("/organisations/<uuid:organisation_id>/review-reports/assessors")
class AssessorReport(MethodView):
    @blp.arguments(s.ReportArgsSchema, location="query")
    @blp.response(200, s.AssessorReportSchema(many=True))
    def get(self, args: dict[str, Any], organisation_id: uuid.UUID) -> Any:
        """Per assessor: reviews, pass rate, turnaround, agreement with second scorers, calibration."""
        rows = reports.assessor_report(actor=require_user(), organisation_id=organisation_id, since=args.get("since"))
        return _report(rows, s.AssessorReportSchema, args["format"], "review-by-assessor")


@blp.route("/organisations/<uuid:organisation_id>/review-reports/trend")
class TrendReport(MethodView):
    @blp.arguments(s.TrendArgsSchema, location="query")
    @blp.response(200, s.TrendRowSchema(many=True))
    def get(self, args: dict[str, Any], organisation_id: uuid.UUID) -> Any:
        """Decisions per calendar month (UTC), empty months included: decided, passed, pass rate, median
        turnaround. `months` (1 to 36, default 12); `format=csv` for a spreadsheet."""
        rows = reports.monthly_trend(actor=require_user(), organisation_id=organisation_id, months=args["months"])
        return _report(rows, s.TrendRowSchema, args["format"], "review-trend")


def init_app(app: Flask) -> None:
    register(app, blp)
