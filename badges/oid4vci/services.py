"""Offering a badge to a wallet, and the wallet's side of it.

OpenID for Verifiable Credential Issuance 1.0 with the pre-authorized code grant: the earner makes an offer on
"My badges" (``create_offer``); the wallet reads it (``offer_object``), trades the code (and the PIN, when the
earner asked for one) for an access token (``redeem_code``), fetches a ``c_nonce`` (``new_nonce``) and asks for
the credential with a key proof (``issue_credential``). The Learner Credential Wallet's VC-API exchange is
``exchange_step``. Errors are ``WalletError`` with the spec's error code; the edge answers them as JSON.
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select

from badges.models import Acceptance, Badge
from badges.oid4vci import holder
from badges.oid4vci.models import WalletNonce, WalletOffer, WalletToken
from core import audit, clock, mail
from core.auth import token_digest
from core.db import db
from core.errors import Conflict, NotFound, ValidationFailed
from core.models import User
from core.privacy import Erasure, ExportPart

PRE_AUTHORIZED = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
LDP_VC = "OpenBadgeCredential_ldp_vc"
JWT_VC = "OpenBadgeCredential_jwt_vc_json"
CONFIGURATIONS = (LDP_VC, JWT_VC)
OFFER_TTL = timedelta(minutes=10)
TOKEN_TTL = timedelta(minutes=10)
NONCE_TTL = timedelta(minutes=5)
PIN_LENGTH = 6
MAX_PIN_ATTEMPTS = 5
PIN_HINTS = {
    "email": "The 6-digit PIN we sent to your e-mail address with this offer.",
    "screen": "The 6-digit PIN shown beside the QR code on the page where you made this offer.",
}
PIN_DELIVERIES = ("email", "screen")


class WalletError(Exception):
    """A refused wallet request: ``error`` is the OAuth / OID4VCI error code, ``status`` the HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400, *, keep: bool = False) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status
        # True when what the service changed before refusing must be committed (a wrong PIN is counted).
        self.keep = keep


@dataclass(frozen=True)
class NewOffer:
    """An offer as made: the secrets are shown to the earner once and kept only as digests."""

    offer: WalletOffer
    code: str
    pin: str | None
    exchange: str


def create_offer(*, actor: User, badge_id: uuid.UUID, pin: str | None) -> NewOffer:
    """Offer one of the actor's accepted badges to a wallet, for ``OFFER_TTL``; ``pin`` is how its PIN reaches
    the earner (``"email"``: mailed, ``"screen"``: shown once) or None for an offer without one."""
    if pin is not None and pin not in PIN_DELIVERIES:
        raise ValidationFailed.field("pin", "Choose how to get the PIN: by e-mail, on screen, or no PIN.")
    badge = db.session.get(Badge, badge_id)
    if badge is None or badge.earner_id != actor.id:
        raise NotFound("No such badge of yours.")
    if badge.acceptance != Acceptance.ACCEPTED.value:
        raise Conflict("Accept this badge first: a pending or declined badge cannot go to a wallet.")
    if badge.revoked_at is not None:
        raise Conflict("This badge was revoked; a wallet would only show it as revoked.")
    code, exchange = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    delivery, pin = pin, None
    if delivery is not None:
        pin = "".join(secrets.choice("0123456789") for _ in range(PIN_LENGTH))
    now = clock.now()
    offer = WalletOffer(
        badge_id=badge.id,
        user_id=actor.id,
        code_digest=token_digest(code),
        tx_code_digest=token_digest(pin) if pin else None,
        pin_delivery=delivery,
        failed_attempts=0,
        exchange_digest=token_digest(exchange),
        challenge=secrets.token_urlsafe(24),
        created_at=now,
        expires_at=now + OFFER_TTL,
    )
    db.session.add(offer)
    db.session.flush()
    audit.record(
        actor=actor,
        action="badge.wallet_offered",
        obj=badge,
        organisation_id=badge.organisation_id,
        after={"offer": str(offer.id), "pin": delivery, "expires_at": offer.expires_at.isoformat()},
    )
    if pin is not None and delivery == "email":
        mail.send(
            to=actor.email,
            subject=f"Your PIN for adding “{badge.title}” to a wallet",
            body=(
                f"You made an offer to add your badge “{badge.title}” to a wallet.\n\n"
                f"When the wallet asks for a PIN, enter: {pin}\n\n"
                f"The offer works once, until {offer.expires_at.strftime('%H:%M UTC')}. If you did not make it,"
                " ignore this message: without the QR code nobody can use the PIN."
            ),
        )
    return NewOffer(offer=offer, code=code, pin=pin if delivery == "screen" else None, exchange=exchange)


