"""The OB 3.0 API, "Host" role (docs/api.md, "OB 3.0 API"): ``oauth`` (the Authlib authorization server and
the bearer check), ``models`` (clients, approvals, codes, tokens), ``services`` (credentials, profile,
approvals), ``api`` (``/ims/ob/v3p0``: discovery, OAuth endpoints, credentials, profile), ``views`` (the
consent page and the earner's list of approved applications)."""

from flask import Flask


def init_app(app: Flask) -> None:
    from badges.host import api, models, oauth, services, views  # noqa: F401 (tables)
    from core import privacy

    privacy.register_exporter("ob_api", services.export_personal_data)
    privacy.register_eraser("ob_api", services.erase_personal_data)

    oauth.init_app(app)
    api.init_app(app)
    views.init_app(app)
