"""Issued badges, the issuer's signing keys and the revocation status lists."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import clock
from core.db import IdMixin, JSONType, TimestampMixin, db
from core.models import Organisation


class KeyAlgorithm(enum.StrEnum):
    ED25519 = "Ed25519"  # the eddsa-rdfc-2022 Data Integrity proof
    RS256 = "RS256"  # the VC-JWT (the 1EdTech validator accepts only RS256/ES256 there)


class KeyState(enum.StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"


class SigningKey(IdMixin, TimestampMixin, db.Model):
    """One key pair of an issuing organisation. The private half is encrypted with the configured
    key-encryption key; a retired key signs nothing new but stays published so old badges verify."""

    __tablename__ = "signing_keys"
    __table_args__ = (sa.Index("ix_signing_keys_org_alg_state", "organisation_id", "algorithm", "state"),)

    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"))
    algorithm: Mapped[str] = mapped_column(sa.String(16))
    state: Mapped[str] = mapped_column(sa.String(16), default=KeyState.ACTIVE.value)
    public_jwk: Mapped[dict[str, Any]]
    # AES-256-GCM: 12-byte nonce ‖ ciphertext of the PKCS#8 DER private key (the key id is the associated data).
    private_key_encrypted: Mapped[bytes] = mapped_column(sa.LargeBinary)
    retired_at: Mapped[datetime | None]

    organisation: Mapped[Organisation] = relationship()

    @property
    def kid(self) -> str:
        return str(self.id)


class StatusPurpose(enum.StrEnum):
    REVOCATION = "revocation"
    SUSPENSION = "suspension"


class StatusList(IdMixin, TimestampMixin, db.Model):
    """A W3C Bitstring Status List of one issuer. Badges take random free indexes in a *revocation* list; a
    *suspension* list is paired with one revocation list (``pairs_with_id``): same size, and a badge's bit in it
    is at the badge's revocation index (OB 3.0 allows one ``credentialStatus`` entry, see docs/issuing.md)."""

    __tablename__ = "status_lists"

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(sa.String(16), default="revocation")
    size: Mapped[int] = mapped_column(default=131072)
    allocated: Mapped[int] = mapped_column(default=0)
    # Bumped by every revocation; the served (signed) list is cached by it. Allocation takes a row lock.
    revision: Mapped[int] = mapped_column(default=1)
    # On a suspension list: the revocation list whose indexes it shares (one pair per revocation list).
    pairs_with_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("status_lists.id", ondelete="CASCADE"), unique=True
    )


class BadgeSource(enum.StrEnum):
    ASSESSMENT = "assessment"
    STACK = "stack"
    IMPORT = "import"
    RENEWAL = "renewal"


class Badge(IdMixin, TimestampMixin, db.Model):
    """One issued OpenBadgeCredential, stored signed exactly as it was issued (JSON with its Data
    Integrity proof, and the VC-JWT), so every download is byte-for-byte the credential we signed."""

    __tablename__ = "badges"
    __table_args__ = (
        sa.UniqueConstraint("status_list_id", "status_index"),
        sa.Index("ix_badges_earner", "earner_id", "issued_at"),
        sa.Index("ix_badges_org_time", "organisation_id", "issued_at"),
        sa.Index("ix_badges_valid_until", "valid_until"),  # the daily expiry-notice scan
        sa.Index(
            "ix_badges_pending",
            "organisation_id",
            sqlite_where=sa.text("acceptance = 'pending'"),
            postgresql_where=sa.text("acceptance = 'pending'"),
        ),
        # The impact reports (badges/impact.py) read only the index: an index-only scan on PostgreSQL.
        sa.Index(
            "ix_badges_impact",
            "organisation_id",
            "awarded_at",
            postgresql_include=["earner_id", "version_id"],
            sqlite_where=sa.text("revoked_at IS NULL AND source <> 'renewal'"),
            postgresql_where=sa.text("revoked_at IS NULL AND source <> 'renewal'"),
        ),
    )

    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id"))
    version_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("credential_versions.id"), index=True)
    stack_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("stacks.id"))
    earner_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    recipient_name: Mapped[str] = mapped_column(sa.String(200), default="")
    source: Mapped[str] = mapped_column(sa.String(16))
    # Exactly-once keys: one badge per passed submission, per imported row, per completed stack.
    submission_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("submissions.id"), unique=True)
    issue_key: Mapped[str] = mapped_column(sa.String(128), unique=True)
    # The badge this one renews; unique, so a badge is renewed at most once (by an admin or by evidence).
    renewed_from_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("badges.id"), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))

    status_list_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("status_lists.id"))
    status_index: Mapped[int]
    awarded_at: Mapped[datetime]
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime | None]
    issued_at: Mapped[datetime] = mapped_column(default=clock.now)

    credential: Mapped[dict[str, Any]]
    jwt: Mapped[str] = mapped_column(sa.Text)

    revoked_at: Mapped[datetime | None]
    revocation_reason: Mapped[str | None] = mapped_column(sa.String(500))
    revoked_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    # Suspended until lifted: the bit at ``status_index`` of the paired suspension list is on meanwhile.
    suspended_at: Mapped[datetime | None]
    suspension_reason: Mapped[str | None] = mapped_column(sa.String(500))
    suspended_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    # The earner's consent (``badges.consent``): a pending or declined badge is not public; a hidden one's page
    # says only whether it is valid. ``acceptance_at``: when it was last accepted or declined.
    acceptance: Mapped[str] = mapped_column(sa.String(16), default="accepted", server_default="accepted")
    acceptance_at: Mapped[datetime | None]
    hidden_at: Mapped[datetime | None]

    organisation: Mapped[Organisation] = relationship()
    status_list: Mapped[StatusList] = relationship()

    def status(self, now: datetime | None = None) -> str:
        """`revoked`, `suspended`, `expired`, `not_yet_valid` or `valid` at ``now``; revoked wins over suspended."""
        now = now or clock.now()
        if self.revoked_at is not None:
            return "revoked"
        if self.suspended_at is not None:
            return "suspended"
        if self.valid_until is not None and self.valid_until <= now:
            return "expired"
        if self.valid_from > now:
            return "not_yet_valid"
        return "valid"


