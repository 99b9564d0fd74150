"""Review rules: the queue and claims, conflicts of interest, blind scoring, decisions, double scoring,
adjudication, calibration, appeals, stale claims and the issuance hand-off."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from assessors import appeals, calibration, issuance, qualifications, scoring
from assessors import queue as review_queue
from assessors import settings as review_settings
from assessors.models import Review, ReviewTask, TaskKind, TaskState
from core import clock, mail
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.models import AuditEvent, Role
from credentials.portfolios.models import CriterionFeedback, SubmissionState
from tests.factories import (
    AnswerFactory,
    CredentialVersionFactory,
    EvidenceFileFactory,
    OrganisationFactory,
    QualificationFactory,
    RubricCriterionFactory,
    SubmissionFactory,
    member,
)

NO_DOUBLE = {"double_first_n": 0, "double_share": 0.0}


class World:
    """An organisation with a published two-criterion credential and qualified assessors."""

    def __init__(self, session: Any, *, settings: dict[str, Any] | None = None) -> None:
        self.org = OrganisationFactory()
        self.admin = member(self.org, Role.ORG_ADMIN)
        self.version = CredentialVersionFactory(organisation=self.org, published=True)
        RubricCriterionFactory(version=self.version, key="impact")
        session.refresh(self.version)
        self.mc_id = self.version.micro_credential_id
        self.assessor = self.qualified()
        self.assessor2 = self.qualified()
        self.lead = self.qualified(is_lead=True)
        review_settings.update_settings(
            actor=self.admin, organisation_id=self.org.id, changes=settings if settings is not None else NO_DOUBLE
        )

    def qualified(self, *, is_lead: bool = False, **fields: Any) -> Any:
        user = member(self.org, Role.ASSESSOR, **fields)
        QualificationFactory(user=user, micro_credential=self.version.micro_credential, is_lead=is_lead)
        return user

    def submission(self, minutes_ago: int = 60, **kwargs: Any) -> Any:
        with clock.frozen_at(clock.now() - timedelta(minutes=minutes_ago)):
            submission = SubmissionFactory(version=self.version, submitted=True, **kwargs)
        AnswerFactory(submission=submission)
        return submission

    def claim(self, who: Any) -> ReviewTask | None:
        return review_queue.claim_next(actor=who, organisation_id=self.org.id)


def full_scores(quality: int = 2, impact: int = 2, feedback: str = "") -> list[dict[str, Any]]:
    return [
        {"criterion_key": "quality", "level": quality, "feedback": feedback},
        {"criterion_key": "impact", "level": impact, "feedback": feedback},
    ]


@pytest.fixture
def world(session: Any) -> World:
    return World(session)


@pytest.fixture
def awards() -> Any:
    received: list[issuance.Award] = []
    issuance.register(received.append)
    yield received
    issuance._handlers.remove(received.append)


# --- queue and claims --------------------------------------------------------------------------------


def test_claim_next_gives_the_oldest_submission_once_with_a_lease(world):
    newer = world.submission(minutes_ago=10)
    older = world.submission(minutes_ago=90)
    task = world.claim(world.assessor)
    assert task.submission_id == older.id
    assert task.lease_expires_at - task.claimed_at == timedelta(hours=48)
    assert older.state == SubmissionState.IN_REVIEW.value
    second = world.claim(world.assessor2)
    assert second.submission_id == newer.id
    assert world.claim(world.lead) is None


def test_queue_lists_oldest_first_with_ages_and_counts(world, session):
    review_settings.update_settings(actor=world.admin, organisation_id=world.org.id, changes={"turnaround_hours": 1})
    old = world.submission(minutes_ago=120)
    world.submission(minutes_ago=30)
    world.claim(world.assessor)
    queue = review_queue.list_queue(actor=world.assessor2, organisation_id=world.org.id)
    assert queue.items[0].reference == old.reference
    assert (queue.total, queue.claimed, queue.open, queue.overdue) == (2, 1, 1, 1)
    assert queue.items[0].claimed and queue.items[0].overdue and queue.items[0].age_hours == 2.0
    assert queue.oldest_age_hours == 2.0


def test_an_assessor_never_gets_their_own_submission(world):
    world.submission(earner=world.assessor)
    assert world.claim(world.assessor) is None
    assert world.claim(world.assessor2) is not None


def test_same_unit_is_a_conflict_only_when_the_organisation_says_so(world, session):
    world.assessor.unit = "Lincoln Elementary"
    earner = member(world.org, unit="Lincoln Elementary")
    world.submission(earner=earner)
    review_settings.update_settings(actor=world.admin, organisation_id=world.org.id, changes={"conflict_by_unit": True})
    assert world.claim(world.assessor) is None
    review_settings.update_settings(
        actor=world.admin, organisation_id=world.org.id, changes={"conflict_by_unit": False}
    )
    assert world.claim(world.assessor) is not None


def test_unqualified_assessors_and_other_organisations_get_nothing(world):
    world.submission()
    unqualified = member(world.org, Role.ASSESSOR)
    assert world.claim(unqualified) is None
    stranger = member(OrganisationFactory(), Role.ASSESSOR)
    with pytest.raises(Forbidden):
        world.claim(stranger)


def test_release_and_expired_lease_return_the_submission_to_the_queue(world):
    world.submission()
    task = world.claim(world.assessor)
    review_queue.release(actor=world.assessor, task_id=task.id)
    task = world.claim(world.assessor2)
    assert task is not None
    with clock.shifted(timedelta(hours=49)):
        again = world.claim(world.lead)
    assert again.id == task.id
    assert again.claimed_by_id == world.lead.id


def test_withdrawn_submissions_are_dropped_when_claimed(world, session):
    gone = world.submission(minutes_ago=100)
    kept = world.submission(minutes_ago=50)
    review_queue.list_queue(actor=world.assessor, organisation_id=world.org.id)
    gone.state = SubmissionState.WITHDRAWN.value
    session.flush()
    assert world.claim(world.assessor).submission_id == kept.id


# --- blind view ----------------------------------------------------------------------------------------


def test_the_assessor_view_never_names_the_earner(world):
    earner = member(world.org, name="Zelda Quartermaine", email="zelda@example.org")
    submission = world.submission(earner=earner)
    EvidenceFileFactory(
        submission=submission, filename="zelda-quartermaine-lesson.pdf", media_type="application/pdf", size=2_200_000
    )
    task = world.claim(world.assessor)
    view = scoring.task_view(actor=world.assessor, task_id=task.id)
    text = repr(view["submission"])
    for secret in ("Zelda", "zelda", "Quartermaine", str(earner.id)):
        assert secret not in text
    assert view["submission"]["reference"] == submission.reference
    assert view["submission"]["files"][0]["label"] == "file 1 (pdf, 2.1 MB)"


def test_evidence_download_needs_the_live_claim(world):
    submission = world.submission()
    evidence = EvidenceFileFactory(submission=submission)
    with pytest.raises(Forbidden):
        scoring.evidence_download(world.assessor, evidence)
    world.claim(world.assessor)
    assert scoring.is_current_assessor(world.assessor, submission.id)
    assert not scoring.is_current_assessor(world.assessor2, submission.id)


# --- scoring and decisions -----------------------------------------------------------------------------


def test_partial_save_then_incomplete_submit_lists_everything_missing(world, session):
    world.submission()
    task = world.claim(world.assessor)
    scoring.save_scores(actor=world.assessor, task_id=task.id, scores=[{"criterion_key": "impact", "level": 0}])
    with pytest.raises(ValidationFailed) as caught:
        scoring.submit_review(actor=world.assessor, task_id=task.id)
    assert {e["field"] for e in caught.value.errors} == {"/scores/0/level", "/scores/1/feedback", "/summary"}
    assert task.state == TaskState.OPEN.value


def test_a_complete_review_decides_from_the_passing_rule_and_releases_feedback(world, session, awards):
    submission = world.submission()
    task = world.claim(world.assessor)
    review = scoring.submit_review(
        actor=world.assessor, task_id=task.id, scores=full_scores(3, 2, "Clear."), summary="Strong work."
    )
    assert review.decision == "passed" and review.total_points == 5
    assert submission.state == SubmissionState.PASSED.value and submission.decided_at is not None
    assert submission.feedback_summary == "Strong work."
    feedback = session.scalars(select(CriterionFeedback).where(CriterionFeedback.submission_id == submission.id)).all()
    assert {(f.criterion_key, f.level_name) for f in feedback} == {("quality", "Exemplary"), ("impact", "Proficient")}
    assert [a.submission_id for a in awards] == [submission.id]
    assert [m.to for m in mail.sent] == [submission.earner.email]


def test_below_passing_is_not_yet_and_needs_feedback(world, awards):
    submission = world.submission()
    task = world.claim(world.assessor)
    scoring.submit_review(
        actor=world.assessor, task_id=task.id, scores=full_scores(1, 3, "Show student work."), summary="Close."
    )
    assert submission.state == SubmissionState.NOT_YET.value
    assert awards == []


def test_passing_points_rule(world, session):
    world.version.passing_level = None
    world.version.passing_points = 5
    session.flush()
    submission = world.submission()
    task = world.claim(world.assessor)
    scoring.submit_review(actor=world.assessor, task_id=task.id, scores=full_scores(2, 2), summary="Ok.")
    assert submission.state == SubmissionState.NOT_YET.value


# --- bad input: precise errors, nothing changed --------------------------------------------------------


def _nothing_written(session: Any) -> None:
    assert session.scalar(select(func.count()).select_from(Review)) == 0


def test_scoring_an_unclaimed_submission_is_forbidden(world, session):
    world.submission()
    task = world.claim(world.assessor)
    with pytest.raises(Forbidden, match="not claimed"):
        scoring.save_scores(actor=world.assessor2, task_id=task.id, scores=full_scores())
    _nothing_written(session)


def test_scoring_after_the_lease_expired_is_a_conflict(world, session):
    world.submission()
    task = world.claim(world.assessor)
    with clock.shifted(timedelta(hours=48, seconds=1)), pytest.raises(Conflict, match="expired"):
        scoring.submit_review(actor=world.assessor, task_id=task.id, scores=full_scores(), summary="x")
    _nothing_written(session)


def test_a_level_not_in_the_rubric_is_refused_with_pointers(world, session):
    world.submission()
    task = world.claim(world.assessor)
    with pytest.raises(ValidationFailed) as caught:
        scoring.save_scores(
            actor=world.assessor,
            task_id=task.id,
            scores=[{"criterion_key": "quality", "level": 7}, {"criterion_key": "nope", "level": 1}],
        )
    assert [e["field"] for e in caught.value.errors] == ["/scores/0/level", "/scores/1/criterion_key"]
    _nothing_written(session)


def test_submitting_the_same_review_twice_is_a_conflict(world, session, awards):
    world.submission()
    task = world.claim(world.assessor)
    scoring.submit_review(actor=world.assessor, task_id=task.id, scores=full_scores(), summary="Good.")
    with pytest.raises(Conflict, match="already submitted"):
        scoring.submit_review(actor=world.assessor, task_id=task.id, scores=full_scores(0, 0, "x"), summary="Bad.")
    assert len(awards) == 1


def test_an_assessor_of_another_organisation_cannot_score(world, session):
    world.submission()
    task = world.claim(world.assessor)
    stranger = member(OrganisationFactory(), Role.ASSESSOR)
    with pytest.raises(NotFound, match="No such review task"):  # as an unknown id: its existence is not told
        scoring.save_scores(actor=stranger, task_id=task.id, scores=full_scores())
    _nothing_written(session)
    in_org_non_assessor = member(world.org, Role.AUTHOR)
    with pytest.raises(Forbidden, match="do not assess"):
        scoring.save_scores(actor=in_org_non_assessor, task_id=task.id, scores=full_scores())


def test_an_earner_cannot_score_their_own_work(world, session):
    submission = world.submission(earner=world.assessor)
    task = world.claim(world.assessor2)
    assert task.submission_id == submission.id
    with pytest.raises(Forbidden, match="own submission"):
        scoring.save_scores(actor=world.assessor, task_id=task.id, scores=full_scores())
    _nothing_written(session)


def test_an_unknown_task_is_not_found(world):
    import uuid

    with pytest.raises(NotFound):
        scoring.task_view(actor=world.assessor, task_id=uuid.uuid4())


# --- double scoring and adjudication -------------------------------------------------------------------


def test_the_first_n_of_a_version_are_double_scored_and_agreement_is_final(session, awards):
    world = World(session, settings={"double_first_n": 1, "double_share": 0.0})
    first = world.submission(minutes_ago=30)
    second = world.submission(minutes_ago=10)
    t1 = world.claim(world.assessor)
    t2 = world.claim(world.assessor2)
    assert {t1.submission_id, t2.submission_id} == {first.id}  # the second independent review of the same one
    view = scoring.task_view(actor=world.assessor2, task_id=t2.id)
    assert view["others"] == [] and view["review"] is None
    scoring.submit_review(actor=world.assessor, task_id=t1.id, scores=full_scores(), summary="Good.")
    assert first.state == SubmissionState.IN_REVIEW.value  # waits for the second review
    scoring.submit_review(actor=world.assessor2, task_id=t2.id, scores=full_scores(3, 2), summary="Fine.")
    assert first.state == SubmissionState.PASSED.value
    assert len(awards) == 1
    single = session.scalars(select(ReviewTask).where(ReviewTask.submission_id == second.id)).all()
    assert len(single) == 1


def test_disagreement_goes_to_a_lead_who_sees_both_and_decides(session, awards):
    world = World(session, settings={"double_first_n": 5})
    submission = world.submission()
    t1, t2 = world.claim(world.assessor), world.claim(world.assessor2)
    first = scoring.submit_review(actor=world.assessor, task_id=t1.id, scores=full_scores(), summary="Pass.")
    assert "second assessor reviews it independently" in scoring.submitted_message(first)
    second = scoring.submit_review(
        actor=world.assessor2, task_id=t2.id, scores=full_scores(1, 1, "Thin."), summary="No."
    )
    assert submission.state == SubmissionState.IN_REVIEW.value
    told = scoring.submitted_message(second)
    assert "your scores give not yet" in told and "lead assessor adjudicates" in told
    assert "released" not in told
    plain = world.qualified()
    assert world.claim(plain) is None  # adjudication is for leads only
    task = world.claim(world.lead)
    assert task.kind == TaskKind.ADJUDICATION.value
    view = scoring.task_view(actor=world.lead, task_id=task.id)
    assert sorted(r.decision for r in view["others"]) == ["not_yet", "passed"]
    final = scoring.submit_review(actor=world.lead, task_id=task.id, scores=full_scores(2, 2), summary="Passes.")
    assert submission.state == SubmissionState.PASSED.value
    assert scoring.submitted_message(final) == "Review submitted: pass. The decision is released to the earner."
    assert len(awards) == 1
    assert session.scalar(select(func.count()).where(Review.submission_id == submission.id)) == 3


def test_a_reviewer_does_not_adjudicate_their_own_disagreement(session):
    world = World(session, settings={"double_first_n": 5})
    world.submission()
    t1, t2 = world.claim(world.lead), world.claim(world.assessor)
    scoring.submit_review(actor=world.lead, task_id=t1.id, scores=full_scores(), summary="Pass.")
    scoring.submit_review(actor=world.assessor, task_id=t2.id, scores=full_scores(0, 0, "x"), summary="No.")
    assert world.claim(world.lead) is None


# --- calibration ---------------------------------------------------------------------------------------


def _anchor_set(world: World) -> list[Any]:
    author = member(world.org, Role.AUTHOR)
    anchors = []
    for levels in ({"quality": 2, "impact": 2}, {"quality": 1, "impact": 0}):
        anchor_submission = world.submission()
        anchor_submission.state = SubmissionState.PASSED.value
        anchors.append(calibration.mark_anchor(actor=author, submission_id=anchor_submission.id, agreed_levels=levels))
    return anchors


def test_calibration_gates_live_work_and_shows_divergences(world, session):
    anchors = _anchor_set(world)
    world.submission()
    assert world.claim(world.assessor) is None  # not calibrated yet
    shown = calibration.calibration_set(actor=world.assessor, micro_credential_id=world.mc_id)
    assert "agreed_levels" not in repr(shown["anchors"])
    wrong = {str(anchors[0].id): {"quality": 2, "impact": 2}, str(anchors[1].id): {"quality": 3, "impact": 3}}
    attempt = calibration.calibrate(actor=world.assessor, micro_credential_id=world.mc_id, levels=wrong)
    assert not attempt.passed and attempt.agreement == 0.5
    assert {(d["criterion"], d["given"], d["agreed"]) for d in attempt.divergences} == {
        ("quality", 3, 1),
        ("impact", 3, 0),
    }
    right = {str(a.id): dict(a.agreed_levels) for a in anchors}
    assert calibration.calibrate(actor=world.assessor, micro_credential_id=world.mc_id, levels=right).passed
    assert world.claim(world.assessor) is not None


def test_recalibration_is_required_after_the_period(world, session):
    anchors = _anchor_set(world)
    review_settings.update_settings(actor=world.admin, organisation_id=world.org.id, changes={"recalibration_days": 30})
    right = {str(a.id): dict(a.agreed_levels) for a in anchors}
    calibration.calibrate(actor=world.assessor, micro_credential_id=world.mc_id, levels=right)
    world.submission()
    with clock.shifted(timedelta(days=31)):
        assert world.claim(world.assessor) is None
    assert world.claim(world.assessor) is not None


def test_incomplete_calibration_and_bad_anchors_are_refused(world):
    anchors = _anchor_set(world)
    with pytest.raises(ValidationFailed) as caught:
        calibration.calibrate(actor=world.assessor, micro_credential_id=world.mc_id, levels={str(anchors[0].id): {}})
    assert len(caught.value.errors) == 3
    author = member(world.org, Role.AUTHOR)
    with pytest.raises(ValidationFailed):
        calibration.mark_anchor(actor=author, submission_id=anchors[0].submission_id, agreed_levels={"quality": 9})
    with pytest.raises(Forbidden):
        calibration.mark_anchor(actor=world.assessor, submission_id=anchors[0].submission_id, agreed_levels={})


# --- appeals -------------------------------------------------------------------------------------------


def test_an_appeal_goes_to_a_different_assessor_and_is_allowed_once(world, awards):
    submission = world.submission()
    task = world.claim(world.assessor)
    scoring.submit_review(actor=world.assessor, task_id=task.id, scores=full_scores(1, 1, "Thin."), summary="No.")
    with pytest.raises(NotFound):
        appeals.appeal(actor=world.assessor2, submission_id=submission.id, reason="Not mine.")
    appeal = appeals.appeal(actor=submission.earner, submission_id=submission.id, reason="Criterion 2 is shown.")
    assert submission.state == SubmissionState.IN_REVIEW.value
    assert world.claim(world.assessor) is None
    again = world.claim(world.assessor2)
    assert again.kind == TaskKind.APPEAL.value
    assert scoring.task_view(actor=world.assessor2, task_id=again.id)["appeal_reason"] == "Criterion 2 is shown."
    scoring.submit_review(actor=world.assessor2, task_id=again.id, scores=full_scores(2, 2), summary="Passes.")
    assert submission.state == SubmissionState.PASSED.value and appeal.outcome == "passed"
    assert len(awards) == 1
    with pytest.raises(Conflict):
        appeals.appeal(actor=submission.earner, submission_id=submission.id, reason="Again.")


def test_only_not_yet_can_be_appealed_and_only_once(world):
    submission = world.submission()
    with pytest.raises(Conflict):
        appeals.appeal(actor=submission.earner, submission_id=submission.id, reason="Early.")
    task = world.claim(world.assessor)
    scoring.submit_review(actor=world.assessor, task_id=task.id, scores=full_scores(0, 0, "x"), summary="No.")
    appeals.appeal(actor=submission.earner, submission_id=submission.id, reason="Please.")
    task = world.claim(world.assessor2)
    scoring.submit_review(actor=world.assessor2, task_id=task.id, scores=full_scores(0, 0, "y"), summary="No.")
    assert submission.state == SubmissionState.NOT_YET.value
    with pytest.raises(Conflict, match="once"):
        appeals.appeal(actor=submission.earner, submission_id=submission.id, reason="Again.")


# --- stale claims, settings ------------------------------------------------------------------------------


def test_stale_claims_are_reported_once_and_cleared(world, session):
    world.submission()
    task = world.claim(world.assessor)
    mail.sent.clear()
    assert review_queue.sweep_stale_claims() == []
    with clock.shifted(timedelta(hours=49)):
        assert [t.id for t in review_queue.sweep_stale_claims()] == [task.id]
        assert [m.to for m in mail.sent] == [world.assessor.email]
        review_queue.sweep_stale_claims(clear=True)
    assert len(mail.sent) == 1
    assert task.claimed_by_id is None


def test_the_sweep_never_releases_a_claim_taken_again_while_it_ran(world, session, monkeypatch):
    from sqlalchemy import update

    from core.models import User

    world.submission()
    task = world.claim(world.assessor)
    fresh_lease = clock.now() + timedelta(hours=100)
    real_get = session.get

    def reclaimed_meanwhile(model: Any, ident: Any, **kwargs: Any) -> Any:
        if model is User:  # the sweep has read the expired claim; another assessor claims the task now
            session.execute(
                update(ReviewTask)
                .where(ReviewTask.id == task.id)
                .values(claimed_by_id=world.assessor2.id, lease_expires_at=fresh_lease)
                .execution_options(synchronize_session=False)
            )
        return real_get(model, ident, **kwargs)

    mail.sent.clear()
    with clock.shifted(timedelta(hours=49)):
        monkeypatch.setattr(session, "get", reclaimed_meanwhile)
        review_queue.sweep_stale_claims(clear=True)
        monkeypatch.undo()
    session.refresh(task)
    assert task.claimed_by_id == world.assessor2.id and task.lease_expires_at == fresh_lease
    assert mail.sent == []  # nobody's claim expired after all


def test_only_org_admins_manage_qualifications_and_settings(world, session):
    with pytest.raises(Forbidden):
        review_settings.update_settings(
            actor=world.assessor, organisation_id=world.org.id, changes={"turnaround_hours": 1}
        )
    with pytest.raises(Forbidden):
        qualifications.qualify(actor=world.assessor, micro_credential_id=world.mc_id, user_id=world.assessor.id)
    earner = member(world.org)
    with pytest.raises(ValidationFailed):
        qualifications.qualify(actor=world.admin, micro_credential_id=world.mc_id, user_id=earner.id)
    q = qualifications.qualify(
        actor=world.admin, micro_credential_id=world.mc_id, user_id=world.assessor.id, is_lead=True
    )
    assert q.is_lead
    assert session.scalar(select(func.count()).where(AuditEvent.action == "assessor.qualified")) == 1
    review_settings.update_settings(
        actor=world.admin,
        organisation_id=world.org.id,
        micro_credential_id=world.mc_id,
        changes={"turnaround_hours": 5},
    )
    assert review_settings.settings_for(world.org.id, world.mc_id)["turnaround_hours"] == 5
    assert review_settings.settings_for(world.org.id)["turnaround_hours"] == 14 * 24


def test_the_stale_claims_command_reports_and_clears(app, world, session):
    world.submission()
    world.claim(world.assessor)
    runner = app.test_cli_runner()
    assert "0 stale claim(s)" in runner.invoke(args=["review", "stale-claims"]).output
    with clock.shifted(timedelta(hours=49)):
        result = runner.invoke(args=["review", "stale-claims", "--clear"])
    assert "1 stale claim(s) cleared" in result.output
    assert [m.to for m in mail.sent] == [world.assessor.email]


def test_the_enqueue_command_picks_up_new_submissions(app, world, session):
    submission = world.submission()
    assert "1 submission(s) queued" in app.test_cli_runner().invoke(args=["review", "enqueue"]).output
    session.refresh(submission)
    # On the queue, but review has not started: the earner may still withdraw until an assessor claims it.
    assert submission.state == SubmissionState.SUBMITTED.value and submission.queued_at is not None
    assert "0 submission(s) queued" in app.test_cli_runner().invoke(args=["review", "enqueue"]).output


def test_a_queued_submission_can_be_withdrawn_until_claimed_and_leaves_the_queue(world, session):
    from credentials.portfolios import services as portfolio

    kept, withdrawn = world.submission(minutes_ago=30), world.submission(minutes_ago=90)
    listed = review_queue.list_queue(actor=world.assessor, organisation_id=world.org.id)
    assert {i.reference for i in listed.items} == {kept.reference, withdrawn.reference}
    version = withdrawn.lock_version
    portfolio.withdraw(actor=withdrawn.earner, submission_id=withdrawn.id, expected_version=version)
    listed = review_queue.list_queue(actor=world.assessor, organisation_id=world.org.id)
    assert [i.reference for i in listed.items] == [kept.reference] and listed.total == 1
    task = world.claim(world.assessor)
    assert task.submission_id == kept.id and kept.state == SubmissionState.IN_REVIEW.value
    with pytest.raises(Conflict, match="can no longer be withdrawn"):
        portfolio.withdraw(actor=kept.earner, submission_id=kept.id)
