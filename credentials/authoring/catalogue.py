"""The public catalogue of published micro-credentials (filters by words, topic, organisation, framework, standard
item) and a version's standards alignments as shown to people.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import exists, select

from core.db import Page, db, paginate
from credentials.authoring import offerings
from credentials.authoring.models import (
    Alignment,
    CredentialTag,
    CredentialVersion,
    VersionState,
)
from credentials.authoring.versions import normalise_tag, text_match
from standards.frameworks import alignment_url
from standards.models import Framework, StandardItem


def catalogue(
    *,
    page: int,
    page_size: int,
    q: str | None = None,
    tag: str | None = None,
    standard: uuid.UUID | None = None,
    framework: uuid.UUID | None = None,
    organisation: uuid.UUID | None = None,
) -> Page[CredentialVersion]:
    """Published, non-retired versions: what earners can start. Public. With ``organisation``: what that organisation
    offers, its own and those it adopted (pinned, perhaps older) or that organisations above it issue centrally."""
    if organisation:
        stmt = select(CredentialVersion).where(offerings.catalogue_condition(organisation))
    else:
        stmt = select(CredentialVersion).where(CredentialVersion.state == VersionState.PUBLISHED.value)
    if tag:
        stmt = stmt.where(
            exists().where(CredentialTag.version_id == CredentialVersion.id, CredentialTag.tag == normalise_tag(tag))
        )
    if standard:
        stmt = stmt.where(
            exists().where(Alignment.version_id == CredentialVersion.id, Alignment.standard_item_id == standard)
        )
    if framework:
        stmt = stmt.where(
            exists().where(
                Alignment.version_id == CredentialVersion.id,
                Alignment.standard_item_id == StandardItem.id,
                StandardItem.framework_id == framework,
            )
        )
    if q:
        stmt = stmt.where(text_match(q))
    return paginate(
        stmt.order_by(CredentialVersion.published_at.desc(), CredentialVersion.id),
        page=page,
        page_size=page_size,
    )


def aligned_items(version: CredentialVersion) -> list[dict[str, Any]]:
    """The standard items a version is aligned to, with the URL an Open Badges alignment should use."""
    ids = [a.standard_item_id for a in version.alignments]
    if not ids:
        return []
    rows = db.session.execute(
        select(StandardItem, Framework.title)
        .join(Framework, Framework.id == StandardItem.framework_id)
        .where(StandardItem.id.in_(ids))
    ).all()
    by_id = {item.id: (item, title) for item, title in rows}
    out = []
    for item_id in ids:
        item, framework_title = by_id[item_id]
        out.append(
            {
                "id": item.id,
                "framework_id": item.framework_id,
                "framework_title": framework_title,
                "code": item.human_coding_scheme,
                "statement": item.full_statement,
                "url": alignment_url(item),
            }
        )
    return out
