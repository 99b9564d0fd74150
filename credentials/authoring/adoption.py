"""Shared definitions: a parent organisation shares a published micro-credential with the organisations below it,
which either adopt it (and issue it under their own issuer) or earn it from the parent, who issues it centrally.

* **Sharing** (the owner's org admins): ``share`` marks a micro-credential shared with every organisation below
  the owner or with chosen ones, in mode ``adopt`` or ``central``; ``stop_sharing`` ends new adoptions.
* **Adopting** (a unit's org admins): ``adopt`` pins the owner's current published version; the definition,
  requirements and rubric stay the owner's and immutable. Earners then start submissions *through* the
  adoption (``offerings.organisation_for_start``): the submission belongs to the adopter, so the adopter's
  assessors review it in the adopter's queue and its badge is signed by the adopter, naming the owner's
  Achievement. When the owner publishes a newer version the adopter sees it and ``upgrade``s explicitly;
  submissions already started keep their version. ``withdraw`` stops new submissions; badges already issued stay valid.
* **Central** issuing: nothing to adopt; earners anywhere below the owner submit to the owner, whose queue
  reviews it and whose issuer signs the badge (the plain, unshared behaviour), and the micro-credential is
  listed in each unit's catalogue.

Services only flush; the request or CLI command commits.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from core import audit, clock
from core.authz import MAX_DEPTH, admin_above, ancestor_ids, authorize, has_role, rule
from core.db import db
from core.errors import Conflict, NotFound, ValidationFailed
from core.models import Organisation, Role, User
from credentials.authoring.adoption_models import (
    AdoptionState,
    CredentialAdoption,
    CredentialShare,
    CredentialShareTarget,
    ShareMode,
    ShareScope,
)
from credentials.authoring.models import CredentialVersion, MicroCredential, VersionState
from credentials.authoring.versions import get_version

NO_SHARE = "No such shared micro-credential."
NO_ADOPTION = "No such adoption."
SHARE_FIELDS = ("mode", "scope", "stopped_at")
ADOPTION_FIELDS = ("state", "version_id", "upgraded_at", "withdrawn_at")


@rule("credential.share", description="share this organisation's micro-credentials with its units")
def _may_share(actor: User | None, target: Any) -> bool:
    return has_role(actor, target, Role.ORG_ADMIN)


@rule("credential.adopt", description="adopt shared micro-credentials for this organisation")
def _may_adopt(actor: User | None, organisation: Any) -> bool:
    return has_role(actor, organisation, Role.ORG_ADMIN)


@rule("credential.read_adoptions", description="see this organisation's adoptions")
def _may_read_adoptions(actor: User | None, organisation: Any) -> bool:
    # A parent's admins follow what their units adopted (the report of who adopted which version).
    return has_role(actor, organisation, Role.ORG_ADMIN) or admin_above(actor, organisation)


# --- the hierarchy ------------------------------------------------------------------------------------


def descendant_ids(organisation_id: uuid.UUID) -> set[uuid.UUID]:
    """Every organisation below ``organisation_id``, at any depth (one query per level)."""
    found: set[uuid.UUID] = set()
    level = [organisation_id]
    for _ in range(MAX_DEPTH):
        level = [i for i in db.session.scalars(select(Organisation.id).where(Organisation.parent_id.in_(level)))]
        level = [i for i in level if i not in found]
        if not level:
            break
        found.update(level)
    return found


def _organisation(organisation_id: uuid.UUID) -> Organisation:
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound("No such organisation.")
    return organisation


def current_version(micro_credential_id: uuid.UUID) -> CredentialVersion | None:
    """The micro-credential's published version (publishing a newer one retires the older)."""
    return db.session.scalar(
        select(CredentialVersion).where(
            CredentialVersion.micro_credential_id == micro_credential_id,
            CredentialVersion.state == VersionState.PUBLISHED.value,
        )
    )


# --- sharing ------------------------------------------------------------------------------------------


def get_share(micro_credential_id: uuid.UUID) -> CredentialShare | None:
    return db.session.scalar(select(CredentialShare).where(CredentialShare.micro_credential_id == micro_credential_id))


