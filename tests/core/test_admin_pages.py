"""Org admin pages over HTTP, and the navigation registry."""

from __future__ import annotations

from core.models import Role
from core.views import nav_links, register_nav
from tests.conftest import csrf_token
from tests.core.test_web import BROWSER, location, sign_in, text
from tests.factories import OrganisationFactory, UserFactory, member


def test_nav_shows_links_by_who_is_signed_in(client, session):
    organisation = OrganisationFactory()
    admin = member(organisation, Role.ORG_ADMIN)
    html = text(client.get("/", headers=BROWSER))
    assert ">Catalogue<" in html and ">Organisation<" not in html and ">My credentials<" not in html
    sign_in(client, admin.email)
    html = text(client.get("/catalogue/", headers=BROWSER))
    assert ">Organisation<" in html and ">My credentials<" in html  # org admins author too
    assert 'href="/catalogue/" aria-current="page"' in html


def test_register_nav_replaces_by_endpoint_and_skips_unknown_endpoints(app):
    register_nav("Nowhere", "no_such.endpoint")
    register_nav("Start", "web.home", order=1)
    register_nav("Start again", "web.home", order=1)
    try:
        with app.test_request_context("/"):
            labels = [link.label for link in nav_links(None)]
        assert "Nowhere" not in labels
        assert labels.count("Start again") == 1 and "Start" not in labels
    finally:
        from core import views

        views._nav.pop("web.home")
        views._nav.pop("no_such.endpoint")


def _members_page(client, organisation):
    r = client.get(f"/organisations/{organisation.id}/members", headers=BROWSER)
    assert r.status_code == 200, r.status_code
    return csrf_token(text(r))


def test_admin_sets_roles_and_unknown_roles_are_refused(client, session):
    organisation = OrganisationFactory()
    admin = member(organisation, Role.ORG_ADMIN)
    author = member(organisation, Role.AUTHOR)
    sign_in(client, admin.email)
    token = _members_page(client, organisation)
    url = f"/organisations/{organisation.id}/members/{author.id}"
    r = client.post(url, data={"csrf_token": token, "roles": ["author", "assessor"]}, headers=BROWSER)
    assert r.status_code == 302
    session.refresh(author)
    assert {m.role for m in author.memberships} == {"author", "assessor"}
    r = client.post(url, data={"csrf_token": token, "roles": ["emperor"]}, headers=BROWSER)
    assert "Unknown role" in text(client.get(location(r), headers=BROWSER))
    session.refresh(author)
    assert {m.role for m in author.memberships} == {"author", "assessor"}


def test_invitation_form_errors_are_tied_to_fields(client, session):
    organisation = OrganisationFactory()
    admin = member(organisation, Role.ORG_ADMIN)
    sign_in(client, admin.email)
    token = _members_page(client, organisation)
    r = client.post(
        f"/organisations/{organisation.id}/invitations", data={"csrf_token": token, "email": "nope"}, headers=BROWSER
    )
    assert r.status_code == 422
    html = text(r)
    assert 'aria-describedby="invite-email-error"' in html and 'id="invite-roles-error"' in html


def test_members_pages_are_for_admins_only(client, session):
    organisation = OrganisationFactory()
    author = member(organisation, Role.AUTHOR)
    sign_in(client, author.email)
    assert client.get(f"/organisations/{organisation.id}/members", headers=BROWSER).status_code == 403
    token = csrf_token(text(client.get("/account", headers=BROWSER)))
    r = client.post(
        f"/organisations/{organisation.id}/members/{author.id}",
        data={"csrf_token": token, "roles": ["org_admin"]},
        headers=BROWSER,
    )
    assert r.status_code == 302
    session.refresh(author)
    assert {m.role for m in author.memberships} == {"author"}  # refused by the service


def test_outsiders_get_not_found_and_visitors_sign_in(client, session):
    organisation = OrganisationFactory()
    r = client.get(f"/organisations/{organisation.id}/members", headers=BROWSER)
    assert r.status_code == 302 and location(r).startswith("/login")
    sign_in(client, UserFactory().email)
    assert client.get(f"/organisations/{organisation.id}/members", headers=BROWSER).status_code in {403, 404}


def test_members_search_survives_hostile_input(client, session):
    organisation = OrganisationFactory()
    admin = member(organisation, Role.ORG_ADMIN)
    sign_in(client, admin.email)
    r = client.get(f"/organisations/{organisation.id}/members?q=%00%25", headers=BROWSER)
    assert r.status_code == 200 and admin.email in text(r)
