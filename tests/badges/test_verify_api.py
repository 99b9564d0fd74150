"""POST /api/v1/verify and the "verify a badge" page: the contract, our own issued badges, hostile input."""

from __future__ import annotations

import base64
import copy
import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from badges import baking, issuers, keys, presentation, proofs, revocation
from badges.models import SigningKey
from core import clock
from core.db import db
from tests.badges.issued import admin_of, award, passed_submission
from tests.badges.samples import data
from tests.conftest import csrf_token, problem

URL = "/api/v1/verify"
THIRDPARTY = Path(__file__).resolve().parent / "thirdparty"


def _report(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    # The DESIGN.md contract, plus "warnings", "nested_credentials" and "endorsements" (issue 13: added, nothing
    # changed; the last two are empty lists for a plain badge)
    assert set(body) == {"verified", "status", "checks", "credential", "warnings", "nested_credentials", "endorsements"}
    for check in body["checks"]:
        extra = {"severity", "kind"} if check.get("severity") == "warning" else set()
        assert set(check) == {"step", "passed", "detail"} | extra
    assert body["warnings"] == [
        {"step": c["step"], "kind": c["kind"], "detail": c["detail"]} for c in body["checks"] if c.get("severity")
    ]
    return body


def test_contract_with_the_1edtech_vectors(client: FlaskClient) -> None:
    body = _report(client.post(URL, json={"credential": data("signed-credential.json")}))
    assert body["verified"] is True and body["status"] == "valid"
    assert body["credential"]["id"] == "http://example.com/credentials/3527"
    token = baking.extract_png(data("simple-jwt.png"))
    assert _report(client.post(URL, json={"credential": token}))["status"] == "valid"
    for name, kind in (("simple-jwt.png", "image/png"), ("simple-jwt.svg", "image/svg+xml")):
        upload = {"file": (io.BytesIO(data(name)), name, kind)}
        assert _report(client.post(URL, data=upload, content_type="multipart/form-data"))["status"] == "valid"


def test_our_issued_badge_verifies_in_every_form_without_network(client: FlaskClient) -> None:
    badge = award(passed_submission())
    forms = {
        "json": {"json": {"credential": badge.credential}},
        "jwt": {"json": {"credential": badge.jwt}},
        "url": {"json": {"url": f"http://localhost/badges/{badge.id}"}},
        # our images are SVG by default; bake the JWT into a PNG ourselves
        "png": {"data": {"file": (io.BytesIO(baking.bake_png(data("simple-jwt.png"), badge.jwt)), "b.png")}},
        "svg": {"data": {"file": (io.BytesIO(presentation.baked(badge, "svg")), "b.svg")}},
    }
    for kind, kwargs in forms.items():
        body = _report(client.post(URL, **kwargs))
        failed = [c for c in body["checks"] if not c["passed"]]
        assert body["status"] == "valid", (kind, failed)
        steps = [c["step"] for c in body["checks"]]
        assert "status" in steps and "proof" in steps, kind
    both = _report(client.post(URL, json={"credential": badge.jwt}))
    assert [c["passed"] for c in both["checks"] if c["step"] == "proof"] == [True, True]


def _signed_the_old_way(badge: Any) -> dict[str, Any]:
    """The badge as we signed it before issuer ids became did:web DIDs: the https Profile URL as issuer.id and a
    self-describing ``<issuer id>#z6Mk…`` verification method, the DI proof only."""
    ed_key = db.session.query(SigningKey).filter_by(organisation_id=badge.organisation_id, algorithm="Ed25519").one()
    url = f"http://localhost/issuers/{badge.organisation_id}"
    old = {k: v for k, v in copy.deepcopy(badge.credential).items() if k != "proof"}
    old["issuer"]["id"] = old["credentialSubject"]["achievement"]["creator"]["id"] = url
    vm = f"{url}#{proofs.multikey(keys.ed25519_public_key(ed_key.public_jwk))}"
    return proofs.sign_eddsa_rdfc_2022(old, issuers.private_key(ed_key), vm, badge.credential["validFrom"])


def test_badges_signed_before_did_web_issuer_ids_keep_verifying(client: FlaskClient) -> None:
    badge = award(passed_submission())
    old = _signed_the_old_way(badge)
    body = _report(client.post(URL, json={"credential": old}))
    assert body["status"] == "valid", [c for c in body["checks"] if not c["passed"]]
    # their status list is the one new badges use, now issued by the DID whose document names the old id
    revocation.revoke(actor=admin_of(badge), badge_id=badge.id, reason="Issued in error")
    db.session.flush()
    assert _report(client.post(URL, json={"credential": old}))["status"] == "revoked"


def test_a_revoked_badge_is_revoked_at_the_next_request(client: FlaskClient) -> None:
    badge = award(passed_submission())
    assert _report(client.post(URL, json={"credential": badge.jwt}))["status"] == "valid"
    revocation.revoke(actor=admin_of(badge), badge_id=badge.id, reason="Issued in error")
    db.session.flush()
    body = _report(client.post(URL, json={"credential": badge.jwt}))
    assert body["status"] == "revoked" and body["verified"] is False


def test_an_expired_badge_is_expired(client: FlaskClient) -> None:
    badge = award(passed_submission(validity_days=30))
    with clock.shifted(timedelta(days=60)):
        body = _report(client.post(URL, json={"credential": badge.credential}))
    assert body["status"] == "expired"


def test_tampering_with_our_badge_or_its_image_is_invalid(client: FlaskClient) -> None:
    badge = award(passed_submission())
    forged = json.loads(json.dumps(badge.credential))
    forged["credentialSubject"]["achievement"]["name"] = "Rocket Science"
    assert _report(client.post(URL, json={"credential": forged}))["status"] == "invalid"
    svg = presentation.baked(badge, "svg").decode()
    payload = baking.extract_svg(svg).split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["credentialSubject"]["achievement"]["name"] = "Rocket Science"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    tampered = svg.replace(payload, forged)
    body = _report(client.post(URL, data={"file": (io.BytesIO(tampered.encode()), "b.svg")}))
    assert body["status"] == "invalid"
    assert "signature" in next(c["detail"] for c in body["checks"] if not c["passed"])


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/badge",
        "http://10.0.0.7/badge",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/x",
    ],
)
def test_ssrf_urls_are_refused_with_a_clear_check(client: FlaskClient, url: str) -> None:
    body = _report(client.post(URL, json={"url": url}))
    assert body["status"] == "invalid"
    assert body["checks"][0]["step"] == "fetch" and not body["checks"][0]["passed"]
    assert "refused" in body["checks"][0]["detail"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"json": {"credential": {"hello": "world"}}}, "credential"),
        ({"json": {"credential": "just some text"}}, "credential"),
        ({"json": {"credential": 42}}, "credential"),
        ({"json": {"credential": "<svg xmlns='http://www.w3.org/2000/svg'/>"}}, "credential"),
        ({"json": {"url": "ftp://example.org/x"}}, "url"),
        ({"json": {"credential": {}, "url": "https://example.org"}}, None),
        ({"json": {}}, None),
        ({"json": [1, 2]}, None),
        ({"json": {"credential": {}, "extra": 1}}, "extra"),
        ({"data": {"file": (io.BytesIO(b"\x89PNG\r\n\x1a\nbroken"), "x.png")}}, "file"),
        ({"data": {"file": (io.BytesIO(b"\x00\xff\x00"), "x.bin")}}, "file"),
        ({"data": {"other": "x"}, "content_type": "multipart/form-data"}, "file"),
    ],
)
def test_input_that_is_not_a_credential_is_a_422(client: FlaskClient, kwargs: dict, field: str | None) -> None:
    body = problem(client.post(URL, **kwargs), 422)
    if field:
        assert body["errors"][0]["field"] == field


