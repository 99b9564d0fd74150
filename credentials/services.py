"""Authoring rules: drafts, team review, publishing immutable versions, retiring, stacks, the catalogue.

A version moves draft → in_review → approved → published → retired. Only drafts change; a reviewer
must be a different author from the one who asked for review; publishing a new version retires the
previous one, whose badges stay valid. Editing a published credential starts version N+1 as a draft.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any, NamedTuple

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.exc import IntegrityError

from core import audit, clock
from core.authz import authorize, can, has_role, rule
from core.db import Page, db, like_pattern, paginate
from core.errors import Conflict, NotFound, PreconditionFailed, ValidationFailed, field_error
from core.models import Organisation, Role, User
from credentials import images
from credentials.models import (
    Alignment,
    CommentKind,
    CredentialImage,
    CredentialTag,
    CredentialVersion,
    DraftComment,
    MicroCredential,
    Requirement,
    RubricCriterion,
    RubricLevel,
    Stack,
    StackMember,
    StackState,
    VersionState,
)
from standards.models import Framework, StandardItem
from standards.services import alignment_url

PUBLIC_STATES = {VersionState.PUBLISHED.value, VersionState.RETIRED.value}
SCALAR_FIELDS = (
    "title", "short_description", "competency_statement", "key_method", "method_components",
    "supporting_research", "resources", "tags", "achievement_type", "estimated_hours", "credits",
    "validity_days", "max_attempts",
)  # fmt: skip
AUDIT_FIELDS = ("title", "state", "number", "published_at", "retired_at", "retired_reason")


# --- authorisation -----------------------------------------------------------------------------------


@rule("credential.create")
def _may_create(actor: User | None, organisation: Any) -> bool:
    return has_role(actor, organisation, Role.AUTHOR)


@rule("credential.read")
def _may_read(actor: User | None, version: CredentialVersion) -> bool:
    return version.state in PUBLIC_STATES or has_role(actor, version, Role.AUTHOR, Role.ORG_ADMIN)


@rule("credential.edit")
def _may_edit(actor: User | None, version: CredentialVersion) -> bool:
    return has_role(actor, version, Role.AUTHOR)


@rule("credential.retire")
def _may_retire(actor: User | None, version: CredentialVersion) -> bool:
    return has_role(actor, version, Role.AUTHOR, Role.ORG_ADMIN)


@rule("credential.list_drafts")
def _may_list_drafts(actor: User | None, organisation: Any) -> bool:
    return has_role(actor, organisation, Role.AUTHOR, Role.ORG_ADMIN)


@rule("stack.manage")
def _may_manage_stack(actor: User | None, target: Any) -> bool:
    return has_role(actor, target, Role.AUTHOR, Role.ORG_ADMIN)


@rule("stack.read")
def _may_read_stack(actor: User | None, stack: Stack) -> bool:
    return stack.state != StackState.DRAFT.value or has_role(actor, stack, Role.AUTHOR, Role.ORG_ADMIN)


# --- reading -----------------------------------------------------------------------------------------


def _version(version_id: uuid.UUID) -> CredentialVersion:
    version = db.session.get(CredentialVersion, version_id)
    if version is None:
        raise NotFound("No such micro-credential version.")
    return version


def get_version(*, actor: User | None, version_id: uuid.UUID) -> CredentialVersion:
    """A version; drafts only for their organisation's authors and admins (others get 404)."""
    version = _version(version_id)
    if not can(actor, "credential.read", version):
        raise NotFound("No such micro-credential version.")
    return version


def get_micro_credential(*, actor: User | None, micro_credential_id: uuid.UUID) -> MicroCredential:
    micro_credential = db.session.get(MicroCredential, micro_credential_id)
    if micro_credential is None or not visible_versions(actor, micro_credential):
        raise NotFound("No such micro-credential.")
    return micro_credential


def visible_versions(actor: User | None, micro_credential: MicroCredential) -> list[CredentialVersion]:
    return [v for v in micro_credential.versions if can(actor, "credential.read", v)]