def _owned_micro_credential(actor: User, micro_credential_id: uuid.UUID) -> MicroCredential:
    micro_credential = db.session.get(MicroCredential, micro_credential_id)
    if micro_credential is None:
        raise NotFound("No such micro-credential.")
    authorize(actor, "credential.share", micro_credential, hidden="No such micro-credential.")
    return micro_credential


def get_sharing(*, actor: User, micro_credential_id: uuid.UUID) -> CredentialShare | None:
    """How the owner shares the micro-credential (None: never shared); for its org admins."""
    return get_share(_owned_micro_credential(actor, micro_credential_id).id)


def share(
    *,
    actor: User,
    micro_credential_id: uuid.UUID,
    mode: str,
    scope: str,
    organisation_ids: list[uuid.UUID] | None = None,
) -> CredentialShare:
    """Share (or change how one shares) a published micro-credential with the organisations below its owner."""
    micro_credential = _owned_micro_credential(actor, micro_credential_id)
    if current_version(micro_credential.id) is None:
        raise Conflict("Only a published micro-credential can be shared; publish a version first.")
    below = descendant_ids(micro_credential.organisation_id)
    if not below:
        raise Conflict(f"{micro_credential.organisation.name} has no units to share with; add units first.")
    chosen: list[uuid.UUID] = []
    if scope == ShareScope.CHOSEN.value:
        if not organisation_ids:
            raise ValidationFailed.field("organisation_ids", "Choose at least one organisation to share with.")
        for i, target in enumerate(organisation_ids):
            if target not in below:
                raise ValidationFailed.field(f"organisation_ids.{i}", "Not one of this organisation's units.")
        chosen = list(dict.fromkeys(organisation_ids))
    share_row = get_share(micro_credential.id)
    if mode == ShareMode.CENTRAL.value and active_adoptions(micro_credential.id):
        raise Conflict("Units have adopted this micro-credential; they must withdraw before it is issued centrally.")
    before = audit.snapshot(share_row, SHARE_FIELDS) if share_row else None
    if share_row is None:
        share_row = CredentialShare(
            micro_credential_id=micro_credential.id, organisation_id=micro_credential.organisation_id
        )
        db.session.add(share_row)
    share_row.mode, share_row.scope, share_row.shared_by_id, share_row.stopped_at = mode, scope, actor.id, None
    share_row.targets = [CredentialShareTarget(organisation_id=target) for target in chosen]
    db.session.flush()
    audit.record(
        actor=actor,
        action="credential.shared",
        obj=share_row,
        organisation_id=share_row.organisation_id,
        before=before,
        after=audit.snapshot(share_row, SHARE_FIELDS) | {"organisation_ids": [str(t) for t in chosen]},
    )
    return share_row


def stop_sharing(*, actor: User, micro_credential_id: uuid.UUID) -> CredentialShare:
    """No new adoptions or upgrades; units that adopted it keep offering their pinned version."""
    micro_credential = _owned_micro_credential(actor, micro_credential_id)
    share_row = get_share(micro_credential.id)
    if share_row is None or not share_row.is_active:
        raise Conflict("This micro-credential is not shared.")
    before = audit.snapshot(share_row, SHARE_FIELDS)
    share_row.stopped_at = clock.now()
    db.session.flush()
    audit.record(
        actor=actor,
        action="credential.sharing_stopped",
        obj=share_row,
        organisation_id=share_row.organisation_id,
        before=before,
        after=audit.snapshot(share_row, SHARE_FIELDS),
    )
    return share_row


def _offered_to(share_row: CredentialShare, organisation_id: uuid.UUID) -> bool:
    """Whether an active share reaches ``organisation_id`` (an organisation below its owner, chosen if need be)."""
    if not share_row.is_active or share_row.organisation_id not in ancestor_ids(organisation_id):
        return False
    return share_row.scope == ShareScope.ALL.value or any(
        t.organisation_id == organisation_id for t in share_row.targets
    )


def shares_reaching(organisation_id: uuid.UUID) -> list[CredentialShare]:
    ancestors = ancestor_ids(organisation_id)
    if not ancestors:
        return []
    rows = db.session.scalars(
        select(CredentialShare)
        .where(CredentialShare.organisation_id.in_(ancestors), CredentialShare.stopped_at.is_(None))
        .order_by(CredentialShare.created_at, CredentialShare.id)
    )
    return [row for row in rows if _offered_to(row, organisation_id)]


