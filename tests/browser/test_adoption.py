"""Shared definitions in the browser: the state agency's admin shares a published micro-credential, the district's
admin adopts it, an earner finds it under the district in the catalogue and submits to the district; the state
then publishes version 2 and the district sees "a newer version is available" and upgrades."""

from __future__ import annotations

from typing import Any

from core.models import Role
from credentials.authoring.models import VersionState
from tests.browser.conftest import check_page, login, logout, unique, visit
from tests.conftest import TEST_PASSWORD
from tests.factories import CredentialVersionFactory, OrganisationFactory, UserFactory, member


def _submit(page: Any, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=name).click()


def test_share_adopt_submit_and_upgrade(page: Any, live_server: Any) -> None:
    tag = unique("adopt")
    with live_server.seed():
        state = OrganisationFactory(kind="state_agency", name=f"State Agency {tag}")
        district = OrganisationFactory(parent=state, name=f"North District {tag}")
        OrganisationFactory(parent=state, name=f"South District {tag}")
        state_admin = member(state, Role.ORG_ADMIN, email=f"state-{tag}@example.org")
        district_admin = member(district, Role.ORG_ADMIN, email=f"district-{tag}@example.org")
        earner = UserFactory(email=f"earner-{tag}@example.org")
        v1 = CredentialVersionFactory(organisation=state, published=True, title=f"Questioning {tag}")
        ids = {"state": state.id, "district": district.id, "mc": v1.micro_credential_id, "v1": v1.id}
        emails = (state_admin.email, district_admin.email, earner.email)
    title = f"Questioning {tag}"

    # The state's admin shares it with all its districts, to adopt.
    login(page, emails[0], TEST_PASSWORD)
    visit(page, f"/organisations/{ids['state']}/shared-definitions", "adoption-share")
    card = page.locator(f"#share-{ids['mc']}")
    assert "Not shared" in card.inner_text()
    _submit(page, f"Share {title}")
    assert "Shared with all units, to adopt" in page.locator(".notice").inner_text()
    check_page(page, "adoption-shared")
    logout(page)

    # The district's admin adopts it; it then shows under the district in the catalogue.
    login(page, emails[1], TEST_PASSWORD)
    visit(page, f"/organisations/{ids['district']}/shared-definitions", "adoption-offered")
    _submit(page, f"Adopt version 1 of {title}")
    assert "Adopted" in page.locator(".notice").inner_text()
    check_page(page, "adoption-adopted")
    logout(page)

    # The earner finds it under the district and submits to the district.
    login(page, emails[2], TEST_PASSWORD)
    visit(page, f"/catalogue/?organisation={ids['district']}", "adoption-catalogue")
    with page.expect_navigation():
        page.get_by_role("link", name=title).click()
    assert page.get_by_label(f"North District {tag}", exact=False).is_checked()
    check_page(page, "adoption-credential-page")
    _submit(page, "Start a submission")
    page.locator("textarea[name^='answer-']").first.fill("I asked open questions and waited for answers.")
    _submit(page, "Save draft")
    _submit(page, "Submit for review")
    check_page(page, "adoption-submitted")
    logout(page)
    with live_server.seed() as session:
        from credentials.portfolios.models import Submission

        submission = session.query(Submission).filter_by(version_id=ids["v1"]).one()
        assert submission.organisation_id == ids["district"] and submission.state == "submitted"
        # The state publishes version 2 (version 1 retires).
        from credentials.authoring.models import CredentialVersion, MicroCredential

        old = session.get(CredentialVersion, ids["v1"])
        old.state = VersionState.RETIRED.value
        CredentialVersionFactory(
            micro_credential=session.get(MicroCredential, ids["mc"]), published=True, title=f"{title} v2"
        )

    # The district sees that a newer version is available and upgrades explicitly.
    login(page, emails[1], TEST_PASSWORD)
    visit(page, f"/organisations/{ids['district']}/shared-definitions", "adoption-newer")
    assert "A newer version is available: version 2" in page.locator(f"#offer-{ids['mc']}").inner_text()
    _submit(page, f"Upgrade to version 2 of {title} v2")
    assert "Now offering version 2" in page.locator(".notice").inner_text()
    check_page(page, "adoption-upgraded")