def list_organisation_credentials(
    *,
    actor: User,
    organisation_id: uuid.UUID,
    page: int,
    page_size: int,
    q: str | None = None,
    state: str | None = None,
) -> Page[CredentialVersion]:
    """The newest version of each of an organisation's micro-credentials, drafts included (authors, admins)."""
    authorize(actor, "credential.list_drafts", organisation_id)
    newest = (
        select(CredentialVersion.micro_credential_id, func.max(CredentialVersion.number).label("number"))
        .where(CredentialVersion.organisation_id == organisation_id)
        .group_by(CredentialVersion.micro_credential_id)
        .subquery()
    )
    stmt = select(CredentialVersion).join(
        newest,
        and_(
            CredentialVersion.micro_credential_id == newest.c.micro_credential_id,
            CredentialVersion.number == newest.c.number,
        ),
    )
    if state:
        stmt = stmt.where(CredentialVersion.state == state)
    if q:
        stmt = stmt.where(_text_match(q))
    return paginate(
        stmt.order_by(CredentialVersion.updated_at.desc(), CredentialVersion.id),
        page=page,
        page_size=page_size,
    )


def catalogue(
    *,
    page: int,
    page_size: int,
    q: str | None = None,
    tag: str | None = None,
    standard: uuid.UUID | None = None,
    framework: uuid.UUID | None = None,
    organisation: uuid.UUID | None = None,
) -> Page[CredentialVersion]:
    """Published, non-retired versions: what earners can start. Public."""
    stmt = select(CredentialVersion).where(CredentialVersion.state == VersionState.PUBLISHED.value)
    if organisation:
        stmt = stmt.where(CredentialVersion.organisation_id == organisation)
    if tag:
        stmt = stmt.where(
            exists().where(CredentialTag.version_id == CredentialVersion.id, CredentialTag.tag == _normalise_tag(tag))
        )
    if standard:
        stmt = stmt.where(
            exists().where(Alignment.version_id == CredentialVersion.id, Alignment.standard_item_id == standard)
        )
    if framework:
        stmt = stmt.where(
            exists().where(
                Alignment.version_id == CredentialVersion.id,
                Alignment.standard_item_id == StandardItem.id,
                StandardItem.framework_id == framework,
            )
        )
    if q:
        stmt = stmt.where(_text_match(q))
    return paginate(
        stmt.order_by(CredentialVersion.published_at.desc(), CredentialVersion.id),
        page=page,
        page_size=page_size,
    )


def _text_match(q: str) -> Any:
    like = like_pattern(q)
    return or_(
        func.lower(CredentialVersion.title).like(like, escape="\\"),
        func.lower(CredentialVersion.short_description).like(like, escape="\\"),
    )


def aligned_items(version: CredentialVersion) -> list[dict[str, Any]]:
    """The standard items a version is aligned to, with the URL an Open Badges alignment should use."""
    ids = [a.standard_item_id for a in version.alignments]
    if not ids:
        return []
    rows = db.session.execute(
        select(StandardItem, Framework.title)
        .join(Framework, Framework.id == StandardItem.framework_id)
        .where(StandardItem.id.in_(ids))
    ).all()
    by_id = {item.id: (item, title) for item, title in rows}
    out = []
    for item_id in ids:
        item, framework_title = by_id[item_id]
        out.append(
            {
                "id": item.id,
                "framework_id": item.framework_id,
                "framework_title": framework_title,
                "code": item.human_coding_scheme,
                "statement": item.full_statement,
                "url": alignment_url(item),
            }
        )
    return out


# --- content: validation and application -------------------------------------------------------------


