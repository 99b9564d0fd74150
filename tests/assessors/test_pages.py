"""Review pages over HTTP: queue and claim-next, the scoring screen, calibration, admin and reports."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from assessors import calibration, settings
from assessors.models import CalibrationAttempt
from core.models import Role
from credentials.portfolios.models import SubmissionState
from tests.assessors.test_services import World
from tests.conftest import csrf_token
from tests.core.test_web import BROWSER, location, page, sign_in
from tests.factories import member


def _text(r: Any) -> str:
    return r.get_data(as_text=True)


def test_assessor_claims_scores_and_submits_through_the_pages(client, session):
    world = World(session)
    earner = member(world.org, name="Quincy Umberfield")
    submission = world.submission(earner=earner)
    sign_in(client, world.assessor.email)
    r, token = page(client, f"/review/{world.org.id}")
    assert submission.reference not in _text(r) or "Quincy" not in _text(r)
    assert "Claim next" in _text(r)
    r = client.post(f"/review/{world.org.id}/claim", data={"csrf_token": token}, headers=BROWSER)
    assert r.status_code == 302
    task_url = location(r)
    r, token = page(client, task_url)
    body = _text(r)
    assert submission.reference in body and "Quincy" not in body and "Umberfield" not in body
    assert "review.js" in body

    r = client.post(task_url, data={"csrf_token": token, "action": "submit", "level-quality": "0"}, headers=BROWSER)
    assert r.status_code == 422 and "Choose a level" in _text(r) and "summary" in _text(r)

    form = {
        "csrf_token": token,
        "action": "submit",
        "level-quality": "2",
        "level-impact": "3",
        "feedback-quality": "",
        "feedback-impact": "",
        "summary": "Well evidenced.",
    }
    r = client.post(task_url, data=form, headers=BROWSER)
    assert r.status_code == 302
    session.refresh(submission)
    assert submission.state == SubmissionState.PASSED.value


def test_pages_refuse_forms_without_csrf_and_strangers(client, session):
    world = World(session)
    world.submission()
    sign_in(client, world.assessor.email)
    assert client.post(f"/review/{world.org.id}/claim", data={}, headers=BROWSER).status_code == 400
    outsider = member(world.org)
    client.post("/logout", data={"csrf_token": page(client, "/account")[1]}, headers=BROWSER)
    sign_in(client, outsider.email)
    assert client.get(f"/review/{world.org.id}", headers=BROWSER).status_code == 403
    assert client.get(f"/review/{world.org.id}/reports", headers=BROWSER).status_code == 403


def test_admin_reports_and_calibration_pages(client, session):
    world = World(session)
    author = member(world.org, Role.AUTHOR)
    anchor_submission = world.submission()
    calibration.mark_anchor(actor=author, submission_id=anchor_submission.id, agreed_levels={"quality": 2, "impact": 2})
    sign_in(client, world.admin.email)
    r, token = page(client, f"/review/{world.org.id}/admin")
    assert "Programme settings" in _text(r)
    r = client.post(
        f"/review/{world.org.id}/admin",
        data={
            "csrf_token": token,
            "action": "settings",
            "turnaround_hours": "24",
            "double_share": "25",
            "double_first_n": "3",
            "calibration_threshold": "80",
            "recalibration_days": "",
        },
        headers=BROWSER,
    )
    assert r.status_code == 302
    assert settings.settings_for(world.org.id)["double_share"] == 0.25
    r, _ = page(client, f"/review/{world.org.id}/reports")
    assert "<svg" in _text(r)
    csv_response = client.get(f"/review/{world.org.id}/reports/credentials.csv", headers=BROWSER)
    assert csv_response.mimetype == "text/csv"

    client.post("/logout", data={"csrf_token": token}, headers=BROWSER)
    sign_in(client, world.assessor.email)
    r, token = page(client, f"/review/calibration/{world.mc_id}")
    anchor_id = calibration.anchors(world.mc_id)[0].id
    r = client.post(
        f"/review/calibration/{world.mc_id}",
        data={"csrf_token": csrf_token(_text(r)), f"level-{anchor_id}-quality": "2", f"level-{anchor_id}-impact": "0"},
        headers=BROWSER,
    )
    assert r.status_code == 200 and "you matched the anchor on 1 of 2 criteria" in _text(r)


def _checked(body: str, anchor_id: Any, key: str) -> list[str]:
    """The values of the radio buttons shown checked for one anchor's criterion."""
    pattern = rf'name="level-{anchor_id}-{key}" value="(\d+)" checked'
    return re.findall(pattern, body)


