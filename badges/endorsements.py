"""Endorsements: one organisation (a state agency, say) vouches for another's published micro-credential or for
its issuer profile with a signed ``EndorsementCredential``.

Rules: only an admin of the endorsing organisation endorses, and withdraws; an organisation does not endorse
itself (an endorsement is a third party's word); only a *published* micro-credential version is endorsed — a
draft, an unknown id or a retired version is "no such published micro-credential" (404, as for a draft of
another organisation anywhere else); one standing endorsement per endorser and target. Withdrawing sets the
endorsement's bit in the endorser's revocation status list (shared with its badges), so a copy held anywhere
reads as revoked; withdrawn endorsements are no longer embedded or shown.

Where they appear: the ``endorsement`` list of the Achievement and of the Profile we serve, and "Endorsed by …"
on the public achievement, issuer and badge pages. Badges already signed are not changed, and new badges do not
embed them either: an endorsement can be withdrawn, a signed badge cannot change.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from badges import documents, record_signing
from badges.access import _base, _organisation
from badges.issuers import profile_document
from badges.record_models import Endorsement, EndorsementTarget
from core import audit, clock
from core.authz import authorize, has_role, rule
from core.db import db
from core.errors import Conflict, NotFound, ValidationFailed
from core.models import Organisation, Role, User
from credentials.authoring.models import CredentialVersion, VersionState

SCHEMA_URL = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_endorsementcredential_schema.json"
MAX_COMMENT = 2000


@rule("endorsement.manage", description="endorse on behalf of this organisation, or withdraw its endorsements")
def _may_endorse(actor: User | None, organisation: Any) -> bool:
    return has_role(actor, organisation, Role.ORG_ADMIN)


def endorsement_url(endorsement_id: uuid.UUID) -> str:
    return f"{_base()}/endorsements/{endorsement_id}"


def _target(kind: str, target_id: uuid.UUID) -> tuple[uuid.UUID, str, str]:
    """(owning organisation, subject id in the credential, name) of an endorsable target; NotFound otherwise."""
    if kind == EndorsementTarget.ACHIEVEMENT.value:
        version = db.session.get(CredentialVersion, target_id)
        if version is None or version.state != VersionState.PUBLISHED.value:
            raise NotFound("No such published micro-credential.")
        return version.organisation_id, documents.achievement_url(_base(), version.id), version.title
    if kind == EndorsementTarget.ISSUER.value:
        organisation = db.session.get(Organisation, target_id)
        if organisation is None:
            raise NotFound("No such issuer.")
        return organisation.id, documents.issuer_id(_base(), organisation.id), organisation.name
    raise ValidationFailed.field("target_kind", "must be 'achievement' or 'issuer'.")


def endorse(
    *, actor: User, endorser_id: uuid.UUID, target_kind: str, target_id: uuid.UUID, comment: str
) -> Endorsement:
    """Sign and store an endorsement by ``endorser_id`` of the target (see the module's docstring for the rules)."""
    endorser = _organisation(endorser_id)
    authorize(actor, "endorsement.manage", endorser)
    comment = (comment or "").strip()
    if not comment:
        raise ValidationFailed.field("comment", "Say in a sentence or two what you endorse and why.")
    if len(comment) > MAX_COMMENT:
        raise ValidationFailed.field("comment", f"At most {MAX_COMMENT} characters.")
    owner_id, subject_id, name = _target(target_kind, target_id)
    if owner_id == endorser.id:
        raise ValidationFailed.field(
            "target_id", "An organisation cannot endorse its own micro-credentials or profile."
        )
    if _standing(endorser.id, target_id) is not None:
        raise Conflict(f"{endorser.name} already endorses “{name}”; withdraw that endorsement first.")
    endorsement_id = uuid.uuid4()
    list_id, index, entry = record_signing.status_entry(endorser.id)
    now = clock.now()
    unsigned = {
        "@context": list(documents.CONTEXTS),
        "id": endorsement_url(endorsement_id),
        "type": ["VerifiableCredential", "EndorsementCredential"],
        "name": f"{endorser.name} endorses {name}",
        "description": f"An endorsement by {endorser.name} of “{name}”.",
        "issuer": profile_document(endorser),
        "validFrom": documents.iso(now),
        "awardedDate": documents.iso(now),
        "credentialSubject": {"id": subject_id, "type": ["EndorsementSubject"], "endorsementComment": comment},
        "credentialSchema": [{"id": SCHEMA_URL, "type": "1EdTechJsonSchemaValidator2019"}],
        "credentialStatus": entry,
    }
    signed, token = record_signing.sign(endorser.id, unsigned)
    endorsement = Endorsement(
        id=endorsement_id,
        endorser_id=endorser.id,
        target_kind=target_kind,
        target_id=target_id,
        target_organisation_id=owner_id,
        comment=comment,
        status_list_id=list_id,
        status_index=index,
        credential=signed,
        jwt=token,
        created_by_id=actor.id,
        created_at=now,
    )
    try:
        with db.session.begin_nested():  # a concurrent twin won the standing-endorsement index
            db.session.add(endorsement)
            db.session.flush()
    except IntegrityError:
        raise Conflict(f"{endorser.name} already endorses “{name}”.") from None
    audit.record(
        actor=actor,
        action="endorsement.issued",
        obj=endorsement,
        organisation_id=endorser.id,
        after={"target_kind": target_kind, "target_id": str(target_id), "comment": comment},
    )
    return endorsement


def _standing(endorser_id: uuid.UUID, target_id: uuid.UUID) -> Endorsement | None:
    return db.session.scalar(
        select(Endorsement).where(
            Endorsement.endorser_id == endorser_id,
            Endorsement.target_id == target_id,
            Endorsement.revoked_at.is_(None),
        )
    )


def get(*, endorsement_id: uuid.UUID) -> Endorsement:
    found = db.session.get(Endorsement, endorsement_id)
    if found is None:
        raise NotFound("No such endorsement.")
    return found


def withdraw(*, actor: User, endorser_id: uuid.UUID, endorsement_id: uuid.UUID, reason: str) -> Endorsement:
    """Withdraw (revoke) an endorsement: its status bit is set in this transaction. 404 unless it is the endorser's;
    409 when already withdrawn."""
    endorser = _organisation(endorser_id)
    authorize(actor, "endorsement.manage", endorser)
    endorsement = db.session.get(Endorsement, endorsement_id)
    if endorsement is None or endorsement.endorser_id != endorser.id:
        raise NotFound("No such endorsement.")
    reason = (reason or "").strip()
    if not reason or len(reason) > 500:
        raise ValidationFailed.field("reason", "Give a reason for withdrawing (at most 500 characters).")
    if endorsement.revoked_at is not None:
        raise Conflict("This endorsement was already withdrawn.")
    endorsement.revoked_at = clock.now()
    endorsement.revocation_reason = reason
    endorsement.revoked_by_id = actor.id
    record_signing.touch(endorsement.status_list_id)
    db.session.flush()
    audit.record(
        actor=actor,
        action="endorsement.withdrawn",
        obj=endorsement,
        organisation_id=endorser.id,
        before={"revoked": False},
        after={"revoked": True, "reason": reason},
    )
    return endorsement


def given(*, actor: User, endorser_id: uuid.UUID) -> list[Endorsement]:
    """The endorsements an organisation made, newest first (its admins only)."""
    endorser = _organisation(endorser_id)
    authorize(actor, "endorsement.manage", endorser)
    return list(
        db.session.scalars(
            select(Endorsement).where(Endorsement.endorser_id == endorser.id).order_by(Endorsement.created_at.desc())
        )
    )


def standing_for(target_ids: list[uuid.UUID]) -> list[Endorsement]:
    """Standing (not withdrawn) endorsements of any of the targets, oldest first."""
    if not target_ids:
        return []
    return list(
        db.session.scalars(
            select(Endorsement)
            .where(Endorsement.target_id.in_(target_ids), Endorsement.revoked_at.is_(None))
            .order_by(Endorsement.created_at, Endorsement.id)
        )
    )


def embedded(target_id: uuid.UUID) -> list[dict[str, Any]]:
    """The signed credentials of the target's standing endorsements, for its ``endorsement`` list."""
    return [e.credential for e in standing_for([target_id])]


def shown(target_ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    """What the public pages say of the targets' standing endorsements: who, what they said, the credential link."""
    names = {}
    out = []
    for endorsement in standing_for(target_ids):
        if endorsement.endorser_id not in names:
            names[endorsement.endorser_id] = _organisation(endorsement.endorser_id).name
        out.append(
            {
                "id": endorsement.id,
                "endorser": names[endorsement.endorser_id],
                "endorser_url": f"{_base()}/issuers/{endorsement.endorser_id}",
                "comment": endorsement.comment,
                "target_kind": endorsement.target_kind,
                "url": endorsement_url(endorsement.id),
                "json_url": endorsement_url(endorsement.id) + ".json",
                "date": endorsement.created_at.strftime("%Y-%m-%d"),
            }
        )
    return out


def endorsable(*, actor: User, endorser_id: uuid.UUID) -> dict[str, list[tuple[uuid.UUID, str]]]:
    """What the endorsing page offers: other organisations' published micro-credentials and their issuers."""
    endorser = _organisation(endorser_id)
    authorize(actor, "endorsement.manage", endorser)
    rows = db.session.execute(
        select(CredentialVersion.id, CredentialVersion.title, Organisation.name, Organisation.id)
        .join(Organisation, Organisation.id == CredentialVersion.organisation_id)
        .where(CredentialVersion.state == VersionState.PUBLISHED.value, Organisation.id != endorser.id)
        .order_by(Organisation.name, CredentialVersion.title)
        .limit(500)
    ).all()
    achievements = [(version_id, f"{title} — {org_name}") for version_id, title, org_name, _ in rows]
    issuers = sorted({(org_id, org_name) for _, _, org_name, org_id in rows}, key=lambda pair: pair[1])
    return {"achievement": achievements, "issuer": issuers}
