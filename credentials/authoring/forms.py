"""The editor's form and the content document: rows for the form from a version, the posted form parsed
back into content (blank rows ignored, a blank row always offered), and the service's field paths mapped back
to the form's input names so each error shows beside its field.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from werkzeug.datastructures import MultiDict

from credentials.authoring import versions as version_rules
from credentials.authoring.models import (
    CredentialVersion,
)

BLANK_LEVELS = 4  # level rows a criterion offers at least (most rubrics have three or four)


SCALARS = ("title", "short_description", "competency_statement", "key_method")


NUMBERS = {"estimated_hours": float, "credits": float, "validity_days": int, "max_attempts": int}


# Simple repeating rows: content field -> its columns (a row with every column blank is ignored).
LISTS = {
    "method_components": ("name", "description"),
    "resources": ("title", "url", "description"),
    "supporting_research": ("citation", "url"),
}


def blank_requirement() -> dict[str, Any]:
    return {"key": "", "title": "", "prompt": "", "evidence_kind": "text", "required": True, "min_words": "",
            "max_words": "", "allowed_file_types": [], "min_files": "", "max_files": ""}  # fmt: skip


def blank_level() -> dict[str, Any]:
    return {"name": "", "points": "", "descriptor": ""}


def blank_criterion() -> dict[str, Any]:
    return {"key": "", "name": "", "description": "", "requirements": "", "levels": []}


def pad_levels(criterion: dict[str, Any]) -> dict[str, Any]:
    levels = list(criterion["levels"])
    while len(levels) < max(BLANK_LEVELS, len(criterion["levels"]) + 1):
        levels.append(blank_level())
    return {**criterion, "levels": levels}


def rows_of(version: CredentialVersion) -> dict[str, Any]:
    """The editor's rows for a stored version: its content plus one blank row of each kind."""
    content = version_rules.content_of(version)
    return {
        "fields": {
            **{name: content[name] or "" for name in SCALARS},
            "tags": ", ".join(content["tags"] or []),
            "achievement_type": content["achievement_type"] or "MicroCredential",
            **{name: "" if content[name] is None else number_text(content[name]) for name in NUMBERS},
        },
        **set_rows(content),
        **{
            name: [{c: row.get(c) or "" for c in columns} for row in content[name] or []] + [dict.fromkeys(columns, "")]
            for name, columns in LISTS.items()
        },
    }


def set_rows(content: dict[str, Any]) -> dict[str, Any]:
    """The rows of one requirement set (``requirements``, ``rubric``, ``passing_rule`` of the content document, or
    of its ``renewal``), each list with a blank row to fill."""
    rule = content.get("passing_rule") or {}
    return {
        "requirements": [
            {**r, **{k: "" if r[k] is None else r[k] for k in ("min_words", "max_words", "min_files", "max_files")}}
            for r in content.get("requirements") or []
        ]
        + [blank_requirement()],
        "rubric": [
            pad_levels({**c, "requirements": ", ".join(c["requirements"])})
            for c in [*(content.get("rubric") or []), blank_criterion()]
        ],
        "passing_rule": {
            "level": rule.get("level") or "",
            "points": "" if rule.get("points") is None else rule["points"],
        },
    }


def renewal_rows_of(version: CredentialVersion) -> dict[str, Any]:
    """The renewal page's rows: whether renewal is on, every how many months, and the renewal set."""
    renewal = version_rules.content_of(version).get("renewal")
    return {
        "enabled": renewal is not None,
        "every_months": "" if renewal is None else str(renewal["every_months"]),
        **set_rows(renewal or {}),
    }


def renewal_rows_from_form(form: MultiDict[str, str]) -> dict[str, Any]:
    rows = rows_from_form(form)
    return {
        "enabled": "renewal_enabled" in form,
        "every_months": form.get("every_months", ""),
        **{k: rows[k] for k in ("requirements", "rubric", "passing_rule")},
    }


def parse_renewal(rows: dict[str, Any]) -> Parsed:
    """The ``renewal`` change (None when renewal is off); error paths are those of the renewal set."""
    parsed = Parsed()
    if not rows["enabled"]:
        parsed.content = {"renewal": None}
        return parsed
    months = parsed.number(rows["every_months"], "every_months")
    if months is None and not parsed.errors:
        parsed.errors.append({"field": "every_months", "detail": "Say every how many months."})
    parse_set(rows, parsed)
    content = parsed.content
    parsed.content = {"renewal": {"every_months": months, **content}}
    return parsed


