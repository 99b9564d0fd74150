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


def test_demo_agreement_report_has_figures(app, session):
    """Two double-scored submissions that differ by a level on some criteria: the report shows real agreement."""
    from assessors import reports
    from core.models import Membership, Organisation, User

    assert app.test_cli_runner().invoke(args=["demo"]).exit_code == 0
    admin = session.scalar(select(User).where(User.email.startswith("orgadmin@")))
    org_id = session.scalar(select(Membership.organisation_id).where(Membership.user_id == admin.id))
    assert session.get(Organisation, org_id) is not None
    [row] = [r for r in reports.credential_report(actor=admin, organisation_id=org_id) if r["agreement"]["pairs"]]
    figures = row["agreement"]
    assert figures["pairs"] >= 6  # two submissions, a pair per criterion
    assert 0 < figures["exact"] < 1 and figures["adjacent"] == 1.0
    assert figures["kappa_quadratic"] is not None and 0 < figures["kappa_quadratic"] < 1
