"""Review pages over HTTP: queue and claim-next, the scoring screen, calibration, admin and reports."""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import select

from assessors import calibration, settings
from assessors.models import CalibrationAttempt
from core.models import AuditEvent, Role
from credentials.portfolios.models import CriterionFeedback, SubmissionState
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
    assert (
        "<svg" in _text(r)
        and "Over the last 12 months" in _text(r)
        and "What exact, adjacent and kappa mean" in _text(r)
    )
    csv_response = client.get(f"/review/{world.org.id}/reports/credentials.csv", headers=BROWSER)
    assert csv_response.mimetype == "text/csv"
    trend_csv = client.get(f"/review/{world.org.id}/reports/trend.csv", headers=BROWSER)
    assert trend_csv.mimetype == "text/csv" and len(trend_csv.text.splitlines()) == 13
    assert client.get(f"/review/{world.org.id}/reports/other.csv", headers=BROWSER).status_code == 404

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


# --- choosing calibration anchors ----------------------------------------------------------------------


def _decided(world: World, session: Any, *, quality: int = 2, impact: int = 1) -> Any:
    submission = world.submission()
    submission.state = SubmissionState.PASSED.value
    for position, (key, level) in enumerate((("quality", quality), ("impact", impact))):
        session.add(
            CriterionFeedback(
                submission=submission, criterion_key=key, position=position, level_position=level, level_name="x"
            )
        )
    session.flush()
    return submission


def test_an_org_admin_marks_changes_and_removes_an_anchor_on_the_page(client, session):
    world = World(session)
    decided = _decided(world, session)
    undecided = world.submission()
    sign_in(client, world.admin.email)
    r, token = page(client, f"/review/{world.org.id}/admin")
    assert f'href="/review/anchors/{world.mc_id}"' in _text(r)
    r, token = page(client, f"/review/anchors/{world.mc_id}")
    body = _text(r)
    assert decided.reference in body and undecided.reference not in body  # only decided submissions are offered
    # The released result is the starting point: quality 2, impact 1.
    assert 'name="level-quality" value="2" checked' in body and 'name="level-impact" value="1" checked' in body

    form = {"csrf_token": token, "submission_id": str(decided.id), "level-quality": "2", "level-impact": "3"}
    r = client.post(
        f"/review/anchors/{world.mc_id}", data=form | {"rationale": "<script>x</script> Clear."}, headers=BROWSER
    )
    assert r.status_code == 302
    [anchor] = calibration.anchors(world.mc_id)
    assert anchor.agreed_levels == {"quality": 2, "impact": 3} and anchor.rationale == "<script>x</script> Clear."
    r, token = page(client, f"/review/anchors/{world.mc_id}")
    body = _text(r)
    assert "The calibration set (1)" in body and "<script>x</script>" not in body and "&lt;script&gt;" in body
    assert "Exemplary" in body  # the agreed level by name

    r = client.post(f"/review/anchors/{world.mc_id}", data=form | {"level-impact": "0"}, headers=BROWSER)
    session.refresh(anchor)
    assert r.status_code == 302 and anchor.agreed_levels["impact"] == 0

    r = client.post(
        f"/review/anchors/{world.mc_id}",
        data={"csrf_token": token, "action": "remove", "anchor_id": str(anchor.id)},
        headers=BROWSER,
    )
    assert r.status_code == 302 and calibration.anchors(world.mc_id) == []
    events = [e.action for e in session.scalars(select(AuditEvent).where(AuditEvent.object_id == str(anchor.id)))]
    assert events.count("calibration.anchor_marked") == 2 and "calibration.anchor_removed" in events


def test_marking_an_anchor_refuses_gaps_bad_levels_and_keeps_what_was_chosen(client, session):
    world = World(session)
    decided = _decided(world, session)
    sign_in(client, world.admin.email)
    r, token = page(client, f"/review/anchors/{world.mc_id}")
    url = f"/review/anchors/{world.mc_id}"
    r = client.post(
        url,
        data={"csrf_token": token, "submission_id": str(decided.id), "level-quality": "3", "rationale": "Kept"},
        headers=BROWSER,
    )
    body = _text(r)
    assert r.status_code == 422 and f'href="#a-{decided.id}-impact"' in body and "Give the agreed level." in body
    assert 'name="level-quality" value="3" checked' in body and ">Kept</textarea>" in body
    r = client.post(
        url,
        data={"csrf_token": token, "submission_id": str(decided.id), "level-quality": "9", "level-impact": "1"},
        headers=BROWSER,
    )
    assert r.status_code == 422 and "No level 9" in _text(r)
    r = client.post(
        url,
        data={"csrf_token": token, "submission_id": str(decided.id), "level-quality": "1", "level-impact": "1"}
        | {"rationale": "x" * 10_001},
        headers=BROWSER,
    )
    assert r.status_code == 422 and "under 10,000 characters" in _text(r)
    for bad in ("not-a-uuid", str(uuid.uuid4())):
        r = client.post(url, data={"csrf_token": token, "submission_id": bad, "level-quality": "1"}, headers=BROWSER)
        assert r.status_code == 404
    r = client.post(url, data={"csrf_token": token, "action": "remove", "anchor_id": "x"}, headers=BROWSER)
    assert r.status_code == 404
    assert client.post(url, data={"submission_id": str(decided.id)}, headers=BROWSER).status_code == 400
    assert calibration.anchors(world.mc_id) == []


