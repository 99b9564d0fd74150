"""A version's two requirement sets, the award set (earning the credential) and the renewal set (renewing a
badge of it): each is requirements, a rubric and a passing rule, read into the content document, checked by the
same rules and replaced whole on edit. ``versions`` uses them; services only flush."""

from __future__ import annotations

from typing import Any

from core.db import db
from core.errors import field_error
from credentials.authoring.models import CredentialVersion, Purpose, Requirement, RubricCriterion, RubricLevel


def passing_rule(level: str | None, points: int | None) -> dict[str, Any] | None:
    return None if level is None and points is None else {"level": level, "points": points}


def requirements_of(requirements: list[Requirement]) -> list[dict[str, Any]]:
    return [
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
        for r in requirements
    ]


def rubric_of(criteria: list[RubricCriterion]) -> list[dict[str, Any]]:
    return [
        {
            "key": c.key,
            "name": c.name,
            "description": c.description,
            "requirements": list(c.requirement_keys),
            "levels": [{"name": lv.name, "descriptor": lv.descriptor, "points": lv.points} for lv in c.levels],
        }
        for c in criteria
    ]


def validate_set(content: dict[str, Any], prefix: str = "") -> list[dict[str, str]]:
    """The rules one requirement set obeys (the award set, or the renewal set under ``prefix``)."""
    errors: list[dict[str, str]] = []
    requirement_keys = [r["key"] for r in content.get("requirements") or []]
    for i, key in enumerate(requirement_keys):
        if key in requirement_keys[:i]:
            errors.append(field_error(f"{prefix}requirements.{i}.key", f"The key {key!r} is used twice."))
    criteria = content.get("rubric") or []
    criterion_keys = [c["key"] for c in criteria]
    for i, criterion in enumerate(criteria):
        if criterion["key"] in criterion_keys[:i]:
            errors.append(field_error(f"{prefix}rubric.{i}.key", f"The key {criterion['key']!r} is used twice."))
        for j, ref in enumerate(criterion.get("requirements") or []):
            if ref not in requirement_keys:
                errors.append(
                    field_error(f"{prefix}rubric.{i}.requirements.{j}", f"No requirement has the key {ref!r}.")
                )
    rule_ = content.get("passing_rule") or {}
    level = rule_.get("level")
    if level is not None:
        for i, criterion in enumerate(criteria):
            if level.lower() not in {lv["name"].lower() for lv in criterion["levels"]}:
                errors.append(
                    field_error(
                        f"{prefix}passing_rule.level",
                        f"Criterion {criterion['key']!r} ({prefix}rubric.{i}) has no level named {level!r}.",
                    )
                )
    points = rule_.get("points")
    if points is not None and criteria:
        best = sum(max(lv["points"] for lv in c["levels"]) for c in criteria)
        if points > best:
            errors.append(field_error(f"{prefix}passing_rule.points", f"The rubric allows at most {best} points."))
    return errors


def renewal_incomplete(version: CredentialVersion) -> list[dict[str, str]]:
    """What the renewal set lacks: the same shape of rules as the award set, under ``renewal.``."""
    errors = []
    if not version.renewal_requirements:
        errors.append(field_error("renewal.requirements", "Add at least one renewal requirement."))
    elif not any(r.required for r in version.renewal_requirements):
        errors.append(field_error("renewal.requirements", "At least one renewal requirement must be required."))
    if not version.renewal_criteria:
        errors.append(field_error("renewal.rubric", "Add at least one renewal rubric criterion."))
    if version.renewal_passing_level is None and version.renewal_passing_points is None:
        errors.append(field_error("renewal.passing_rule", "Say what passes a renewal: a level, points, or both."))
    judged = {key for c in version.renewal_criteria for key in c.requirement_keys}
    for i, requirement in enumerate(version.renewal_requirements):
        if version.renewal_criteria and requirement.key not in judged:
            errors.append(field_error(f"renewal.requirements.{i}", f"No renewal criterion judges {requirement.key!r}."))
    return errors


def replace_requirements(rows: list[Requirement], given: list[dict[str, Any]] | None, purpose: Purpose) -> None:
    rows.clear()
    db.session.flush()
    rows.extend(
        Requirement(position=i, purpose=purpose.value, **{**r, "allowed_file_types": r.get("allowed_file_types") or []})
        for i, r in enumerate(given or [])
    )


def replace_rubric(rows: list[RubricCriterion], given: list[dict[str, Any]] | None, purpose: Purpose) -> None:
    rows.clear()
    db.session.flush()
    for i, c in enumerate(given or []):
        criterion = RubricCriterion(
            position=i,
            purpose=purpose.value,
            key=c["key"],
            name=c["name"],
            description=c.get("description", ""),
            requirement_keys=list(c.get("requirements") or []),
        )
        criterion.levels = [RubricLevel(position=j, **lv) for j, lv in enumerate(c["levels"])]
        rows.append(criterion)
