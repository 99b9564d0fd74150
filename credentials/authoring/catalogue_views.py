"""The public catalogue: published micro-credentials with filters, and each one's page.

Anyone may browse it (no sign-in). Filters: words in the title or description (``q``), a topic (``tag``),
an organisation, a standards framework, or one standard item (``standard``, linked from each page's
alignments). The catalogue page of a version is ``/catalogue/<version id>``.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, Flask, Response, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from core.auth import current_user
from core.db import clamp_page, db
from core.models import Organisation
from core.views import register_nav, text_arg
from credentials.authoring import catalogue, images, offerings, versions
from credentials.authoring.adoption_models import AdoptionState, CredentialAdoption
from credentials.authoring.models import CredentialVersion, VersionState
from standards import frameworks as standards

bp = Blueprint("catalogue", __name__, url_prefix="/catalogue", template_folder="templates")
PAGE_SIZE = 24


def _uuid_arg(name: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(request.args.get(name, ""))
    except ValueError:
        return None


def _publishing_organisations() -> list[Organisation]:
    """Organisations with something in the catalogue (for the filter's choices)."""
    publishing = select(CredentialVersion.organisation_id).where(
        CredentialVersion.state == VersionState.PUBLISHED.value
    )
    adopting = select(CredentialAdoption.organisation_id).where(CredentialAdoption.state == AdoptionState.ACTIVE.value)
    return list(
        db.session.scalars(
            select(Organisation)
            .where(or_(Organisation.id.in_(publishing), Organisation.id.in_(adopting)))
            .order_by(Organisation.name)
        )
    )


@bp.get("/")
def index() -> str:
    q = text_arg("q")
    tag = text_arg("tag", 50)
    filters: dict[str, Any] = {
        "q": q or None,
        "tag": tag or None,
        "organisation": _uuid_arg("organisation"),
        "framework": _uuid_arg("framework"),
        "standard": _uuid_arg("standard"),
    }
    page_number = clamp_page(request.args.get("page", 1, type=int))
    page = catalogue.catalogue(page=page_number, page_size=PAGE_SIZE, **filters)
    standard_item = None
    if filters["standard"]:
        standard_item = standards.get_items(ids=[filters["standard"]]).get(filters["standard"])
    return render_template(
        "credentials/catalogue/index.html",
        versions=page.items,
        total=page.total,
        page=page_number,
        pages=max(1, -(-page.total // PAGE_SIZE)),
        filters=filters,
        q=q,
        tag=tag,
        standard_item=standard_item,
        organisations=_publishing_organisations(),
        frameworks=standards.list_frameworks(page=1, page_size=200).items,
    )


@bp.get("/<uuid:version_id>")
def credential(version_id: uuid.UUID) -> str:
    version = versions.get_version(actor=current_user(), version_id=version_id)
    newer = [
        v
        for v in version.micro_credential.versions
        if v.state == VersionState.PUBLISHED.value and v.number > version.number
    ]
    return render_template(
        "credentials/catalogue/credential.html",
        version=version,
        aligned=catalogue.aligned_items(version),
        newer=newer[0] if newer else None,
        offerings=offerings.for_version(version),
        via=_uuid_arg("via"),
    )


@bp.get("/<uuid:version_id>/image")
def image(version_id: uuid.UUID) -> Response:
    picture = images.image_of(actor=current_user(), version_id=version_id)
    response = Response(picture.data, mimetype=picture.media_type)
    response.headers["Cache-Control"] = "public, max-age=3600" if picture.public else "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    register_nav(_l("Catalogue"), "catalogue.index", order=10)
