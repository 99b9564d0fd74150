"""Wallet offers: an earner offers a badge from "My badges" and a wallet receives it — OpenID4VCI 1.0 with a
pre-authorized code (driven here as a wallet would: offer → metadata → token → nonce → credential with a key
proof), and the Learner Credential Wallet's VC-API exchange; hostile wallets get the spec's error codes."""

from __future__ import annotations

import html
import json
import re
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from badges import proofs, verifier
from badges.keys import b64url
from badges.multikey import multikey
from badges.oid4vci import services
from badges.oid4vci.models import WalletOffer, WalletToken
from core import clock
from core.db import db
from core.models import OutboxMessage
from core.privacy import Erasure
from tests.badges.issued import award, passed_submission
from tests.conftest import csrf_token
from tests.core.test_web import BROWSER, sign_in
from tests.wallets.verifier_core import steps
from tests.wallets.verifier_core import verify as verifier_core

ISSUER = "http://localhost"
GOOD = {"valid_signature": True, "expiration": True, "revocation_status": True}


def _offer_page(client: Any, badge: Any, *, pin: bool = True) -> str:
    sign_in(client, badge_earner(badge).email)
    page = client.get(f"/my/badges/{badge.id}/wallet", headers=BROWSER)
    assert page.status_code == 200
    data = {"csrf_token": csrf_token(page.get_data(as_text=True)), "pin": "screen" if pin else "none"}
    answer = client.post(f"/my/badges/{badge.id}/wallet", data=data, headers=BROWSER)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.headers["Cache-Control"] == "no-store"
    return answer.get_data(as_text=True)


def badge_earner(badge: Any) -> Any:
    from core.models import User

    return db.session.get(User, badge.earner_id)


def _links(page: str) -> dict[str, str]:
    values = dict(re.findall(r'<input id="([a-z-]+)" type="text" readonly value="([^"]+)"', page))
    return {k: html.unescape(v) for k, v in values.items()}


def _pin(page: str) -> str | None:
    found = re.search(r'<strong class="wallet-pin">(\d+)</strong>', page)
    return found.group(1) if found else None


class Wallet:
    """A minimal OID4VCI wallet: a fresh holder key, and each step of the pre-authorized code flow."""

    def __init__(self, client: Any, kind: str = "ES256") -> None:
        self.client = client
        self.alg = kind
        if kind == "ES256":
            self.key: Any = ec.generate_private_key(ec.SECP256R1())
            numbers = self.key.public_key().public_numbers()
            self.jwk = {
                "kty": "EC",
                "crv": "P-256",
                "x": b64url(numbers.x.to_bytes(32, "big")),
                "y": b64url(numbers.y.to_bytes(32, "big")),
            }
            self.header: dict[str, Any] = {"jwk": self.jwk}
        else:
            self.key = Ed25519PrivateKey.generate()
            self.did = "did:key:" + multikey(self.key.public_key())
            self.header = {"kid": f"{self.did}#{self.did.removeprefix('did:key:')}"}

    def offer(self, link: str) -> dict[str, Any]:
        query = parse_qs(urlsplit(link).query)
        assert link.startswith("openid-credential-offer://?")
        reference = query["credential_offer_uri"][0]
        r = self.client.get(urlsplit(reference).path)
        assert r.status_code == 200 and r.mimetype == "application/json"
        return r.get_json()

    def token(self, code: str, pin: str | None) -> Any:
        form = {"grant_type": services.PRE_AUTHORIZED, "pre-authorized_code": code}
        if pin is not None:
            form["tx_code"] = pin
        return self.client.post("/oid4vci/token", data=form)

    def nonce(self) -> str:
        r = self.client.post("/oid4vci/nonce")
        assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
        return r.get_json()["c_nonce"]

    def proof(self, nonce: str | None, *, aud: str = ISSUER, typ: str = "openid4vci-proof+jwt", key: Any = None) -> str:
        claims: dict[str, Any] = {"aud": aud, "iat": int(clock.now().timestamp())}
        if nonce is not None:
            claims["nonce"] = nonce
        return jwt.encode(claims, key or self.key, algorithm=self.alg, headers={"typ": typ, **self.header})

    def credential(self, token: str, proof: str, configuration: str = services.LDP_VC) -> Any:
        body = {"credential_configuration_id": configuration, "proofs": {"jwt": [proof]}}
        return self.client.post("/oid4vci/credential", json=body, headers={"Authorization": f"Bearer {token}"})


