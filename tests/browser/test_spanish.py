"""The interface in Spanish, walked in Chromium: an earner whose account says Spanish signs in (on an English
sign-in page) and reads the catalogue, their submission and their badge in Spanish; an anonymous employer
switches the footer to Spanish and checks a badge on /verify. Every page: axe clean and no sideways scrolling
at 390 px (Spanish runs longer than English)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import check_page, login, unique, visit
from tests.conftest import TEST_PASSWORD
from tests.factories import CredentialVersionFactory, OrganisationFactory

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def earner(live_server: Any) -> dict[str, str]:
    tag = unique("es")
    with live_server.seed():
        from tests.badges.issued import award, passed_submission

        organisation = OrganisationFactory(name=f"Distrito Escolar del Valle {tag}")
        version = CredentialVersionFactory(
            organisation=organisation, published=True, title=f"Preguntas que hacen pensar {tag}"
        )
        passed = passed_submission(version=version)
        badge = award(passed)
        person = passed.earner
        person.email, person.name, person.locale = f"lucia-{tag}@example.org", f"Lucía Ortega {tag}", "es"
        return {
            "tag": tag,
            "email": person.email,
            "title": version.title,
            "submission": str(passed.id),
            "badge": str(badge.id),
        }


def _spanish(page: Any, *present: str, absent: tuple[str, ...] = ()) -> None:
    assert page.locator("html").get_attribute("lang") == "es"
    text = page.locator("body").inner_text()
    for words in present:
        assert words in text, f"{words!r} missing on {page.url}"
    for words in absent:
        assert words not in text, f"English {words!r} left on {page.url}"


def test_a_spanish_earner_reads_catalogue_submission_and_badge_in_spanish(page: Any, earner: dict[str, str]) -> None:
    login(page, earner["email"], TEST_PASSWORD)  # the sign-in page follows the browser: English
    _spanish(page, "Inicio", "Cerrar sesión", absent=("Sign out",))

    visit(page, f"/catalogue/?q={earner['tag']}", "spanish-catalogue")
    _spanish(page, "Catálogo de microcredenciales", earner["title"], absent=("Catalogue of micro-credentials",))

    visit(page, f"/portfolio/{earner['submission']}", "spanish-submission")
    _spanish(page, "Estado", "Intento", "aprobado", absent=("Attempt", "Your submissions"))

    visit(page, f"/badges/{earner['badge']}", "spanish-badge")
    _spanish(page, "VÁLIDA", "Qué certifica", "Detalles", absent=("What it certifies", "Valid from"))

    visit(page, "/account", "spanish-account")
    assert page.get_by_label("Idioma de las páginas y del correo electrónico").input_value() == "es"


def test_a_visitor_switches_to_spanish_in_the_footer_and_verifies_a_badge(page: Any, earner: dict[str, str]) -> None:
    visit(page, "/verify")
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_label("Language").select_option("es")
    with page.expect_navigation():
        page.get_by_role("button", name="Change").click()
    assert page.url.endswith("/verify")
    _spanish(page, "Verificar una insignia", absent=("Verify a badge",))
    credential = page.request.get(f"/badges/{earner['badge']}.json").text()
    page.get_by_label("Pegue una insignia", exact=False).fill(credential)
    with page.expect_navigation():
        page.get_by_role("button", name="Verificar").click()
    check_page(page, "spanish-verify")
    _spanish(page, "Auténtica y válida", "Qué se comprobó", absent=("Genuine and valid",))