def test_billion_laughs_svg_is_a_422(client: FlaskClient) -> None:
    svg = (
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><svg xmlns="http://www.w3.org/2000/svg">&c;</svg>'
    )
    body = problem(client.post(URL, data={"file": (io.BytesIO(svg), "x.svg")}), 422)
    assert "EntitiesForbidden" in body["detail"]


@pytest.mark.parametrize(
    "body",
    [
        '{"credential": ' + "[" * 100000 + "]" * 100000 + "}",
        '{"credential": {"type": ["VerifiableCredential"], "x": ' + '{"a": ' * 500 + "1" + "}" * 500 + "}}",
    ],
    ids=["json-body", "credential"],
)
def test_deeply_nested_input_is_a_422(client: FlaskClient, body: str) -> None:
    problem(client.post(URL, data=body, content_type="application/json"), 422)


def test_huge_input_is_a_413(client: FlaskClient) -> None:
    big = "x" * (client.application.config["MAX_CONTENT_LENGTH"] + 1)
    problem(client.post(URL, json={"credential": big}), 413)


def test_other_media_types_are_a_415(client: FlaskClient) -> None:
    problem(client.post(URL, data="x", content_type="text/plain"), 415)


def test_verify_is_rate_limited(client: FlaskClient) -> None:
    app = client.application
    app.config.update(RATELIMIT_ENABLED=True, VERIFY_RATE_LIMIT="2 per minute")
    try:
        for _ in range(2):
            client.post(URL, json={"credential": data("signed-credential.json")})
        problem(client.post(URL, json={"credential": data("signed-credential.json")}), 429)
    finally:
        app.config.update(VERIFY_RATE_LIMIT="30 per minute")


