"""Authoring: micro-credentials, versions, requirements, rubrics, stacks (and, later, submissions)."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this domain's API, commands and demo steps."""
    from credentials import api, cli, models  # noqa: F401 (models: registers the tables)

    api.init_app(app)
    cli.init_app(app)
    __import__("credentials.authoring_views").authoring_views.init_app(app)  # author + catalogue pages
