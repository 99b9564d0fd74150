"""The Open Badges 3.0 documents we publish: issuer Profile, Achievement, OpenBadgeCredential.

Pure functions of the domain objects and ``base`` (the public origin): no database writes, no signing.
Shapes follow the plain-JSON binding the official JSON Schema checks (see docs/issuing.md): every
``0..*`` property is an array, ``credentialStatus`` is one object, nulls and empty lists are omitted.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from core.models import Organisation
from credentials.authoring.models import CredentialVersion, Stack

CONTEXTS = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    # Defines 1EdTechJsonSchemaValidator2019; without it that type would silently drop out of the DI proof.
    "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json",
]
SCHEMA_URL = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"


def iso(moment: datetime) -> str:
    """DateTimeZ in whole seconds: JWT ``nbf``/``exp`` must equal ``validFrom``/``validUntil`` exactly."""
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _compact(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if v not in (None, [], "", {})}


def issuer_url(base: str, organisation_id: Any) -> str:
    """Where the issuer's Profile page, keys and did:web document are served (``/issuers/<id>``)."""
    return f"{base}/issuers/{organisation_id}"


def issuer_id(base: str, organisation_id: Any) -> str:
    """The issuer's id in what we sign: its did:web DID, ``did:web:<host>[:<path>]:issuers:<id>``.

    The DID document (``/issuers/<id>/did.json``) lists the signing keys with this DID as their controller, so a
    verifier that resolves the proof's key finds it controlled by the issuer, as VC Data Integrity verifiers
    (Digital Bazaar's and the DCC's ``vc``) and the 1EdTech validator require. Badges signed before this carry
    the https ``issuer_url`` as their id and keep verifying (see docs/issuing.md).
    """
    parts = urlsplit(base)
    path = [quote(segment, safe="") for segment in parts.path.split("/") if segment]
    return ":".join(["did:web", parts.netloc.replace(":", "%3A"), *path, "issuers", str(organisation_id)])


def profile(organisation: Organisation, base: str, *, has_image: bool = False) -> dict[str, Any]:
    """The issuer's Open Badges ``Profile`` (its id is the did:web DID, see ``issuer_id``; with its logo as
    ``image`` when it has one)."""
    return _compact(
        {
            "id": issuer_id(base, organisation.id),
            "type": ["Profile"],
            "name": organisation.name,
            "url": organisation.url,
            "description": organisation.description,
            "email": organisation.email,
            "image": issuer_image(base, organisation) if has_image else None,
        }
    )


def issuer_image(base: str, organisation: Organisation) -> dict[str, Any]:
    url = f"{issuer_url(base, organisation.id)}/image"
    return {"id": url, "type": "Image", "caption": f"Logo of {organisation.name}"}


def achievement_url(base: str, achievement_key: Any) -> str:
    return f"{base}/achievements/{achievement_key}"


def achievement_for_version(
    version: CredentialVersion, organisation: Organisation, base: str, aligned: list[dict[str, Any]]
) -> dict[str, Any]:
    """The ``Achievement`` of one published version: what it certifies, how it is judged, what it aligns to."""
    url = achievement_url(base, version.id)
    narrative = "\n\n".join(p for p in (version.competency_statement, _narrative_of(version)) if p)
    alignments = [
        _compact(
            {
                "type": ["Alignment"],
                "targetName": (item["code"] + " " if item.get("code") else "") + _short(item["statement"], 200),
                "targetUrl": item["url"],
                "targetDescription": item["statement"],
                "targetCode": item.get("code"),
                "targetFramework": item.get("framework_title"),
                "targetType": "CFItem",
            }
        )
        for item in aligned
    ]
    return _compact(
        {
            "id": url,
            "type": ["Achievement"],
            "achievementType": version.achievement_type or "MicroCredential",
            "name": version.title,
            "description": version.short_description or version.competency_statement or version.title,
            "criteria": {"id": url, "narrative": narrative or version.title},
            "image": {"id": f"{base}/api/v1/credential-versions/{version.id}/image", "type": "Image"},
            "creator": profile(organisation, base),
            "alignment": alignments,
            "resultDescription": result_descriptions(version, url),
            "tag": list(version.tags or []),
            "version": str(version.number),
            "creditsAvailable": version.credits,
        }
    )