# --- adopting -----------------------------------------------------------------------------------------


def active_adoptions(micro_credential_id: uuid.UUID) -> list[CredentialAdoption]:
    return list(
        db.session.scalars(
            select(CredentialAdoption).where(
                CredentialAdoption.micro_credential_id == micro_credential_id,
                CredentialAdoption.state == AdoptionState.ACTIVE.value,
            )
        )
    )


def active_adoption_of(organisation_id: uuid.UUID, micro_credential_id: uuid.UUID) -> CredentialAdoption | None:
    return db.session.scalar(
        select(CredentialAdoption).where(
            CredentialAdoption.organisation_id == organisation_id,
            CredentialAdoption.micro_credential_id == micro_credential_id,
            CredentialAdoption.state == AdoptionState.ACTIVE.value,
        )
    )


def _adoptable_version(actor: User, organisation_id: uuid.UUID, version_id: uuid.UUID) -> CredentialVersion:
    """The published version ``organisation_id`` may adopt, or the precise reason it may not."""
    version = get_version(actor=actor, version_id=version_id)  # drafts of others: 404
    share_row = get_share(version.micro_credential_id)
    if share_row is None or not _offered_to(share_row, organisation_id):
        raise NotFound(NO_SHARE)
    if share_row.mode == ShareMode.CENTRAL.value:
        raise Conflict(
            f"{share_row.organisation.name} issues this micro-credential centrally; there is nothing to adopt."
        )
    if version.state != VersionState.PUBLISHED.value:
        current = current_version(version.micro_credential_id)
        newer = f"; adopt version {current.number}" if current else ""
        raise Conflict(f"Version {version.number} is {version.state.replace('_', ' ')}, not published{newer}.")
    return version


def adopt(*, actor: User, organisation_id: uuid.UUID, version_id: uuid.UUID) -> CredentialAdoption:
    """Offer a shared micro-credential under this organisation's issuer, pinned to its published ``version_id``."""
    organisation = _organisation(organisation_id)
    authorize(actor, "credential.adopt", organisation, hidden="No such organisation.")
    version = _adoptable_version(actor, organisation.id, version_id)
    if active_adoption_of(organisation.id, version.micro_credential_id) is not None:
        raise Conflict(f"{organisation.name} has already adopted this micro-credential; upgrade it instead.")
    adoption = CredentialAdoption(
        organisation_id=organisation.id,
        micro_credential_id=version.micro_credential_id,
        version_id=version.id,
        adopted_by_id=actor.id,
        adopted_at=clock.now(),
    )
    db.session.add(adoption)
    db.session.flush()
    audit.record(
        actor=actor,
        action="credential.adopted",
        obj=adoption,
        organisation_id=organisation.id,
        after=audit.snapshot(adoption, ADOPTION_FIELDS) | {"owner_id": str(version.organisation_id)},
    )
    return adoption


def get_adoption(*, actor: User, adoption_id: uuid.UUID) -> CredentialAdoption:
    adoption = db.session.get(CredentialAdoption, adoption_id)
    if adoption is None:
        raise NotFound(NO_ADOPTION)
    authorize(actor, "credential.read_adoptions", adoption, hidden=NO_ADOPTION)
    return adoption


def _managed_adoption(actor: User, adoption_id: uuid.UUID) -> CredentialAdoption:
    adoption = db.session.get(CredentialAdoption, adoption_id)
    if adoption is None or not (has_role(actor, adoption) or admin_above(actor, adoption)):
        raise NotFound(NO_ADOPTION)
    authorize(actor, "credential.adopt", adoption)
    if not adoption.is_active:
        raise Conflict("This adoption was withdrawn; adopt the micro-credential again to offer it.")
    return adoption


