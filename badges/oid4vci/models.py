"""Wallet offers: one row per "Add to wallet" an earner asks for, with the secrets a wallet redeems.

Every secret (the pre-authorized code, the transaction code, the VC-API exchange id, access tokens, nonces) is
kept as its SHA-256 digest only; codes are short-lived and work once (``used_at``)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from badges.models import Badge
from core import clock
from core.db import IdMixin, db


class WalletOffer(IdMixin, db.Model):
    """An offer of one badge to the earner's wallet: an OID4VCI pre-authorized code (with an optional PIN, the
    ``tx_code``) and a VC-API exchange for the Learner Credential Wallet, both valid until ``expires_at``."""

    __tablename__ = "wallet_offers"

    badge_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("badges.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    tx_code_digest: Mapped[str | None] = mapped_column(sa.String(64))
    # How the earner gets the PIN: "email" (a separate channel, as OID4VCI recommends) or "screen".
    pin_delivery: Mapped[str | None] = mapped_column(sa.String(8))
    # Wrong PINs so far: after MAX_PIN_ATTEMPTS the code is spent (a 6-digit PIN must not be guessable).
    failed_attempts: Mapped[int] = mapped_column(default=0)
    exchange_digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # The VC-API exchange's DID Authentication challenge (sent to the wallet in clear, so not a secret).
    challenge: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    expires_at: Mapped[datetime]
    code_used_at: Mapped[datetime | None]
    exchange_used_at: Mapped[datetime | None]
    # The DID the wallet proved it holds, once a credential was delivered.
    holder_did: Mapped[str | None] = mapped_column(sa.String(2000))

    badge: Mapped[Badge] = relationship()


class WalletToken(IdMixin, db.Model):
    """An access token of the credential endpoint, good for the one badge of its offer."""

    __tablename__ = "wallet_tokens"

    token_digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    offer_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("wallet_offers.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    offer: Mapped[WalletOffer] = relationship()


class WalletNonce(IdMixin, db.Model):
    """A ``c_nonce`` from the nonce endpoint: a key proof must carry one, once, before it expires."""

    __tablename__ = "wallet_nonces"

    nonce_digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]
