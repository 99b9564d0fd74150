"""Shared definitions: a parent organisation's micro-credential shared with its units, and a unit's adoption of it.

Kept apart from ``models`` (which they extend) so the sharing feature reads as one piece; the rules are in
``adoption``.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import clock
from core.db import IdMixin, TimestampMixin, db
from core.models import Organisation
from credentials.authoring.models import CredentialVersion, MicroCredential


class ShareMode(enum.StrEnum):
    # Units adopt it and issue it under their own issuer profile and keys, reviewing in their own queue.
    ADOPT = "adopt"
    # The owner issues it for every unit: earners anywhere below submit to the owner, whose queue reviews it.
    CENTRAL = "central"


class ShareScope(enum.StrEnum):
    ALL = "all"  # every organisation below the owner, at any depth
    CHOSEN = "chosen"  # only the organisations named in ``CredentialShareTarget``


class AdoptionState(enum.StrEnum):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


class CredentialShare(IdMixin, TimestampMixin, db.Model):
    """A micro-credential its owner offers to the organisations below it (one row per micro-credential)."""

    __tablename__ = "credential_shares"

    micro_credential_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("micro_credentials.id", ondelete="CASCADE"), unique=True
    )
    # The owner, copied from the micro-credential so listings need no join.
    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    mode: Mapped[str] = mapped_column(sa.String(16), default=ShareMode.ADOPT.value)
    scope: Mapped[str] = mapped_column(sa.String(16), default=ShareScope.ALL.value)
    shared_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    # Set when the owner stops sharing: no new adoptions or upgrades; existing adoptions keep their pinned version.
    stopped_at: Mapped[datetime | None]

    micro_credential: Mapped[MicroCredential] = relationship()
    organisation: Mapped[Organisation] = relationship()
    targets: Mapped[list[CredentialShareTarget]] = relationship(cascade="all, delete-orphan")

    @property
    def is_active(self) -> bool:
        return self.stopped_at is None


class CredentialShareTarget(db.Model):
    """One organisation a share with scope ``chosen`` is offered to."""

    __tablename__ = "credential_share_targets"

    share_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("credential_shares.id", ondelete="CASCADE"), primary_key=True
    )
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True, index=True
    )

    organisation: Mapped[Organisation] = relationship()


_ACTIVE_SQL = sa.text("state = 'active'")


class CredentialAdoption(IdMixin, TimestampMixin, db.Model):
    """A unit offering its parent's micro-credential under its own issuer, pinned to one published version.

    The definition, requirements and rubric stay the owner's (the pinned version, immutable); submissions made
    through the adoption belong to the adopter (``Submission.organisation_id``), so they are reviewed in its queue
    and their badges are signed with its keys.
    """

    __tablename__ = "credential_adoptions"
    __table_args__ = (
        sa.Index(
            "uq_credential_adoptions_one_active",
            "organisation_id",
            "micro_credential_id",
            unique=True,
            sqlite_where=_ACTIVE_SQL,
            postgresql_where=_ACTIVE_SQL,
        ),
        sa.Index("ix_credential_adoptions_micro_credential", "micro_credential_id", "state"),
    )

    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id"))
    micro_credential_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("micro_credentials.id"))
    version_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("credential_versions.id"), index=True)
    state: Mapped[str] = mapped_column(sa.String(16), default=AdoptionState.ACTIVE.value)
    adopted_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    adopted_at: Mapped[datetime] = mapped_column(default=clock.now)
    upgraded_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]
    lock_version: Mapped[int] = mapped_column(default=1)

    organisation: Mapped[Organisation] = relationship()
    micro_credential: Mapped[MicroCredential] = relationship()
    version: Mapped[CredentialVersion] = relationship()

    __mapper_args__ = {"version_id_col": lock_version}

    @property
    def is_active(self) -> bool:
        return self.state == AdoptionState.ACTIVE.value
