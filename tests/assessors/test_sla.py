"""Service level of review: business-day due dates, the calendar, reminders to the holder, breach rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from assessors import jobs, reports, scoring, sla
from assessors import queue as review_queue
from assessors import settings as review_settings
from assessors.models import Qualification, ReviewTask
from core import clock, mail
from core.errors import Conflict, Forbidden, NotFound
from core.models import AuditEvent
from tests.assessors.test_services import NO_DOUBLE, World, full_scores
from tests.conftest import bearer, problem
from tests.core.test_web import BROWSER, page, sign_in
from tests.factories import AnswerFactory, SubmissionFactory

FRIDAY = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
HOLIDAY = date(2026, 12, 8)  # the Tuesday after
CLAIMED = datetime(2026, 12, 9, 8, 0, tzinfo=UTC)  # Wednesday morning: the 48 h lease lasts past the due date


@pytest.fixture
def world(session: Any) -> World:
    w = World(session, settings={**NO_DOUBLE, "turnaround_business_days": 3, "reminder_business_days": 1})
    sla.add_non_working_day(actor=w.admin, organisation_id=w.org.id, day=HOLIDAY, label="Staff day")
    return w


def submit_at(world: World, moment: datetime) -> Any:
    with clock.frozen_at(moment):
        submission = SubmissionFactory(version=world.version, submitted=True)
    AnswerFactory(submission=submission)
    return submission


def test_business_days_skip_weekends_and_listed_dates() -> None:
    holidays = {HOLIDAY}
    # Fri → Mon (1), Tue is listed, Wed (2), Thu (3), same time of day.
    assert sla.add_business_days(FRIDAY, 3, holidays) == datetime(2026, 12, 10, 10, 0, tzinfo=UTC)
    assert sla.add_business_days(FRIDAY, 1, set()) == datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    # Submitted on a Saturday: the first working day after is Monday.
    assert sla.add_business_days(FRIDAY + timedelta(days=1), 1, set()).date() == date(2026, 12, 7)
    assert sla.subtract_business_days(datetime(2026, 12, 10, 10, tzinfo=UTC), 2, holidays).date() == date(2026, 12, 7)
    same_day = {"turnaround_business_days": 3, "reminder_business_days": 0, "turnaround_hours": 1}
    assert sla.due_dates(FRIDAY, same_day, holidays) == (
        datetime(2026, 12, 10, 10, 0, tzinfo=UTC),
        datetime(2026, 12, 10, 0, 0, tzinfo=UTC),
    )


def test_due_date_fixed_from_submission_and_shown_on_queue(world: World, session: Any) -> None:
    submission = submit_at(world, FRIDAY)
    with clock.frozen_at(FRIDAY + timedelta(days=2)):  # queued on Sunday: still counted from Friday
        queue = review_queue.list_queue(actor=world.assessor, organisation_id=world.org.id)
    session.refresh(submission)
    assert submission.due_at == datetime(2026, 12, 10, 10, 0, tzinfo=UTC)
    (item,) = queue.items
    assert item.due_at == submission.due_at and not item.overdue
    assert item.task.remind_at == datetime(2026, 12, 9, 10, 0, tzinfo=UTC)
    with clock.frozen_at(datetime(2026, 12, 10, 11, tzinfo=UTC)):
        later = review_queue.list_queue(actor=world.assessor, organisation_id=world.org.id)
    assert later.overdue == 1 and later.items[0].overdue


def test_without_business_days_the_due_date_is_turnaround_hours(session: Any) -> None:
    w = World(session, settings={**NO_DOUBLE, "turnaround_hours": 30})
    submission = submit_at(w, FRIDAY)
    with clock.frozen_at(FRIDAY + timedelta(hours=1)):
        w.claim(w.assessor)
    assert submission.due_at == FRIDAY + timedelta(hours=30)


def test_reminder_goes_once_to_the_holder(world: World) -> None:
    submission = submit_at(world, FRIDAY)
    with clock.frozen_at(CLAIMED):
        task = world.claim(world.assessor)
    assert task is not None
    mail.sent.clear()
    with clock.frozen_at(datetime(2026, 12, 9, 9, 59, tzinfo=UTC)):
        assert sla.sweep().reminded == 0
    with clock.frozen_at(datetime(2026, 12, 9, 10, 30, tzinfo=UTC)):
        assert sla.sweep().reminded == 1
        assert sla.sweep().reminded == 0  # once per threshold
    (message,) = mail.sent
    assert message.to == world.assessor.email
    assert submission.reference in message.subject and "Dec 10, 2026" in message.subject
    assert "Thursday, December 10, 2026, 10:00\u202fAM UTC" in message.body
    assert f"/review/tasks/{task.id}" in message.body
    assert submission.earner.email not in message.body and submission.earner.name not in message.body


def test_unclaimed_work_sends_no_reminder(world: World) -> None:
    submit_at(world, FRIDAY)
    with clock.frozen_at(FRIDAY + timedelta(hours=1)):
        review_queue.enqueue_submitted(world.org.id)
    mail.sent.clear()
    with clock.frozen_at(datetime(2026, 12, 9, 12, tzinfo=UTC)):
        assert sla.sweep().reminded == 0
    assert mail.sent == []


def test_breach_with_release_returns_the_claim_and_tells_the_holder(world: World, session: Any) -> None:
    review_settings.update_settings(
        actor=world.admin, organisation_id=world.org.id, changes={"breach_action": "release"}
    )
    submission = submit_at(world, FRIDAY)
    with clock.frozen_at(CLAIMED):
        task = world.claim(world.assessor)
    mail.sent.clear()
    with clock.frozen_at(datetime(2026, 12, 10, 10, 1, tzinfo=UTC)):
        result = sla.sweep()
        assert (result.released, result.escalated) == (1, 0)
        assert sla.sweep().released == 0
        session.refresh(task)
        assert task.claimed_by_id is None and task.breached_at is not None
        # Someone else can take it now.
        assert world.claim(world.assessor2).id == task.id
    (message,) = [m for m in mail.sent if m.to == world.assessor.email]
    assert "went back to the queue" in message.subject and submission.reference in message.subject
    assert "Your saved draft is kept" in message.body
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "review.sla_breached"))
    assert event is not None and event.after["action"] == "release"


def test_breach_with_escalate_tells_the_leads_and_keeps_the_claim(world: World, session: Any) -> None:
    submission = submit_at(world, FRIDAY)
    with clock.frozen_at(CLAIMED):
        task = world.claim(world.assessor)
    mail.sent.clear()
    with clock.frozen_at(datetime(2026, 12, 10, 23, tzinfo=UTC)):
        result = jobs.sweep_due_dates()
        assert result == {"reminded": 0, "released": 0, "escalated": 1}
        assert jobs.sweep_due_dates()["escalated"] == 0
        session.refresh(task)
        assert task.claimed_by_id == world.assessor.id
        overdue = sla.overdue(actor=world.admin, organisation_id=world.org.id)
    assert [m.to for m in mail.sent] == [world.lead.email]
    assert submission.reference in mail.sent[0].subject
    assert f"claimed by {world.assessor.name}" in mail.sent[0].body
    assert submission.earner.name not in mail.sent[0].body
    (item,) = overdue
    assert item.reference == submission.reference and item.holder == world.assessor.name
    assert item.overdue_hours == 13.0


def test_overdue_list_is_for_org_admins(world: World) -> None:
    with pytest.raises(Forbidden):
        sla.overdue(actor=world.assessor, organisation_id=world.org.id)


def test_calendar_rules(world: World, session: Any) -> None:
    days = sla.list_non_working_days(actor=world.admin, organisation_id=world.org.id)
    assert [(d.day, d.label) for d in days] == [(HOLIDAY, "Staff day")]
    with pytest.raises(Conflict):
        sla.add_non_working_day(actor=world.admin, organisation_id=world.org.id, day=HOLIDAY)
    with pytest.raises(Forbidden):
        sla.add_non_working_day(actor=world.assessor, organisation_id=world.org.id, day=date(2026, 12, 24))
    with pytest.raises(NotFound):
        sla.remove_non_working_day(actor=world.admin, organisation_id=world.org.id, day_id=world.org.id)
    elsewhere = World(session)
    with pytest.raises(NotFound):  # another organisation's admin cannot remove this one's day through theirs
        sla.remove_non_working_day(actor=elsewhere.admin, organisation_id=elsewhere.org.id, day_id=days[0].id)
    sla.remove_non_working_day(actor=world.admin, organisation_id=world.org.id, day_id=days[0].id)
    assert sla.list_non_working_days(actor=world.admin, organisation_id=world.org.id) == []


def test_both_independent_reviews_share_the_due_date(session: Any) -> None:
    w = World(session, settings={"double_first_n": 5, "double_share": 0.0, "turnaround_business_days": 2})
    submission = submit_at(w, FRIDAY)
    with clock.frozen_at(FRIDAY + timedelta(hours=1)):
        review_queue.enqueue_submitted(w.org.id)
    dues = set(session.scalars(select(ReviewTask.due_at).where(ReviewTask.submission_id == submission.id)))
    assert dues == {datetime(2026, 12, 8, 10, 0, tzinfo=UTC)}


def _text(r: Any) -> str:
    return r.get_data(as_text=True)


def test_settings_page_sets_the_service_level_and_calendar(client, session: Any) -> None:
    w = World(session)
    sign_in(client, w.admin.email)
    r, token = page(client, f"/review/{w.org.id}/admin")
    assert "Service level" in _text(r) and "Non-working days" in _text(r) and "Nothing is overdue." in _text(r)
    posted = {
        "csrf_token": token,
        "action": "settings",
        "turnaround_hours": "336",
        "double_share": "0",
        "double_first_n": "0",
        "calibration_threshold": "80",
        "recalibration_days": "",
        "turnaround_business_days": "3",
        "reminder_business_days": "1",
        "breach_action": "release",
    }
    assert client.post(f"/review/{w.org.id}/admin", data=posted, headers=BROWSER).status_code == 302
    values = review_settings.settings_for(w.org.id)
    assert (values["turnaround_business_days"], values["breach_action"]) == (3, "release")
    # Hostile or mistaken input changes nothing and says why.
    for bad in ({"breach_action": "delete"}, {"turnaround_business_days": "-4"}, {"reminder_business_days": "x"}):
        r = client.post(f"/review/{w.org.id}/admin", data={**posted, **bad}, headers=BROWSER, follow_redirects=True)
        assert (r.status_code == 200 and "Not saved" in _text(r)) or "not numbers" in _text(r)
    assert review_settings.settings_for(w.org.id)["breach_action"] == "release"
    add = {"csrf_token": token, "action": "add_day", "day": "2026-12-08", "label": "Staff day"}
    r = client.post(f"/review/{w.org.id}/admin", data=add, headers=BROWSER, follow_redirects=True)
    assert "December 8, 2026 is now a non-working day." in _text(r) and "Staff day" in _text(r)
    r = client.post(f"/review/{w.org.id}/admin", data=add, headers=BROWSER, follow_redirects=True)
    assert "already a non-working day" in _text(r)
    r = client.post(f"/review/{w.org.id}/admin", data={**add, "day": "08/12"}, headers=BROWSER, follow_redirects=True)
    assert "Not added: choose a date." in _text(r)
    (day,) = sla.list_non_working_days(actor=w.admin, organisation_id=w.org.id)
    remove = {"csrf_token": token, "action": "remove_day", "day_id": str(day.id)}
    r = client.post(f"/review/{w.org.id}/admin", data=remove, headers=BROWSER, follow_redirects=True)
    assert "working day again" in _text(r) and "No dates listed." in _text(r)


def test_due_date_on_earner_queue_and_scoring_pages_and_overdue_list(client, world: World) -> None:
    submission = submit_at(world, FRIDAY)
    with clock.frozen_at(CLAIMED):
        task = world.claim(world.assessor)
        sign_in(client, submission.earner.email)
        r, _ = page(client, f"/portfolio/{submission.id}")
        assert "Decision due by" in _text(r) and "Thursday, December 10, 2026, 10:00\u202fAM UTC" in _text(r)
        sign_in(client, world.assessor.email)
        r, _ = page(client, f"/review/tasks/{task.id}")
        assert "Decision due by" in _text(r) and "overdue" not in _text(r).split("Decision due by")[1][:80]
        r, _ = page(client, f"/review/{world.org.id}")
        assert "Dec 10, 2026, 10:00\u202fAM" in _text(r)
    with clock.frozen_at(datetime(2026, 12, 10, 12, tzinfo=UTC)):
        r, _ = page(client, f"/review/tasks/{task.id}")
        assert "— overdue" in _text(r)
        sign_in(client, world.admin.email)
        r, _ = page(client, f"/review/{world.org.id}/admin")
        body = _text(r)
        assert submission.reference in body and "2.0 h" in body and world.assessor.name in body
        assert "not yet swept" in body and submission.earner.name not in body


def test_calendar_and_overdue_api(client, world: World) -> None:
    admin = bearer(world.admin)
    url = f"/api/v1/organisations/{world.org.id}/review-calendar"
    (day,) = client.get(url, headers=admin).json
    assert day["day"] == "2026-12-08" and day["label"] == "Staff day"
    created = client.post(url, json={"day": "2026-12-24", "label": "Eve"}, headers=admin)
    assert created.status_code == 201
    problem(client.post(url, json={"day": "2026-12-24"}, headers=admin), 409)
    problem(client.post(url, json={"day": "tomorrow"}, headers=admin), 422)
    problem(client.post(url, json={"day": "2026-12-25", "colour": "red"}, headers=admin), 422)
    problem(client.post(url, json={"day": "2026-12-25", "label": "x" * 101}, headers=admin), 422)
    problem(client.post(url, json={"day": "2026-12-25"}, headers=bearer(world.assessor)), 403)
    assert client.delete(f"{url}/{created.json['id']}", headers=admin).status_code == 204
    problem(client.delete(f"{url}/{created.json['id']}", headers=admin), 404)
    settings_url = f"/api/v1/organisations/{world.org.id}/review-settings"
    problem(client.patch(settings_url, json={"breach_action": "shred"}, headers=admin), 422)
    problem(client.patch(settings_url, json={"turnaround_business_days": 0}, headers=admin), 422)
    assert (
        client.patch(settings_url, json={"breach_action": "release"}, headers=admin).json["breach_action"] == "release"
    )
    # Real time here (access tokens are checked against the wall clock): submitted ten days ago.
    submitted = clock.now() - timedelta(days=10)
    submission = submit_at(world, submitted)
    due = sla.add_business_days(submitted, 3, set())
    queue = client.get(f"/api/v1/organisations/{world.org.id}/review-queue", headers=bearer(world.assessor)).json
    assert queue["items"][0]["due_at"] == due.isoformat()
    assert queue["items"][0]["overdue"] is True and queue["overdue"] == 1
    (item,) = client.get(f"/api/v1/organisations/{world.org.id}/review-overdue", headers=admin).json
    assert item["reference"] == submission.reference and item["holder"] is None and item["overdue_hours"] > 24
    problem(client.get(f"/api/v1/organisations/{world.org.id}/review-overdue", headers=bearer(world.assessor)), 403)


def test_breach_rate_in_the_credential_report(session: Any) -> None:
    w = World(session, settings={**NO_DOUBLE, "turnaround_hours": 4})
    w.submission(minutes_ago=600)  # decided now: 6 h late
    w.submission(minutes_ago=60)  # decided now: in time
    w.submission(minutes_ago=30)  # still open: not counted until decided
    for _ in range(2):
        task = w.claim(w.assessor)
        scoring.submit_review(actor=w.assessor, task_id=task.id, scores=full_scores(2, 2), summary="Good.")
    [row] = reports.credential_report(actor=w.admin, organisation_id=w.org.id)
    assert (row["decided"], row["breached"], row["breach_rate"]) == (2, 1, 0.5)
    header, values = reports.to_csv([row]).splitlines()[:2]
    assert "breach_rate" in header.split(",") and "0.5" in values.split(",")


def test_due_dates_command_reminds_once(app, world: World) -> None:
    submit_at(world, FRIDAY)
    with clock.frozen_at(CLAIMED):
        world.claim(world.assessor)
    runner = app.test_cli_runner()
    with clock.frozen_at(datetime(2026, 12, 9, 11, tzinfo=UTC)):
        first = runner.invoke(args=["review", "due-dates"])
        again = runner.invoke(args=["review", "due-dates"])
    assert first.exit_code == 0 and "1 reminder(s), 0 claim(s) released, 0 escalated." in first.output
    assert "0 reminder(s)" in again.output


def test_escalation_without_leads_goes_to_the_org_admins(session: Any) -> None:
    w = World(session, settings={**NO_DOUBLE, "turnaround_business_days": 1})
    session.delete(session.scalar(select(Qualification).where(Qualification.user_id == w.lead.id)))
    session.flush()
    submission = submit_at(w, FRIDAY)
    with clock.frozen_at(FRIDAY + timedelta(hours=1)):
        review_queue.enqueue_submitted(w.org.id)
    mail.sent.clear()
    with clock.frozen_at(datetime(2026, 12, 8, 9, tzinfo=UTC)):
        assert sla.sweep().escalated == 1
    assert [m.to for m in mail.sent] == [w.admin.email]
    assert "not claimed by anyone" in mail.sent[0].body and submission.reference in mail.sent[0].subject
