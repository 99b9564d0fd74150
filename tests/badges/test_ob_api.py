"""The OB 3.0 API, Host role: discovery, client registration, authorization code with PKCE and consent,
tokens, credentials with paging headers, profile, and the spec's error documents."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from badges.host import services
from badges.host.models import OAuthApproval, OAuthClient, OAuthToken
from badges.host.oauth import CREDENTIAL_READ, PROFILE_READ, PROFILE_UPDATE, SCOPES
from core import clock
from core.privacy import Erasure
from tests.badges.issued import award, passed_submission
from tests.conftest import bearer, csrf_token
from tests.core.test_web import BROWSER, sign_in
from tests.factories import SubmissionFactory, UserFactory

PREFIX = "/ims/ob/v3p0"
REDIRECT = "https://wallet.example.net/callback"


def status_info(response: Any, status: int, minor: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["imsx_codeMajor"] == "failure" and body["imsx_severity"] == "error"
    assert body["imsx_description"]
    field = body["imsx_codeMinor"]["imsx_codeMinorField"][0]
    assert field["imsx_codeMinorFieldName"] == "TargetEndSystem"
    if minor:
        assert field["imsx_codeMinorFieldValue"] == minor
    return body


def test_discovery_describes_the_real_endpoints(client: Any) -> None:
    r = client.get(f"{PREFIX}/discovery")
    assert r.status_code == 200
    doc = r.get_json()
    assert doc["openapi"].startswith("3.0")
    assert {"/credentials", "/profile", "/discovery"} <= set(doc["paths"])
    scheme = doc["components"]["securitySchemes"]["OAuth2ACG"]
    assert scheme["type"] == "oauth2"
    flow = scheme["flows"]["authorizationCode"]
    assert set(flow["scopes"]) == set(SCOPES)
    server = doc["servers"][0]["url"]
    for url in (scheme["x-imssf-registrationUrl"], flow["authorizationUrl"], flow["tokenUrl"], server + "/credentials"):
        path = urlsplit(url).path
        # every URL it names is served here (a GET of a POST-only endpoint is a 405, not a 404)
        assert client.get(path).status_code != 404, path


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def register(client: Any, **overrides: Any) -> dict[str, Any]:
    metadata = {
        "client_name": "Test Wallet",
        "client_uri": "https://wallet.example.net/",
        "logo_uri": "https://wallet.example.net/logo.png",
        "tos_uri": "https://wallet.example.net/terms",
        "policy_uri": "https://wallet.example.net/privacy",
        "software_id": "test-wallet",
        "software_version": "1.0",
        "redirect_uris": [REDIRECT],
        "token_endpoint_auth_method": "client_secret_basic",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "scope": " ".join(SCOPES),
        **overrides,
    }
    r = client.post(f"{PREFIX}/oauth/register", json=metadata)
    assert r.status_code == 201, r.get_data(as_text=True)
    return r.get_json()


def authorize_query(registered: dict[str, Any], challenge: str, **overrides: Any) -> str:
    query = {
        "response_type": "code",
        "client_id": registered["client_id"],
        "redirect_uri": REDIRECT,
        "scope": f"{CREDENTIAL_READ} {PROFILE_READ}",
        "state": "xyz-state",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **overrides,
    }
    return f"{PREFIX}/oauth/authorize?" + urlencode({k: v for k, v in query.items() if v is not None})


def consent(client: Any, url: str, decision: str = "approve") -> Any:
    page = client.get(url, headers=BROWSER)
    assert page.status_code == 200, page.get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_token(page.get_data(as_text=True)), "decision": decision})


def redirect_params(response: Any) -> dict[str, str]:
    assert response.status_code == 302, response.get_data(as_text=True)
    target = urlsplit(response.headers["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == REDIRECT
    return {k: v[0] for k, v in parse_qs(target.query).items()}


def basic(registered: dict[str, Any]) -> dict[str, str]:
    pair = f"{registered['client_id']}:{registered['client_secret']}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode()}


def exchange(client: Any, registered: dict[str, Any], code: str, verifier: str) -> Any:
    return client.post(
        f"{PREFIX}/oauth/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier},
        headers=basic(registered),
    )


def tokens_for(client: Any, earner: Any, **query: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Register a client, sign the earner in, approve it and exchange the code: (client, token response)."""
    registered = register(client)
    sign_in(client, earner.email)
    verifier, challenge = pkce()
    params = redirect_params(consent(client, authorize_query(registered, challenge, **query)))
    assert params["state"] == "xyz-state"
    r = exchange(client, registered, params["code"], verifier)
    assert r.status_code == 200, r.get_data(as_text=True)
    return registered, r.get_json()


