"""An org admin changes a member's roles and invites someone, who accepts; the last admin stays."""

from __future__ import annotations

import re
from typing import Any

import pytest

from core.models import Role
from tests.browser.conftest import check_page, login, logout, unique, visit
from tests.conftest import TEST_PASSWORD
from tests.factories import OrganisationFactory, member


@pytest.fixture(scope="module")
def org(live_server: Any) -> dict[str, str]:
    tag = unique("org")
    with live_server.seed():
        organisation = OrganisationFactory(name=f"Lakeside University {tag}")
        admin = member(organisation, Role.ORG_ADMIN, name="Olu Admin", email=f"olu-{tag}@example.org")
        member(organisation, Role.AUTHOR, name="Ana Author", email=f"ana-{tag}@example.org")
        return {"tag": tag, "admin": admin.email, "name": organisation.name}


def _row(page: Any, name: str) -> Any:
    return page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=name))


def _submit(locator: Any, page: Any) -> None:
    with page.expect_navigation():
        locator.click()


def test_admin_changes_roles_and_invites(page: Any, org: dict[str, str], live_server: Any) -> None:
    login(page, org["admin"], TEST_PASSWORD)
    page.get_by_role("link", name="Organisation", exact=True).click()
    assert page.get_by_role("heading", level=1).inner_text() == org["name"]  # its overview and checklist
    page.get_by_role("link", name="Members", exact=True).click()
    assert page.get_by_role("heading", level=1).inner_text() == f"Members of {org['name']}"
    check_page(page, "org-members")

    ana = _row(page, "Ana Author")
    ana.get_by_label("Assessor").check()
    _submit(ana.get_by_role("button", name="Save roles of Ana Author"), page)
    assert page.locator(".notice").inner_text() == "Roles saved."
    assert _row(page, "Ana Author").get_by_label("Assessor").is_checked()
    assert _row(page, "Ana Author").get_by_label("Author", exact=True).is_checked()

    # Where Ana works and as what: a unit of the hierarchy and a job role (a word of the organisation's own).
    ana = _row(page, "Ana Author")
    ana.get_by_label("Unit of Ana Author", exact=True).select_option(label=org["name"])
    ana.get_by_label("Job role of Ana Author", exact=True).fill("Instructional Coach")
    _submit(ana.get_by_role("button", name="Save unit and job role of Ana Author"), page)
    assert page.locator(".notice").inner_text() == "Unit and job role saved."
    assert (
        _row(page, "Ana Author").get_by_label("Job role of Ana Author", exact=True).input_value()
        == "instructional coach"
    )

    # The last org admin cannot drop their own admin role.
    olu = _row(page, "Olu Admin")
    olu.get_by_label("Org admin").uncheck()
    _submit(olu.get_by_role("button", name="Save roles of Olu Admin"), page)
    assert "at least one org admin" in page.locator(".notice").inner_text()
    assert _row(page, "Olu Admin").get_by_label("Org admin").is_checked()

    # An invitation without a role is refused at its field; with one it is sent.
    invitee = f"new-{org['tag']}@example.org"
    page.locator("#invite-email").fill(invitee)
    _submit(page.get_by_role("button", name="Send invitation"), page)
    assert page.locator("#invite-roles-error").inner_text() == "Choose at least one role."
    assert page.locator("#invite-email").input_value() == invitee
    check_page(page, "org-invite-error")
    page.get_by_role("group", name="Roles", exact=True).get_by_label("Author").check()
    _submit(page.get_by_role("button", name="Send invitation"), page)
    assert f"Invitation sent to {invitee}" in page.locator(".notice").inner_text()
    assert "pending" in page.get_by_role("row").filter(has_text=invitee).inner_text()
    check_page(page, "org-members-invited")
    logout(page)

    link = re.search(r"https?://\S+/invitations/\S+", [m for m in live_server.mail() if m.to == invitee][-1].body)
    assert link
    page.goto(link.group(0))
    page.get_by_label("Your name").fill("Nia Newcomer")
    page.get_by_label("Choose a password (at least 10 characters)").fill("newcomer passphrase")
    _submit(page.get_by_role("button", name="Accept"), page)
    assert "You have joined" in page.locator(".notice").inner_text()
    assert "author" in page.locator("main").inner_text()
    # A new author sees the authoring link, not the org admin one.
    assert page.get_by_role("link", name="My credentials").is_visible()
    assert page.get_by_role("link", name="Organisation", exact=True).count() == 0


def test_a_member_who_is_not_admin_gets_403(page: Any, org: dict[str, str], live_server: Any) -> None:
    from core.models import Organisation

    with live_server.seed() as session:
        organisation_id = session.query(Organisation).filter_by(name=org["name"]).one().id
    login(page, f"ana-{org['tag']}@example.org", TEST_PASSWORD)
    visit(page, f"/organisations/{organisation_id}/members", "error-403", status=403)
    assert page.get_by_role("heading", level=1).inner_text() == "You cannot open this page"