def _live_offer(code: Any) -> WalletOffer | None:
    if not isinstance(code, str) or not code or len(code) > 200:
        return None
    offer = db.session.scalar(select(WalletOffer).where(WalletOffer.code_digest == token_digest(code)))
    if offer is None or offer.code_used_at is not None or offer.expires_at <= clock.now():
        return None
    return offer


def offer_object(*, issuer: str, code: str, pin_delivery: str | None) -> dict[str, Any]:
    """The Credential Offer (OID4VCI § 4.1.1) for an offer's pre-authorized code."""
    grant: dict[str, Any] = {"pre-authorized_code": code}
    if pin_delivery is not None:
        grant["tx_code"] = {"input_mode": "numeric", "length": PIN_LENGTH, "description": PIN_HINTS[pin_delivery]}
    return {
        "credential_issuer": issuer,
        "credential_configuration_ids": list(CONFIGURATIONS),
        "grants": {PRE_AUTHORIZED: grant},
    }


def offer_by_reference(*, issuer: str, code: str) -> dict[str, Any]:
    """What ``credential_offer_uri`` serves: the offer while its code is unused and unexpired."""
    offer = _live_offer(code)
    if offer is None:
        raise NotFound("This offer has expired or was used; make a new one on My badges.")
    return offer_object(issuer=issuer, code=code, pin_delivery=offer.pin_delivery)


def redeem_code(*, grant_type: Any, code: Any, tx_code: Any) -> tuple[str, WalletOffer]:
    """The token request of the pre-authorized code flow (OID4VCI § 6.1): an access token, the code spent."""
    if grant_type != PRE_AUTHORIZED:
        raise WalletError("unsupported_grant_type", f"This token endpoint takes grant_type={PRE_AUTHORIZED}.")
    if not code:
        raise WalletError("invalid_request", "Send the offer's 'pre-authorized_code'.")
    offer = _live_offer(code)
    if offer is None:
        raise WalletError("invalid_grant", "The pre-authorized code is unknown, expired or already used.")
    if offer.tx_code_digest is None:
        if tx_code is not None:
            raise WalletError("invalid_request", "This offer has no PIN; send no 'tx_code'.")
    else:
        if not tx_code:
            raise WalletError("invalid_request", "This offer needs its PIN as 'tx_code'.")
        if not isinstance(tx_code, str) or not hmac.compare_digest(token_digest(tx_code), offer.tx_code_digest):
            offer.failed_attempts += 1
            if offer.failed_attempts >= MAX_PIN_ATTEMPTS:
                offer.code_used_at = clock.now()  # spent: the earner makes a new offer
            db.session.flush()
            raise WalletError("invalid_grant", "The PIN (tx_code) is wrong.", keep=True)
    offer.code_used_at = clock.now()
    access_token = secrets.token_urlsafe(32)
    db.session.add(
        WalletToken(token_digest=token_digest(access_token), offer_id=offer.id, expires_at=clock.now() + TOKEN_TTL)
    )
    db.session.flush()
    return access_token, offer


def new_nonce() -> str:
    """A fresh ``c_nonce`` (OID4VCI § 7), good once for ``NONCE_TTL``; expired ones are swept as we go."""
    now = clock.now()
    db.session.execute(WalletNonce.__table__.delete().where(WalletNonce.expires_at < now - NONCE_TTL))
    nonce = secrets.token_urlsafe(24)
    db.session.add(WalletNonce(nonce_digest=token_digest(nonce), expires_at=now + NONCE_TTL))
    db.session.flush()
    return nonce


def _spend_nonce(nonce: str | None) -> None:
    if nonce is None:
        raise WalletError("invalid_proof", "The key proof carries no 'nonce'; get a c_nonce from the nonce endpoint.")
    row = db.session.scalar(select(WalletNonce).where(WalletNonce.nonce_digest == token_digest(nonce)))
    if row is None or row.used_at is not None or row.expires_at <= clock.now():
        raise WalletError("invalid_nonce", "The key proof's nonce is unknown, expired or used; get a fresh c_nonce.")
    row.used_at = clock.now()


def _token(authorization: str | None) -> WalletToken:
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not value or len(value) > 200:
        raise WalletError("invalid_token", "Send the access token as 'Authorization: Bearer …'.", 401)
    token = db.session.scalar(select(WalletToken).where(WalletToken.token_digest == token_digest(value.strip())))
    if token is None or token.expires_at <= clock.now() or token.used_at is not None:
        raise WalletError("invalid_token", "The access token is unknown, expired or already used.", 401)
    return token