def test_the_openapi_document_describes_verify(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    post = spec["paths"]["/api/v1/verify"]["post"]
    assert "multipart/form-data" in post["requestBody"]["content"]
    assert "422" in post["responses"]


# -- the page -------------------------------------------------------------------------------------------------


def test_the_page_verifies_pasted_text_and_uploaded_images(client: FlaskClient) -> None:
    page = client.get("/verify")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html and '<label for="text"' in html
    token = csrf_token(html)
    pasted = client.post("/verify", data={"csrf_token": token, "text": json.dumps(data("signed-credential.json"))})
    text = pasted.get_data(as_text=True)
    assert pasted.status_code == 200 and "VALID" in text and "Example Corp" in text and "eddsa-rdfc-2022" in text
    uploaded = client.post(
        "/verify",
        data={"csrf_token": token, "file": (io.BytesIO(data("simple-jwt.png")), "badge.png")},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 200 and "VALID" in uploaded.get_data(as_text=True)


def test_the_page_shows_revoked_and_refuses_non_badges(client: FlaskClient) -> None:
    badge = award(passed_submission())
    revocation.revoke(actor=admin_of(badge), badge_id=badge.id, reason="Issued in error")
    db.session.flush()
    token = csrf_token(client.get("/verify").get_data(as_text=True))
    revoked = client.post("/verify", data={"csrf_token": token, "text": badge.jwt})
    assert "REVOKED" in revoked.get_data(as_text=True)
    refused = client.post("/verify", data={"csrf_token": token, "text": "hello"})
    assert refused.status_code == 422 and "not a badge" in refused.get_data(as_text=True)
    empty = client.post("/verify", data={"csrf_token": token})
    assert empty.status_code == 422
    forged = client.post("/verify", data={"text": "hello"})
    assert forged.status_code in (400, 422)


# -- plain words and the recipient check ------------------------------------------------------------------------


def test_a_forged_badge_is_headed_by_the_verdict_not_by_its_claimed_name(client: FlaskClient) -> None:
    badge = award(passed_submission())
    forged = json.loads(json.dumps(badge.credential))
    forged["credentialSubject"]["achievement"]["name"] = "Forged Doctorate"
    token = csrf_token(client.get("/verify").get_data(as_text=True))
    text = client.post("/verify", data={"csrf_token": token, "text": json.dumps(forged)}).get_data(as_text=True)
    assert "NOT GENUINE" in text and "Not genuine: do not rely on this badge" in text
    assert text.index("Not genuine") < text.index("Forged Doctorate")
    assert "The signature does not match the content" in text
    assert "What the badge claims (not confirmed)" in text and "About the badge" not in text


def test_the_page_says_a_valid_badge_in_words_with_readable_dates(client: FlaskClient) -> None:
    badge = award(passed_submission())
    token = csrf_token(client.get("/verify").get_data(as_text=True))
    text = client.post("/verify", data={"csrf_token": token, "text": badge.jwt}).get_data(as_text=True)
    assert "Genuine and valid:" in text and "has not been changed since" in text
    issued = badge.credential["validFrom"]
    assert f'<time datetime="{issued[:10]}' in text and "data-local-date" in text
    year = issued[:4]
    assert f" {year}</time>" in text  # "3 December 2026", not the raw ISO form


def test_the_page_checks_the_recipient_against_the_hashed_identifier(client: FlaskClient) -> None:
    submission = passed_submission()
    badge = award(submission)
    email = submission.earner.email
    token = csrf_token(client.get("/verify").get_data(as_text=True))
    ok = client.post("/verify", data={"csrf_token": token, "text": badge.jwt, "recipient": email.upper()})
    assert ok.status_code == 200 and f"The badge was awarded to {email.upper()}" in ok.get_data(as_text=True)
    other = client.post("/verify", data={"csrf_token": token, "text": badge.jwt, "recipient": "someone@else.example"})
    assert "was <strong>not</strong> awarded to someone@else.example" in other.get_data(as_text=True)
    for bad in ("not-an-email", "a@b", "x" * 250 + "@example.org"):
        refused = client.post("/verify", data={"csrf_token": token, "text": badge.jwt, "recipient": bad})
        assert refused.status_code == 422 and "Enter the recipient" in refused.get_data(as_text=True)
    # A file verified once is kept in the page: the recipient is checked without uploading it again.
    png = presentation.baked(badge, "png")
    first = client.post(
        "/verify",
        data={"csrf_token": token, "file": (io.BytesIO(png), "badge.png")},
        content_type="multipart/form-data",
    )
    html = first.get_data(as_text=True)
    kept = html.split('name="kept" type="hidden" value="')[1].split('"')[0]
    assert base64.b64decode(kept) == png
    again = client.post("/verify", data={"csrf_token": token, "kept": kept, "recipient": email})
    assert f"The badge was awarded to {email}" in again.get_data(as_text=True)
    broken = client.post("/verify", data={"csrf_token": token, "kept": "%%%not base64", "recipient": email})
    assert broken.status_code == 422 and "Paste a badge or choose a file" in broken.get_data(as_text=True)


def test_the_api_checks_a_recipient_when_asked(client: FlaskClient) -> None:
    submission = passed_submission()
    badge = award(submission)
    body = client.post(URL, json={"credential": badge.jwt, "recipient": submission.earner.email}).get_json()
    assert body["status"] == "valid" and body["recipient_matches"] is True
    body = client.post(URL, json={"credential": badge.jwt, "recipient": "other@example.org"}).get_json()
    assert body["recipient_matches"] is False
    body = client.post(
        URL, json={"credential": data("signed-credential.json"), "recipient": "a@example.org"}
    ).get_json()
    assert "recipient_matches" in body
    for bad in ("nope", 42, ["a@example.org"], "x" * 300 + "@e.org"):
        problem(client.post(URL, json={"credential": badge.jwt, "recipient": bad}), 422)
    upload = {"file": (io.BytesIO(badge.jwt.encode()), "badge.jwt", "text/plain"), "recipient": submission.earner.email}
    body = client.post(URL, data=upload, content_type="multipart/form-data").get_json()
    assert body["recipient_matches"] is True


def test_warnings_reach_the_api_and_the_page_in_plain_words(client: FlaskClient) -> None:
    """A genuine third-party badge whose key is not bound to its issuer, and one without a recipient id."""
    unbound = json.loads((THIRDPARTY / "1edtech-simple-did-key-method.json").read_text())
    answer = client.post(URL, json={"credential": unbound}).get_json()
    assert answer["status"] == "valid" and answer["verified"] is True
    assert [(w["step"], w["kind"]) for w in answer["warnings"]] == [("proof", "authenticity")]
    assert any(c.get("severity") == "warning" and c["kind"] == "authenticity" for c in answer["checks"])
    token = csrf_token(client.get("/verify").get_data(as_text=True))
    html = client.post("/verify", data={"csrf_token": token, "text": json.dumps(unbound)}).get_data(as_text=True)
    assert "VALID — with 1 warning" in html and "Signed, but not shown to be signed by the issuer" in html
    nameless = (THIRDPARTY / "dcc-v2-di-didkey-notYetValid.json").read_text()
    html = client.post("/verify", data={"csrf_token": token, "text": nameless}).get_data(as_text=True)
    assert "NOT YET VALID — with 1 warning" in html and "Not made as the Open Badges standard requires" in html
    # Our own badges carry no warnings.
    assert client.post(URL, json={"credential": data("signed-credential.json")}).get_json()["warnings"] == []
