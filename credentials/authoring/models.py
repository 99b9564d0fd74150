"""Micro-credentials and their immutable published versions: requirements, rubric, alignments, draft comments,
badge images, stacks.
"""

from __future__ import annotations

import enum
import re
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import clock
from core.db import IdMixin, TimestampMixin, db
from core.models import Organisation, User
from credentials.authoring.team_models import DesignTeam


class VersionState(enum.StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    PUBLISHED = "published"
    RETIRED = "retired"


class Purpose(enum.StrEnum):
    """What a requirement or rubric criterion is for: earning the credential, or renewing a badge of it."""

    AWARD = "award"
    RENEWAL = "renewal"


class EvidenceKind(enum.StrEnum):
    TEXT = "text"
    FILE = "file"
    LINK = "link"


# File types a requirement may allow, by short name, with the media types content sniffing yields.
FILE_TYPES: dict[str, tuple[str, ...]] = {
    "pdf": ("application/pdf",),
    "png": ("image/png",),
    "jpeg": ("image/jpeg",),
    "gif": ("image/gif",),
    "webp": ("image/webp",),
    "mp4": ("video/mp4",),
    "mov": ("video/quicktime",),
    "mp3": ("audio/mpeg",),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation",),
    "txt": ("text/plain",),
    "csv": ("text/csv",),
}


# Open Badges 3.0 achievementType values (ob_v3p0 AchievementType); `ext:` names are allowed too.
ACHIEVEMENT_TYPES = (
    "Achievement", "ApprenticeshipCertificate", "Assessment", "Assignment", "AssociateDegree", "Award", "Badge",
    "BachelorDegree", "Certificate", "CertificateOfCompletion", "Certification", "CommunityService", "Competency",
    "Course", "CoCurricular", "Degree", "Diploma", "DoctoralDegree", "Fieldwork", "GeneralEducationDevelopment",
    "JourneymanCertificate", "LearningProgram", "License", "Membership", "ProfessionalDoctorate",
    "QualityAssuranceCredential", "MasterCertificate", "MasterDegree", "MicroCredential", "ResearchDoctorate",
    "SecondarySchoolDiploma",
)  # fmt: skip
# Each type in people's words (translated); the stored value stays the spec's term.
_ACHIEVEMENT_TYPE_WORDS = {
    "Achievement": _l("achievement"),
    "ApprenticeshipCertificate": _l("apprenticeship certificate"),
    "Assessment": _l("assessment"),
    "Assignment": _l("assignment"),
    "AssociateDegree": _l("associate degree"),
    "Award": _l("award"),
    "Badge": _l("badge"),
    "BachelorDegree": _l("bachelor degree"),
    "Certificate": _l("certificate"),
    "CertificateOfCompletion": _l("certificate of completion"),
    "Certification": _l("certification"),
    "CommunityService": _l("community service"),
    "Competency": _l("competency"),
    "Course": _l("course"),
    "CoCurricular": _l("co-curricular activity"),
    "Degree": _l("degree"),
    "Diploma": _l("diploma"),
    "DoctoralDegree": _l("doctoral degree"),
    "Fieldwork": _l("fieldwork"),
    "GeneralEducationDevelopment": _l("general education development (GED)"),
    "JourneymanCertificate": _l("journeyman certificate"),
    "LearningProgram": _l("learning program"),
    "License": _l("license"),
    "Membership": _l("membership"),
    "ProfessionalDoctorate": _l("professional doctorate"),
    "QualityAssuranceCredential": _l("quality assurance credential"),
    "MasterCertificate": _l("master certificate"),
    "MasterDegree": _l("master degree"),
    "MicroCredential": _l("micro-credential"),
    "ResearchDoctorate": _l("research doctorate"),
    "SecondarySchoolDiploma": _l("secondary school diploma"),
}


def achievement_type_label(value: str | None) -> str:
    """An Open Badges ``achievementType`` in people's words ("ApprenticeshipCertificate" → "apprenticeship
    certificate", "ext:Workshop" → "workshop"); the stored value stays the spec's term."""
    if not value:
        return str(_l("micro-credential"))
    if value in _ACHIEVEMENT_TYPE_WORDS:
        return str(_ACHIEVEMENT_TYPE_WORDS[value])
    name = value.removeprefix("ext:").replace("_", " ").replace("-", " ")
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).lower()