def bearer_of(token: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {token['access_token']}"}


def test_full_flow_register_authorize_consent_token_list_credentials(client: Any) -> None:
    submission = passed_submission()
    badges = [award(submission)]
    earner = submission.earner
    _, token = tokens_for(client, earner)
    assert token["token_type"].lower() == "bearer" and token["refresh_token"] and token["expires_in"] > 0
    assert set(token["scope"].split()) == {CREDENTIAL_READ, PROFILE_READ}

    r = client.get(f"{PREFIX}/credentials", headers=bearer_of(token))
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.headers["X-Total-Count"] == "1"
    assert 'rel="first"' in r.headers["Link"] and 'rel="last"' in r.headers["Link"]
    assert 'rel="next"' not in r.headers["Link"]
    listed = r.get_json()["credential"]
    assert [c["id"] for c in listed] == [badges[0].credential["id"]]
    assert listed[0]["proof"]  # each element verifiable as it was signed

    profile = client.get(f"{PREFIX}/profile", headers=bearer_of(token)).get_json()
    assert profile["type"] == "Profile" and profile["name"] == earner.name

    # the earner sees the application on the account page and can revoke it
    client.get("/logout")
    sign_in(client, earner.email)
    page = client.get("/account/applications", headers=BROWSER).get_data(as_text=True)
    assert "Test Wallet" in page


def test_paging_headers_follow_limit_and_offset(client: Any, session: Any) -> None:
    first = passed_submission()
    award(first)
    version = first.version
    earner = first.earner
    for attempt in range(2, 6):
        other = SubmissionFactory(
            version=version, earner=earner, state="passed", decided_at=first.decided_at, attempt=attempt
        )
        award(other)
    _, token = tokens_for(client, earner)
    r = client.get(f"{PREFIX}/credentials?limit=2&offset=2", headers=bearer_of(token))
    assert r.status_code == 200
    assert r.headers["X-Total-Count"] == "5"
    links = dict(
        (part.split(";")[1].strip().removeprefix('rel="').removesuffix('"'), part.split(";")[0].strip()[1:-1])
        for part in r.headers["Link"].split(",")
    )
    assert set(links) == {"next", "last", "first", "prev"}
    assert "offset=4" in links["next"] and "offset=4" in links["last"]
    assert "offset=0" in links["first"] and "offset=0" in links["prev"]
    assert len(r.get_json()["credential"]) == 2
    last = client.get(urlsplit(links["last"]).path + "?" + urlsplit(links["last"]).query, headers=bearer_of(token))
    assert len(last.get_json()["credential"]) == 1 and 'rel="next"' not in last.headers["Link"]


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=101", "limit=abc", "offset=-1", "since=yesterday", "since=2024-01-01T00:00:00", "page=2"],
)
def test_bad_paging_arguments_are_400_status_info(client: Any, query: str) -> None:
    _, token = tokens_for(client, UserFactory())
    r = client.get(f"{PREFIX}/credentials?{query}", headers=bearer_of(token))
    status_info(r, 400, "invalid_query_parameter")


def test_bad_pkce_verifier_gets_no_token(client: Any) -> None:
    earner = UserFactory()
    registered = register(client)
    sign_in(client, earner.email)
    _, challenge = pkce()
    params = redirect_params(consent(client, authorize_query(registered, challenge)))
    r = exchange(client, registered, params["code"], secrets.token_urlsafe(48))
    assert r.status_code == 400 and r.get_json()["error"] == "invalid_grant"


def test_a_code_works_once_and_only_for_its_client(client: Any) -> None:
    earner = UserFactory()
    registered = register(client)
    other = register(client, client_name="Other app")
    sign_in(client, earner.email)
    verifier, challenge = pkce()
    params = redirect_params(consent(client, authorize_query(registered, challenge)))
    assert exchange(client, other, params["code"], verifier).status_code == 400
    assert exchange(client, registered, params["code"], verifier).status_code == 200
    again = exchange(client, registered, params["code"], verifier)
    assert again.status_code == 400 and again.get_json()["error"] == "invalid_grant"