def content_of(version: CredentialVersion) -> dict[str, Any]:
    """The version as the content document clients send (the basis of updates, copies and diffs)."""
    content: dict[str, Any] = {field: getattr(version, field) for field in SCALAR_FIELDS}
    content["passing_rule"] = (
        None
        if version.passing_level is None and version.passing_points is None
        else {"level": version.passing_level, "points": version.passing_points}
    )
    content["requirements"] = [
        {
            "key": r.key,
            "title": r.title,
            "prompt": r.prompt,
            "evidence_kind": r.evidence_kind,
            "required": r.required,
            "min_words": r.min_words,
            "max_words": r.max_words,
            "allowed_file_types": list(r.allowed_file_types or []),
            "min_files": r.min_files,
            "max_files": r.max_files,
        }
        for r in version.requirements
    ]
    content["rubric"] = [
        {
            "key": c.key,
            "name": c.name,
            "description": c.description,
            "requirements": list(c.requirement_keys),
            "levels": [{"name": lv.name, "descriptor": lv.descriptor, "points": lv.points} for lv in c.levels],
        }
        for c in version.criteria
    ]
    content["alignments"] = [a.standard_item_id for a in version.alignments]
    return content


def _validate(content: dict[str, Any], kept_alignments: frozenset[uuid.UUID] = frozenset()) -> None:
    """Cross-field rules the schema cannot see; every problem is reported, each at its place.

    ``kept_alignments`` are items the version is already aligned to: they stay allowed after their
    framework marks them obsolete, so an older draft can still be saved."""
    errors: list[dict[str, str]] = []
    requirement_keys = [r["key"] for r in content.get("requirements") or []]
    for i, key in enumerate(requirement_keys):
        if key in requirement_keys[:i]:
            errors.append(field_error(f"requirements.{i}.key", f"The key {key!r} is used twice."))
    criteria = content.get("rubric") or []
    criterion_keys = [c["key"] for c in criteria]
    for i, criterion in enumerate(criteria):
        if criterion["key"] in criterion_keys[:i]:
            errors.append(field_error(f"rubric.{i}.key", f"The key {criterion['key']!r} is used twice."))
        for j, ref in enumerate(criterion.get("requirements") or []):
            if ref not in requirement_keys:
                errors.append(field_error(f"rubric.{i}.requirements.{j}", f"No requirement has the key {ref!r}."))
    rule_ = content.get("passing_rule") or {}
    level = rule_.get("level")
    if level is not None:
        for i, criterion in enumerate(criteria):
            if level.lower() not in {lv["name"].lower() for lv in criterion["levels"]}:
                errors.append(
                    field_error(
                        "passing_rule.level",
                        f"Criterion {criterion['key']!r} (rubric.{i}) has no level named {level!r}.",
                    )
                )
    points = rule_.get("points")
    if points is not None and criteria:
        best = sum(max(lv["points"] for lv in c["levels"]) for c in criteria)
        if points > best:
            errors.append(field_error("passing_rule.points", f"The rubric allows at most {best} points."))
    alignments = content.get("alignments") or []
    items = (
        {item.id: item for item in db.session.scalars(select(StandardItem).where(StandardItem.id.in_(alignments)))}
        if alignments
        else {}
    )
    for i, item_id in enumerate(alignments):
        if item_id not in items:
            errors.append(field_error(f"alignments.{i}", f"No standard item {item_id}."))
        elif items[item_id].obsolete_at is not None and item_id not in kept_alignments:
            errors.append(field_error(f"alignments.{i}", "This standard item is obsolete in its framework."))
        elif item_id in alignments[:i]:
            errors.append(field_error(f"alignments.{i}", "Listed twice."))
    if errors:
        raise ValidationFailed(f"{len(errors)} problem(s) in the micro-credential.", errors=errors)


def _check_complete(version: CredentialVersion) -> None:
    """What review and publication need beyond a valid draft."""
    errors = []
    for field in ("short_description", "competency_statement", "key_method"):
        if not getattr(version, field).strip():
            errors.append(field_error(field, "Required before review."))
    if not version.requirements:
        errors.append(field_error("requirements", "Add at least one submission requirement."))
    elif not any(r.required for r in version.requirements):
        errors.append(field_error("requirements", "At least one requirement must be required."))
    if not version.criteria:
        errors.append(field_error("rubric", "Add at least one rubric criterion."))
    if version.passing_level is None and version.passing_points is None:
        errors.append(field_error("passing_rule", "Say what passes: a level, a points threshold, or both."))
    judged = {key for c in version.criteria for key in c.requirement_keys}
    for i, requirement in enumerate(version.requirements):
        if version.criteria and requirement.key not in judged:
            errors.append(field_error(f"requirements.{i}", f"No rubric criterion judges {requirement.key!r}."))
    if errors:
        raise ValidationFailed("The micro-credential is not complete yet.", errors=errors)