def issue_credential(*, authorization: str | None, body: Any, issuer: str) -> dict[str, Any]:
    """The credential request (OID4VCI § 8): check the key proof, answer ``{"credentials": [...]}``."""
    token = _token(authorization)
    if not isinstance(body, dict):
        raise WalletError("invalid_credential_request", "Send the credential request as a JSON object.")
    if "credential_identifier" in body:
        raise WalletError("unknown_credential_identifier", "This issuer names no credential identifiers.")
    configuration = body.get("credential_configuration_id")
    if configuration is None:
        raise WalletError("invalid_credential_request", "Name a 'credential_configuration_id' of the offer.")
    if configuration not in CONFIGURATIONS:
        raise WalletError("unknown_credential_configuration", f"Offered are {', '.join(CONFIGURATIONS)}.")
    if "proof" in body:
        raise WalletError("invalid_credential_request", "Send key proofs as 'proofs' (OID4VCI 1.0), not 'proof'.")
    proofs = body.get("proofs")
    if not isinstance(proofs, dict) or set(proofs) != {"jwt"}:
        raise WalletError("invalid_proof", "Send one key proof as 'proofs': {'jwt': ['<JWT>']}.")
    if not isinstance(proofs["jwt"], list) or len(proofs["jwt"]) != 1:
        raise WalletError("invalid_proof", "Send exactly one 'jwt' key proof (one credential per request).")
    try:
        holder_did, nonce = holder.check_key_proof(proofs["jwt"][0], audience=issuer, now=clock.now())
    except holder.ProofRejected as exc:
        raise WalletError(exc.error, exc.description) from None
    _spend_nonce(nonce)
    offer = token.offer
    token.used_at = clock.now()
    return {"credentials": [{"credential": _deliver(offer, holder_did, configuration)}]}


def _deliver(offer: WalletOffer, holder_did: str, configuration: str) -> Any:
    badge = offer.badge
    if badge.revoked_at is not None:
        raise WalletError("credential_request_denied", "The badge was revoked after it was offered.")
    credential, vc_jwt = holder.bound_copy(badge, holder_did)
    offer.holder_did = holder_did
    db.session.flush()
    audit.record_row(
        actor_id=offer.user_id,
        action="badge.sent_to_wallet",
        object_type="Badge",
        object_id=badge.id,
        organisation_id=badge.organisation_id,
        after={"holder": holder_did, "format": configuration},
    )
    return vc_jwt if configuration == JWT_VC else credential


def exchange_step(*, exchange: str, body: Any, issuer: str, url: str) -> dict[str, Any]:
    """One step of the VC-API exchange the Learner Credential Wallet runs: an empty body is answered with a
    DID Authentication request; a presentation answering it, with the badge bound to the presentation's DID."""
    offer = None
    if isinstance(exchange, str) and 0 < len(exchange) <= 200:
        offer = db.session.scalar(select(WalletOffer).where(WalletOffer.exchange_digest == token_digest(exchange)))
    if offer is None or offer.exchange_used_at is not None or offer.expires_at <= clock.now():
        raise WalletError("invalid_exchange", "This exchange is unknown, expired or finished.", 404)
    if not isinstance(body, dict):
        raise WalletError("invalid_request", "Send a JSON object.")
    presentation = body.get("verifiablePresentation")
    if presentation is None:
        return {
            "verifiablePresentationRequest": {
                "query": [{"type": "DIDAuthentication", "acceptedMethods": [{"method": "key"}]}],
                "challenge": offer.challenge,
                "domain": issuer,
                "interact": {"service": [{"type": "UnmediatedHttpPresentationService2021", "serviceEndpoint": url}]},
            }
        }
    try:
        holder_did = holder.check_did_auth(presentation, challenge=offer.challenge, domain=issuer)
    except holder.ProofRejected as exc:
        raise WalletError(exc.error, exc.description) from None
    offer.exchange_used_at = clock.now()
    credential = _deliver(offer, holder_did, LDP_VC)
    return {
        "verifiablePresentation": {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiablePresentation"],
            "verifiableCredential": [credential],
        }
    }


def export_personal_data(person: User) -> list[ExportPart]:
    """The wallet offers the person made: for which badge, when, and which wallet DID received it."""
    stmt = select(WalletOffer).where(WalletOffer.user_id == person.id).order_by(WalletOffer.created_at)
    return [
        ExportPart(
            name="wallet_offers",
            description="Offers of your badges to a wallet, and the wallet (its DID) that received each",
            records=[
                {
                    "badge": offer.badge.title,
                    "made_at": offer.created_at,
                    "pin": offer.pin_delivery,
                    "received_by": offer.holder_did,
                }
                for offer in db.session.scalars(stmt)
            ],
        )
    ]


def erase_personal_data(erasure: Erasure) -> None:
    """An erased person's wallet offers go, with the holder DIDs they name and their tokens."""
    mine = select(WalletOffer.id).where(WalletOffer.user_id == erasure.person.id)
    db.session.execute(delete(WalletToken).where(WalletToken.offer_id.in_(mine)))
    offers = db.session.execute(delete(WalletOffer).where(WalletOffer.user_id == erasure.person.id))
    erasure.counts["wallet_offers"] = offers.rowcount
