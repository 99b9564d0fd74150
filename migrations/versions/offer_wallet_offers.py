"""Wallet offers (OID4VCI pre-authorized codes, VC-API exchanges), their access tokens and nonces; credentials
from other issuers upserted into an earner's backpack through the OB 3.0 API

Revision ID: offer_wallet_offers
Revises: adopt_shared_definitions
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "offer_wallet_offers"
down_revision = "adopt_shared_definitions"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade():
    op.create_table(
        "wallet_offers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("badge_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("code_digest", sa.String(length=64), nullable=False),
        sa.Column("tx_code_digest", sa.String(length=64), nullable=True),
        sa.Column("pin_delivery", sa.String(length=8), nullable=True),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("exchange_digest", sa.String(length=64), nullable=False),
        sa.Column("challenge", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("code_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("exchange_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("holder_did", sa.String(length=2000), nullable=True),
        sa.ForeignKeyConstraint(
            ["badge_id"], ["badges.id"], name=op.f("fk_wallet_offers_badge_id_badges"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_wallet_offers_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_offers")),
        sa.UniqueConstraint("code_digest", name=op.f("uq_wallet_offers_code_digest")),
        sa.UniqueConstraint("exchange_digest", name=op.f("uq_wallet_offers_exchange_digest")),
    )
    op.create_index(op.f("ix_wallet_offers_badge_id"), "wallet_offers", ["badge_id"])
    op.create_index(op.f("ix_wallet_offers_user_id"), "wallet_offers", ["user_id"])
    op.create_table(
        "wallet_tokens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("offer_id", sa.Uuid(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["wallet_offers.id"], name=op.f("fk_wallet_tokens_offer_id_wallet_offers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_tokens")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_wallet_tokens_token_digest")),
    )
    op.create_index(op.f("ix_wallet_tokens_offer_id"), "wallet_tokens", ["offer_id"])
    op.create_table(
        "wallet_nonces",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("nonce_digest", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_nonces")),
        sa.UniqueConstraint("nonce_digest", name=op.f("uq_wallet_nonces_nonce_digest")),
    )
    op.create_index(op.f("ix_wallet_nonces_expires_at"), "wallet_nonces", ["expires_at"])
    op.create_table(
        "hosted_credentials",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("credential_key", sa.String(length=500), nullable=False),
        sa.Column("issuer_id", sa.String(length=500), nullable=False),
        sa.Column("credential", JSON, nullable=False),
        sa.Column("jwt", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_hosted_credentials_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hosted_credentials")),
        sa.UniqueConstraint("user_id", "credential_key", name=op.f("uq_hosted_credentials_user_id_credential_key")),
    )
    op.create_index(op.f("ix_hosted_credentials_user_id"), "hosted_credentials", ["user_id"])


def downgrade():
    op.drop_table("hosted_credentials")
    op.drop_table("wallet_nonces")
    op.drop_table("wallet_tokens")
    op.drop_table("wallet_offers")