def missing_for_review(version: CredentialVersion) -> list[dict[str, str]]:
    """What a draft still lacks before review, one field error each (empty when complete): the author's
    checklist on the web page, the same rules ``request_review`` enforces."""
    try:
        _check_complete(version)
    except ValidationFailed as exc:
        return exc.errors
    return []


def _normalise_tag(tag: str) -> str:
    return " ".join(tag.lower().split())


def _apply(version: CredentialVersion, content: dict[str, Any]) -> None:
    for field in SCALAR_FIELDS:
        if field in content:
            setattr(version, field, content[field])
    if "tags" in content:
        tags = list(dict.fromkeys(_normalise_tag(t) for t in content["tags"] or []))
        version.tags = tags
        version.tag_rows.clear()
        db.session.flush()
        version.tag_rows.extend(CredentialTag(tag=t) for t in tags)
    if "passing_rule" in content:
        passing = content["passing_rule"] or {}
        version.passing_level = passing.get("level")
        version.passing_points = passing.get("points")
    # Child rows are replaced whole; flush the removals first so unique keys can be reused.
    if "requirements" in content:
        version.requirements.clear()
        db.session.flush()
        version.requirements.extend(
            Requirement(position=i, **{**r, "allowed_file_types": r.get("allowed_file_types") or []})
            for i, r in enumerate(content["requirements"] or [])
        )
    if "rubric" in content:
        version.criteria.clear()
        db.session.flush()
        for i, c in enumerate(content["rubric"] or []):
            criterion = RubricCriterion(
                position=i,
                key=c["key"],
                name=c["name"],
                description=c.get("description", ""),
                requirement_keys=list(c.get("requirements") or []),
            )
            criterion.levels = [RubricLevel(position=j, **lv) for j, lv in enumerate(c["levels"])]
            version.criteria.append(criterion)
    if "alignments" in content:
        version.alignments.clear()
        db.session.flush()
        version.alignments.extend(
            Alignment(standard_item_id=item_id, position=i) for i, item_id in enumerate(content["alignments"] or [])
        )


# --- drafts ------------------------------------------------------------------------------------------


def _organisation(organisation_id: uuid.UUID) -> Organisation:
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound("No such organisation.")
    return organisation


def create_micro_credential(*, actor: User, organisation_id: uuid.UUID, content: dict[str, Any]) -> CredentialVersion:
    """A new micro-credential in ``organisation_id`` with its first version as a draft."""
    organisation = _organisation(organisation_id)
    authorize(actor, "credential.create", organisation)
    _validate(content)
    micro_credential = MicroCredential(organisation_id=organisation.id, created_by_id=actor.id)
    db.session.add(micro_credential)
    db.session.flush()
    version = CredentialVersion(
        micro_credential_id=micro_credential.id,
        organisation_id=organisation.id,
        number=1,
        title=content["title"],
    )
    db.session.add(version)
    db.session.flush()
    _apply(version, content)
    db.session.flush()
    audit.record(
        actor=actor,
        action="credential.created",
        obj=version,
        organisation_id=organisation.id,
        after=audit.snapshot(version, AUDIT_FIELDS),
    )
    return version