def test_anchor_pages_are_closed_to_other_organisations_and_plain_assessors(client, session):
    world = World(session)
    other = World(session)
    foreign = _decided(other, session)
    sign_in(client, world.admin.email)
    r, token = page(client, f"/review/anchors/{world.mc_id}")
    # Another organisation's micro-credential, or its submission sent to ours: not found, nothing marked.
    assert client.get(f"/review/anchors/{other.mc_id}", headers=BROWSER).status_code == 404
    r = client.post(
        f"/review/anchors/{world.mc_id}",
        data={"csrf_token": token, "submission_id": str(foreign.id), "level-quality": "1", "level-impact": "1"},
        headers=BROWSER,
    )
    assert r.status_code == 404 and calibration.anchors(other.mc_id) == []
    client.post("/logout", data={"csrf_token": token}, headers=BROWSER)
    sign_in(client, world.assessor.email)  # a member, not a lead: told it is not theirs to do
    assert client.get(f"/review/anchors/{world.mc_id}", headers=BROWSER).status_code == 403
    r, _ = page(client, f"/review/{world.org.id}")
    assert "/review/anchors/" not in _text(r)


def test_a_lead_assessor_marks_anchors_from_the_queue(client, session):
    world = World(session)
    decided = _decided(world, session)
    sign_in(client, world.lead.email)
    r, token = page(client, f"/review/{world.org.id}")
    assert f'href="/review/anchors/{world.mc_id}"' in _text(r)
    r, token = page(client, f"/review/anchors/{world.mc_id}")
    assert f"/review/{world.org.id}/admin" not in _text(r)  # no link to a page a lead may not open
    form = {"csrf_token": token, "submission_id": str(decided.id), "level-quality": "2", "level-impact": "2"}
    assert client.post(f"/review/anchors/{world.mc_id}", data=form, headers=BROWSER).status_code == 302
    assert calibration.anchors(world.mc_id)[0].created_by_id == world.lead.id


def _stored(data: bytes) -> str:
    import hashlib
    import tempfile
    from pathlib import Path

    from core import storage

    digest = hashlib.sha256(data).hexdigest()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "upload"
        path.write_bytes(data)
        storage.backend().put(path, digest)
    return digest


def _pdf(pages: int) -> bytes:
    """A PDF whose pages are each filled with a blue square (so a rendering can be told from a blank page)."""
    import io

    import pikepdf

    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page(page_size=(612, 792))
        pdf.pages[-1].Contents = pdf.make_stream(b"0 0 1 rg 100 300 400 400 re f")
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def test_pdf_evidence_is_previewed_as_page_images_for_the_assessor_only(client, session):
    import io

    from PIL import Image

    from tests.factories import EvidenceFileFactory

    world = World(session)
    submission = world.submission()
    data = _pdf(2)
    pdf = EvidenceFileFactory(
        submission=submission,
        sha256=_stored(data),
        size=len(data),
        media_type="application/pdf",
        filename="Ottoline-lesson.pdf",
        requirement_key=world.version.requirements[0].key,
    )
    broken_bytes = b"%PDF-1.7\nthis is not really a PDF"
    broken = EvidenceFileFactory(
        submission=submission,
        sha256=_stored(broken_bytes),
        size=len(broken_bytes),
        media_type="application/pdf",
        filename="broken.pdf",
        requirement_key=world.version.requirements[0].key,
    )
    page_url = f"/review/evidence/{pdf.id}/pages/1.png"
    sign_in(client, world.assessor.email)
    assert client.get(page_url, headers=BROWSER).status_code == 403  # not claimed yet
    task = world.claim(world.assessor)
    r, _ = page(client, f"/review/tasks/{task.id}")
    body = _text(r)
    assert 'class="pdf-pages"' in body and body.count(f"/review/evidence/{pdf.id}/pages/") == 2
    assert "Page 2 of 2" in body and f"/review/evidence/{broken.id}/pages/" not in body  # no preview, download only
    shown = client.get(page_url, headers=BROWSER)
    assert shown.status_code == 200 and shown.mimetype == "image/png"
    assert shown.headers["Cache-Control"] == "private, max-age=3600"
    image = Image.open(io.BytesIO(shown.data)).convert("RGB")
    assert image.width == 1100
    assert image.getpixel((image.width // 2, image.height // 2)) == (0, 0, 255)  # the blue square, rendered
    assert image.getpixel((5, 5)) == (255, 255, 255)
    for missing in (
        f"/review/evidence/{pdf.id}/pages/3.png",
        f"/review/evidence/{pdf.id}/pages/0.png",
        f"/review/evidence/{pdf.id}/pages/99999999999999999999.png",
        f"/review/evidence/{broken.id}/pages/1.png",
    ):
        assert client.get(missing, headers=BROWSER).status_code == 404, missing
    other = member(world.org, Role.ASSESSOR)
    client.post("/logout", data={"csrf_token": page(client, "/account")[1]}, headers=BROWSER)
    sign_in(client, other.email)
    assert client.get(page_url, headers=BROWSER).status_code == 403
