"""Review pages over HTTP: queue and claim-next, the scoring screen, calibration, admin and reports."""

from __future__ import annotations

from typing import Any

from assessors import calibration, settings
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
    assert r.status_code == 200 and "Where you diverged" in _text(r)


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