def update_draft(
    *, actor: User, version_id: uuid.UUID, changes: dict[str, Any], expected_version: int | None = None
) -> CredentialVersion:
    """Replace the given fields of a draft; with ``expected_version`` a concurrent edit is refused."""
    version = get_version(actor=actor, version_id=version_id)
    authorize(actor, "credential.edit", version)
    PreconditionFailed.unless_current(
        expected_version,
        version.lock_version,
        "Someone else saved this draft meanwhile; reload it and apply your changes again.",
    )
    if not version.is_editable:
        raise Conflict(
            f"Version {version.number} is {version.state.replace('_', ' ')}; only drafts can be edited."
            + (" Start a new version to change it." if version.state in PUBLIC_STATES else "")
        )
    current = content_of(version)
    _validate({**current, **changes}, kept_alignments=frozenset(current["alignments"]))
    before = audit.snapshot(version, AUDIT_FIELDS)
    _apply(version, changes)
    version.updated_at = clock.now()
    db.session.flush()
    audit.record(
        actor=actor,
        action="credential.draft_updated",
        obj=version,
        organisation_id=version.organisation_id,
        before=before,
        after=audit.snapshot(version, AUDIT_FIELDS) | {"fields": sorted(changes)},
    )
    return version


def new_version(*, actor: User, micro_credential_id: uuid.UUID) -> CredentialVersion:
    """Start version N+1 as a draft copied from the newest version."""
    micro_credential = get_micro_credential(actor=actor, micro_credential_id=micro_credential_id)
    latest = micro_credential.versions[-1]
    authorize(actor, "credential.edit", latest)
    if latest.state not in PUBLIC_STATES:
        raise Conflict(f"Version {latest.number} is still {latest.state.replace('_', ' ')}; finish it first.")
    # Through the relationship, so that ``micro_credential.versions`` (already loaded) includes the new one.
    version = CredentialVersion(
        micro_credential=micro_credential,
        organisation_id=latest.organisation_id,
        number=latest.number + 1,
        title=latest.title,
        image_id=latest.image_id,
    )
    db.session.add(version)
    try:
        db.session.flush()
    except IntegrityError:  # another author started the same version between our read and our insert
        raise Conflict(f"Version {version.number} has just been started by someone else; reload.") from None
    _apply(version, content_of(latest))
    db.session.flush()
    audit.record(
        actor=actor,
        action="credential.version_started",
        obj=version,
        organisation_id=version.organisation_id,
        after=audit.snapshot(version, AUDIT_FIELDS),
    )
    return version


def _transition(
    actor: User,
    version: CredentialVersion,
    to: VersionState,
    action: str,
    comment: tuple[CommentKind, str | None] | None = None,
) -> CredentialVersion:
    before = audit.snapshot(version, AUDIT_FIELDS)
    version.state = to.value
    if comment is not None:
        kind, body = comment
        db.session.add(DraftComment(version_id=version.id, author_id=actor.id, kind=kind.value, body=body or ""))
    db.session.flush()
    audit.record(
        actor=actor,
        action=action,
        obj=version,
        organisation_id=version.organisation_id,
        before=before,
        after=audit.snapshot(version, AUDIT_FIELDS),
    )
    return version


def _require_state(version: CredentialVersion, *states: VersionState) -> None:
    if version.state not in {s.value for s in states}:
        wanted = " or ".join(s.value.replace("_", " ") for s in states)
        raise Conflict(f"Version {version.number} is {version.state.replace('_', ' ')}, not {wanted}.")


def request_review(*, actor: User, version_id: uuid.UUID, comment: str | None = None) -> CredentialVersion:
    version = get_version(actor=actor, version_id=version_id)
    authorize(actor, "credential.edit", version)
    _require_state(version, VersionState.DRAFT)
    _check_complete(version)
    version.review_requested_by_id = actor.id
    version.review_requested_at = clock.now()
    return _transition(
        actor,
        version,
        VersionState.IN_REVIEW,
        "credential.review_requested",
        (CommentKind.REVIEW_REQUESTED, comment),
    )


def withdraw_review(*, actor: User, version_id: uuid.UUID) -> CredentialVersion:
    version = get_version(actor=actor, version_id=version_id)
    authorize(actor, "credential.edit", version)
    _require_state(version, VersionState.IN_REVIEW, VersionState.APPROVED)
    version.approved_by_id = version.approved_at = None
    return _transition(actor, version, VersionState.DRAFT, "credential.review_withdrawn")


