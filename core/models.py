"""Accounts, organisations (the tenants), memberships, tokens and the audit log."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import clock
from core.db import IdMixin, TimestampMixin, db


class Role(enum.StrEnum):
    """Roles a user holds within one organisation. Anyone signed in can be an earner."""

    ORG_ADMIN = "org_admin"
    AUTHOR = "author"
    ASSESSOR = "assessor"
    # Follows every design team's progress (the programme page) across the organisation and its units; reads
    # drafts, changes none.
    PROGRAMME_LEAD = "programme_lead"


class OrganisationKind(enum.StrEnum):
    DISTRICT = "district"
    UNIVERSITY = "university"
    STATE_AGENCY = "state_agency"
    NONPROFIT = "nonprofit"
    OTHER = "other"


class User(IdMixin, TimestampMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (sa.Index("uq_users_email_lower", sa.func.lower(sa.text("email")), unique=True),)

    email: Mapped[str] = mapped_column(sa.String(254))
    name: Mapped[str] = mapped_column(sa.String(200))
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    is_platform_admin: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True)
    # Bumped when the password changes or the user signs out everywhere: older access tokens and
    # sessions carry the old number and stop working.
    token_version: Mapped[int] = mapped_column(default=1)
    last_login_at: Mapped[datetime | None]
    # Free text from before units were records: read only where no membership names a unit (Membership.unit_id).
    unit: Mapped[str | None] = mapped_column(sa.String(100))
    # Set when the person's erasure request was carried out: name and email are placeholders from then on.
    erased_at: Mapped[datetime | None]
    # Language of their pages and mail ("es"); None: the browser's choice, else English (core.i18n).
    locale: Mapped[str | None] = mapped_column(sa.String(10))

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan", foreign_keys="Membership.user_id"
    )

    def roles_in(self, organisation_id: uuid.UUID) -> set[Role]:
        return {Role(m.role) for m in self.memberships if m.organisation_id == organisation_id}

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class Organisation(IdMixin, TimestampMixin, db.Model):
    __tablename__ = "organisations"

    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(32), default=OrganisationKind.OTHER.value)
    url: Mapped[str | None] = mapped_column(sa.String(2048))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    # The organisation this one is a unit of (a district of a state agency, a school of a district); None: a root.
    parent_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    # Days after a submission's decision its evidence files are kept; None: kept (credentials/portfolios/retention.py).
    evidence_retention_days: Mapped[int | None]
    # Optimistic concurrency: each update bumps it; clients send it back as If-Match.
    version: Mapped[int] = mapped_column(default=1)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", foreign_keys="Membership.organisation_id"
    )
    parent: Mapped[Organisation | None] = relationship(remote_side="Organisation.id", back_populates="children")
    children: Mapped[list[Organisation]] = relationship(back_populates="parent", order_by="Organisation.name")

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<Organisation {self.slug}>"


class Membership(IdMixin, db.Model):
    """One role of one user in one organisation."""

    __tablename__ = "memberships"
    __table_args__ = (sa.UniqueConstraint("organisation_id", "user_id", "role"),)

    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(sa.String(32))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    # Where the person works and as what (the same on each of their role rows here): the unit is this
    # organisation or one of its units (a school of the district); the job role is a word such as "teacher".
    unit_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("organisations.id", ondelete="SET NULL"))
    job_role: Mapped[str | None] = mapped_column(sa.String(40))

    organisation: Mapped[Organisation] = relationship(back_populates="memberships", foreign_keys=[organisation_id])
    unit: Mapped[Organisation | None] = relationship(foreign_keys=[unit_id])
    user: Mapped[User] = relationship(back_populates="memberships", foreign_keys=[user_id])


class Invitation(IdMixin, db.Model):
    """An invitation to join an organisation with some roles, accepted through a one-time token."""

    __tablename__ = "invitations"

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(sa.String(254))
    roles: Mapped[list[str]] = mapped_column(sa.JSON)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    invited_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    accepted_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None]
    # Given to the memberships when it is accepted (see Membership).
    unit_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("organisations.id", ondelete="SET NULL"))
    job_role: Mapped[str | None] = mapped_column(sa.String(40))

    organisation: Mapped[Organisation] = relationship(foreign_keys=[organisation_id])
    unit: Mapped[Organisation | None] = relationship(foreign_keys=[unit_id])

    @property
    def state(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= clock.now():
            return "expired"
        return "pending"


class PasswordResetToken(IdMixin, db.Model):
    __tablename__ = "password_reset_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class ApiToken(IdMixin, db.Model):
    """A personal API token for scripts: long-lived, revocable, stored only as a SHA-256 hash."""

    __tablename__ = "api_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    prefix: Mapped[str] = mapped_column(sa.String(16))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class AuditEvent(IdMixin, db.Model):
    """Who did what to which object, when, with the state before and after."""

    __tablename__ = "audit_events"
    __table_args__ = (
        sa.Index("ix_audit_events_org_time", "organisation_id", "occurred_at"),
        sa.Index("ix_audit_events_object", "object_type", "object_id"),
    )

    occurred_at: Mapped[datetime] = mapped_column(default=clock.now, index=True)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("organisations.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(sa.String(100))
    object_type: Mapped[str] = mapped_column(sa.String(64))
    object_id: Mapped[str] = mapped_column(sa.String(64))
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]

    actor: Mapped[User | None] = relationship()


class ErasureState(enum.StrEnum):
    PENDING = "pending"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


_PENDING_SQL = sa.text("state = 'pending'")


class ErasureRequest(IdMixin, db.Model):
    """A person's request that the service erase what it holds about them; an admin carries it out."""

    __tablename__ = "erasure_requests"
    __table_args__ = (
        sa.Index(
            "uq_erasure_requests_one_pending",
            "user_id",
            unique=True,
            sqlite_where=_PENDING_SQL,
            postgresql_where=_PENDING_SQL,
        ),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(sa.String(16), default=ErasureState.PENDING.value)
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    requested_at: Mapped[datetime] = mapped_column(default=clock.now)
    cancelled_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    completed_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    # What the person is called from then on (in audit rows, to admins); chosen when the erasure is carried out.
    pseudonym: Mapped[str | None] = mapped_column(sa.String(32))
    # What was removed, counted per kind (no names).
    summary: Mapped[dict[str, Any] | None]

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class OutboxMessage(IdMixin, db.Model):
    """A message to a person, written in the transaction that caused it and delivered after commit.

    ``status``: ``pending`` (waiting; ``next_attempt_at`` says from when after a failure), ``sending`` (one
    delivery attempt holds it until ``claimed_until``), ``sent`` or ``failed`` (gave up after the last attempt).
    """

    __tablename__ = "outbox"
    __table_args__ = (sa.Index("ix_outbox_status", "status", "created_at"),)

    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    to: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending", server_default="pending")
    sent_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    claimed_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
