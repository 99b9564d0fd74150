"""Issuing badges for published micro-credential versions, and reading them back.

``issue_for_award`` is the handler ``assessors.issuance`` calls when a submission passes; ``issue`` is the one
way a version's badge is made (imports use it too), and it then issues any stack the badge completes
(``badges.stacks``). The version's Profile and Achievement, its results and the evidence it cites are built
here. Signing and storing: ``badges.signing``; revoking: ``badges.revocation``; renewing: ``badges.renewal``.

Services only flush; the request or CLI command commits. Issuing is idempotent through unique keys on the
badge row (``submission_id``, ``issue_key``): a retry or a race finds the existing badge instead of
making a second one.
"""

from __future__ import annotations

import calendar
import json
import uuid
from collections.abc import Iterable
from datetime import datetime
from time import monotonic
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, or_, select

from assessors.issuance import Award
from badges import documents, issuers
from badges.access import _base, _organisation
from badges.models import Badge, BadgeSource, EarnerDid
from badges.signing import Recipient, _existing, _recipient_of, _sign_and_store, _validity
from badges.stacks import issue_completed_stacks
from core import clock
from core.authz import authorize
from core.checklist import register_step
from core.db import Page, db, like_pattern, paginate
from core.errors import NotFound, ValidationFailed
from core.models import Organisation, User
from credentials.authoring.catalogue import aligned_items
from credentials.authoring.models import CredentialVersion
from credentials.portfolios.models import Submission


def issue(
    *,
    version: CredentialVersion,
    recipient: Recipient,
    results: list[dict[str, Any]],
    evidence: list[dict[str, Any]],
    awarded_at: datetime,
    source: BadgeSource,
    issue_key: str,
    submission_id: uuid.UUID | None = None,
    issuer_organisation_id: uuid.UUID | None = None,
    renews: Badge | None = None,
) -> Badge:
    """Issue (once per ``issue_key``) a badge for a published version; then issue any stack it completes.

    ``issuer_organisation_id`` names an organisation that adopted the version (``credentials.authoring.adoption``):
    it signs the badge with its own keys and Profile, and the Achievement stays the owner's (same ``id``, the owner
    as ``creator``). By default the version's owner issues. With ``renews``: the badge renewing that one (linked to
    it, and citing it as evidence)."""
    existing = _existing(issue_key)
    if existing is not None:
        return existing
    issuer, achievement = version_documents(version)
    issuing_organisation_id = issuer_organisation_id or version.organisation_id
    if issuing_organisation_id != version.organisation_id:
        issuer = issuers.profile_document(_organisation(issuing_organisation_id))
    now = clock.now().replace(microsecond=0)
    valid_from = min(awarded_at, now)
    badge = _sign_and_store(
        organisation_id=issuing_organisation_id,
        issuer=issuer,
        achievement=achievement,
        recipient=recipient,
        results=results,
        evidence=evidence,
        awarded_at=awarded_at,
        valid_from=valid_from,
        valid_until=valid_until_for(version, valid_from),
        source=source,
        issue_key=issue_key,
        title=version.title,
        version_id=version.id,
        submission_id=submission_id,
        renewed_from_id=renews.id if renews is not None else None,
    )
    if recipient.user_id is not None:
        issue_completed_stacks(earner_id=recipient.user_id, micro_credential_id=version.micro_credential_id)
    return badge


def valid_until_for(version: CredentialVersion, start: datetime) -> datetime | None:
    """``validUntil`` of a badge of ``version`` valid from ``start``: its renewal period in calendar months (the
    day clamped to the month's end: 31 January + 1 month is 28 or 29 February), else its validity in days."""
    if version.renewal_months:
        month = start.month - 1 + version.renewal_months
        year, month = start.year + month // 12, month % 12 + 1
        return start.replace(year=year, month=month, day=min(start.day, calendar.monthrange(year, month)[1]))
    return _validity(version.validity_days, start)


def renewal_evidence(old: Badge) -> dict[str, Any]:
    """The ``Evidence`` entry by which a renewal cites the badge it renews (OB 3.0 has no credential-to-credential
    relation; ``related`` links achievements): the old badge's URL, with what renewing it took."""
    return {
        "id": f"{_base()}/badges/{old.id}",
        "type": ["Evidence"],
        "name": f"Renews: {old.title}",
        "genre": "Renewal",
        "description": f"This credential renews the badge “{old.title}” awarded {old.awarded_at:%Y-%m-%d}: its "
        "earner showed current practice against the renewal requirements, scored by trained assessors.",
    }