def test_authorization_without_pkce_or_with_plain_pkce_is_refused(client: Any) -> None:
    earner = UserFactory()
    registered = register(client)
    sign_in(client, earner.email)
    missing = client.get(authorize_query(registered, "x", code_challenge=None, code_challenge_method=None))
    assert redirect_params(missing)["error"] == "invalid_request"
    verifier, _ = pkce()
    plain = client.get(authorize_query(registered, verifier, code_challenge_method="plain"))
    assert redirect_params(plain)["error"] == "invalid_request"


def test_wrong_scope(client: Any) -> None:
    earner = UserFactory()
    registered = register(client, scope=PROFILE_READ)
    sign_in(client, earner.email)
    _, challenge = pkce()
    unknown = client.get(authorize_query(registered, challenge, scope="https://example.org/scope/admin"))
    assert redirect_params(unknown)["error"] == "invalid_scope"
    # a token for the profile only cannot list credentials
    _, token = tokens_for(client, earner, scope=PROFILE_READ)
    status_info(client.get(f"{PREFIX}/credentials", headers=bearer_of(token)), 403, "forbidden")
    assert client.get(f"{PREFIX}/profile", headers=bearer_of(token)).status_code == 200


def test_a_request_for_no_scope_or_only_unregistered_ones_is_invalid_scope(client: Any) -> None:
    registered = register(client, scope=PROFILE_READ)
    sign_in(client, UserFactory().email)
    _, challenge = pkce()
    for scope in (None, CREDENTIAL_READ):
        r = client.get(authorize_query(registered, challenge, scope=scope))
        assert redirect_params(r)["error"] == "invalid_scope"


def test_nobody_revokes_another_earners_application(client: Any, session: Any) -> None:
    earner = UserFactory()
    _, token = tokens_for(client, earner)
    approval = session.query(OAuthApproval).filter_by(user_id=earner.id).one()
    client.get("/logout")
    sign_in(client, UserFactory().email)
    page = client.get("/account/applications", headers=BROWSER).get_data(as_text=True)
    r = client.post(f"/account/applications/{approval.id}/revoke", data={"csrf_token": csrf_token(page)})
    assert r.status_code == 302
    assert "No such approved application" in client.get("/account/applications", headers=BROWSER).get_data(as_text=True)
    assert client.get(f"{PREFIX}/credentials", headers=bearer_of(token)).status_code == 200


def test_denied_consent_sends_access_denied_and_no_code(client: Any) -> None:
    earner = UserFactory()
    registered = register(client)
    sign_in(client, earner.email)
    _, challenge = pkce()
    params = redirect_params(consent(client, authorize_query(registered, challenge), decision="deny"))
    assert params["error"] == "access_denied" and "code" not in params


def test_revoked_client_loses_access_at_once(client: Any) -> None:
    earner = UserFactory()
    registered, token = tokens_for(client, earner)
    assert client.get(f"{PREFIX}/credentials", headers=bearer_of(token)).status_code == 200
    page = client.get("/account/applications", headers=BROWSER).get_data(as_text=True)
    action = re.search(r'action="(/account/applications/[^"]+/revoke)"', page).group(1)
    r = client.post(action, data={"csrf_token": csrf_token(page)})
    assert r.status_code == 302
    after = client.get("/account/applications", headers=BROWSER).get_data(as_text=True)
    assert "can no longer reach" in after and "Revoke Test Wallet" not in after
    r = client.get(f"{PREFIX}/credentials", headers=bearer_of(token))
    status_info(r, 401, "unauthorizedrequest")
    assert "Bearer" in r.headers["WWW-Authenticate"]
    # nor can it refresh its way back in
    refreshed = client.post(
        f"{PREFIX}/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
        headers=basic(registered),
    )
    assert refreshed.status_code == 400 and refreshed.get_json()["error"] == "invalid_grant"


def test_refresh_token_gives_a_new_access_token(client: Any) -> None:
    earner = UserFactory()
    registered, token = tokens_for(client, earner)
    r = client.post(
        f"{PREFIX}/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
        headers=basic(registered),
    )
    assert r.status_code == 200, r.get_data(as_text=True)
    fresh = r.get_json()
    assert fresh["access_token"] != token["access_token"]
    assert client.get(f"{PREFIX}/profile", headers=bearer_of(fresh)).status_code == 200
    # the old refresh token is spent
    again = client.post(
        f"{PREFIX}/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
        headers=basic(registered),
    )
    assert again.status_code == 400


