"""factory-boy factories for every model, bound to the test session (they flush, never commit)."""

from __future__ import annotations

import hashlib
import struct
import zlib
from datetime import timedelta
from typing import Any

import factory
from factory.alchemy import SQLAlchemyModelFactory

from core import clock
from core.auth import hash_password, new_secret_token, token_digest
from core.db import db
from core.models import (
    ApiToken,
    AuditEvent,
    Invitation,
    Membership,
    Organisation,
    PasswordResetToken,
    Role,
    User,
)
from credentials.authoring.models import (
    Alignment,
    CommentKind,
    CredentialImage,
    CredentialTag,
    CredentialVersion,
    DraftComment,
    EvidenceKind,
    MicroCredential,
    Requirement,
    RubricCriterion,
    RubricLevel,
    Stack,
    StackMember,
    StackState,
    VersionState,
)
from credentials.portfolios.models import Answer, EvidenceFile, Submission, SubmissionState
from standards.models import Framework, StandardItem, search_text
from tests.conftest import TEST_PASSWORD


class BaseFactory(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "flush"


class UserFactory(BaseFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    name = factory.Faker("name")
    is_platform_admin = False
    is_active = True

    @factory.lazy_attribute
    def password_hash(self) -> str:
        return hash_password(TEST_PASSWORD)


class OrganisationFactory(BaseFactory):
    class Meta:
        model = Organisation

    slug = factory.Sequence(lambda n: f"org-{n}")
    name = factory.Sequence(lambda n: f"Organisation {n}")
    kind = "district"
    description = ""


class MembershipFactory(BaseFactory):
    class Meta:
        model = Membership

    organisation = factory.SubFactory(OrganisationFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.AUTHOR.value


class InvitationFactory(BaseFactory):
    class Meta:
        model = Invitation
        exclude = ("token",)

    organisation = factory.SubFactory(OrganisationFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.org")
    roles = factory.LazyFunction(lambda: [Role.AUTHOR.value])
    token = factory.LazyFunction(lambda: new_secret_token()[0])
    token_hash = factory.LazyAttribute(lambda o: token_digest(o.token))
    expires_at = factory.LazyFunction(lambda: clock.now() + timedelta(days=7))


class PasswordResetTokenFactory(BaseFactory):
    class Meta:
        model = PasswordResetToken

    user = factory.SubFactory(UserFactory)
    token_hash = factory.LazyFunction(lambda: new_secret_token()[1])
    expires_at = factory.LazyFunction(lambda: clock.now() + timedelta(hours=1))


class ApiTokenFactory(BaseFactory):
    class Meta:
        model = ApiToken

    user = factory.SubFactory(UserFactory)
    name = "script"
    prefix = "mct_abcdef"
    token_hash = factory.LazyFunction(lambda: new_secret_token("mct_")[1])


class AuditEventFactory(BaseFactory):
    class Meta:
        model = AuditEvent

    action = "thing.happened"
    object_type = "Thing"
    object_id = factory.Sequence(lambda n: f"thing-{n}")


def member(organisation: Organisation, *roles: Role, **user_fields: Any) -> User:
    """A new user holding ``roles`` in ``organisation``."""
    user = UserFactory(**user_fields)
    for role in roles:
        MembershipFactory(organisation=organisation, user=user, role=role.value)
    db.session.refresh(user)
    return user


# --- standards ---------------------------------------------------------------------------------------


class FrameworkFactory(BaseFactory):
    class Meta:
        model = Framework

    case_identifier = factory.Faker("uuid4")
    uri = factory.LazyAttribute(lambda o: f"urn:uuid:{o.case_identifier}")
    title = factory.Sequence(lambda n: f"Framework {n}")
    creator = "Standards Body"
    source_note = "Made by a test factory."
    subject = factory.LazyFunction(list)


class StandardItemFactory(BaseFactory):
    """A top-level item unless ``parent`` is given (then one level under it)."""

    class Meta:
        model = StandardItem
        exclude = ("parent",)

    parent = None
    framework = factory.LazyAttribute(lambda o: o.parent.framework if o.parent else FrameworkFactory())
    parent_id = factory.LazyAttribute(lambda o: o.parent.id if o.parent else None)
    case_identifier = factory.Faker("uuid4")
    uri = factory.LazyAttribute(lambda o: f"urn:uuid:{o.case_identifier}")
    human_coding_scheme = factory.Sequence(lambda n: f"STD.{n}")
    full_statement = factory.Sequence(lambda n: f"Statement number {n}")
    position = factory.Sequence(lambda n: n % 1000)
    depth = factory.LazyAttribute(lambda o: o.parent.depth + 1 if o.parent else 0)
    path = factory.LazyAttribute(lambda o: (o.parent.path if o.parent else "") + f"{o.position:06d}")
    education_level = factory.LazyFunction(list)
    search_text = factory.LazyAttribute(
        lambda o: search_text(o.human_coding_scheme, o.abbreviated_statement, o.full_statement)
    )
    abbreviated_statement = None


# --- credentials -------------------------------------------------------------------------------------

RUBRIC_LEVELS = ("Not yet", "Developing", "Proficient", "Exemplary")


def png_bytes(width: int = 1, height: int = 1) -> bytes:
    """A real, minimal greyscale PNG of the given size (every pixel black)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + bytes(width) for _ in range(height)), 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def valid_content(**overrides: Any) -> dict[str, Any]:
    """A complete micro-credential as a client sends it (ready for review); ``overrides`` replace fields."""

    def levels() -> list[dict[str, Any]]:
        return [
            {"name": name, "points": points, "descriptor": f"{name}: the evidence shows the practice at this level."}
            for points, name in enumerate(RUBRIC_LEVELS)
        ]

    def requirement(key: str, title: str, prompt: str, evidence_kind: str, **settings: Any) -> dict[str, Any]:
        none: dict[str, Any] = dict.fromkeys(("min_words", "max_words", "min_files", "max_files"))
        return {
            "key": key,
            "title": title,
            "prompt": prompt,
            "evidence_kind": evidence_kind,
            "required": True,
            "allowed_file_types": [],
            **none,
            **settings,
        }

    content: dict[str, Any] = {
        "title": "Close Reading of Complex Texts",
        "short_description": "Lead close reading so that students cite textual evidence.",
        "competency_statement": "The educator plans and leads close reading of a complex text.",
        "key_method": "Plan three reads, write text-dependent questions, model annotation.",
        "method_components": [{"name": "Text selection", "description": "Complexity fits the grade band."}],
        "supporting_research": [{"citation": "Fisher, D., & Frey, N. (2012). Close reading.", "url": None}],
        "resources": [{"title": "Text complexity rubric", "url": "https://example.org/rubric", "description": ""}],
        "tags": ["literacy"],
        "achievement_type": "MicroCredential",
        "estimated_hours": 15.0,
        "credits": 1.5,
        "validity_days": 1095,
        "max_attempts": 3,
        "passing_rule": {"level": "Proficient", "points": 4},
        "requirements": [
            requirement(
                "lesson-plan",
                "Lesson plan",
                "Upload the lesson plan with the text and your questions.",
                "file",
                allowed_file_types=["pdf", "docx"],
                min_files=1,
                max_files=2,
            ),
            requirement(
                "reflection", "Reflection", "What did students' answers show?", "text", min_words=300, max_words=800
            ),
            requirement("recording", "Recording", "A link to a recording of the lesson.", "link", required=False),
        ],
        "rubric": [
            {
                "key": "planning",
                "name": "Planning",
                "description": "The plan's reads and questions.",
                "requirements": ["lesson-plan"],
                "levels": levels(),
            },
            {
                "key": "analysis",
                "name": "Analysis",
                "description": "What the educator learnt from student work.",
                "requirements": ["reflection", "recording"],
                "levels": levels(),
            },
        ],
        "alignments": [],
    }
    content.update(overrides)
    return content


class MicroCredentialFactory(BaseFactory):
    class Meta:
        model = MicroCredential

    organisation = factory.SubFactory(OrganisationFactory)


class CredentialVersionFactory(BaseFactory):
    """Version 1 of a new micro-credential in ``organisation`` (or the next version of ``micro_credential``),
    a draft unless ``published``/``retired``/``state`` says otherwise, with one requirement and one criterion.
    Pass ``requirements=False`` for a bare version."""

    class Meta:
        model = CredentialVersion

    class Params:
        published = factory.Trait(
            state=VersionState.PUBLISHED.value,
            published_at=factory.LazyFunction(clock.now),
        )
        retired = factory.Trait(
            state=VersionState.RETIRED.value,
            published_at=factory.LazyFunction(clock.now),
            retired_at=factory.LazyFunction(clock.now),
            retired_reason="No longer offered.",
        )

    micro_credential = None
    organisation = factory.Maybe(
        "micro_credential",
        yes_declaration=factory.SelfAttribute("micro_credential.organisation"),
        no_declaration=factory.SubFactory(OrganisationFactory),
    )
    number = factory.LazyAttribute(lambda o: len(o.micro_credential.versions) + 1 if o.micro_credential else 1)
    state = VersionState.DRAFT.value
    title = factory.Sequence(lambda n: f"Micro-credential {n}")
    short_description = "A short description."
    competency_statement = "The educator does the thing well."
    key_method = "Do the thing, reflect, do it better."
    tags = factory.LazyFunction(list)
    passing_level = "Proficient"

    @classmethod
    def _adjust_kwargs(cls, **kwargs: Any) -> dict[str, Any]:
        if kwargs["micro_credential"] is None:
            kwargs["micro_credential"] = MicroCredentialFactory(organisation=kwargs["organisation"])
        return kwargs

    @factory.post_generation
    def tag_rows(obj: CredentialVersion, create: bool, extracted: Any, **kwargs: Any) -> None:
        """The catalogue filters by the normalised tag rows; keep them in step with ``tags``."""
        obj.tag_rows.extend(CredentialTag(tag=tag) for tag in obj.tags)
        db.session.flush()

    @factory.post_generation
    def requirements(obj: CredentialVersion, create: bool, extracted: Any, **kwargs: Any) -> None:
        if extracted is False:
            return
        requirement = RequirementFactory(version=obj, key="reflection")
        RubricCriterionFactory(version=obj, key="quality", requirement_keys=[requirement.key])


class RequirementFactory(BaseFactory):
    """A required text requirement, appended after the version's others."""

    class Meta:
        model = Requirement

    version = factory.SubFactory(CredentialVersionFactory, requirements=False)
    key = factory.Sequence(lambda n: f"requirement-{n}")
    position = factory.LazyAttribute(lambda o: len(o.version.requirements))
    title = factory.Sequence(lambda n: f"Requirement {n}")
    prompt = "Describe what you did and what students learnt."
    evidence_kind = EvidenceKind.TEXT.value
    required = True
    allowed_file_types = factory.LazyFunction(list)


class RubricCriterionFactory(BaseFactory):
    """A criterion with the four usual levels (0-3 points) unless ``levels=[names…]`` says otherwise."""

    class Meta:
        model = RubricCriterion

    version = factory.SubFactory(CredentialVersionFactory, requirements=False)
    key = factory.Sequence(lambda n: f"criterion-{n}")
    position = factory.LazyAttribute(lambda o: len(o.version.criteria))
    name = factory.Sequence(lambda n: f"Criterion {n}")
    description = ""
    requirement_keys = factory.LazyAttribute(lambda o: [r.key for r in o.version.requirements])

    @factory.post_generation
    def levels(obj: RubricCriterion, create: bool, extracted: Any, **kwargs: Any) -> None:
        for name in RUBRIC_LEVELS if extracted is None else extracted:
            RubricLevelFactory(criterion=obj, name=name)


class RubricLevelFactory(BaseFactory):
    """The next level up in its criterion, worth one point more than the one below."""

    class Meta:
        model = RubricLevel

    criterion = factory.SubFactory(RubricCriterionFactory, levels=[])
    position = factory.LazyAttribute(lambda o: len(o.criterion.levels))
    name = factory.Sequence(lambda n: f"Level {n}")
    descriptor = "What the evidence shows at this level."
    points = factory.SelfAttribute("position")


class AlignmentFactory(BaseFactory):
    """An alignment of a version to a (new) standard item; pass ``item`` to choose it."""

    class Meta:
        model = Alignment
        exclude = ("item",)

    version = factory.SubFactory(CredentialVersionFactory)
    item = factory.SubFactory(StandardItemFactory)
    standard_item_id = factory.SelfAttribute("item.id")
    position = factory.LazyAttribute(lambda o: len(o.version.alignments))


class StackFactory(BaseFactory):
    """A draft stack; ``micro_credentials=[…]`` makes them its members, in order."""

    class Meta:
        model = Stack
        exclude = ("organisation",)

    organisation = factory.SubFactory(OrganisationFactory)
    organisation_id = factory.SelfAttribute("organisation.id")
    title = factory.Sequence(lambda n: f"Stack {n}")
    description = ""
    state = StackState.DRAFT.value

    @factory.post_generation
    def micro_credentials(obj: Stack, create: bool, extracted: Any, **kwargs: Any) -> None:
        for position, micro_credential in enumerate(extracted or []):
            obj.members.append(StackMember(micro_credential_id=micro_credential.id, position=position))
        db.session.flush()


class DraftCommentFactory(BaseFactory):
    class Meta:
        model = DraftComment

    version = factory.SubFactory(CredentialVersionFactory)
    author = factory.SubFactory(UserFactory)
    kind = CommentKind.COMMENT.value
    body = factory.Faker("sentence")


class CredentialImageFactory(BaseFactory):
    """A stored badge image (a tiny PNG unless ``data`` and ``media_type`` say otherwise)."""

    class Meta:
        model = CredentialImage

    data = factory.LazyFunction(png_bytes)
    id = factory.LazyAttribute(lambda o: hashlib.sha256(o.data).hexdigest())
    media_type = "image/png"


class SubmissionFactory(BaseFactory):
    """A submission by a new earner to a new published version (pass ``version``, ``earner``, ``state``).

    ``submitted=True`` sets the state and time of a submitted attempt; answers are not filled in."""

    class Meta:
        model = Submission

    class Params:
        submitted = factory.Trait(
            state=SubmissionState.SUBMITTED.value,
            submitted_at=factory.LazyFunction(clock.now),
        )

    version = factory.SubFactory(CredentialVersionFactory, published=True)
    organisation_id = factory.SelfAttribute("version.organisation_id")
    micro_credential_id = factory.SelfAttribute("version.micro_credential_id")
    earner = factory.SubFactory(UserFactory)
    reference = factory.Sequence(lambda n: f"S{n:07d}")
    attempt = 1
    state = SubmissionState.DRAFT.value


class AnswerFactory(BaseFactory):
    class Meta:
        model = Answer

    submission = factory.SubFactory(SubmissionFactory)
    requirement_key = "reflection"
    text = "I planned, taught, reflected and taught again."


class EvidenceFileFactory(BaseFactory):
    """A file row; its bytes are not in storage unless the test puts them there."""

    class Meta:
        model = EvidenceFile

    submission = factory.SubFactory(SubmissionFactory)
    requirement_key = "artefact"
    sha256 = factory.LazyFunction(lambda: hashlib.sha256(png_bytes()).hexdigest())
    size = factory.LazyFunction(lambda: len(png_bytes()))
    media_type = "image/png"
    filename = "lesson-plan.png"


# --- issue 5: evidence portfolios ----------------------------------------------------------------------


def portfolio_version(**kwargs: Any) -> CredentialVersion:
    """A published version asking for a reflection (text, 5-50 words), a video link and 1-2 PNG/PDF files."""
    version = CredentialVersionFactory(published=True, requirements=False, **kwargs)
    RequirementFactory(version=version, key="reflection", min_words=5, max_words=50)
    RequirementFactory(version=version, key="video", evidence_kind=EvidenceKind.LINK.value)
    RequirementFactory(
        version=version,
        key="artefact",
        evidence_kind=EvidenceKind.FILE.value,
        allowed_file_types=["png", "pdf"],
        min_files=1,
        max_files=2,
    )
    RubricCriterionFactory(version=version, key="quality")
    db.session.refresh(version)
    return version


# --- review queue (issue 6) --------------------------------------------------------------------------

from assessors.models import Qualification  # noqa: E402


class QualificationFactory(BaseFactory):
    """An assessor qualified for a micro-credential (pass ``user`` and ``micro_credential``)."""

    class Meta:
        model = Qualification
        exclude = ("micro_credential",)

    micro_credential = factory.SubFactory(MicroCredentialFactory)
    micro_credential_id = factory.SelfAttribute("micro_credential.id")
    organisation_id = factory.SelfAttribute("micro_credential.organisation_id")
    user = factory.SubFactory(UserFactory)
    is_lead = False