def number_text(value: float | int) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def rows_from_form(form: MultiDict[str, str]) -> dict[str, Any]:
    """The editor's rows as posted (kept verbatim, so a refused save shows what the author typed)."""

    def count(name: str, limit: int) -> int:
        return min(max(form.get(name, 0, type=int) or 0, 0), limit)

    requirements = []
    for i in range(count("requirement_count", 60)):
        p = f"requirements-{i}-"
        requirements.append(
            {
                **{k: form.get(p + k, "") for k in ("key", "title", "prompt", "evidence_kind")},
                **{k: form.get(p + k, "") for k in ("min_words", "max_words", "min_files", "max_files")},
                "required": p + "required" in form,
                "allowed_file_types": form.getlist(p + "allowed_file_types"),
                "remove": p + "remove" in form,
            }
        )
    rubric = []
    for i in range(count("criterion_count", 60)):
        p = f"rubric-{i}-"
        levels = [
            {k: form.get(f"{p}levels-{j}-{k}", "") for k in ("name", "points", "descriptor")}
            for j in range(count(p + "level_count", 20))
        ]
        rubric.append(
            {
                **{k: form.get(p + k, "") for k in ("key", "name", "description")},
                # Checkboxes of the requirements this criterion judges (keys), kept as the text the rows hold.
                "requirements": ", ".join(form.getlist(p + "requirements")),
                "levels": levels,
                "remove": p + "remove" in form,
            }
        )
    lists = {
        name: [{c: form.get(f"{name}-{i}-{c}", "") for c in columns} for i in range(count(f"{name}_count", 60))]
        for name, columns in LISTS.items()
    }
    return {
        **lists,
        "fields": {name: form.get(name, "") for name in (*SCALARS, "tags", "achievement_type", *NUMBERS)},
        "requirements": requirements,
        "rubric": rubric,
        "passing_rule": {"level": form.get("passing_rule-level", ""), "points": form.get("passing_rule-points", "")},
    }


def blank(row: dict[str, Any], *names: str) -> bool:
    return not any(str(row.get(n) or "").strip() for n in names)


class Parsed:
    """A content document built from rows, with where each of its list entries came from in the form."""

    def __init__(self) -> None:
        self.content: dict[str, Any] = {}
        self.errors: list[dict[str, str]] = []
        self.requirement_rows: list[int] = []
        self.criterion_rows: list[int] = []
        self.level_rows: dict[int, list[int]] = {}

    def number(self, raw: Any, name: str, kind: Callable[[str], Any] = int) -> Any:
        text = str(raw or "").strip()
        if not text:
            return None
        try:
            return kind(text)
        except ValueError:
            self.errors.append({"field": name, "detail": "Enter a number."})
            return None


def parse(rows: dict[str, Any]) -> Parsed:
    parsed = Parsed()
    fields = rows["fields"]
    content: dict[str, Any] = {name: fields[name] for name in SCALARS}
    content["tags"] = [t.strip() for t in fields["tags"].split(",") if t.strip()]
    content["achievement_type"] = fields["achievement_type"].strip() or "MicroCredential"
    for name, columns in LISTS.items():
        kept = [row for row in rows[name] if not blank(row, *columns)]
        content[name] = [{c: (row[c] or None) if c == "url" else row[c] for c in columns} for row in kept]
        setattr(parsed, f"{name}_rows", [i for i, row in enumerate(rows[name]) if not blank(row, *columns)])
    for name, kind in NUMBERS.items():
        value = parsed.number(fields[name], name, kind)
        if value is not None or name != "max_attempts":
            content[name] = value
    parsed.content = content
    parse_set(rows, parsed)
    return parsed