def _check_reviewer(actor: User, version: CredentialVersion) -> None:
    authorize(actor, "credential.edit", version)
    _require_state(version, VersionState.IN_REVIEW)
    if version.review_requested_by_id == actor.id:
        raise Conflict("A different author must review this version: you asked for the review.")


def approve(*, actor: User, version_id: uuid.UUID, comment: str | None = None) -> CredentialVersion:
    """A second author approves the version for publication."""
    version = get_version(actor=actor, version_id=version_id)
    _check_reviewer(actor, version)
    version.approved_by_id = actor.id
    version.approved_at = clock.now()
    return _transition(actor, version, VersionState.APPROVED, "credential.approved", (CommentKind.APPROVED, comment))


def request_changes(*, actor: User, version_id: uuid.UUID, comment: str) -> CredentialVersion:
    """A second author sends the version back to draft with what to change."""
    version = get_version(actor=actor, version_id=version_id)
    _check_reviewer(actor, version)
    return _transition(
        actor,
        version,
        VersionState.DRAFT,
        "credential.changes_requested",
        (CommentKind.CHANGES_REQUESTED, comment),
    )


def publish(*, actor: User, version_id: uuid.UUID) -> CredentialVersion:
    """Make an approved version public and immutable; the previous published version is retired."""
    version = get_version(actor=actor, version_id=version_id)
    authorize(actor, "credential.edit", version)
    _require_state(version, VersionState.APPROVED)
    _check_complete(version)
    for previous in version.micro_credential.versions:
        if previous.id != version.id and previous.state == VersionState.PUBLISHED.value:
            previous.retired_at = clock.now()
            previous.retired_reason = f"Superseded by version {version.number}."
            _transition(actor, previous, VersionState.RETIRED, "credential.retired")
    version.published_at = clock.now()
    version.published_by_id = actor.id
    return _transition(actor, version, VersionState.PUBLISHED, "credential.published")


def retire(*, actor: User, version_id: uuid.UUID, reason: str) -> CredentialVersion:
    """No new submissions; badges already issued stay valid."""
    version = get_version(actor=actor, version_id=version_id)
    authorize(actor, "credential.retire", version)
    _require_state(version, VersionState.PUBLISHED)
    version.retired_at = clock.now()
    version.retired_reason = reason
    return _transition(actor, version, VersionState.RETIRED, "credential.retired")


def add_comment(*, actor: User, version_id: uuid.UUID, body: str) -> DraftComment:
    version = get_version(actor=actor, version_id=version_id)
    authorize(actor, "credential.edit", version)
    comment = DraftComment(version_id=version.id, author_id=actor.id, kind=CommentKind.COMMENT.value, body=body)
    db.session.add(comment)
    db.session.flush()
    audit.record(actor=actor, action="credential.commented", obj=comment, organisation_id=version.organisation_id)
    return comment


def list_comments(*, actor: User, version_id: uuid.UUID) -> list[DraftComment]:
    version = get_version(actor=actor, version_id=version_id)
    authorize(actor, "credential.list_drafts", version)
    return list(version.comments)


# --- badge image -------------------------------------------------------------------------------------


def set_image(*, actor: User, version_id: uuid.UUID, data: bytes) -> CredentialVersion:
    """Use an uploaded PNG or SVG (sanitised) as the badge image of a draft."""
    version = get_version(actor=actor, version_id=version_id)
    authorize(actor, "credential.edit", version)
    _require_state(version, VersionState.DRAFT)
    media_type, clean = images.check_badge_image(data)
    digest = images.digest(clean)
    # Through the relationship, so that ``version.image`` is right even if it was read before.
    version.image = db.session.get(CredentialImage, digest) or CredentialImage(
        id=digest, media_type=media_type, data=clean
    )
    db.session.flush()
    audit.record(
        actor=actor,
        action="credential.image_set",
        obj=version,
        organisation_id=version.organisation_id,
        after={"image": digest, "media_type": media_type},
    )
    return version