@pytest.mark.parametrize(
    ("headers", "minor"),
    [
        ({}, "unauthorizedrequest"),
        ({"Authorization": "Bearer not-a-token"}, "unauthorizedrequest"),
        ({"Authorization": "Basic Zm9vOmJhcg=="}, "unauthorizedrequest"),
        ({"Authorization": "Bearer " + "x" * 5000}, "unauthorizedrequest"),
    ],
)
def test_resource_endpoints_without_a_valid_token_are_401_status_info(client: Any, headers: Any, minor: str) -> None:
    for path in ("/credentials", "/profile"):
        status_info(client.get(PREFIX + path, headers=headers), 401, minor)


def test_an_api_token_of_the_service_is_not_an_ob_api_token(client: Any) -> None:
    status_info(client.get(f"{PREFIX}/credentials", headers=bearer(UserFactory())), 401)


def test_unknown_paths_and_methods_under_the_api_are_status_info(client: Any) -> None:
    status_info(client.get(f"{PREFIX}/nothing-here"), 404, "not_found")
    status_info(client.delete(f"{PREFIX}/profile"), 405, "not_allowed")
    # upsert needs a token with the upsert scope (tests/badges/test_ob_upsert.py)
    status_info(client.post(f"{PREFIX}/credentials", data="a.b.c", content_type="text/plain"), 401)


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"redirect_uris": ["http://wallet.example.net/cb"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["javascript:alert(1)"]}, "invalid_client_metadata"),
        ({"redirect_uris": ["https://wallet.example.net/cb#frag"]}, "invalid_client_metadata"),
        ({"redirect_uris": []}, "invalid_client_metadata"),
        ({"scope": "https://example.org/scope/everything"}, "invalid_client_metadata"),
        ({"client_name": ""}, "invalid_client_metadata"),
        ({"client_name": "x" * 201}, "invalid_client_metadata"),
        ({"client_name": 42}, "invalid_client_metadata"),
        ({"client_uri": "ftp://wallet.example.net"}, "invalid_client_metadata"),
        ({"grant_types": ["client_credentials"]}, "invalid_client_metadata"),
        ({"response_types": ["token"]}, "invalid_client_metadata"),
        ({"token_endpoint_auth_method": "private_key_jwt"}, "invalid_client_metadata"),
    ],
)
def test_hostile_registrations_are_refused(client: Any, overrides: dict[str, Any], error: str) -> None:
    base = {
        "client_name": "Bad",
        "client_uri": "https://wallet.example.net/",
        "redirect_uris": [REDIRECT],
        "scope": CREDENTIAL_READ,
    }
    r = client.post(f"{PREFIX}/oauth/register", json=base | overrides)
    assert r.status_code == 400, r.get_data(as_text=True)
    assert r.get_json()["error"] == error


@pytest.mark.parametrize("body", ["not json", "[1, 2]", "null"])
def test_registration_that_is_not_a_json_object_is_refused(client: Any, body: str) -> None:
    r = client.post(f"{PREFIX}/oauth/register", data=body, content_type="application/json")
    assert r.status_code == 400 and r.get_json()["error"] == "invalid_client_metadata"


def test_unknown_client_or_redirect_is_an_error_page_not_a_redirect(client: Any) -> None:
    earner = UserFactory()
    registered = register(client)
    sign_in(client, earner.email)
    _, challenge = pkce()
    unknown = client.get(authorize_query({"client_id": "nobody"}, challenge), headers=BROWSER)
    assert unknown.status_code == 400 and "not registered" in unknown.get_data(as_text=True)
    elsewhere = client.get(authorize_query(registered, challenge, redirect_uri="https://evil.example/cb"))
    assert elsewhere.status_code == 400 and "Location" not in elsewhere.headers


def test_the_consent_page_asks_anonymous_visitors_to_sign_in(client: Any) -> None:
    registered = register(client)
    _, challenge = pkce()
    r = client.get(authorize_query(registered, challenge), headers=BROWSER)
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_put_profile_changes_the_name_and_refuses_the_rest(client: Any) -> None:
    earner = UserFactory(name="Ada Old")
    _, token = tokens_for(client, earner, scope=f"{PROFILE_READ} {PROFILE_UPDATE}")
    profile = client.get(f"{PREFIX}/profile", headers=bearer_of(token)).get_json()
    r = client.put(f"{PREFIX}/profile", json=profile | {"name": "Ada New"}, headers=bearer_of(token))
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.get_json()["name"] == "Ada New"
    assert client.get(f"{PREFIX}/profile", headers=bearer_of(token)).get_json()["name"] == "Ada New"
    for bad in (
        profile | {"phone": "111-222-3333"},
        profile | {"id": "did:web:evil.example"},
        profile | {"name": ""},
        profile | {"name": "a\x00b"},
        profile | {"type": "Organization"},
        [profile],
    ):
        status_info(client.put(f"{PREFIX}/profile", json=bad, headers=bearer_of(token)), 400, "invalid_data")
    status_info(
        client.put(f"{PREFIX}/profile", data="{", content_type="application/json", headers=bearer_of(token)), 400
    )