def parse_set(rows: dict[str, Any], parsed: Parsed) -> None:
    """Add one requirement set's ``requirements``, ``rubric`` and ``passing_rule`` to ``parsed.content``."""
    content = parsed.content
    content["requirements"] = []
    taken = {r["key"].strip() for r in rows["requirements"] if r["key"].strip()}
    for i, r in enumerate(rows["requirements"]):
        if r.get("remove") or blank(r, "key", "title", "prompt"):
            continue
        p = f"requirements.{i}."
        requirement: dict[str, Any] = {
            "key": r["key"].strip() or new_key(r["title"] or r["prompt"], taken, "requirement"),
            "title": r["title"],
            "prompt": r["prompt"],
            "evidence_kind": r["evidence_kind"],
            "required": bool(r["required"]),
        }
        for k in ("min_words", "max_words", "min_files", "max_files"):
            value = parsed.number(r[k], p + k)
            if value is not None:
                requirement[k] = value
        if r["allowed_file_types"]:
            requirement["allowed_file_types"] = r["allowed_file_types"]
        content["requirements"].append(requirement)
        parsed.requirement_rows.append(i)
    content["rubric"] = []
    taken = {c["key"].strip() for c in rows["rubric"] if c["key"].strip()}
    for i, c in enumerate(rows["rubric"]):
        levels = [lv for lv in c["levels"] if not blank(lv, "name", "descriptor", "points")]
        if c.get("remove") or (blank(c, "key", "name", "description", "requirements") and not levels):
            continue
        ci = len(content["rubric"])
        parsed.level_rows[ci] = []
        criterion: dict[str, Any] = {
            "key": c["key"].strip() or new_key(c["name"] or c["description"], taken, "criterion"),
            "name": c["name"],
            "description": c["description"],
            "requirements": [k.strip() for k in c["requirements"].split(",") if k.strip()],
            "levels": [],
        }
        for j, lv in enumerate(c["levels"]):
            if blank(lv, "name", "descriptor", "points"):
                continue
            points = parsed.number(lv["points"], f"rubric.{i}.levels.{j}.points")
            criterion["levels"].append({"name": lv["name"], "descriptor": lv["descriptor"], "points": points or 0})
            parsed.level_rows[ci].append(j)
        content["rubric"].append(criterion)
        parsed.criterion_rows.append(i)
    rule = rows["passing_rule"]
    level = rule["level"].strip() or None
    points = parsed.number(rule["points"], "passing_rule.points")
    content["passing_rule"] = None if level is None and points is None else {"level": level, "points": points}


def new_key(text: str, taken: set[str], fallback: str) -> str:
    """A stable key for a new row, made from its title ("Lesson plan" → ``lesson-plan``), unique among its
    siblings. Authors never type keys: they are the rows' identity across versions (answers point at them)."""
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40].strip("-") or fallback
    key, n = base, 2
    while key in taken:
        key, n = f"{base}-{n}", n + 1
    taken.add(key)
    return key


def input_name(path: str, parsed: Parsed) -> str:
    """The form field an error's content path points at (content indexes mapped back to form rows)."""
    parts = path.removeprefix("renewal.").split(".")  # the renewal page's inputs are named as the editor's
    try:
        if parts[0] in LISTS and len(parts) > 1:
            parts[1] = str(getattr(parsed, f"{parts[0]}_rows")[int(parts[1])])
        elif parts[0] == "requirements" and len(parts) > 1:
            parts[1] = str(parsed.requirement_rows[int(parts[1])])
        elif parts[0] == "rubric" and len(parts) > 1:
            ci = int(parts[1])
            parts[1] = str(parsed.criterion_rows[ci])
            if len(parts) > 3 and parts[2] == "levels":
                parts[3] = str(parsed.level_rows[ci][int(parts[3])])
            elif len(parts) > 3 and parts[2] == "requirements":
                parts = parts[:3]
    except (IndexError, ValueError, KeyError, AttributeError):
        return path.replace(".", "-")
    if parts[0] == "tags":
        parts = parts[:1]
    if parts[0] in ("requirements", "rubric") and len(parts) == 3 and parts[2] == "key":
        parts = parts[:2]  # keys are not typed on the page: the message goes to the row
    return "-".join(parts)


def field_errors(errors: list[dict[str, str]], parsed: Parsed | None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for error in errors:
        field = error.get("field", "")
        name = input_name(field, parsed) if parsed and field else field.replace(".", "-")
        out.setdefault(name or "_form", []).append(error["detail"])
    return out