# Published versions are immutable, so their Profile and Achievement are built once per process and reused
# for a minute (a renamed organisation or a re-imported standard item shows in new badges within that time).
# They are kept as JSON text: ``json.loads`` hands every badge its own copy several times faster than
# ``copy.deepcopy`` of the dicts (which cost ~0.8 ms a badge, more than the Data Integrity proof).
VERSION_DOCUMENTS_TTL = 60.0
_version_documents: dict[tuple[uuid.UUID, str], tuple[float, str, str, dict[str, Any]]] = {}


def _version_documents_cached(version: CredentialVersion) -> tuple[str, str, dict[str, Any]]:
    """(profile JSON, achievement JSON, the achievement itself — shared, read it only) of a version."""
    key = (version.id, _base())
    cached = _version_documents.get(key)
    if cached is None or cached[0] < monotonic():
        organisation = _organisation(version.organisation_id)
        achievement = documents.achievement_for_version(version, organisation, _base(), aligned_items(version))
        if len(_version_documents) > 1000:
            _version_documents.clear()
        cached = _version_documents[key] = (
            monotonic() + VERSION_DOCUMENTS_TTL,
            json.dumps(issuers.profile_document(organisation)),
            json.dumps(achievement),
            achievement,
        )
    return cached[1], cached[2], cached[3]


def version_documents(version: CredentialVersion) -> tuple[dict[str, Any], dict[str, Any]]:
    """The issuer ``Profile`` and the ``Achievement`` of a version (fresh copies, safe to embed)."""
    profile_json, achievement_json, _ = _version_documents_cached(version)
    return json.loads(profile_json), json.loads(achievement_json)


def results_for(version: CredentialVersion, award_results: Iterable[Any]) -> list[dict[str, Any]]:
    """``Result`` entries naming the rubric level achieved on each criterion (unknown ones are left out)."""
    achievement = _version_documents_cached(version)[2]  # only read here: no copy
    url = achievement["id"]
    descriptions = {rd["id"]: rd for rd in achievement.get("resultDescription", [])}
    out = []
    for result in award_results:
        description = descriptions.get(documents.criterion_ref(url, result.criterion_key))
        if description is None:
            continue
        level_id = documents.level_ref(url, result.criterion_key, result.level_position)
        level = next((lv for lv in description.get("rubricCriterionLevel", []) if lv["id"] == level_id), None)
        if level is None:
            continue
        out.append(
            {
                "type": ["Result"],
                "resultDescription": description["id"],
                "achievedLevel": level_id,
                "value": level["name"],
            }
        )
    return out


def evidence_for(submission: Submission) -> list[dict[str, Any]]:
    """The portfolio as ``Evidence``: narrative and links only when the earner made the evidence public."""
    titles = {r.key: r.title for r in submission.requirements}
    if not submission.evidence_public:
        return [
            {
                "type": ["Evidence"],
                "name": "Evidence portfolio",
                "description": "Scored by trained assessors against the rubric; the earner keeps the evidence private.",
            }
        ]
    out = []
    for answer in submission.answers:
        entry: dict[str, Any] = {
            "type": ["Evidence"],
            "name": titles.get(answer.requirement_key, answer.requirement_key),
        }
        if answer.url:
            entry["id"] = answer.url
        if answer.text:
            entry["narrative"] = answer.text
        out.append(entry)
    for file in submission.files:
        out.append(
            {
                "type": ["Evidence"],
                "name": titles.get(file.requirement_key, file.requirement_key),
                "description": f"File: {file.filename} ({file.media_type})",
            }
        )
    return out or [{"type": ["Evidence"], "name": "Evidence portfolio"}]


