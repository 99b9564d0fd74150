"""CLR 2.0 transcripts: one signed ``ClrCredential`` of an earner's badges from one organisation, or of one stack.

What goes in: the earner's badges from that organisation that are valid to show — accepted by the earner, not
hidden from public view, not revoked, not suspended (expired ones stay: they were earned, and each carries its
own ``validUntil``). Each is nested exactly as it was signed, with its own proofs and status entry. For a stack,
its member micro-credentials' badges and the stack's own badge; the stack's ``Achievement`` is listed even before
the stack is complete, and ``association`` says how they relate (the stack ``isParentOf`` each member, each member
``isChildOf`` the stack).

Stored, not made per request: signing canonicalises every nested badge, so a version is signed only when the set
of badges in it changes, and each download until then is the stored bytes. The record's id is the stable URL;
the version before a new one is *superseded*: its bit in the status list is set, so an old copy reads as revoked
(its badges keep their own status). Rules for who may ask: the earner, or an admin of the organisation.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from badges import documents, record_signing
from badges.access import _base, _organisation
from badges.issuers import profile_document
from badges.models import Acceptance, Badge, EarnerDid
from badges.record_models import ClrRecord, ClrVersion
from core import audit, clock
from core.authz import has_role
from core.db import db
from core.errors import NotFound
from core.models import Organisation, Role, User
from credentials.authoring.models import CredentialVersion, Stack, StackState, VersionState

CLR_CONTEXTS = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json",
]
CLR_SCHEMA_URL = "https://purl.imsglobal.org/spec/clr/v2p0/schema/json/clr_v2p0_clrcredential_schema.json"
MAX_MEMBERS = 100  # the newest this many: signing time grows faster than the count (docs/performance.md)


def clr_url(record_id: uuid.UUID) -> str:
    return f"{_base()}/clrs/{record_id}"


def _may_ask(actor: User, organisation: Organisation, earner_id: uuid.UUID) -> bool:
    return actor.id == earner_id or has_role(actor, organisation, Role.ORG_ADMIN)


def _stack_of(organisation: Organisation, stack_id: uuid.UUID | None) -> Stack | None:
    if stack_id is None:
        return None
    stack = db.session.get(Stack, stack_id)
    if stack is None or stack.organisation_id != organisation.id or stack.state == StackState.DRAFT.value:
        raise NotFound("No such published stack of this organisation.")
    return stack


def member_badges(*, organisation_id: uuid.UUID, earner_id: uuid.UUID, stack: Stack | None = None) -> list[Badge]:
    """The badges a transcript holds, oldest award first (see the module's docstring for which)."""
    query = (
        select(Badge)
        .where(
            Badge.organisation_id == organisation_id,
            Badge.earner_id == earner_id,
            Badge.revoked_at.is_(None),
            Badge.suspended_at.is_(None),
            Badge.hidden_at.is_(None),
            Badge.acceptance == Acceptance.ACCEPTED.value,
        )
        .order_by(Badge.awarded_at, Badge.id)
    )
    badges = list(db.session.scalars(query))
    if stack is None:
        return badges
    wanted = {m.micro_credential_id for m in stack.members}
    versions = {b.version_id for b in badges if b.version_id is not None}
    of_stack = (
        set(
            db.session.scalars(
                select(CredentialVersion.id).where(
                    CredentialVersion.id.in_(versions), CredentialVersion.micro_credential_id.in_(wanted)
                )
            )
        )
        if versions and wanted
        else set()
    )
    return [b for b in badges if b.stack_id == stack.id or b.version_id in of_stack]


def _associations(stack_achievement: str, member_achievements: list[str]) -> list[dict[str, Any]]:
    out = []
    for member in member_achievements:
        if member == stack_achievement:
            continue
        out.append(_association("isParentOf", stack_achievement, member))
        out.append(_association("isChildOf", member, stack_achievement))
    return out


def _association(kind: str, source: str, target: str) -> dict[str, Any]:
    return {"type": "Association", "associationType": kind, "sourceId": source, "targetId": target}


def _stacks_in(badges: list[Badge]) -> list[Stack]:
    ids = [b.stack_id for b in badges if b.stack_id is not None]
    return list(db.session.scalars(select(Stack).where(Stack.id.in_(ids)))) if ids else []


def _member_achievement_ids(stack: Stack, badges: list[Badge]) -> list[str]:
    wanted = {m.micro_credential_id for m in stack.members}
    versions = {b.version_id: b for b in badges if b.version_id is not None}
    held = (
        db.session.scalars(
            select(CredentialVersion.id).where(
                CredentialVersion.id.in_(list(versions)), CredentialVersion.micro_credential_id.in_(wanted)
            )
        )
        if versions
        else []
    )
    return [documents.achievement_url(_base(), version_id) for version_id in held]


def _latest_title(micro_credential: Any) -> str:
    published = [v for v in micro_credential.versions if v.state == VersionState.PUBLISHED.value]
    return published[-1].title if published else "(retired micro-credential)"


def clr_document(
    *,
    record: ClrRecord,
    organisation: Organisation,
    earner: User,
    badges: list[Badge],
    stack: Stack | None,
    partial: bool,
    status: dict[str, Any],
) -> dict[str, Any]:
    """The unsigned ``ClrCredential`` (see the module's docstring)."""
    base = _base()
    achievements: dict[str, dict[str, Any]] = {}
    for badge in badges:
        achievement = badge.credential["credentialSubject"]["achievement"]
        achievements.setdefault(achievement["id"], achievement)
    associations: list[dict[str, Any]] = []
    stacks = [stack] if stack is not None else _stacks_in(badges)
    for each in stacks:
        stack_achievement_id = documents.achievement_url(base, each.id)
        if stack_achievement_id not in achievements:  # a pathway not yet complete: what it leads to
            titles = sorted(_latest_title(m.micro_credential) for m in each.members)
            achievements[stack_achievement_id] = documents.achievement_for_stack(each, organisation, base, titles)
        associations += _associations(stack_achievement_id, _member_achievement_ids(each, badges))
    subject: dict[str, Any] = {"type": ["ClrSubject"]}
    did = db.session.get(EarnerDid, earner.id)
    if did is not None:
        subject["id"] = did.did
    else:
        subject["identifier"] = [documents.hashed_email(earner.email, secrets.token_hex(16))]
    subject["verifiableCredential"] = [b.credential for b in badges]
    subject["achievement"] = list(achievements.values())
    if associations:
        subject["association"] = associations
    what = f"the “{stack.title}” stack" if stack is not None else "this organisation"
    now = clock.now()
    return {
        "@context": list(CLR_CONTEXTS),
        "id": clr_url(record.id),
        "type": ["VerifiableCredential", "ClrCredential"],
        "name": f"{organisation.name}: {stack.title if stack is not None else 'transcript'}",
        "description": f"The badges of {what} held on {documents.iso(now)[:10]}, as {organisation.name} issued them.",
        "issuer": profile_document(organisation),
        "validFrom": documents.iso(now),
        "partial": partial,
        "credentialSubject": subject,
        "credentialSchema": [{"id": CLR_SCHEMA_URL, "type": "1EdTechJsonSchemaValidator2019"}],
        "credentialStatus": status,
    }


def _record(organisation_id: uuid.UUID, earner_id: uuid.UUID, stack_id: uuid.UUID | None) -> ClrRecord:
    key = f"{organisation_id}:{earner_id}:{stack_id or '-'}"
    found = db.session.scalar(select(ClrRecord).where(ClrRecord.scope_key == key))
    if found is not None:
        return found
    try:
        with db.session.begin_nested():  # a concurrent first request made it: take theirs
            record = ClrRecord(scope_key=key, organisation_id=organisation_id, earner_id=earner_id, stack_id=stack_id)
            db.session.add(record)
            db.session.flush()
        return record
    except IntegrityError:
        found = db.session.scalar(select(ClrRecord).where(ClrRecord.scope_key == key))
        assert found is not None
        return found


def current_version(record_id: uuid.UUID) -> ClrVersion | None:
    return db.session.scalar(
        select(ClrVersion)
        .where(ClrVersion.record_id == record_id, ClrVersion.superseded_at.is_(None))
        .order_by(ClrVersion.issued_at.desc())
        .limit(1)
    )


def transcript(
    *, actor: User, organisation_id: uuid.UUID, earner_id: uuid.UUID, stack_id: uuid.UUID | None = None
) -> ClrVersion:
    """The earner's current signed transcript from the organisation (or of one of its stacks), signed anew only
    when the set of badges changed. NotFound for anyone but the earner and the organisation's admins, for an
    unknown or draft stack, and when there is no badge to put in it."""
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None or not _may_ask(actor, organisation, earner_id):
        raise NotFound("No such transcript.")
    earner = db.session.get(User, earner_id)
    if earner is None:
        raise NotFound("No such transcript.")
    stack = _stack_of(organisation, stack_id)
    badges = member_badges(organisation_id=organisation.id, earner_id=earner.id, stack=stack)
    if not badges:
        raise NotFound("There are no valid, public badges from this organisation to put in a transcript.")
    if len(badges) > MAX_MEMBERS:
        badges = badges[-MAX_MEMBERS:]  # the newest; ``partial`` says some are left out
    digest = hashlib.sha256(",".join(str(b.id) for b in badges).encode()).hexdigest()
    record = _record(organisation.id, earner.id, stack.id if stack else None)
    current = current_version(record.id)
    if current is not None and current.members_digest == digest:
        return current
    held = db.session.scalar(
        select(db.func.count(Badge.id)).where(Badge.organisation_id == organisation.id, Badge.earner_id == earner.id)
    )
    partial = stack is not None or held != len(badges)
    list_id, index, entry = record_signing.status_entry(organisation.id)
    unsigned = clr_document(
        record=record,
        organisation=organisation,
        earner=earner,
        badges=badges,
        stack=stack,
        partial=partial,
        status=entry,
    )
    signed, token = record_signing.sign(organisation.id, unsigned)
    version = ClrVersion(
        record_id=record.id,
        members_digest=digest,
        member_count=len(badges),
        status_list_id=list_id,
        status_index=index,
        credential=signed,
        jwt=token,
        issued_at=clock.now(),
    )
    if current is not None:
        current.superseded_at = clock.now()
        record_signing.touch(current.status_list_id)
    db.session.add(version)
    db.session.flush()
    audit.record(
        actor=actor,
        action="clr.issued",
        obj=version,
        organisation_id=organisation.id,
        before={"version": str(current.id)} if current is not None else None,
        after={"record": str(record.id), "badges": len(badges), "stack_id": str(stack.id) if stack else None},
    )
    return version


def public_version(record_id: uuid.UUID) -> ClrVersion:
    """What the stable URL serves: the record's current signed version (404 when there is none)."""
    version = current_version(record_id)
    if version is None:
        raise NotFound("No such transcript.")
    return version


def organisation_of(record_id: uuid.UUID) -> Organisation:
    record = db.session.get(ClrRecord, record_id)
    if record is None:
        raise NotFound("No such transcript.")
    return _organisation(record.organisation_id)


def offers(*, actor: User) -> list[dict[str, Any]]:
    """The transcripts the earner can download: per organisation they hold valid, public badges from, and per
    published stack of it they hold at least one of (``{"organisation", "stacks"}``, by organisation name)."""
    query = (
        select(Badge.organisation_id, Badge.version_id, Badge.stack_id)
        .where(
            Badge.earner_id == actor.id,
            Badge.revoked_at.is_(None),
            Badge.suspended_at.is_(None),
            Badge.hidden_at.is_(None),
            Badge.acceptance == Acceptance.ACCEPTED.value,
        )
        .distinct()
    )
    held: dict[uuid.UUID, set[uuid.UUID]] = {}
    stacks_held: set[uuid.UUID] = set()
    for organisation_id, version_id, stack_id in db.session.execute(query):
        versions = held.setdefault(organisation_id, set())
        if version_id is not None:
            versions.add(version_id)
        if stack_id is not None:
            stacks_held.add(stack_id)
    out = []
    for organisation_id, versions in held.items():
        organisation = _organisation(organisation_id)
        micro = set(
            db.session.scalars(select(CredentialVersion.micro_credential_id).where(CredentialVersion.id.in_(versions)))
        )
        stacks = [
            stack
            for stack in db.session.scalars(
                select(Stack)
                .where(Stack.organisation_id == organisation_id, Stack.state != StackState.DRAFT.value)
                .order_by(Stack.title)
            )
            if stack.id in stacks_held or any(m.micro_credential_id in micro for m in stack.members)
        ]
        out.append({"organisation": organisation, "stacks": stacks})
    return sorted(out, key=lambda offer: offer["organisation"].name)
