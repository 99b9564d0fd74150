"""The OB 3.0 API, Host role: discovery, client registration, authorization code with PKCE and consent,
tokens, credentials with paging headers, profile, and the spec's error documents."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from badges.host.oauth import SCOPES

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