def _error(response: Any, status: int, error: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.get_json()["error"] == error, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"


def test_a_wallet_receives_the_badge_bound_to_its_key(client: Any) -> None:
    badge = award(passed_submission())
    page = _offer_page(client, badge)
    links, pin = _links(page), _pin(page)
    assert pin and len(pin) == 6 and "<svg" in page and 'aria-label="QR code' in page
    wallet = Wallet(client)

    offer = wallet.offer(links["offer-link"])
    assert offer["credential_issuer"] == ISSUER
    grant = offer["grants"][services.PRE_AUTHORIZED]
    assert grant["tx_code"]["length"] == 6 and grant["tx_code"]["input_mode"] == "numeric"
    metadata = client.get("/.well-known/openid-credential-issuer").get_json()
    assert metadata["credential_issuer"] == offer["credential_issuer"]
    assert set(offer["credential_configuration_ids"]) <= set(metadata["credential_configurations_supported"])
    ldp = metadata["credential_configurations_supported"][services.LDP_VC]
    assert ldp["format"] == "ldp_vc" and "OpenBadgeCredential" in ldp["credential_definition"]["type"]
    assert metadata["credential_configurations_supported"][services.JWT_VC]["format"] == "jwt_vc_json"
    server = client.get("/.well-known/oauth-authorization-server").get_json()
    assert server["pre-authorized_grant_anonymous_access_supported"] is True
    assert urlsplit(server["token_endpoint"]).path == "/oid4vci/token"

    r = wallet.token(grant["pre-authorized_code"], pin)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store", r.get_data(as_text=True)
    token = r.get_json()
    assert token["token_type"] == "Bearer"
    r = wallet.credential(token["access_token"], wallet.proof(wallet.nonce()))
    assert r.status_code == 200, r.get_data(as_text=True)
    credential = r.get_json()["credentials"][0]["credential"]

    holder = credential["credentialSubject"]["id"]
    assert holder.startswith("did:jwk:")
    assert json.loads(proofs._unbase64url(holder.removeprefix("did:jwk:"))) == wallet.jwk
    assert credential["id"] == badge.credential["id"]
    assert credential["credentialStatus"] == badge.credential["credentialStatus"]
    assert credential["credentialSubject"]["identifier"] == badge.credential["credentialSubject"]["identifier"]
    report = verifier.verify(credential)
    assert report.verified and report.status == "valid", report.checks
    verdict = steps(verifier_core(client, [credential])[0])
    assert {k: verdict.get(k) for k in GOOD} == GOOD, verdict
    offer_row = db.session.scalar(db.select(WalletOffer).where(WalletOffer.badge_id == badge.id))
    assert offer_row.holder_did == holder and offer_row.code_used_at is not None


def test_the_pin_by_e_mail_is_not_on_the_page(client: Any) -> None:
    badge = award(passed_submission())
    earner = badge_earner(badge)
    sign_in(client, earner.email)
    page = client.get(f"/my/badges/{badge.id}/wallet", headers=BROWSER).get_data(as_text=True)
    data = {"csrf_token": csrf_token(page)}  # e-mail is the default
    answer = client.post(f"/my/badges/{badge.id}/wallet", data=data, headers=BROWSER).get_data(as_text=True)
    assert _pin(answer) is None and f"We sent the PIN to {earner.email}" in answer
    [message] = db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.to == earner.email))
    assert badge.title in message.subject
    pin = re.search(r"enter: (\d{6})", message.body).group(1)
    assert "works once" in message.body
    offer = Wallet(client).offer(_links(answer)["offer-link"])
    grant = offer["grants"][services.PRE_AUTHORIZED]
    assert "e-mail" in grant["tx_code"]["description"]
    assert Wallet(client).token(grant["pre-authorized_code"], pin).status_code == 200
    with pytest.raises(services.ValidationFailed):
        services.create_offer(actor=earner, badge_id=badge.id, pin="sms")


