"""An issuer's logo: the ``image`` of its Open Badges Profile, shown on its issuer page and carried by every
badge it issues from then on. Uploads pass the same checks as badge images (a PNG of at most 2048x2048 pixels,
or an SVG rebuilt from drawing elements only) and are stored content-addressed beside them."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import exists, select

from badges import documents
from badges.access import _base, _organisation
from badges.models import IssuerLogo
from core import audit
from core.authz import authorize
from core.checklist import register_step
from core.db import db
from core.errors import NotFound
from core.models import Organisation, User
from credentials.authoring.images import check_badge_image, digest
from credentials.authoring.models import CredentialImage


def set_logo(*, actor: User, organisation_id: uuid.UUID, data: bytes) -> IssuerLogo:
    """Use an uploaded PNG or SVG (sanitised) as the organisation's logo (its admins)."""
    organisation = _organisation(organisation_id)
    authorize(actor, "organisation.update", organisation, hidden="No such organisation.")
    media_type, clean = check_badge_image(data)
    image_id = digest(clean)
    image = db.session.get(CredentialImage, image_id) or CredentialImage(id=image_id, media_type=media_type, data=clean)
    row = db.session.get(IssuerLogo, organisation.id)
    before = {"image": row.image_id} if row else None
    if row is None:
        row = IssuerLogo(organisation_id=organisation.id, image=image)
        db.session.add(row)
    else:
        row.image = image
    db.session.flush()
    audit.record(
        actor=actor,
        action="issuer.logo_set",
        obj=organisation,
        organisation_id=organisation.id,
        before=before,
        after={"image": image_id, "media_type": media_type},
    )
    return row


def remove_logo(*, actor: User, organisation_id: uuid.UUID) -> None:
    organisation = _organisation(organisation_id)
    authorize(actor, "organisation.update", organisation, hidden="No such organisation.")
    row = db.session.get(IssuerLogo, organisation.id)
    if row is None:
        raise NotFound("The organisation has no logo.")
    before = {"image": row.image_id}
    db.session.delete(row)
    db.session.flush()
    audit.record(
        actor=actor, action="issuer.logo_removed", obj=organisation, organisation_id=organisation.id, before=before
    )


def logo_of(*, organisation_id: uuid.UUID) -> CredentialImage:
    """The logo itself (public, as the Profile that links to it)."""
    row = db.session.get(IssuerLogo, organisation_id)
    if row is None:
        raise NotFound("The organisation has no logo.")
    return row.image


def has_logo(organisation: Organisation) -> bool:
    return bool(db.session.scalar(select(exists().where(IssuerLogo.organisation_id == organisation.id))))


def url_of(organisation_id: uuid.UUID) -> str:
    return f"{documents.issuer_id(_base(), organisation_id)}/logo"


def logo_url(organisation: Organisation) -> str | None:
    """The logo's public URL for the Profile's ``image``, or None without one."""
    return url_of(organisation.id) if has_logo(organisation) else None


def profile(organisation: Organisation) -> dict[str, Any]:
    """The issuer's Profile with its logo, for badges and the issuer page."""
    return documents.profile(organisation, _base(), image=logo_url(organisation))


def register_checklist_step() -> None:
    register_step(
        "issuer_logo",
        label="Add your logo",
        hint="A PNG or SVG shown on your issuer page and carried by the badges you issue.",
        order=12,
        done=has_logo,
        endpoint="issuing.issuer",
    )
