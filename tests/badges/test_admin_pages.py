"""Org admins' issuing pages over HTTP: keys and rotation, badges issued with revocation, award import;
and who is refused."""

from __future__ import annotations

import io
from typing import Any

from badges.models import Badge, SigningKey
from core.models import Role
from tests.badges.issued import admin_of, award, passed_submission
from tests.conftest import csrf_token
from tests.core.test_web import BROWSER, location, sign_in, text
from tests.factories import OrganisationFactory, member


def _token(client: Any, url: str) -> str:
    r = client.get(url, headers=BROWSER)
    assert r.status_code == 200, r.status_code
    return csrf_token(text(r))


def test_admin_rotates_keys_and_old_keys_stay_listed(client: Any, session: Any) -> None:
    badge = award(passed_submission())
    admin = admin_of(badge)
    sign_in(client, admin.email)
    url = f"/organisations/{badge.organisation_id}/issuer"
    token = _token(client, url)
    before = {k.id for k in session.query(SigningKey).filter_by(organisation_id=badge.organisation_id)}
    r = client.post(f"{url}/rotate", data={"csrf_token": token}, headers=BROWSER)
    assert r.status_code == 302 and location(r) == url
    html = text(client.get(url, headers=BROWSER))
    assert "Keys rotated" in html
    for kid in before:
        assert str(kid) in html  # retired keys stay published and listed
    assert html.count(">retired<") == len(before) and html.count(">active<") == len(before)


def test_revoke_needs_a_reason_tied_to_its_field(client: Any, session: Any) -> None:
    badge = award(passed_submission())
    sign_in(client, admin_of(badge).email)
    url = f"/organisations/{badge.organisation_id}/badges"
    token = _token(client, url)
    r = client.post(f"{url}/{badge.id}/revoke", data={"csrf_token": token, "reason": "  "}, headers=BROWSER)
    html = text(r)
    assert r.status_code == 422
    assert f'aria-describedby="reason-{badge.id}-error"' in html and 'aria-invalid="true"' in html
    session.refresh(badge)
    assert badge.revoked_at is None
    r = client.post(f"{url}/{badge.id}/revoke", data={"csrf_token": token, "reason": "Plagiarised"}, headers=BROWSER)
    assert r.status_code == 302
    session.refresh(badge)
    assert badge.revoked_at is not None and badge.revocation_reason == "Plagiarised"
    assert "Plagiarised" in text(client.get(url, headers=BROWSER))


def test_a_badge_of_another_organisation_cannot_be_revoked_through_this_one(client: Any, session: Any) -> None:
    badge = award(passed_submission())
    other = OrganisationFactory()
    admin = member(other, Role.ORG_ADMIN)
    sign_in(client, admin.email)
    token = _token(client, f"/organisations/{other.id}/badges")
    r = client.post(
        f"/organisations/{other.id}/badges/{badge.id}/revoke",
        data={"csrf_token": token, "reason": "x"},
        headers=BROWSER,
    )
    assert r.status_code == 404
    assert session.get(Badge, badge.id).revoked_at is None


def test_non_admins_are_refused_and_visitors_sent_to_sign_in(client: Any, session: Any) -> None:
    badge = award(passed_submission())
    assessor = member(badge.organisation, Role.ASSESSOR)
    for path in ("issuer", "badges", "badges/import"):
        r = client.get(f"/organisations/{badge.organisation_id}/{path}", headers=BROWSER)
        assert r.status_code == 302 and location(r).startswith("/login")
    sign_in(client, assessor.email)
    for path in ("issuer", "badges", "badges/import"):
        assert client.get(f"/organisations/{badge.organisation_id}/{path}", headers=BROWSER).status_code == 403


def test_import_page_reports_problems_and_issues_rows(client: Any, session: Any) -> None:
    badge = award(passed_submission())
    sign_in(client, admin_of(badge).email)
    url = f"/organisations/{badge.organisation_id}/badges/import"
    token = _token(client, url)
    r = client.post(url, data={"csrf_token": token}, headers=BROWSER)
    assert r.status_code == 422 and "Choose a CSV file" in text(r)
    bad = (io.BytesIO(b"email,colour\nx@example.org,blue\n"), "awards.csv")
    r = client.post(url, data={"csrf_token": token, "file": bad}, headers=BROWSER, content_type="multipart/form-data")
    assert r.status_code == 422
    assert "unknown column" in text(r)
    assert 'id="file-error"' in text(r)
    good = (
        io.BytesIO(f"email,version_id,awarded_on\nold@example.org,{badge.version_id},2024-05-01\n".encode()),
        "awards.csv",
    )
    r = client.post(url, data={"csrf_token": token, "file": good}, headers=BROWSER, content_type="multipart/form-data")
    assert r.status_code == 302  # to the import's progress page; without a task queue the job ran already
    progress = client.get(location(r), headers=BROWSER)
    assert progress.status_code == 200
    assert "1 badge issued, 0 skipped" in text(progress) and 'value="1"' in text(progress)
    assert 'http-equiv="refresh"' not in text(progress)  # done: no more refreshing
    assert "1 of 1" in text(client.get(url, headers=BROWSER))  # listed among the recent imports
