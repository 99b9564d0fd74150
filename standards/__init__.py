"""The standards domain: CASE frameworks, standard items, search and alignment URLs (see DESIGN.md)."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this domain's API, pages, commands and demo step."""
    from standards import api, cli, models, views  # noqa: F401 (models: registers the tables)

    api.init_app(app)
    views.init_app(app)
    cli.init_app(app)