def remove_image(*, actor: User, version_id: uuid.UUID) -> CredentialVersion:
    version = get_version(actor=actor, version_id=version_id)
    authorize(actor, "credential.edit", version)
    _require_state(version, VersionState.DRAFT)
    version.image = None
    db.session.flush()
    audit.record(actor=actor, action="credential.image_removed", obj=version, organisation_id=version.organisation_id)
    return version


class BadgeImage(NamedTuple):
    data: bytes
    media_type: str
    public: bool  # the version is published or retired: anyone may see it (a draft's is for the team)


def image_of(*, actor: User | None, version_id: uuid.UUID) -> BadgeImage:
    """The badge image: the uploaded one, or a generated default."""
    version = get_version(actor=actor, version_id=version_id)
    public = version.state in PUBLIC_STATES
    if version.image is not None:
        return BadgeImage(version.image.data, version.image.media_type, public)
    return BadgeImage(
        images.default_badge_svg(version.title, seed=str(version.micro_credential_id)), "image/svg+xml", public
    )


# --- differences -------------------------------------------------------------------------------------


def diff(*, actor: User | None, version_id: uuid.UUID, against_id: uuid.UUID) -> dict[str, Any]:
    """What changed from ``against_id`` to ``version_id`` (two versions of one micro-credential)."""
    newer = get_version(actor=actor, version_id=version_id)
    older = get_version(actor=actor, version_id=against_id)
    if newer.micro_credential_id != older.micro_credential_id:
        raise ValidationFailed.field("against", "Compare versions of the same micro-credential.")
    before, after = content_of(older), content_of(newer)
    before["alignments"] = [str(a) for a in before["alignments"]]
    after["alignments"] = [str(a) for a in after["alignments"]]
    return {"from_version": older.id, "to_version": newer.id, "changes": list(_changes(before, after, ""))}


def _changes(before: Any, after: Any, path: str) -> Iterable[dict[str, Any]]:
    if isinstance(before, dict) and isinstance(after, dict):
        for key in list(dict.fromkeys([*before, *after])):
            sub = f"{path}.{key}" if path else str(key)
            if key not in before:
                yield {"path": sub, "change": "added", "before": None, "after": after[key]}
            elif key not in after:
                yield {"path": sub, "change": "removed", "before": before[key], "after": None}
            else:
                yield from _changes(before[key], after[key], sub)
    elif _keyed(before) and _keyed(after):
        old = {item["key"]: item for item in before}
        new = {item["key"]: item for item in after}
        yield from _changes(old, new, path)
        if [k for k in old if k in new] != [k for k in new if k in old]:
            yield {"path": path, "change": "reordered", "before": list(old), "after": list(new)}
    elif before != after:
        yield {"path": path, "change": "changed", "before": before, "after": after}


def _keyed(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) and "key" in item for item in value)


# --- stacks ------------------------------------------------------------------------------------------

STACK_FIELDS = ("title", "description", "required_count", "validity_days", "state")


def _stack(stack_id: uuid.UUID) -> Stack:
    stack = db.session.get(Stack, stack_id)
    if stack is None:
        raise NotFound("No such stack.")
    return stack


def _set_members(stack: Stack, micro_credential_ids: list[uuid.UUID]) -> None:
    found = {
        m.id: m for m in db.session.scalars(select(MicroCredential).where(MicroCredential.id.in_(micro_credential_ids)))
    }
    errors = []
    for i, mc_id in enumerate(micro_credential_ids):
        mc = found.get(mc_id)
        if mc is None or mc.organisation_id != stack.organisation_id:
            errors.append(field_error(f"micro_credentials.{i}", "No such micro-credential in this organisation."))
        elif not any(v.state == VersionState.PUBLISHED.value for v in mc.versions):
            errors.append(field_error(f"micro_credentials.{i}", "Only published micro-credentials can be stacked."))
    if errors:
        raise ValidationFailed("The stack names micro-credentials it cannot hold.", errors=errors)
    stack.members.clear()
    db.session.flush()
    stack.members.extend(
        StackMember(micro_credential_id=mc_id, position=i) for i, mc_id in enumerate(micro_credential_ids)
    )


