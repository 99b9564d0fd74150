"""A PDF in the evidence is read beside the rubric: each page is an image rendered on the server, so the file's
own scripts never run in the assessor's browser (see credentials/portfolios/previews.py)."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any

import pytest

from core.models import Role
from tests.assessors.test_pages import _pdf
from tests.browser.conftest import check_page, login, unique
from tests.conftest import TEST_PASSWORD
from tests.factories import (
    CredentialVersionFactory,
    EvidenceFileFactory,
    OrganisationFactory,
    QualificationFactory,
    SubmissionFactory,
    UserFactory,
    member,
)


@pytest.fixture(scope="module")
def story(live_server: Any) -> dict[str, Any]:
    tag = unique("pdf")
    with live_server.seed():
        from core import storage

        org = OrganisationFactory(name=f"Preview Teachers {tag}")
        assessor = member(org, Role.ASSESSOR, email=f"assessor-{tag}@example.org")
        version = CredentialVersionFactory(organisation=org, published=True, title=f"Lesson study {tag}")
        QualificationFactory(user=assessor, micro_credential=version.micro_credential)
        submission = SubmissionFactory(version=version, earner=UserFactory(), submitted=True)
        data = _pdf(3)
        digest = hashlib.sha256(data).hexdigest()
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "upload"
            path.write_bytes(data)
            storage.backend().put(path, digest)
        EvidenceFileFactory(
            submission=submission,
            requirement_key="reflection",
            sha256=digest,
            size=len(data),
            media_type="application/pdf",
            filename="plan.pdf",
        )
        return {"org_id": str(org.id), "assessor": assessor.email}


def test_assessor_reads_a_pdf_page_by_page_beside_the_rubric(page: Any, story: dict[str, Any]) -> None:
    login(page, story["assessor"], TEST_PASSWORD)
    page.goto(f"/review/{story['org_id']}")
    with page.expect_navigation():
        page.get_by_role("button", name="Claim next").click()
    pages = page.locator(".pdf-pages img")
    assert pages.count() == 3
    first = pages.first
    first.scroll_into_view_if_needed()
    # Rendered in a child process: allow for a loaded machine.
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=first.element_handle(), timeout=30_000)
    assert first.evaluate("img => img.naturalWidth") == 1100
    assert first.get_attribute("alt").startswith("Page 1 of 3, file 1 (pdf")
    assert page.get_by_role("link", name="Download file 1 (pdf", exact=False).count() == 1
    check_page(page, "review-task-pdf-preview")