def test_calibration_results_are_in_words_and_the_choices_stay(client, session):
    world = World(session)
    author = member(world.org, Role.AUTHOR)
    anchor_submission = world.submission()
    criteria = {c.key: c for c in world.version.criteria}
    criteria["quality"].name = "Quality of the lesson plan"
    criteria["quality"].levels[2].descriptor = "Plans show each step and why it comes there."
    session.flush()
    calibration.mark_anchor(
        actor=author, submission_id=anchor_submission.id, agreed_levels={"quality": 2, "impact": 2}, rationale="Clear."
    )
    anchor_id = calibration.anchors(world.mc_id)[0].id
    sign_in(client, world.assessor.email)
    r, token = page(client, f"/review/calibration/{world.mc_id}")
    assert "Plans show each step and why it comes there." in _text(r)  # the descriptor beside its radio

    # Half scored: refused, the one choice made stays chosen and the gap is linked to its fieldset.
    r = client.post(
        f"/review/calibration/{world.mc_id}",
        data={"csrf_token": token, f"level-{anchor_id}-quality": "1"},
        headers=BROWSER,
    )
    body = _text(r)
    assert r.status_code == 422 and f'href="#c-{anchor_id}-impact"' in body
    assert _checked(body, anchor_id, "quality") == ["1"] and _checked(body, anchor_id, "impact") == []

    r = client.post(
        f"/review/calibration/{world.mc_id}",
        data={"csrf_token": token, f"level-{anchor_id}-quality": "1", f"level-{anchor_id}-impact": "2"},
        headers=BROWSER,
    )
    body = _text(r)
    assert r.status_code == 200
    assert "you matched the anchor on 1 of 2 criteria" in body and "Not yet passed" in body
    names = [lv.name for lv in criteria["quality"].levels]
    assert re.search(rf"Quality of the lesson plan</th><td>{names[1]}</td><td>{names[2]}</td><td>Differs", body)
    assert "Why the authors agreed these levels:</strong> Clear." in body
    assert "criterion_key" not in body and ">quality<" not in body  # no raw keys
    assert _checked(body, anchor_id, "quality") == ["1"] and _checked(body, anchor_id, "impact") == ["2"]


def calibration_attempts(session: Any, world: World) -> list[Any]:
    mine = select(CalibrationAttempt).where(CalibrationAttempt.micro_credential_id == world.mc_id)
    return list(session.scalars(mine))


def test_calibration_refuses_levels_outside_the_rubric_and_unqualified_people(client, session):
    world = World(session)
    calibration.mark_anchor(
        actor=world.admin, submission_id=world.submission().id, agreed_levels={"quality": 2, "impact": 2}
    )
    anchor_id = calibration.anchors(world.mc_id)[0].id
    sign_in(client, world.assessor.email)
    r, token = page(client, f"/review/calibration/{world.mc_id}")
    r = client.post(
        f"/review/calibration/{world.mc_id}",
        data={"csrf_token": token, f"level-{anchor_id}-quality": "99", f"level-{anchor_id}-impact": "<b>x</b>"},
        headers=BROWSER,
    )
    body = _text(r)
    assert r.status_code == 422 and "Choose one of the rubric&#39;s levels." in body and "Choose a level." in body
    assert "<b>x</b>" not in body and not calibration_attempts(session, world)
    client.post("/logout", data={"csrf_token": token}, headers=BROWSER)
    sign_in(client, member(world.org).email)
    assert client.get(f"/review/calibration/{world.mc_id}", headers=BROWSER).status_code == 403
