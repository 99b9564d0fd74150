"""Run the DCC's verifier-core (npm, pinned in tests/wallets/package-lock.json) on credentials, offline.

verifier-core is what the Learner Credential Wallet and VerifierPlus use to check a badge. ``verify.mjs``
replaces its network with the documents handed to it here: every URL of our app it may dereference (did:web
documents, status lists), fetched through the Flask test client with the Accept header the DCC's HTTP
client sends, plus our bundled JSON-LD contexts and OB 3.0 JSON Schemas under their canonical URLs.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient

from badges import jsonld
from badges.fetching import did_web_url

HERE = Path(__file__).resolve().parent
VERIFIER_CORE = HERE / "node_modules/@digitalcredentials/verifier-core/package.json"
ROOT = HERE.parents[1]
SCHEMAS = ROOT / "badges/schemas"
SCHEMA_BASE = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/"
# What @digitalcredentials/http-client asks for (its DEFAULT_HEADERS); verify.mjs reports what was sent.
WALLET_ACCEPT = "application/ld+json, application/json"


def node_or_skip() -> str:
    """The node binary; the test is skipped, saying why, only when node itself is missing."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is missing (apt-get install nodejs npm): verifier-core cannot run")
    if not VERIFIER_CORE.exists():
        pytest.fail(f"verifier-core is not installed: run scripts/wallet-deps.sh (npm ci in {HERE.relative_to(ROOT)})")
    return node


def _served(client: FlaskClient, url: str) -> dict[str, Any]:
    response = client.get(urlsplit(url).path, headers={"Accept": WALLET_ACCEPT})
    return {"status": response.status_code, "contentType": response.mimetype, "body": response.get_data(as_text=True)}


def documents_for(client: FlaskClient, credentials: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Everything verifier-core may fetch for ``credentials``, keyed by URL."""
    documents = {
        url: {"status": 200, "contentType": "application/ld+json", "body": json.dumps(jsonld._context_document(url))}
        for url in jsonld.CONTEXT_FILES
    }
    for path in SCHEMAS.glob("*.json"):
        documents[SCHEMA_BASE + path.name] = {
            "status": 200,
            "contentType": "application/schema+json",
            "body": path.read_text(encoding="utf-8"),
        }
    for credential in credentials:
        issuer = credential["issuer"]["id"] if isinstance(credential["issuer"], dict) else credential["issuer"]
        if issuer.startswith("did:web:"):
            documents[did_web_url(issuer)] = _served(client, did_web_url(issuer))
        status = credential.get("credentialStatus")
        if isinstance(status, dict) and status.get("statusListCredential"):
            documents[status["statusListCredential"]] = _served(client, status["statusListCredential"])
    return documents


def verify(client: FlaskClient, credentials: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """verifier-core's answer for each credential (its ``log`` of steps, or its fatal ``errors``)."""
    node = node_or_skip()
    given = {"credentials": credentials, "documents": documents_for(client, credentials)}
    done = subprocess.run(  # noqa: S603 (fixed script, our own input)
        [node, str(HERE / "verify.mjs")],
        input=json.dumps(given),
        capture_output=True,
        text=True,
        cwd=HERE,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    answer = json.loads(done.stdout)
    refused = [r["url"] for r in answer["requests"] if r["url"] not in given["documents"]]
    assert not refused, f"verifier-core asked for URLs we did not serve: {refused}"
    wrong_accept = [r for r in answer["requests"] if r["accept"] not in (None, WALLET_ACCEPT)]
    assert not wrong_accept, f"verifier-core asked with another Accept header than we served for: {wrong_accept}"
    return list(answer["results"])


def steps(result: dict[str, Any]) -> dict[str, Any]:
    """``{step id: True/False, or the error's name}`` from one verifier-core result."""
    if result.get("errors"):
        return {"fatal": [e.get("name") for e in result["errors"]]}
    return {
        entry["id"]: entry["valid"] if "valid" in entry else entry.get("error", {}).get("name")
        for entry in result["log"]
    }
