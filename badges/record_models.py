"""Signed documents about badges and issuers beside the badges themselves: CLR 2.0 transcripts and endorsements.

Both take an index in their issuer's revocation status list, like a badge (``badges.status`` counts them when it
draws a free index and when it sets the bits), so a superseded transcript or a withdrawn endorsement reads as
revoked to any verifier holding a copy.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core import clock
from core.db import IdMixin, db


class ClrRecord(IdMixin, db.Model):
    """One earner's transcript from one organisation — all their badges from it, or those of one stack. Its id
    is the stable URL (``/clrs/<id>``); what that URL serves is the current signed version."""

    __tablename__ = "clr_records"

    # ``<organisation>:<earner>:<stack or ->``: one record per scope (NULL stack ids would not be unique).
    scope_key: Mapped[str] = mapped_column(sa.String(120), unique=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    earner_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    stack_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("stacks.id"))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class ClrVersion(IdMixin, db.Model):
    """One signed ClrCredential of a record, made when the set of badges in it changed. The version before it
    is then *superseded*: its status bit is set, so an old copy reads as revoked."""

    __tablename__ = "clr_versions"
    __table_args__ = (
        sa.UniqueConstraint("status_list_id", "status_index"),
        sa.UniqueConstraint("record_id", "members_digest"),
    )

    record_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("clr_records.id", ondelete="CASCADE"), index=True)
    # SHA-256 of the member badge ids in order: the same set is never signed twice.
    members_digest: Mapped[str] = mapped_column(sa.String(64))
    member_count: Mapped[int]
    status_list_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("status_lists.id"))
    status_index: Mapped[int]
    credential: Mapped[dict[str, Any]]
    jwt: Mapped[str] = mapped_column(sa.Text)
    issued_at: Mapped[datetime] = mapped_column(default=clock.now)
    superseded_at: Mapped[datetime | None]


class EndorsementTarget(enum.StrEnum):
    ACHIEVEMENT = "achievement"  # a published micro-credential version
    ISSUER = "issuer"  # an organisation's issuer Profile


class Endorsement(IdMixin, db.Model):
    """An EndorsementCredential one organisation signed about another's micro-credential or issuer profile."""

    __tablename__ = "endorsements"
    __table_args__ = (
        sa.UniqueConstraint("status_list_id", "status_index"),
        sa.Index("ix_endorsements_target", "target_id", "revoked_at"),
        # One standing endorsement per endorser and target: endorsing again needs the first withdrawn.
        sa.Index(
            "uq_endorsements_standing",
            "endorser_id",
            "target_id",
            unique=True,
            sqlite_where=sa.text("revoked_at IS NULL"),
            postgresql_where=sa.text("revoked_at IS NULL"),
        ),
    )

    endorser_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    target_kind: Mapped[str] = mapped_column(sa.String(16))
    # The version id (achievement) or the organisation id (issuer); ``target_organisation_id`` owns it.
    target_id: Mapped[uuid.UUID]
    target_organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id"))
    comment: Mapped[str] = mapped_column(sa.Text)
    status_list_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("status_lists.id"))
    status_index: Mapped[int]
    credential: Mapped[dict[str, Any]]
    jwt: Mapped[str] = mapped_column(sa.Text)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    revoked_at: Mapped[datetime | None]
    revocation_reason: Mapped[str | None] = mapped_column(sa.String(500))
    revoked_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