def test_a_did_key_wallet_gets_the_vc_jwt(client: Any) -> None:
    badge = award(passed_submission())
    new = services.create_offer(actor=badge_earner(badge), badge_id=badge.id, pin=None)
    wallet = Wallet(client, "EdDSA")
    r = wallet.token(new.code, None)
    assert r.status_code == 200, r.get_data(as_text=True)
    r = wallet.credential(r.get_json()["access_token"], wallet.proof(wallet.nonce()), services.JWT_VC)
    assert r.status_code == 200, r.get_data(as_text=True)
    token = r.get_json()["credentials"][0]["credential"]
    assert isinstance(token, str) and token.count(".") == 2
    report = verifier.verify(token)
    assert report.verified and report.status == "valid", report.checks
    assert report.credential["credentialSubject"]["id"] == wallet.did


def test_hostile_token_requests_get_the_spec_errors(client: Any) -> None:
    badge = award(passed_submission())
    earner = badge_earner(badge)
    wallet = Wallet(client)
    with_pin = services.create_offer(actor=earner, badge_id=badge.id, pin="screen")
    _error(wallet.token(with_pin.code, None), 400, "invalid_request")  # the PIN is missing
    _error(wallet.token(with_pin.code, "000000" if with_pin.pin != "000000" else "111111"), 400, "invalid_grant")
    _error(wallet.token("no-such-code", None), 400, "invalid_grant")
    _error(
        client.post("/oid4vci/token", data={"grant_type": "authorization_code", "code": "x"}),
        400,
        "unsupported_grant_type",
    )
    _error(client.post("/oid4vci/token", data={"grant_type": services.PRE_AUTHORIZED}), 400, "invalid_request")
    assert wallet.token(with_pin.code, with_pin.pin).status_code == 200
    _error(wallet.token(with_pin.code, with_pin.pin), 400, "invalid_grant")  # a code works once
    assert client.get(f"/oid4vci/offers/{with_pin.code}").status_code == 404  # nor is it offered again

    no_pin = services.create_offer(actor=earner, badge_id=badge.id, pin=None)
    _error(wallet.token(no_pin.code, "123456"), 400, "invalid_request")  # a PIN it never had
    late = services.create_offer(actor=earner, badge_id=badge.id, pin=None)
    with clock.shifted(services.OFFER_TTL + timedelta(seconds=1)):
        _error(wallet.token(late.code, None), 400, "invalid_grant")  # expired


def test_wrong_pins_spend_the_code(client: Any) -> None:
    badge = award(passed_submission())
    new = services.create_offer(actor=badge_earner(badge), badge_id=badge.id, pin="screen")
    wrong = "000000" if new.pin != "000000" else "111111"
    for _ in range(services.MAX_PIN_ATTEMPTS):
        _error(Wallet(client).token(new.code, wrong), 400, "invalid_grant")
    _error(Wallet(client).token(new.code, new.pin), 400, "invalid_grant")  # even the right PIN is too late now


@pytest.mark.parametrize(
    "spoil, error",
    [
        ("bad_signature", "invalid_proof"),
        ("wrong_audience", "invalid_proof"),
        ("no_nonce", "invalid_proof"),
        ("wrong_nonce", "invalid_nonce"),
        ("wrong_typ", "invalid_proof"),
        ("stale", "invalid_proof"),
    ],
)
def test_hostile_key_proofs_get_the_spec_errors(client: Any, spoil: str, error: str) -> None:
    badge = award(passed_submission())
    new = services.create_offer(actor=badge_earner(badge), badge_id=badge.id, pin=None)
    wallet = Wallet(client)
    access = wallet.token(new.code, None).get_json()["access_token"]
    nonce = wallet.nonce()
    proof = {
        "bad_signature": lambda: wallet.proof(nonce, key=ec.generate_private_key(ec.SECP256R1())),
        "wrong_audience": lambda: wallet.proof(nonce, aud="https://other-issuer.example"),
        "no_nonce": lambda: wallet.proof(None),
        "wrong_nonce": lambda: wallet.proof("not-a-nonce-we-gave"),
        "wrong_typ": lambda: wallet.proof(nonce, typ="JWT"),
        "stale": lambda: _stale(wallet, nonce),
    }[spoil]()
    _error(wallet.credential(access, proof), 400, error)
    # The refusal spent nothing: the same token with a good proof still gets the badge.
    assert wallet.credential(access, wallet.proof(wallet.nonce())).status_code == 200