class Acceptance(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class IssuingSettings(db.Model):
    """An organisation's issuing policy: with ``require_acceptance`` each new badge waits for its earner's
    acceptance before it is public (imports to people outside the organisation always do)."""

    __tablename__ = "issuing_settings"

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    require_acceptance: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)


class EarnerDid(db.Model):
    """A DID an earner gave us to be named by in their future badges (instead of a hashed email)."""

    __tablename__ = "earner_dids"

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    did: Mapped[str] = mapped_column(sa.String(500))
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)


class ExpiryNotice(db.Model):
    """One expiry notice mailed for a badge, ``days_before`` its ``valid_until`` (0: at expiry): the primary key
    is what makes each notice go out once, however often or concurrently ``flask badges expiry-notices`` runs."""

    __tablename__ = "badge_expiry_notices"

    badge_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("badges.id", ondelete="CASCADE"), primary_key=True)
    days_before: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    sent_at: Mapped[datetime] = mapped_column(default=clock.now)


class RenewalInvitation(db.Model):
    """The invitation to renew a badge, mailed once ``RENEWAL_INVITATION_DAYS`` before its ``valid_until``: the
    primary key makes it go out once however often or concurrently the sweep runs."""

    __tablename__ = "badge_renewal_invitations"

    badge_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("badges.id", ondelete="CASCADE"), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(default=clock.now)


class BakedImage(db.Model):
    """A badge's baked PNG or SVG, made once on first download and kept: a badge's VC-JWT never changes (its
    revocation is a status-list bit), so neither does the image baked with it. ``sha256`` is the strong ETag."""

    __tablename__ = "baked_images"

    badge_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("badges.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class IssuerImage(db.Model):
    """The issuer's logo (a PNG, or an SVG sanitised on upload): the ``image`` of its Profile, on its public page
    and in the badges it issues from then on. ``sha256`` is its ETag."""

    __tablename__ = "issuer_images"

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    media_type: Mapped[str] = mapped_column(sa.String(32))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)


class ImportState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class AwardImport(IdMixin, db.Model):
    """One uploaded file of past awards, issued by the ``badges.import_awards`` job in chunks.

    The file was checked whole before this row was made; ``processed`` counts rows handled so far (each chunk
    commits its badges and the counters together), ``results`` holds one ``{line, result, badge_id}`` per row.
    ``claimed_until`` is the lease of the job running it, so a second job waits and a dead one's is taken over.
    """

    __tablename__ = "award_imports"
    __table_args__ = (sa.Index("ix_award_imports_organisation", "organisation_id", "created_at"),)

    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id"))
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(sa.String(16), default=ImportState.QUEUED.value)
    total: Mapped[int] = mapped_column(default=0)
    processed: Mapped[int] = mapped_column(default=0)
    issued: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)
    # The micro-credential chosen on the import page, for rows that name no version_id (none: each row does).
    default_version_id: Mapped[uuid.UUID | None]
    results: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    error: Mapped[str | None] = mapped_column(sa.String(500))
    claimed_until: Mapped[datetime | None]


class MisconductState(enum.StrEnum):
    OPEN = "open"  # the decision is recorded and the badge suspended; the earner may appeal until ``appeal_by``
    APPEALED = "appealed"  # the earner appealed; another admin rules on it
    OVERTURNED = "overturned"  # the appeal was allowed: the badge is valid again
    REVOKED = "revoked"  # the appeal was dismissed, or the window closed without one: the badge is revoked


class MisconductCase(IdMixin, db.Model):
    """A recorded decision that a badge was earned by misconduct (work that is not the earner's, say), with the
    earner's appeal and its outcome. While the case is open or appealed the badge is suspended; revocation, which
    cannot be undone, comes only when the appeal is dismissed or its window closes (``badges.misconduct``).

    ``finding`` is private to the organisation's admins and the earner; the badge's public page gives only the
    fact of the decision."""

    __tablename__ = "misconduct_cases"
    __table_args__ = (
        sa.Index("ix_misconduct_cases_organisation", "organisation_id", "decided_at"),
        sa.Index("ix_misconduct_cases_due", "state", "appeal_by"),
        sa.Index("ix_misconduct_cases_badge", "badge_id"),
    )

    badge_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("badges.id", ondelete="CASCADE"))
    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id"))
    state: Mapped[str] = mapped_column(sa.String(16), default=MisconductState.OPEN.value)
    finding: Mapped[str] = mapped_column(sa.Text)
    policy: Mapped[str | None] = mapped_column(sa.String(200))
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime] = mapped_column(default=clock.now)
    appeal_by: Mapped[datetime]
    appeal_statement: Mapped[str | None] = mapped_column(sa.Text)
    appealed_at: Mapped[datetime | None]
    outcome_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    outcome_at: Mapped[datetime | None]
    outcome_reason: Mapped[str | None] = mapped_column(sa.Text)
