"""Org admins' issuing pages over HTTP: keys and rotation, badges issued with revocation, award import;
and who is refused."""

from __future__ import annotations

import io
from typing import Any

from babel.dates import format_date

from badges.models import Badge, SigningKey
from badges.revocation import CHANGES
from core.models import Role, User
from tests.badges.issued import admin_of, ago, award, passed_submission
from tests.conftest import bearer, csrf_token
from tests.core.test_web import BROWSER, location, sign_in, text
from tests.factories import CredentialVersionFactory, OrganisationFactory, member


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
    assert r.status_code == 302  # to the import's progress page; without a task queue the job ran already
    progress = client.get(location(r), headers=BROWSER)
    assert progress.status_code == 200
    assert "1 badge issued, 0 skipped" in text(progress) and 'value="1"' in text(progress)
    assert 'http-equiv="refresh"' not in text(progress)  # done: no more refreshing
    assert "1 of 1" in text(client.get(url, headers=BROWSER))  # listed among the recent imports


def _import(client: Any, url: str, token: str, body: bytes, **fields: str) -> Any:
    data = {"csrf_token": token, "file": (io.BytesIO(body), "awards.csv")} | fields
    return client.post(url, data=data, headers=BROWSER, content_type="multipart/form-data")


def test_the_import_template_and_the_micro_credential_picker_spare_admins_raw_ids(client: Any, session: Any) -> None:
    badge = award(passed_submission())
    sign_in(client, admin_of(badge).email)
    base = f"/organisations/{badge.organisation_id}/badges/import"
    html = text(client.get(base, headers=BROWSER))
    token = csrf_token(html)
    assert f'<option value="{badge.version_id}"' in html and f'action="{base}/template.csv"' in html

    every = client.get(f"{base}/template.csv", headers=BROWSER)
    assert every.mimetype == "text/csv" and "attachment" in every.headers["Content-Disposition"]
    assert every.get_data(as_text=True) == "email,name,version_id,awarded_on,award_id,did\r\n"
    one = client.get(f"{base}/template.csv?version={badge.version_id}", headers=BROWSER)
    assert one.get_data(as_text=True) == "email,name,awarded_on,award_id,did\r\n"
    for hostile in ("nonsense", "%00", str(OrganisationFactory().id)):  # never an error: the full template
        assert client.get(f"{base}/template.csv?version={hostile}", headers=BROWSER).status_code == 200

    # The downloaded template, filled in, imports with the micro-credential chosen in the picker.
    filled = one.get_data() + b"ada@example.org,Ada Byron,2023-09-01,,\r\n"
    r = _import(client, base, token, filled, version=str(badge.version_id))
    assert r.status_code == 302  # to the progress page; without a task queue the job ran already
    assert "1 badge issued" in text(client.get(location(r), headers=BROWSER))
    imported = session.query(Badge).filter_by(recipient_name="Ada Byron").one()
    assert imported.version_id == badge.version_id and imported.awarded_at.date().isoformat() == "2023-09-01"

    # Without the choice, that file lacks its version_id column; a blank cell is named; a foreign version refused.
    r = _import(client, base, token, filled)
    assert r.status_code == 422 and "missing column(s) version_id" in text(r)
    blank = b"email,version_id,awarded_on\r\nbob@example.org,,2023-09-01\r\n"
    r = _import(client, base, token, blank)
    assert r.status_code == 422 and "give the version_id, or choose the micro-credential" in text(r)
    foreign = award(passed_submission())
    for choice in (str(foreign.version_id), "not-a-uuid"):
        r = _import(client, base, token, filled, version=choice)
        assert (
            r.status_code == 422
            and 'id="version-error"' in text(r)
            and "Choose a published micro-credential" in text(r)
        )
    assert session.query(Badge).filter_by(organisation_id=badge.organisation_id).count() == 2


def test_the_badges_list_searches_by_earner_or_credential_and_shows_the_awarded_date(client: Any, session: Any) -> None:
    first = award(passed_submission(), decided_at=ago(days=400))
    first.recipient_name = "Grace Hopper"
    other = award(passed_submission(version=first_version_copy(first)))
    other.recipient_name = "Alan Kay"
    foreign = award(passed_submission())
    session.flush()
    sign_in(client, admin_of(first).email)
    url = f"/organisations/{first.organisation_id}/badges"
    html = text(client.get(url, headers=BROWSER))
    assert '<th scope="col">Awarded</th>' in html
    assert (
        format_date(first.awarded_at, "medium", locale="en") in html
        and first.awarded_at.date() != first.issued_at.date()
    )
    assert foreign.title not in html

    html = text(client.get(f"{url}?q=hopper", headers=BROWSER))
    assert "Grace Hopper" in html and "Alan Kay" not in html and "1 badge match" in html
    earner_email = session.get(User, first.earner_id).email
    html = text(client.get(url, query_string={"q": earner_email.upper()}, headers=BROWSER))
    assert "Grace Hopper" in html and "Alan Kay" not in html
    html = text(client.get(url, query_string={"q": "Second programme"}, headers=BROWSER))
    assert "Alan Kay" in html and "Grace Hopper" not in html
    html = text(client.get(url, query_string={"q": foreign.title}, headers=BROWSER))
    assert "No badge matches" in html  # another organisation's badges never show
    for hostile in ("%", "_", "\\", "\x00", "x" * 5000, "<b>bold</b>"):
        r = client.get(url, query_string={"q": hostile}, headers=BROWSER)
        assert r.status_code == 200 and "<b>bold</b>" not in text(r)
    assert "No badge matches" in text(client.get(url, query_string={"q": "%"}, headers=BROWSER))


def first_version_copy(badge: Badge) -> Any:
    """Another published micro-credential of the badge's organisation, titled "Second programme"."""
    return CredentialVersionFactory(organisation=badge.organisation, published=True, title="Second programme")


def test_the_badges_api_searches_the_same_way(client: Any, session: Any) -> None:
    badge = award(passed_submission())
    badge.recipient_name = "Katherine Qwzjohnson"  # a surname no random earner name has
    award(passed_submission(version=first_version_copy(badge)))
    session.flush()
    url = f"/api/v1/organisations/{badge.organisation_id}/badges"
    headers = bearer(admin_of(badge))
    assert len(client.get(url, headers=headers).get_json()) == 2
    found = client.get(url, query_string={"q": "qwzjohnson"}, headers=headers).get_json()
    assert [b["id"] for b in found] == [str(badge.id)]
    r = client.get(url, query_string={"q": "x" * 201}, headers=headers)
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    r = client.get(url, query_string={"colour": "blue"}, headers=headers)
    assert r.status_code == 422
