"""The review demo: assessors qualified, a calibration set, submissions in every state, idempotent."""

from __future__ import annotations

from sqlalchemy import func, select

from assessors.models import CalibrationAnchor, Qualification
from credentials.portfolios.models import Submission, SubmissionState


def test_demo_adds_review_data_once(app, session):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo"]).exit_code == 0
    states = set(session.scalars(select(Submission.state).distinct()))
    assert states == {s.value for s in SubmissionState}
    assert session.scalar(select(func.count()).select_from(CalibrationAnchor)) == 2
    qualified = session.scalar(select(func.count()).select_from(Qualification))
    assert qualified == 6
    again = runner.invoke(args=["demo"])
    assert "Review demo data already present." in again.output
    assert session.scalar(select(func.count()).select_from(Qualification)) == qualified