def _narrative_of(version: CredentialVersion) -> str:
    lines = []
    if version.key_method:
        lines.append(f"Key method: {version.key_method}")
    if version.requirements:
        lines.append("The earner submitted:")
        lines.extend(f"- {r.title}: {r.prompt}" for r in version.requirements)
    if version.criteria:
        rule = f" at least {version.passing_level} on every criterion" if version.passing_level else ""
        points = f" and at least {version.passing_points} points" if version.passing_points else ""
        lines.append(f"Assessors scored the evidence against the rubric;{rule}{points} was required to pass.")
    return "\n".join(lines)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def criterion_ref(url: str, key: str) -> str:
    return f"{url}#criterion-{key}"


def level_ref(url: str, key: str, position: int) -> str:
    return f"{url}#criterion-{key}-level-{position}"


def result_descriptions(version: CredentialVersion, url: str) -> list[dict[str, Any]]:
    """One ``RubricCriterion`` result description per rubric criterion, its levels as rubric levels."""
    out = []
    for criterion in version.criteria:
        levels = [
            _compact(
                {
                    "id": level_ref(url, criterion.key, level.position),
                    "type": ["RubricCriterionLevel"],
                    "name": level.name,
                    "description": level.descriptor,
                    "level": str(level.position),
                    "points": str(level.points),
                }
            )
            for level in criterion.levels
        ]
        required = next((lv["id"] for lv in levels if lv["name"] == version.passing_level), None)
        out.append(
            _compact(
                {
                    "id": criterion_ref(url, criterion.key),
                    "type": ["ResultDescription"],
                    "name": criterion.name,
                    "resultType": "RubricCriterionLevel",
                    "rubricCriterionLevel": levels,
                    "requiredLevel": required,
                }
            )
        )
    return out


def achievement_for_stack(stack: Stack, organisation: Organisation, base: str, titles: list[str]) -> dict[str, Any]:
    """The ``Achievement`` of a stack: earned by holding its micro-credentials."""
    url = achievement_url(base, stack.id)
    needed = stack.required_count or len(titles)
    narrative = f"Earn {needed} of these micro-credentials:\n" + "\n".join(f"- {t}" for t in titles)
    return {
        "id": url,
        "type": ["Achievement"],
        "achievementType": "MicroCredential",
        "name": stack.title,
        "description": stack.description or stack.title,
        "criteria": {"id": url, "narrative": narrative},
        "creator": profile(organisation, base),
    }


def hashed_email(email: str, salt: str) -> dict[str, Any]:
    """An ``IdentityObject`` naming the earner by a salted SHA-256 of their (lower-cased) email."""
    digest = hashlib.sha256((email.strip().lower() + salt).encode()).hexdigest()
    return {
        "type": "IdentityObject",
        "hashed": True,
        "identityHash": f"sha256${digest}",
        "identityType": "emailAddress",
        "salt": salt,
    }


def credential(
    *,
    badge_id: Any,
    base: str,
    issuer: dict[str, Any],
    achievement: dict[str, Any],
    subject_did: str | None,
    identity: dict[str, Any] | None,
    results: list[dict[str, Any]],
    evidence: list[dict[str, Any]],
    valid_from: datetime,
    valid_until: datetime | None,
    awarded_at: datetime,
    status_list_url: str,
    status_index: int,
) -> dict[str, Any]:
    """An unsigned ``OpenBadgeCredential`` (VCDM 2.0)."""
    subject: dict[str, Any] = {"type": ["AchievementSubject"]}
    if subject_did:
        subject["id"] = subject_did
    if identity:
        subject["identifier"] = [identity]
    subject["achievement"] = achievement
    if results:
        subject["result"] = results
    document: dict[str, Any] = {
        "@context": list(CONTEXTS),
        "id": f"{base}/badges/{badge_id}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": achievement["name"],
        "description": achievement["description"],
        "issuer": issuer,
        "validFrom": iso(valid_from),
        "awardedDate": iso(awarded_at),
        "credentialSubject": subject,
        "credentialSchema": [{"id": SCHEMA_URL, "type": "1EdTechJsonSchemaValidator2019"}],
        "credentialStatus": {
            "id": f"{status_list_url}#{status_index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(status_index),
            "statusListCredential": status_list_url,
        },
    }
    if valid_until is not None:
        document["validUntil"] = iso(valid_until)
    if achievement.get("image"):
        document["image"] = achievement["image"]
    if evidence:
        document["evidence"] = evidence
    return document