class MicroCredential(IdMixin, TimestampMixin, db.Model):
    """The lasting identity of a micro-credential; its content lives in numbered versions."""

    __tablename__ = "micro_credentials"

    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    # The design team that owns and drafts it; None: the organisation's authors as a whole (credentials made
    # before teams existed keep that until an admin gives them a team).
    team_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("design_teams.id", ondelete="SET NULL"), index=True)

    organisation: Mapped[Organisation] = relationship()
    team: Mapped[DesignTeam | None] = relationship()
    versions: Mapped[list[CredentialVersion]] = relationship(
        back_populates="micro_credential", order_by="CredentialVersion.number"
    )


class CredentialVersion(IdMixin, TimestampMixin, db.Model):
    """One version of a micro-credential: editable while a draft, immutable once published."""

    __tablename__ = "credential_versions"
    __table_args__ = (
        sa.UniqueConstraint("micro_credential_id", "number"),
        sa.Index("ix_credential_versions_state_org", "state", "organisation_id"),
    )

    micro_credential_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("micro_credentials.id"))
    # Copied from the micro-credential so catalogue and permission queries need no join.
    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id"))
    number: Mapped[int]
    state: Mapped[str] = mapped_column(sa.String(16), default=VersionState.DRAFT.value)

    title: Mapped[str] = mapped_column(sa.String(200))
    short_description: Mapped[str] = mapped_column(sa.String(500), default="")
    competency_statement: Mapped[str] = mapped_column(sa.Text, default="")
    key_method: Mapped[str] = mapped_column(sa.Text, default="")
    method_components: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    supporting_research: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    resources: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    tags: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    achievement_type: Mapped[str] = mapped_column(sa.String(64), default="MicroCredential")
    estimated_hours: Mapped[float | None] = mapped_column(sa.Float)
    credits: Mapped[float | None] = mapped_column(sa.Float)
    validity_days: Mapped[int | None]
    max_attempts: Mapped[int] = mapped_column(default=3)
    # Passing rule: every criterion at or above the level named here, and/or at least this many points.
    passing_level: Mapped[str | None] = mapped_column(sa.String(100))
    passing_points: Mapped[int | None]
    image_id: Mapped[str | None] = mapped_column(sa.ForeignKey("credential_images.id"))
    # Renewal: a badge of this version is valid for ``renewal_months`` and is renewed by evidence against the
    # lighter ``renewal_requirements`` and ``renewal_criteria`` with their own passing rule (None: no renewal).
    renewal_months: Mapped[int | None]
    renewal_passing_level: Mapped[str | None] = mapped_column(sa.String(100))
    renewal_passing_points: Mapped[int | None]

    review_requested_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    review_requested_at: Mapped[datetime | None]
    approved_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    approved_at: Mapped[datetime | None]
    # Set when a reviewer sends the version back; cleared when it is sent for review again.
    changes_requested_at: Mapped[datetime | None]
    published_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    published_at: Mapped[datetime | None]
    retired_at: Mapped[datetime | None]
    retired_reason: Mapped[str | None] = mapped_column(sa.String(500))
    # Optimistic concurrency for edits from two tabs or two authors (sent back as If-Match).
    lock_version: Mapped[int] = mapped_column(default=1)

    micro_credential: Mapped[MicroCredential] = relationship(back_populates="versions")
    organisation: Mapped[Organisation] = relationship()
    # The award and the renewal sets share a table each, told apart by ``purpose``.
    requirements: Mapped[list[Requirement]] = relationship(
        primaryjoin="and_(CredentialVersion.id == Requirement.version_id, Requirement.purpose == 'award')",
        back_populates="version",
        order_by="Requirement.position",
        cascade="all, delete-orphan",
        overlaps="renewal_requirements",
    )
    criteria: Mapped[list[RubricCriterion]] = relationship(
        primaryjoin="and_(CredentialVersion.id == RubricCriterion.version_id, RubricCriterion.purpose == 'award')",
        back_populates="version",
        order_by="RubricCriterion.position",
        cascade="all, delete-orphan",
        overlaps="renewal_criteria",
    )
    renewal_requirements: Mapped[list[Requirement]] = relationship(
        primaryjoin="and_(CredentialVersion.id == Requirement.version_id, Requirement.purpose == 'renewal')",
        order_by="Requirement.position",
        cascade="all, delete-orphan",
        overlaps="requirements,version",
    )
    renewal_criteria: Mapped[list[RubricCriterion]] = relationship(
        primaryjoin="and_(CredentialVersion.id == RubricCriterion.version_id, RubricCriterion.purpose == 'renewal')",
        order_by="RubricCriterion.position",
        cascade="all, delete-orphan",
        overlaps="criteria,version",
    )
    alignments: Mapped[list[Alignment]] = relationship(
        back_populates="version", order_by="Alignment.position", cascade="all, delete-orphan"
    )
    tag_rows: Mapped[list[CredentialTag]] = relationship(cascade="all, delete-orphan")
    comments: Mapped[list[DraftComment]] = relationship(
        back_populates="version", order_by="DraftComment.created_at", cascade="all, delete-orphan"
    )
    image: Mapped[CredentialImage | None] = relationship()
    review_requested_by: Mapped[User | None] = relationship(foreign_keys=[review_requested_by_id])

    __mapper_args__ = {"version_id_col": lock_version}

    @property
    def is_editable(self) -> bool:
        """Drafts; a design team's versions also while in review or approved (an edit then voids the approval)."""
        if self.state == VersionState.DRAFT.value:
            return True
        team_owned = self.micro_credential.team_id is not None
        return team_owned and self.state in (VersionState.IN_REVIEW.value, VersionState.APPROVED.value)

    @property
    def stage(self) -> str:
        """The state as people follow it: a draft a reviewer sent back reads "changes_requested"."""
        if self.state == VersionState.DRAFT.value and self.changes_requested_at is not None:
            return "changes_requested"
        return self.state

    @property
    def requires_renewal(self) -> bool:
        return self.renewal_months is not None

    def assessment(self, purpose: str = Purpose.AWARD.value) -> Assessment:
        """What a submission for ``purpose`` is judged against (``Purpose.RENEWAL``: the renewal set)."""
        return Assessment(self, renewal=purpose == Purpose.RENEWAL.value)