def test_a_key_proof_whose_alg_does_not_fit_its_jwk(client: Any) -> None:
    badge = award(passed_submission())
    new = services.create_offer(actor=badge_earner(badge), badge_id=badge.id, pin=None)
    wallet = Wallet(client)
    access = wallet.token(new.code, None).get_json()["access_token"]
    ed = Wallet(client, "EdDSA")
    claims = {"aud": ISSUER, "iat": int(clock.now().timestamp()), "nonce": wallet.nonce()}
    header = {"typ": "openid4vci-proof+jwt", "jwk": wallet.jwk}
    mismatched = jwt.encode(claims, ed.key, algorithm="EdDSA", headers=header)
    _error(wallet.credential(access, mismatched), 400, "invalid_proof")
    private = wallet.jwk | {"d": "AAAA"}
    leaked = jwt.encode(claims, wallet.key, algorithm="ES256", headers={"typ": header["typ"], "jwk": private})
    _error(wallet.credential(access, leaked), 400, "invalid_proof")
    both = jwt.encode(claims, wallet.key, algorithm="ES256", headers=header | {"kid": "did:key:z6Mk#z6Mk"})
    _error(wallet.credential(access, both), 400, "invalid_proof")


def _stale(wallet: Wallet, nonce: str) -> str:
    with clock.shifted(-timedelta(minutes=10)):
        return wallet.proof(nonce)


def test_hostile_credential_requests(client: Any) -> None:
    badge = award(passed_submission())
    new = services.create_offer(actor=badge_earner(badge), badge_id=badge.id, pin=None)
    wallet = Wallet(client)
    access = wallet.token(new.code, None).get_json()["access_token"]
    auth = {"Authorization": f"Bearer {access}"}
    nonce = wallet.nonce()
    _error(wallet.credential("not-a-token", wallet.proof(nonce)), 401, "invalid_token")
    _error(
        client.post("/oid4vci/credential", json={"proofs": {"jwt": []}}, headers=auth),
        400,
        "invalid_credential_request",
    )
    _error(wallet.credential(access, wallet.proof(nonce), "UniversityDegree"), 400, "unknown_credential_configuration")
    _error(
        client.post("/oid4vci/credential", json={"credential_configuration_id": services.LDP_VC}, headers=auth),
        400,
        "invalid_proof",
    )
    _error(
        client.post("/oid4vci/credential", data="[]", headers=auth | {"Content-Type": "text/plain"}),
        400,
        "invalid_credential_request",
    )
    assert wallet.credential(access, wallet.proof(nonce)).status_code == 200
    _error(wallet.credential(access, wallet.proof(wallet.nonce())), 401, "invalid_token")  # one credential a token
    second = services.create_offer(actor=badge_earner(badge), badge_id=badge.id, pin=None)
    other = wallet.token(second.code, None).get_json()["access_token"]
    _error(wallet.credential(other, wallet.proof(nonce)), 400, "invalid_nonce")  # a nonce works once


def test_only_the_earner_offers_only_an_accepted_live_badge(client: Any) -> None:
    badge = award(passed_submission())
    stranger = award(passed_submission())
    sign_in(client, badge_earner(badge).email)
    assert client.get(f"/my/badges/{stranger.id}/wallet", headers=BROWSER).status_code == 404
    assert client.get(f"/my/badges/{uuid.uuid4()}/wallet", headers=BROWSER).status_code == 404
    badge.acceptance = "pending"
    db.session.flush()
    with pytest.raises(services.Conflict):
        services.create_offer(actor=badge_earner(badge), badge_id=badge.id, pin=None)
    assert client.get(f"/my/badges/{badge.id}/wallet").status_code in (200, 302)
    anonymous = client.application.test_client()
    assert anonymous.get(f"/my/badges/{badge.id}/wallet", headers=BROWSER).status_code == 302


