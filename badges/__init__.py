"""Issuing (see DESIGN.md): keys, Open Badges 3.0 documents and proofs, status lists, public pages, verifier."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this domain's pages, API, commands, demo step and the issuance handler."""
    from assessors import issuance
    from badges import admin_views, api, cli, demo_data, models, services, verify, views  # noqa: F401 (models: the tables)

    issuance.register(services.issue_for_award)
    views.init_app(app)
    admin_views.init_app(app)
    api.init_app(app)
    cli.init_app(app)
    verify.init_app(app)
