"""Org admins' issuing pages over HTTP: keys and rotation, badges issued with revocation, award import;
and who is refused."""

from __future__ import annotations

import io
from typing import Any

from badges.models import Badge, SigningKey
from badges.revocation import CHANGES
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


def test_rotating_keys_asks_first_and_only_the_form_rotates(client: Any, session: Any) -> None:
    badge = award(passed_submission())
    sign_in(client, admin_of(badge).email)
    url = f"/organisations/{badge.organisation_id}/issuer"
    assert f'href="{url}/rotate"' in text(client.get(url, headers=BROWSER))
    before = {k.id for k in session.query(SigningKey).filter_by(organisation_id=badge.organisation_id)}
    page = client.get(f"{url}/rotate", headers=BROWSER)
    html = text(page)
    assert page.status_code == 200 and "Rotate signing keys?" in html and "keep verifying" in html
    assert all(str(kid) in html for kid in before)  # the keys that will be retired are named
    states = {k.state for k in session.query(SigningKey).filter_by(organisation_id=badge.organisation_id)}
    assert states == {"active"}  # looking at the page changed nothing


def test_revoking_goes_through_a_confirmation_page_that_needs_a_reason(client: Any, session: Any) -> None:
    badge = award(passed_submission())
    sign_in(client, admin_of(badge).email)
    listing = f"/organisations/{badge.organisation_id}/badges"
    url = f"{listing}/{badge.id}/revoke"
    assert f'href="{url}"' in text(client.get(listing, headers=BROWSER))
    page = client.get(url, headers=BROWSER)
    assert page.status_code == 200 and "Revocation is permanent" in text(page) and "earner is told" in text(page)
    token = csrf_token(text(page))
    r = client.post(url, data={"csrf_token": token, "reason": "  "}, headers=BROWSER)
    html = text(r)
    assert r.status_code == 422
    assert 'aria-describedby="reason-hint reason-error"' in html and 'aria-invalid="true"' in html
    assert 'href="#reason"' in html  # the summary links to the field
    session.refresh(badge)
    assert badge.revoked_at is None
    r = client.post(url, data={"csrf_token": token, "reason": "Plagiarised"}, headers=BROWSER)
    assert r.status_code == 302 and location(r) == listing
    session.refresh(badge)
    assert badge.revoked_at is not None and badge.revocation_reason == "Plagiarised"
    html = text(client.get(listing, headers=BROWSER))
    assert "Badge revoked" in html and "Plagiarised" in html and f'href="{url}"' not in html
    # The confirmation page of a revoked badge says why nothing can be done, and offers no form.
    again = client.get(url, headers=BROWSER)
    assert "already revoked" in text(again) and "<textarea" not in text(again)
    r = client.post(url, data={"csrf_token": token, "reason": "again"}, headers=BROWSER)
    assert r.status_code == 409 and "already revoked" in text(r)


def test_suspending_and_lifting_through_their_pages(client: Any, session: Any) -> None:
    badge = award(passed_submission())
    sign_in(client, admin_of(badge).email)
    listing = f"/organisations/{badge.organisation_id}/badges"
    page = client.get(f"{listing}/{badge.id}/suspend", headers=BROWSER)
    assert page.status_code == 200 and "SUSPENDED" in text(page)
    token = csrf_token(text(page))
    r = client.post(f"{listing}/{badge.id}/suspend", data={"csrf_token": token, "reason": "x" * 501}, headers=BROWSER)
    assert r.status_code == 422 and "500 characters" in text(r)
    r = client.post(
        f"{listing}/{badge.id}/suspend", data={"csrf_token": token, "reason": "Checking the evidence"}, headers=BROWSER
    )
    assert r.status_code == 302
    html = text(client.get(listing, headers=BROWSER))
    assert "Badge suspended" in html and "Checking the evidence" in html
    assert f'href="{listing}/{badge.id}/reinstate"' in html and f'href="{listing}/{badge.id}/suspend"' not in html
    public = text(client.get(f"/badges/{badge.id}", headers=BROWSER))
    assert "SUSPENDED" in public and "Checking the evidence" in public
    r = client.post(f"{listing}/{badge.id}/reinstate", data={"csrf_token": token, "reason": "Cleared"}, headers=BROWSER)
    assert r.status_code == 302
    session.refresh(badge)
    assert badge.status() == "valid"
    assert "Suspension lifted" in text(client.get(listing, headers=BROWSER))


def test_a_badge_of_another_organisation_cannot_be_revoked_through_this_one(client: Any, session: Any) -> None:
    badge = award(passed_submission())
    other = OrganisationFactory()
    admin = member(other, Role.ORG_ADMIN)
    sign_in(client, admin.email)
    token = _token(client, f"/organisations/{other.id}/badges/import")
    for change in CHANGES:
        url = f"/organisations/{other.id}/badges/{badge.id}/{change}"
        assert client.get(url, headers=BROWSER).status_code == 404
        assert client.post(url, data={"csrf_token": token, "reason": "x"}, headers=BROWSER).status_code == 404
    assert session.get(Badge, badge.id).status() == "valid"


def test_non_admins_are_refused_and_visitors_sent_to_sign_in(client: Any, session: Any) -> None:
    badge = award(passed_submission())
    assessor = member(badge.organisation, Role.ASSESSOR)
    paths = ("issuer", "issuer/rotate", "badges", "badges/import", *(f"badges/{badge.id}/{c}" for c in CHANGES))
    for path in paths:
        r = client.get(f"/organisations/{badge.organisation_id}/{path}", headers=BROWSER)
        assert r.status_code == 302 and location(r).startswith("/login")
    sign_in(client, assessor.email)
    for path in paths:
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
    assert r.status_code == 200 and "1 badge issued" in text(r)