def _did_auth(request: dict[str, Any], key: Ed25519PrivateKey, did: str, **spoil: Any) -> dict[str, Any]:
    """What the Learner Credential Wallet signs: a presentation with an Ed25519Signature2020 DID Auth proof."""
    presentation = {
        "@context": ["https://www.w3.org/2018/credentials/v1", "https://w3id.org/security/suites/ed25519-2020/v1"],
        "type": ["VerifiablePresentation"],
        "holder": did,
    }
    options = {
        "type": "Ed25519Signature2020",
        "created": "2026-01-01T00:00:00Z",
        "verificationMethod": f"{did}#{did.removeprefix('did:key:')}",
        "proofPurpose": "authentication",
        "challenge": request["challenge"],
        "domain": request["domain"],
    } | spoil
    return proofs._sign(presentation, key, options)


def test_the_learner_credential_wallet_exchange(client: Any) -> None:
    badge = award(passed_submission())
    page = _offer_page(client, badge, pin=False)
    link = _links(page)["lcw-link"]
    assert link.startswith("https://lcw.app/request.html?request=")
    assert "dccrequest://request?request=" in html.unescape(page)
    request = json.loads(parse_qs(urlsplit(link).query)["request"][0])
    assert request["credentialRequestOrigin"] == ISSUER
    exchange = urlsplit(request["protocols"]["vcapi"]).path

    vpr = client.post(exchange, json={}).get_json()["verifiablePresentationRequest"]
    assert vpr["query"][0]["type"] == "DIDAuthentication" and vpr["domain"] == ISSUER
    assert urlsplit(vpr["interact"]["service"][0]["serviceEndpoint"]).path == exchange
    key = Ed25519PrivateKey.generate()
    did = "did:key:" + multikey(key.public_key())
    other = Ed25519PrivateKey.generate()
    for spoiled, error in (
        (_did_auth(vpr, key, did, challenge="another"), "invalid_nonce"),
        (_did_auth(vpr, key, did, domain="https://elsewhere.example"), "invalid_proof"),
        (_did_auth(vpr, other, did), "invalid_proof"),
        (_did_auth(vpr, key, did, proofPurpose="assertionMethod"), "invalid_proof"),
        ({"type": ["VerifiableCredential"]}, "invalid_proof"),
        (_did_auth(vpr, key, did) | {"@context": ["https://evil.example/context"]}, "invalid_proof"),
        (_did_auth(vpr, key, did) | {"holder": "did:key:z6MkSomeoneElse"}, "invalid_proof"),
    ):
        _error(client.post(exchange, json={"verifiablePresentation": spoiled}), 400, error)
    r = client.post(exchange, json={"verifiablePresentation": _did_auth(vpr, key, did)})
    assert r.status_code == 200, r.get_data(as_text=True)
    credential = r.get_json()["verifiablePresentation"]["verifiableCredential"][0]
    assert credential["credentialSubject"]["id"] == did
    assert verifier.verify(credential).verified
    verdict = steps(verifier_core(client, [credential])[0])
    assert {k: verdict.get(k) for k in GOOD} == GOOD, verdict
    _error(client.post(exchange, json={}), 404, "invalid_exchange")  # finished


def test_the_persons_archive_lists_offers_and_erasure_removes_them(client: Any) -> None:
    badge = award(passed_submission())
    earner = badge_earner(badge)
    new = services.create_offer(actor=earner, badge_id=badge.id, pin=None)
    wallet = Wallet(client, "EdDSA")
    access = wallet.token(new.code, None).get_json()["access_token"]
    assert wallet.credential(access, wallet.proof(wallet.nonce())).status_code == 200
    [part] = services.export_personal_data(earner)
    assert part.records == [
        {"badge": badge.title, "made_at": new.offer.created_at, "pin": None, "received_by": wallet.did}
    ]
    erasure = Erasure(person=earner, pseudonym="Erased person 1")
    services.erase_personal_data(erasure)
    db.session.flush()
    assert erasure.counts["wallet_offers"] == 1
    assert db.session.query(WalletOffer).count() == 0 and db.session.query(WalletToken).count() == 0