def test_put_profile_needs_the_update_scope(client: Any) -> None:
    earner = UserFactory()
    _, token = tokens_for(client, earner, scope=PROFILE_READ)
    profile = client.get(f"{PREFIX}/profile", headers=bearer_of(token)).get_json()
    status_info(client.put(f"{PREFIX}/profile", json=profile, headers=bearer_of(token)), 403, "forbidden")


def test_secrets_codes_and_tokens_are_stored_as_digests(client: Any, session: Any) -> None:
    earner = UserFactory()
    registered, token = tokens_for(client, earner)
    stored = session.query(OAuthClient).filter_by(client_id=registered["client_id"]).one()
    assert registered["client_secret"] not in json.dumps(
        {c.name: str(getattr(stored, c.name)) for c in OAuthClient.__table__.columns}
    )
    row = session.query(OAuthToken).filter_by(client_pk=stored.id).one()
    assert token["access_token"] not in (row.access_token_digest, row.refresh_token_digest)


def test_the_discovery_document_is_valid_openapi_and_names_the_about_page(client: Any) -> None:
    from openapi_spec_validator import validate

    doc = client.get(f"{PREFIX}/discovery").get_json()
    validate(doc)
    scheme = doc["components"]["securitySchemes"]["OAuth2ACG"]
    for url in (doc["info"]["termsOfService"], scheme["x-imssf-privacyPolicyUrl"], scheme["x-imssf-termsOfServiceUrl"]):
        page = client.get(urlsplit(url).path, headers=BROWSER)
        assert page.status_code == 200 and "revoke" in page.get_data(as_text=True)


def test_the_consent_page_lets_its_form_reach_the_application_and_nothing_else(client: Any) -> None:
    registered = register(client)
    sign_in(client, UserFactory().email)
    _, challenge = pkce()
    page = client.get(authorize_query(registered, challenge), headers=BROWSER)
    policy = page.headers["Content-Security-Policy"]
    assert policy.endswith("form-action 'self' https://wallet.example.net")
    assert "frame-ancestors 'none'" in policy  # the consent page can never be framed (clickjacking)


def test_access_tokens_expire(client: Any) -> None:
    _, token = tokens_for(client, UserFactory())
    assert token["expires_in"] == client.application.config["OB_API_TOKEN_TTL"]
    with clock.shifted(timedelta(seconds=token["expires_in"] + 1)):
        status_info(client.get(f"{PREFIX}/profile", headers=bearer_of(token)), 401, "unauthorizedrequest")


def test_an_expired_code_is_worthless(client: Any) -> None:
    registered = register(client)
    sign_in(client, UserFactory().email)
    verifier, challenge = pkce()
    params = redirect_params(consent(client, authorize_query(registered, challenge)))
    with clock.shifted(timedelta(minutes=6)):
        r = exchange(client, registered, params["code"], verifier)
    assert r.status_code == 400 and r.get_json()["error"] == "invalid_grant"


def test_a_wrong_client_secret_gets_no_token(client: Any) -> None:
    registered = register(client)
    sign_in(client, UserFactory().email)
    verifier, challenge = pkce()
    params = redirect_params(consent(client, authorize_query(registered, challenge)))
    r = exchange(client, registered | {"client_secret": "guess"}, params["code"], verifier)
    assert r.status_code == 401 and r.get_json()["error"] == "invalid_client"


def test_the_persons_archive_lists_approvals_and_erasure_removes_every_way_in(client: Any, session: Any) -> None:
    earner = UserFactory()
    tokens_for(client, earner)
    part, hosted = services.export_personal_data(earner)
    assert hosted.name == "hosted_credentials" and hosted.records == []
    assert part.records[0]["application"] == "Test Wallet" and CREDENTIAL_READ in part.records[0]["scope"]
    erasure = Erasure(person=earner, pseudonym="Erased person 1")
    services.erase_personal_data(erasure)
    session.flush()
    assert erasure.counts["applications"] == 1
    assert session.query(OAuthToken).filter_by(user_id=earner.id).count() == 0
    assert services.export_personal_data(earner)[0].records == []
