"""A wallet asks for an earner's badges through the OB 3.0 API: the earner signs in, reads the consent page,
allows it, and the wallet lists the badges; later the earner revokes it from the account page and the wallet's
token stops working. The wallet's side is played over HTTP by the test (its redirect URI answered in the
browser by a route)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from badges.host.oauth import CREDENTIAL_READ, PROFILE_READ
from tests.badges.issued import award, passed_submission
from tests.browser.conftest import check_page, login
from tests.browser.test_orgadmin import _submit
from tests.conftest import TEST_PASSWORD


class _Wallet(BaseHTTPRequestHandler):
    """The wallet's redirect URI on the loopback address (RFC 8252 § 7.3): notes where the browser arrived."""

    arrived: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).arrived.append(self.path)
        body = b"<!doctype html><title>Wallet</title><h1>Got it</h1>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def wallet_callback() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Wallet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/callback"
    server.shutdown()


@pytest.fixture(scope="module")
def earner(live_server: Any) -> dict[str, str]:
    with live_server.seed():
        submission = passed_submission()
        badge = award(submission)
        return {"email": submission.earner.email, "badge": badge.credential["id"]}


def _call(url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=data, headers=headers or {})  # noqa: S310 (the live test server)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_earner_allows_a_wallet_then_revokes_it(
    page: Any, live_server: Any, earner: dict[str, str], wallet_callback: str
) -> None:
    REDIRECT = wallet_callback
    api = live_server.url + "/ims/ob/v3p0"
    status, discovery = _call(api + "/discovery")
    flow = discovery["components"]["securitySchemes"]["OAuth2ACG"]["flows"]["authorizationCode"]
    metadata = {
        "client_name": "Test Wallet",
        "client_uri": "https://wallet.example.net/",
        "redirect_uris": [REDIRECT],
        "scope": f"{CREDENTIAL_READ} {PROFILE_READ}",
    }
    registration_url = discovery["components"]["securitySchemes"]["OAuth2ACG"]["x-imssf-registrationUrl"]
    status, wallet = _call(
        live_server.url + urlsplit(registration_url).path,
        data=json.dumps(metadata).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert status == 201, wallet

    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = urlencode(
        {
            "response_type": "code",
            "client_id": wallet["client_id"],
            "redirect_uri": REDIRECT,
            "scope": metadata["scope"],
            "state": "s-123",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    login(page, earner["email"], TEST_PASSWORD)
    page.goto(urlsplit(flow["authorizationUrl"]).path + "?" + query)
    assert "Allow Test Wallet" in page.get_by_role("heading", level=1).inner_text()
    assert "read OpenBadgeCredentials" in page.locator(".scopes").inner_text()
    check_page(page, "ob-api-consent")
    _submit(page.get_by_role("button", name="Allow"), page)

    assert page.url.startswith(REDIRECT)
    [arrival] = [path for path in _Wallet.arrived if path.startswith("/callback?")]
    params = {k: v[0] for k, v in parse_qs(urlsplit(arrival).query).items()}
    assert params["state"] == "s-123"
    secret = base64.b64encode(f"{wallet['client_id']}:{wallet['client_secret']}".encode()).decode()
    form = {"grant_type": "authorization_code", "code": params["code"], "redirect_uri": REDIRECT}
    status, token = _call(
        live_server.url + urlsplit(flow["tokenUrl"]).path,
        data=urlencode(form | {"code_verifier": verifier}).encode(),
        headers={"Authorization": f"Basic {secret}", "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 200, token
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    status, listed = _call(api + "/credentials", headers=bearer)
    assert status == 200 and [c["id"] for c in listed["credential"]] == [earner["badge"]]

    page.goto("/account")
    _submit(page.get_by_role("link", name="See and revoke the applications you allowed"), page)
    check_page(page, "ob-api-applications")
    _submit(page.get_by_role("button", name="Revoke Test Wallet"), page)
    assert "can no longer reach" in page.locator(".notice").first.inner_text()
    assert page.get_by_role("button", name="Revoke Test Wallet").count() == 0
    status, refused = _call(api + "/credentials", headers=bearer)
    assert status == 401 and refused["imsx_codeMajor"] == "failure"
