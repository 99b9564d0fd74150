"""Drafts and versions of micro-credentials: who may read and edit them, the content document, validation,
creating, editing, starting version N+1, and the differences between two versions.

A version moves draft → in_review → approved → published → retired (see ``publication``). Only drafts change;
editing a published credential starts version N+1 as a draft. Services only flush; the request or CLI command commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError

from core import audit, clock
from core.authz import authorize, can, has_role, rule
from core.db import Page, db, like_pattern, paginate
from core.errors import Conflict, NotFound, PreconditionFailed, ValidationFailed, field_error
from core.models import Organisation, Role, User
from credentials.authoring import requirement_sets as sets
from credentials.authoring.models import (
    Alignment,
    CredentialTag,
    CredentialVersion,
    MicroCredential,
    Purpose,
    VersionState,
)
from credentials.authoring.team_models import DesignTeam, leads_above, may_draft_for
from standards.models import StandardItem

PUBLIC_STATES = {VersionState.PUBLISHED.value, VersionState.RETIRED.value}


SCALAR_FIELDS = (
    "title", "short_description", "competency_statement", "key_method", "method_components",
    "supporting_research", "resources", "tags", "achievement_type", "estimated_hours", "credits",
    "validity_days", "max_attempts",
)  # fmt: skip


AUDIT_FIELDS = ("title", "state", "number", "published_at", "retired_at", "retired_reason")


@rule("credential.create")
def _may_create(actor: User | None, organisation: Any) -> bool:
    return has_role(actor, organisation, Role.AUTHOR)


@rule("credential.read")
def _may_read(actor: User | None, version: CredentialVersion) -> bool:
    # Drafts: the organisation's authors, admins and programme leads, admins and leads of the organisations above
    # it (a district's admins read their schools' drafts; siblings do not), and the owning team's members.
    if version.state in PUBLIC_STATES or has_role(actor, version, Role.AUTHOR, Role.ORG_ADMIN, Role.PROGRAMME_LEAD):
        return True
    team = _team_of(version)
    return (team is not None and team.has_member(actor)) or leads_above(actor, version.organisation_id)


def _team_of(version: CredentialVersion) -> DesignTeam | None:
    return version.micro_credential.team


@rule("credential.edit", description="edit this micro-credential: only its design team's authors do")
def _may_edit(actor: User | None, version: CredentialVersion) -> bool:
    team = _team_of(version)
    return has_role(actor, version, Role.AUTHOR) if team is None else may_draft_for(actor, team)


@rule("credential.list_drafts")
def _may_list_drafts(actor: User | None, organisation: Any) -> bool:
    return has_role(actor, organisation, Role.AUTHOR, Role.ORG_ADMIN)


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


def text_match(q: str) -> Any:
    like = like_pattern(q)
    return or_(
        func.lower(CredentialVersion.title).like(like, escape="\\"),
        func.lower(CredentialVersion.short_description).like(like, escape="\\"),
    )


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
        stmt = stmt.where(text_match(q))
    return paginate(
        stmt.order_by(CredentialVersion.updated_at.desc(), CredentialVersion.id),
        page=page,
        page_size=page_size,
    )


def content_of(version: CredentialVersion) -> dict[str, Any]:
    """The version as the content document clients send (the basis of updates, copies and diffs)."""
    content: dict[str, Any] = {field: getattr(version, field) for field in SCALAR_FIELDS}
    content["passing_rule"] = sets.passing_rule(version.passing_level, version.passing_points)
    content["requirements"] = sets.requirements_of(version.requirements)
    content["rubric"] = sets.rubric_of(version.criteria)
    if version.renewal_months is not None:  # only when set: versions without renewal read as before
        content["renewal"] = {
            "every_months": version.renewal_months,
            "requirements": sets.requirements_of(version.renewal_requirements),
            "rubric": sets.rubric_of(version.renewal_criteria),
            "passing_rule": sets.passing_rule(version.renewal_passing_level, version.renewal_passing_points),
        }
    content["alignments"] = [a.standard_item_id for a in version.alignments]
    return content


def _validate(content: dict[str, Any], kept_alignments: frozenset[uuid.UUID] = frozenset()) -> None:
    """Cross-field rules the schema cannot see; every problem is reported, each at its place.

    ``kept_alignments`` are items the version is already aligned to: they stay allowed after their
    framework marks them obsolete, so an older draft can still be saved."""
    errors = sets.validate_set(content)
    renewal = content.get("renewal")
    if renewal is not None:
        errors.extend(sets.validate_set(renewal, "renewal."))
        if content.get("validity_days") is not None:
            errors.append(
                field_error(
                    "validity_days",
                    "A credential that requires renewal is valid for its renewal period; leave this empty.",
                )
            )
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


def check_complete(version: CredentialVersion) -> None:
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
    if version.requires_renewal:
        errors.extend(sets.renewal_incomplete(version))
    if errors:
        raise ValidationFailed("The micro-credential is not complete yet.", errors=errors)


def missing_for_review(version: CredentialVersion) -> list[dict[str, str]]:
    """What a draft still lacks before review, one field error each (empty when complete): the author's
    checklist on the web page, the same rules ``request_review`` enforces."""
    try:
        check_complete(version)
    except ValidationFailed as exc:
        return exc.errors
    return []


def normalise_tag(tag: str) -> str:
    return " ".join(tag.lower().split())


def _apply(version: CredentialVersion, content: dict[str, Any]) -> None:
    for field in SCALAR_FIELDS:
        if field in content:
            setattr(version, field, content[field])
    if "tags" in content:
        tags = list(dict.fromkeys(normalise_tag(t) for t in content["tags"] or []))
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
        sets.replace_requirements(version.requirements, content["requirements"], Purpose.AWARD)
    if "rubric" in content:
        sets.replace_rubric(version.criteria, content["rubric"], Purpose.AWARD)
    if "renewal" in content:
        renewal = content["renewal"]
        version.renewal_months = renewal["every_months"] if renewal else None
        passing = (renewal or {}).get("passing_rule") or {}
        version.renewal_passing_level = passing.get("level")
        version.renewal_passing_points = passing.get("points")
        sets.replace_requirements(version.renewal_requirements, (renewal or {}).get("requirements"), Purpose.RENEWAL)
        sets.replace_rubric(version.renewal_criteria, (renewal or {}).get("rubric"), Purpose.RENEWAL)
    if "alignments" in content:
        version.alignments.clear()
        db.session.flush()
        version.alignments.extend(
            Alignment(standard_item_id=item_id, position=i) for i, item_id in enumerate(content["alignments"] or [])
        )


def organisation_of(organisation_id: uuid.UUID) -> Organisation:
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound("No such organisation.")
    return organisation


def create_micro_credential(
    *, actor: User, organisation_id: uuid.UUID, content: dict[str, Any], team: DesignTeam | None = None
) -> CredentialVersion:
    """A new micro-credential in ``organisation_id`` with its first version as a draft; with ``team`` (of that
    organisation, checked by ``teams.create_team_credential``) the team owns it and only its members draft it."""
    organisation = organisation_of(organisation_id)
    if team is None:
        authorize(actor, "credential.create", organisation)
    _validate(content)
    micro_credential = MicroCredential(organisation_id=organisation.id, created_by_id=actor.id, team=team)
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
        after=audit.snapshot(version, AUDIT_FIELDS) | ({"team_id": team.id} if team else {}),
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
    if version.state == VersionState.APPROVED.value:
        # The approval was of the content before this edit: the version goes back to its reviewer.
        version.state = VersionState.IN_REVIEW.value
        version.approved_by_id = version.approved_at = None
    db.session.flush()
    after = content_of(version)
    audit.record(
        actor=actor,
        action="credential.draft_updated",
        obj=version,
        organisation_id=version.organisation_id,
        before=before,
        # The fields whose value changed, so the changes history does not list what a whole-form save resent.
        after=audit.snapshot(version, AUDIT_FIELDS)
        | {"fields": sorted(f for f in changes if current.get(f) != after.get(f))},  # (`renewal` may be absent)
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