def issue_for_award(award: Award) -> Badge:
    """The handler of ``assessors.issuance``: the badge of a passed submission, exactly once."""
    existing = db.session.scalar(select(Badge).where(Badge.submission_id == award.submission_id))
    if existing is not None:
        return existing
    submission = db.session.get(Submission, award.submission_id)
    version = db.session.get(CredentialVersion, award.version_id)
    earner = db.session.get(User, award.earner_id)
    if submission is None or version is None or earner is None:
        raise NotFound("The award names a submission, version or earner that does not exist.")
    renews = db.session.get(Badge, submission.renews_badge_id) if submission.renews_badge_id else None
    if submission.is_renewal and renews is None:
        raise NotFound("The renewal names a badge that does not exist.")
    evidence = evidence_for(submission)
    return issue(
        version=version,
        recipient=_recipient_of(earner),
        results=results_for(version, award.results) if renews is None else [],
        evidence=evidence if renews is None else [renewal_evidence(renews), *evidence],
        awarded_at=award.decided_at,
        renews=renews,
        source=BadgeSource.ASSESSMENT if renews is None else BadgeSource.RENEWAL,
        issue_key=f"submission:{award.submission_id}",
        submission_id=award.submission_id,
        # The submission's organisation reviewed it and issues it: the owner, or an adopter of the version.
        issuer_organisation_id=submission.organisation_id,
    )


def get_badge(*, badge_id: uuid.UUID) -> Badge:
    """Any badge, by id: badges are public documents."""
    badge = db.session.get(Badge, badge_id)
    if badge is None:
        raise NotFound("No such badge.")
    return badge


def badge_id_for_submission(submission_id: uuid.UUID) -> uuid.UUID | None:
    """The badge a passed submission earned, once issued (the earner's page links to it)."""
    return db.session.scalar(select(Badge.id).where(Badge.submission_id == submission_id))


def recent_badges(*, actor: User, since: datetime, limit: int = 10) -> list[Badge]:
    """The actor's badges issued since ``since``, newest first."""
    stmt = (
        select(Badge)
        .where(Badge.earner_id == actor.id, Badge.issued_at >= since)
        .order_by(Badge.issued_at.desc(), Badge.id)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def list_my_badges(*, actor: User, page: int, page_size: int) -> Page[Badge]:
    stmt = select(Badge).where(Badge.earner_id == actor.id).order_by(Badge.issued_at.desc(), Badge.id)
    return paginate(stmt, page=page, page_size=page_size)


def list_organisation_badges(
    *,
    actor: User,
    organisation_id: uuid.UUID,
    page: int,
    page_size: int,
    q: str | None = None,
    acceptance: str | None = None,
) -> Page[Badge]:
    """The organisation's badges, newest first; ``q`` finds words in the earner's name or e-mail (when they have
    an account) or in the credential's title; ``acceptance`` keeps the pending, accepted or declined ones."""
    organisation = _organisation(organisation_id)
    authorize(actor, "badge.revoke", organisation)
    stmt = select(Badge).where(Badge.organisation_id == organisation_id).order_by(Badge.issued_at.desc(), Badge.id)
    if acceptance:
        stmt = stmt.where(Badge.acceptance == acceptance)
    if q:
        like = like_pattern(q)
        stmt = stmt.outerjoin(User, User.id == Badge.earner_id).where(
            or_(
                func.lower(Badge.recipient_name).like(like, escape="\\"),
                func.lower(Badge.title).like(like, escape="\\"),
                func.lower(User.email).like(like, escape="\\"),
                func.lower(User.name).like(like, escape="\\"),
            )
        )
    return paginate(stmt, page=page, page_size=page_size)


def has_issued(organisation: Organisation) -> bool:
    """Whether the organisation has issued any badge (the first-run checklist's last step)."""
    return bool(db.session.scalar(select(exists().where(Badge.organisation_id == organisation.id))))


def register_checklist_step() -> None:
    register_step(
        "first_badge",
        label=_l("Issue your first badge"),
        hint=_l("A badge is issued when an assessor passes a submission (or import past awards from a CSV file)."),
        order=60,
        done=has_issued,
        endpoint="issuing.badges",
    )


def set_did(*, actor: User, did: str | None) -> str | None:
    """The DID future badges name the earner by (None: back to a hashed email)."""
    row = db.session.get(EarnerDid, actor.id)
    if did is None:
        if row is not None:
            db.session.delete(row)
        return None
    did = did.strip()
    if not did.startswith("did:") or len(did.split(":")) < 3 or any(c.isspace() for c in did) or len(did) > 500:
        raise ValidationFailed.field("did", "Give a DID such as did:key:z6Mk… or did:web:example.org.")
    if row is None:
        db.session.add(EarnerDid(user_id=actor.id, did=did))
    else:
        row.did = did
    db.session.flush()
    return did
