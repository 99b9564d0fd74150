"""Who may do what with issued badges, and the two lookups every issuing module needs.

The badges domain's authorisation rules live here, in one place: revoking or renewing a badge, managing an
issuer's signing keys, importing past awards. Each module that acts checks them through ``core.authz.authorize``.
``_base`` is the public base URL every identifier is built on; ``_organisation`` finds an organisation or
answers 404.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app

from core.authz import has_role, rule
from core.db import db
from core.errors import NotFound
from core.models import Organisation, Role, User


@rule("badge.revoke", description="revoke, suspend, reinstate or renew this organisation's badges")
def _may_revoke(actor: User | None, badge: Any) -> bool:
    return has_role(actor, badge, Role.ORG_ADMIN)


@rule("issuer.manage_keys", description="manage this organisation's signing keys")
def _may_manage_keys(actor: User | None, organisation: Any) -> bool:
    return has_role(actor, organisation, Role.ORG_ADMIN)


@rule("badge.import", description="import past awards for this organisation")
def _may_import(actor: User | None, organisation: Any) -> bool:
    return has_role(actor, organisation, Role.ORG_ADMIN)


@rule("badge.settings", description="set this organisation's issuing policy (require the earner's acceptance)")
def _may_set_policy(actor: User | None, organisation: Any) -> bool:
    return has_role(actor, organisation, Role.ORG_ADMIN)


def _base() -> str:
    return str(current_app.config["BASE_URL"])


def _organisation(organisation_id: uuid.UUID) -> Organisation:
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound("No such organisation.")
    return organisation
