"""Who offers a version to earners and who reviews it, as the rest of the service asks (earners' start, the
catalogue, the review queue): the owner, and the organisations that adopted it (``adoption``)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import and_, or_, select

from core.db import db
from core.errors import Conflict, NotFound
from core.models import Organisation
from credentials.authoring.adoption import NO_ADOPTION, active_adoption_of, current_version, get_share, shares_reaching
from credentials.authoring.adoption_models import AdoptionState, CredentialAdoption, ShareMode
from credentials.authoring.models import CredentialVersion, MicroCredential, VersionState


def organisation_for_start(version: CredentialVersion, adoption_id: uuid.UUID | None) -> uuid.UUID:
    """The organisation a new submission to ``version`` belongs to: the adopter when started through an active
    adoption pinned to that version, else the owner (which needs the version published)."""
    if adoption_id is None:
        if version.state != VersionState.PUBLISHED.value:
            raise NotFound("No such published micro-credential version.")
        return version.organisation_id
    adoption = db.session.get(CredentialAdoption, adoption_id)
    if adoption is None or adoption.micro_credential_id != version.micro_credential_id:
        raise NotFound(NO_ADOPTION)
    if not adoption.is_active:
        raise Conflict(f"{adoption.organisation.name} no longer offers this micro-credential.")
    if adoption.version_id != version.id:
        raise Conflict(f"{adoption.organisation.name} offers version {adoption.version.number} of it; start that one.")
    return adoption.organisation_id


def next_offering(
    organisation_id: uuid.UUID, micro_credential_id: uuid.UUID
) -> tuple[CredentialVersion, uuid.UUID | None] | None:
    """Where a next attempt starts: the adopter's currently pinned version when ``organisation_id`` adopted the
    micro-credential (None once withdrawn), else the owner's published version."""
    micro_credential = db.session.get(MicroCredential, micro_credential_id)
    if micro_credential is not None and micro_credential.organisation_id != organisation_id:
        adoption = active_adoption_of(organisation_id, micro_credential_id)
        return (adoption.version, adoption.id) if adoption is not None else None
    version = current_version(micro_credential_id)
    return (version, None) if version is not None else None


def reviews(organisation_id: uuid.UUID, micro_credential_id: uuid.UUID) -> bool:
    """Whether the organisation reviews submissions to the micro-credential: it owns it, or adopted it (a
    withdrawn adoption still has submissions to finish)."""
    owner = db.session.scalar(select(MicroCredential.organisation_id).where(MicroCredential.id == micro_credential_id))
    if owner is None:
        return False
    if owner == organisation_id:
        return True
    return (
        db.session.scalar(
            select(CredentialAdoption.id)
            .where(
                CredentialAdoption.organisation_id == organisation_id,
                CredentialAdoption.micro_credential_id == micro_credential_id,
            )
            .limit(1)
        )
        is not None
    )


def ever_adopted(micro_credential_id: uuid.UUID) -> bool:
    """Whether any organisation adopted the micro-credential (so queues other than its owner's hold its tasks)."""
    return (
        db.session.scalar(
            select(CredentialAdoption.id).where(CredentialAdoption.micro_credential_id == micro_credential_id).limit(1)
        )
        is not None
    )


def adopted_versions(organisation_id: uuid.UUID) -> list[CredentialVersion]:
    """The versions the organisation's active adoptions are pinned to (what its assessors qualify for)."""
    return list(
        db.session.scalars(
            select(CredentialVersion)
            .join(CredentialAdoption, CredentialAdoption.version_id == CredentialVersion.id)
            .where(
                CredentialAdoption.organisation_id == organisation_id,
                CredentialAdoption.state == AdoptionState.ACTIVE.value,
            )
            .order_by(CredentialVersion.title)
        )
    )


def catalogue_condition(organisation_id: uuid.UUID) -> Any:
    """The catalogue's "offered by this organisation" filter: its own published versions, the versions its active
    adoptions pin, and what the organisations above it issue centrally for it."""
    adopted = select(CredentialAdoption.version_id).where(
        CredentialAdoption.organisation_id == organisation_id, CredentialAdoption.state == AdoptionState.ACTIVE.value
    )
    central = [s.micro_credential_id for s in shares_reaching(organisation_id) if s.mode == ShareMode.CENTRAL.value]
    published = CredentialVersion.state == VersionState.PUBLISHED.value
    return or_(
        and_(published, CredentialVersion.organisation_id == organisation_id),
        CredentialVersion.id.in_(adopted),
        and_(published, CredentialVersion.micro_credential_id.in_(central)),
    )


def for_version(version: CredentialVersion) -> list[dict[str, Any]]:
    """Who issues ``version`` to earners: its owner while it is published (centrally for its units when so
    shared), and each organisation whose active adoption pins it."""
    out: list[dict[str, Any]] = []
    share_row = get_share(version.micro_credential_id)
    if version.state == VersionState.PUBLISHED.value:
        central = share_row is not None and share_row.is_active and share_row.mode == ShareMode.CENTRAL.value
        out.append({"organisation": version.organisation, "adoption": None, "central": central})
    rows = db.session.scalars(
        select(CredentialAdoption)
        .join(Organisation, Organisation.id == CredentialAdoption.organisation_id)
        .where(CredentialAdoption.version_id == version.id, CredentialAdoption.state == AdoptionState.ACTIVE.value)
        .order_by(Organisation.name)
    )
    out.extend({"organisation": a.organisation, "adoption": a, "central": False} for a in rows)
    return out