class Assessment:
    """A version seen through one of its two requirement sets: the attributes the review code reads of a version
    (``requirements``, ``criteria``, the passing rule, ``id``, ``title``…), the renewal ones when ``renewal``."""

    def __init__(self, version: CredentialVersion, *, renewal: bool) -> None:
        self.version = version
        self.renewal = renewal

    def __getattr__(self, name: str) -> Any:  # anything not set apart for renewal is the version's own
        return getattr(self.version, name)

    @property
    def requirements(self) -> list[Requirement]:
        return self.version.renewal_requirements if self.renewal else self.version.requirements

    @property
    def criteria(self) -> list[RubricCriterion]:
        return self.version.renewal_criteria if self.renewal else self.version.criteria

    @property
    def passing_level(self) -> str | None:
        return self.version.renewal_passing_level if self.renewal else self.version.passing_level

    @property
    def passing_points(self) -> int | None:
        return self.version.renewal_passing_points if self.renewal else self.version.passing_points


class Requirement(IdMixin, db.Model):
    """What an earner must submit: a prompt and the kind of evidence that answers it."""

    __tablename__ = "requirements"
    __table_args__ = (sa.UniqueConstraint("version_id", "purpose", "key"),)

    version_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("credential_versions.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(sa.String(16), default=Purpose.AWARD.value, server_default="award")
    key: Mapped[str] = mapped_column(sa.String(64))
    position: Mapped[int]
    title: Mapped[str] = mapped_column(sa.String(200))
    prompt: Mapped[str] = mapped_column(sa.Text)
    evidence_kind: Mapped[str] = mapped_column(sa.String(16))
    required: Mapped[bool] = mapped_column(default=True)
    min_words: Mapped[int | None]
    max_words: Mapped[int | None]
    allowed_file_types: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    min_files: Mapped[int | None]
    max_files: Mapped[int | None]

    # Paired with the award set (factories and tests build rows through it); renewal rows are appended to
    # ``renewal_requirements`` instead.
    version: Mapped[CredentialVersion] = relationship(back_populates="requirements", overlaps="renewal_requirements")


class RubricCriterion(IdMixin, db.Model):
    __tablename__ = "rubric_criteria"
    __table_args__ = (sa.UniqueConstraint("version_id", "purpose", "key"),)

    version_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("credential_versions.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(sa.String(16), default=Purpose.AWARD.value, server_default="award")
    key: Mapped[str] = mapped_column(sa.String(64))
    position: Mapped[int]
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    # Keys of the requirements whose evidence this criterion judges.
    requirement_keys: Mapped[list[str]] = mapped_column(sa.JSON, default=list)

    version: Mapped[CredentialVersion] = relationship(back_populates="criteria", overlaps="renewal_criteria")
    levels: Mapped[list[RubricLevel]] = relationship(
        back_populates="criterion", order_by="RubricLevel.position", cascade="all, delete-orphan"
    )


class RubricLevel(IdMixin, db.Model):
    """A level of a criterion; position 0 is the lowest."""

    __tablename__ = "rubric_levels"
    __table_args__ = (sa.UniqueConstraint("criterion_id", "position"),)

    criterion_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("rubric_criteria.id", ondelete="CASCADE"))
    position: Mapped[int]
    name: Mapped[str] = mapped_column(sa.String(100))
    descriptor: Mapped[str] = mapped_column(sa.Text, default="")
    points: Mapped[int] = mapped_column(default=0)

    criterion: Mapped[RubricCriterion] = relationship(back_populates="levels")


class Alignment(IdMixin, db.Model):
    """A version's alignment to a standard item."""

    __tablename__ = "alignments"
    __table_args__ = (sa.UniqueConstraint("version_id", "standard_item_id"),)

    version_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("credential_versions.id", ondelete="CASCADE"))
    standard_item_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("standard_items.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)

    version: Mapped[CredentialVersion] = relationship(back_populates="alignments")


class CredentialTag(db.Model):
    """Normalised tags, one row each, so the catalogue can filter by tag on both databases."""

    __tablename__ = "credential_tags"

    version_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("credential_versions.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(sa.String(50), primary_key=True, index=True)


class CommentKind(enum.StrEnum):
    COMMENT = "comment"
    REVIEW_REQUESTED = "review_requested"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"


class DraftComment(IdMixin, db.Model):
    """A teammate's comment on a version, or the record of a review step."""

    __tablename__ = "draft_comments"

    version_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("credential_versions.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(sa.String(32), default=CommentKind.COMMENT.value)
    body: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    version: Mapped[CredentialVersion] = relationship(back_populates="comments")
    author: Mapped[User | None] = relationship()


class CredentialImage(db.Model):
    """A badge image (PNG, or SVG after sanitising), content-addressed by SHA-256."""

    __tablename__ = "credential_images"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    media_type: Mapped[str] = mapped_column(sa.String(32))
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class StackState(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    RETIRED = "retired"


class Stack(IdMixin, TimestampMixin, db.Model):
    """A stack credential: earned by holding all, or ``required_count``, of its micro-credentials."""

    __tablename__ = "stacks"

    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    required_count: Mapped[int | None]
    state: Mapped[str] = mapped_column(sa.String(16), default=StackState.DRAFT.value)
    validity_days: Mapped[int | None]
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    published_at: Mapped[datetime | None]
    retired_at: Mapped[datetime | None]
    lock_version: Mapped[int] = mapped_column(default=1)

    members: Mapped[list[StackMember]] = relationship(
        back_populates="stack", order_by="StackMember.position", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": lock_version}


class StackMember(db.Model):
    __tablename__ = "stack_members"

    stack_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("stacks.id", ondelete="CASCADE"), primary_key=True)
    micro_credential_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("micro_credentials.id"), primary_key=True)
    position: Mapped[int] = mapped_column(default=0)

    stack: Mapped[Stack] = relationship(back_populates="members")
    micro_credential: Mapped[MicroCredential] = relationship()
