"""An earner adds a badge to a wallet: My badges → "Add to wallet" → an offer with a PIN, its QR codes and links
(axe clean, nothing scrolls sideways at 390 px); the wallet (played over HTTP by the test) reads the offer the
QR code points at, and the PIN the page shows gets it a token."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest

from badges.oid4vci.services import PRE_AUTHORIZED
from tests.badges.issued import award, passed_submission
from tests.browser.conftest import check_page, login
from tests.conftest import TEST_PASSWORD


@pytest.fixture(scope="module")
def earner(live_server: Any) -> dict[str, str]:
    with live_server.seed():
        submission = passed_submission()
        badge = award(submission)
        return {"email": submission.earner.email, "badge": str(badge.id), "title": badge.title}


def _call(url: str, data: bytes | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=data)  # noqa: S310 (the live test server)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_earner_adds_a_badge_to_a_wallet(page: Any, live_server: Any, earner: dict[str, str]) -> None:
    login(page, earner["email"], TEST_PASSWORD)
    page.goto("/my/badges")
    page.get_by_role("link", name=f"Add to wallet ({earner['title']})").click()
    page.wait_for_url(f"**/my/badges/{earner['badge']}/wallet")
    check_page(page, "wallet-offer-start")
    assert page.get_by_label("Send me the PIN by e-mail", exact=False).is_checked()
    page.get_by_label("Show the PIN here").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Make a wallet offer").click()
    assert page.get_by_role("img", name="QR code of the OpenID4VCI credential offer").is_visible()
    assert page.get_by_role("img", name="QR code of the Learner Credential Wallet request").is_visible()
    assert (
        page.get_by_role("link", name="Open in a wallet app")
        .get_attribute("href")
        .startswith("openid-credential-offer://?credential_offer_uri=")
    )
    assert (
        page.get_by_role("link", name="Open in the Learner Credential Wallet")
        .get_attribute("href")
        .startswith("dccrequest://request?request=")
    )
    check_page(page, "wallet-offer")
    pin = page.locator(".wallet-pin").inner_text()
    link = page.get_by_label("Offer link").input_value()

    # The wallet scans the QR code: the offer it points at, then the token for its code and the PIN.
    reference = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)["credential_offer_uri"][0]
    status, offer = _call(reference)
    assert status == 200 and offer["credential_issuer"] == live_server.url
    code = offer["grants"][PRE_AUTHORIZED]["pre-authorized_code"]
    form = {"grant_type": PRE_AUTHORIZED, "pre-authorized_code": code, "tx_code": pin}
    status, token = _call(live_server.url + "/oid4vci/token", urllib.parse.urlencode(form).encode())
    assert status == 200 and token["token_type"] == "Bearer", token


def test_earner_sees_and_removes_a_badge_an_application_added(page: Any, live_server: Any) -> None:
    from badges.host.models import HostedCredential
    from core.db import db

    with live_server.seed():
        submission = passed_submission()
        badge = award(submission)
        credential = dict(badge.credential, id="urn:uuid:6a1f0c1e-0000-4000-8000-000000000001")
        credential["issuer"] = {"id": "did:key:z6MkExample", "type": ["Profile"], "name": "Another State Agency"}
        db.session.add(
            HostedCredential(
                user_id=submission.earner_id,
                credential_key=credential["id"],
                issuer_id="did:key:z6MkExample",
                credential=credential,
                status="valid",
            )
        )
        email = submission.earner.email
    login(page, email, TEST_PASSWORD)
    page.goto("/my/badges")
    page.get_by_role("link", name="Badges from other issuers").click()
    page.wait_for_url("**/my/badges/elsewhere")
    assert page.get_by_role("cell", name="Another State Agency").is_visible()
    check_page(page, "hosted-credentials")
    with page.expect_navigation():
        page.get_by_role("button", name="Remove").click()
    assert page.get_by_text("No application has added a badge from another issuer.").is_visible()
