"""The argument-free review entry page (the nav link): one organisation redirects, several are listed."""

from __future__ import annotations

from typing import Any

from core.models import Membership, Role
from tests.core.test_web import BROWSER, location, sign_in, text
from tests.factories import OrganisationFactory, UserFactory, member


def test_one_organisation_goes_straight_to_its_queue(client: Any, session: Any) -> None:
    organisation = OrganisationFactory()
    assessor = member(organisation, Role.ASSESSOR)
    sign_in(client, assessor.email)
    html = text(client.get("/", headers=BROWSER))
    assert 'href="/review/">Review<' in html
    r = client.get("/review/", headers=BROWSER)
    assert r.status_code == 302 and location(r) == f"/review/{organisation.id}"


def test_several_organisations_are_listed_with_counts(client: Any, session: Any) -> None:
    north, south = OrganisationFactory(name="North"), OrganisationFactory(name="South")
    user = member(north, Role.ASSESSOR)
    session.add(Membership(organisation_id=south.id, user_id=user.id, role=Role.ORG_ADMIN.value))
    session.flush()
    sign_in(client, user.email)
    html = text(client.get("/review/", headers=BROWSER))
    assert f'href="/review/{north.id}">North<' in html and f'href="/review/{south.id}">South<' in html


def test_people_who_do_not_review_see_no_link_and_an_empty_page(client: Any, session: Any) -> None:
    earner = UserFactory()
    visitor = client.get("/review/", headers=BROWSER)  # visitors sign in first, then come back
    assert visitor.status_code == 302 and "/login?next=/review/" in visitor.headers["Location"]
    sign_in(client, earner.email)
    html = text(client.get("/", headers=BROWSER))
    assert ">Review<" not in html and ">My submissions<" in html and ">My badges<" in html
    assert "not an assessor" in text(client.get("/review/", headers=BROWSER))