def _change(actor: User, adoption: CredentialAdoption, action: str, **values: Any) -> CredentialAdoption:
    before = audit.snapshot(adoption, ADOPTION_FIELDS)
    for name, value in values.items():
        setattr(adoption, name, value)
    db.session.flush()
    audit.record(
        actor=actor,
        action=action,
        obj=adoption,
        organisation_id=adoption.organisation_id,
        before=before,
        after=audit.snapshot(adoption, ADOPTION_FIELDS),
    )
    return adoption


def upgrade(*, actor: User, adoption_id: uuid.UUID) -> CredentialAdoption:
    """Pin the owner's current published version; submissions already started keep the one they began with."""
    adoption = _managed_adoption(actor, adoption_id)
    current = current_version(adoption.micro_credential_id)
    if current is None:
        raise Conflict("The owner no longer offers a published version of this micro-credential.")
    if current.id == adoption.version_id:
        raise Conflict(f"This adoption is already on the newest version ({current.number}).")
    share_row = get_share(adoption.micro_credential_id)
    if share_row is None or not _offered_to(share_row, adoption.organisation_id):
        raise Conflict("The owner no longer shares this micro-credential; the adopted version stays as it is.")
    return _change(actor, adoption, "credential.adoption_upgraded", version_id=current.id, upgraded_at=clock.now())


def withdraw(*, actor: User, adoption_id: uuid.UUID) -> CredentialAdoption:
    """No new submissions through this adoption; those under way finish, badges issued stay valid."""
    adoption = _managed_adoption(actor, adoption_id)
    return _change(
        actor, adoption, "credential.adoption_withdrawn", state=AdoptionState.WITHDRAWN.value, withdrawn_at=clock.now()
    )


def list_adoptions(*, actor: User, organisation_id: uuid.UUID) -> list[CredentialAdoption]:
    """The organisation's adoptions, active first, newest first."""
    organisation = _organisation(organisation_id)
    authorize(actor, "credential.read_adoptions", organisation, hidden="No such organisation.")
    rows = db.session.scalars(
        select(CredentialAdoption)
        .where(CredentialAdoption.organisation_id == organisation.id)
        .order_by(CredentialAdoption.adopted_at.desc(), CredentialAdoption.id)
    )
    return sorted(rows, key=lambda a: not a.is_active)


def offered_to(*, actor: User, organisation_id: uuid.UUID) -> list[dict[str, Any]]:
    """What the organisations above this one share with it: each with its current version and this
    organisation's active adoption (None when not adopted) and whether a newer version is available."""
    organisation = _organisation(organisation_id)
    authorize(actor, "credential.read_adoptions", organisation, hidden="No such organisation.")
    out = []
    for share_row in shares_reaching(organisation.id):
        version = current_version(share_row.micro_credential_id)
        if version is None:
            continue
        adoption = active_adoption_of(organisation.id, share_row.micro_credential_id)
        out.append(
            {
                "share": share_row,
                "version": version,
                "adoption": adoption,
                "newer_available": adoption is not None and adoption.version_id != version.id,
            }
        )
    return out


def sharing_report(*, actor: User, organisation_id: uuid.UUID) -> list[dict[str, Any]]:
    """The organisation's shared micro-credentials, each with the units that adopted it and at which version."""
    organisation = _organisation(organisation_id)
    authorize(actor, "credential.read_adoptions", organisation, hidden="No such organisation.")
    shares = db.session.scalars(
        select(CredentialShare)
        .where(CredentialShare.organisation_id == organisation.id)
        .order_by(CredentialShare.created_at, CredentialShare.id)
    ).all()
    adoptions: dict[uuid.UUID, list[CredentialAdoption]] = {}
    if shares:
        rows = db.session.scalars(
            select(CredentialAdoption)
            .where(CredentialAdoption.micro_credential_id.in_([s.micro_credential_id for s in shares]))
            .order_by(CredentialAdoption.adopted_at, CredentialAdoption.id)
        )
        for row in rows:
            adoptions.setdefault(row.micro_credential_id, []).append(row)
    out = []
    for share_row in shares:
        version = current_version(share_row.micro_credential_id)
        out.append(
            {
                "share": share_row,
                "version": version,
                "adoptions": [
                    {"adoption": a, "current": version is not None and a.version_id == version.id}
                    for a in adoptions.get(share_row.micro_credential_id, [])
                ],
            }
        )
    return out