def _check_required_count(required_count: int | None, members: list[uuid.UUID]) -> None:
    if required_count is not None and required_count > len(members):
        raise ValidationFailed.field("required_count", "Cannot exceed the number of micro-credentials in the stack.")


def create_stack(
    *,
    actor: User,
    organisation_id: uuid.UUID,
    title: str,
    micro_credentials: list[uuid.UUID],
    description: str = "",
    required_count: int | None = None,
    validity_days: int | None = None,
) -> Stack:
    organisation = _organisation(organisation_id)
    authorize(actor, "stack.manage", organisation)
    _check_required_count(required_count, micro_credentials)
    stack = Stack(
        organisation_id=organisation.id,
        title=title,
        description=description,
        required_count=required_count,
        validity_days=validity_days,
        created_by_id=actor.id,
    )
    db.session.add(stack)
    db.session.flush()
    _set_members(stack, micro_credentials)
    db.session.flush()
    audit.record(
        actor=actor,
        action="stack.created",
        obj=stack,
        organisation_id=stack.organisation_id,
        after=audit.snapshot(stack, STACK_FIELDS),
    )
    return stack


def update_stack(
    *, actor: User, stack_id: uuid.UUID, changes: dict[str, Any], expected_version: int | None = None
) -> Stack:
    stack = _stack(stack_id)
    authorize(actor, "stack.manage", stack)
    PreconditionFailed.unless_current(
        expected_version, stack.lock_version, "The stack was changed by someone else; reload it and try again."
    )
    if stack.state != StackState.DRAFT.value:
        raise Conflict("Only a draft stack can change; create a new stack instead.")
    _check_required_count(
        changes.get("required_count", stack.required_count),
        changes.get("micro_credentials") or [m.micro_credential_id for m in stack.members],
    )
    before = audit.snapshot(stack, STACK_FIELDS)
    for field in ("title", "description", "required_count", "validity_days"):
        if field in changes:
            setattr(stack, field, changes[field])
    if "micro_credentials" in changes:
        _set_members(stack, changes["micro_credentials"])
    db.session.flush()
    audit.record(
        actor=actor,
        action="stack.updated",
        obj=stack,
        organisation_id=stack.organisation_id,
        before=before,
        after=audit.snapshot(stack, STACK_FIELDS),
    )
    return stack


def get_stack(*, actor: User | None, stack_id: uuid.UUID) -> Stack:
    stack = _stack(stack_id)
    if not can(actor, "stack.read", stack):
        raise NotFound("No such stack.")
    return stack


def list_stacks(*, actor: User | None, organisation_id: uuid.UUID, page: int, page_size: int) -> Page[Stack]:
    stmt = select(Stack).where(Stack.organisation_id == organisation_id)
    if not can(actor, "stack.manage", organisation_id):
        stmt = stmt.where(Stack.state == StackState.PUBLISHED.value)
    return paginate(stmt.order_by(Stack.title, Stack.id), page=page, page_size=page_size)


def set_stack_state(*, actor: User, stack_id: uuid.UUID, state: StackState) -> Stack:
    """Publish a draft stack, or retire a published one."""
    stack = _stack(stack_id)
    authorize(actor, "stack.manage", stack)
    allowed = {StackState.PUBLISHED: StackState.DRAFT, StackState.RETIRED: StackState.PUBLISHED}
    if stack.state != allowed[state].value:
        raise Conflict(f"The stack is {stack.state}; only a {allowed[state].value} stack can be {state.value}.")
    before = audit.snapshot(stack, STACK_FIELDS)
    stack.state = state.value
    if state == StackState.PUBLISHED:
        stack.published_at = clock.now()
    else:
        stack.retired_at = clock.now()
    db.session.flush()
    audit.record(
        actor=actor,
        action=f"stack.{state.value}",
        obj=stack,
        organisation_id=stack.organisation_id,
        before=before,
        after=audit.snapshot(stack, STACK_FIELDS),
    )
    return stack
