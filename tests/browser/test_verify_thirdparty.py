"""An employer verifies other issuers' badges on /verify: a genuine one with a warning reads as valid, says what
is wrong in plain words, and stays accessible; a tampered copy reads as invalid."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.browser.conftest import check_page

THIRDPARTY = Path(__file__).resolve().parents[1] / "badges" / "thirdparty"


def _verify_pasted(page: Any, text: str) -> None:
    page.goto("/verify")
    page.get_by_label(re.compile("^Paste a badge")).fill(text)
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("Verify")).click()


def test_a_third_party_badge_with_a_warning_and_its_tampered_copy(page: Any, tmp_path: Path) -> None:
    unbound = (THIRDPARTY / "1edtech-simple-did-key-method.json").read_text()
    _verify_pasted(page, unbound)
    assert page.locator("#result-heading").inner_text() == "VALID — with 1 warning"
    warnings = page.get_by_role("list", name="Warnings")
    assert "Signed, but not shown to be signed by the issuer" in warnings.inner_text()
    check_page(page, "verify-thirdparty-warning")

    uploaded = tmp_path / "badge.json"
    uploaded.write_text((THIRDPARTY / "dcc-v1-ed25519-didkey-legacy-noStatus-noExpiry.json").read_text())
    page.goto("/verify")
    page.get_by_label(re.compile("upload the badge file")).set_input_files(str(uploaded))
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("Verify")).click()
    assert page.locator("#result-heading").inner_text() == "VALID — with 1 warning"
    page.get_by_text("What was checked, step by step").click()  # the technical table is one click away
    assert "Ed25519Signature2020 signature valid" in page.locator("table").inner_text()

    forged = json.loads(unbound)
    forged["name"] = "Forged Badge"
    _verify_pasted(page, json.dumps(forged))
    assert page.locator("#result-heading").inner_text() == "NOT GENUINE"
    assert page.get_by_role("list", name="Warnings").count() == 0
    check_page(page, "verify-thirdparty-forged")


def test_badges_signed_with_ecdsa_and_ed25519_signature_2018_read_as_valid(page: Any) -> None:
    """Other wallets' and issuers' suites: an ecdsa-rdfc-2019 (P-256) badge and an Ed25519Signature2018 one."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from badges import proofs
    from tests.badges.samples import ISSUER, credential

    p256 = ec.generate_private_key(ec.SECP256R1())
    ecdsa = proofs.sign_ecdsa_rdfc_2019(
        credential(), p256, f"{ISSUER}#{proofs.ec_multikey(p256.public_key())}", "2025-01-01T00:00:00Z"
    )
    _verify_pasted(page, json.dumps(ecdsa))
    assert page.locator("#result-heading").inner_text() == "VALID"
    page.get_by_text("What was checked, step by step").click()
    assert "ecdsa-rdfc-2019 signature valid" in page.locator("table").inner_text()

    ed = Ed25519PrivateKey.generate()
    doc = credential()
    doc["@context"] = [*doc["@context"], "https://w3id.org/security/suites/ed25519-2018/v1"]
    legacy = proofs.sign_ed25519_signature_2018(
        doc, ed, f"{ISSUER}#{proofs.multikey(ed.public_key())}", "2025-01-01T00:00:00Z"
    )
    _verify_pasted(page, json.dumps(legacy))
    assert page.locator("#result-heading").inner_text() == "VALID"
    legacy["credentialSubject"]["achievement"]["name"] = "Forged achievement"
    _verify_pasted(page, json.dumps(legacy))
    assert page.locator("#result-heading").inner_text() == "NOT GENUINE"
    check_page(page, "verify-ed25519-2018-forged")


def test_a_clr_lists_its_credentials_and_endorsements_and_a_derived_sd_badge_is_valid(page: Any) -> None:
    """An employer pastes a learner record (CLR): each credential in it and each endorsement reads in words."""
    from tests.badges.test_verifier_clr import _badge, _clr, _endorsement, _with_endorsement

    _verify_pasted(page, json.dumps(_clr(_badge(1), _with_endorsement(_endorsement()))))
    assert page.locator("#result-heading").inner_text() == "VALID"
    held = page.locator("ul.nested-credentials li")
    assert held.count() == 2
    assert "Genuine and valid: Example District issued “Achievement 1”" in held.nth(0).inner_text()
    check_page(page, "verify-clr")

    _verify_pasted(page, json.dumps(_with_endorsement(_endorsement())))
    endorsement = page.locator("ul.endorsements li").inner_text()
    assert "State Board endorses the achievement" in endorsement and "Meets the state" in endorsement
    check_page(page, "verify-endorsement")

    _verify_pasted(page, (THIRDPARTY / "1edtech-sd-derivedcredential.json").read_text())
    assert page.locator("#result-heading").inner_text() == "VALID"
    page.get_by_text("What was checked, step by step").click()
    assert "ecdsa-sd-2023 signature valid" in page.locator("table").inner_text()
