"""Authoring (micro-credentials, versions, requirements, rubrics, stacks) and earners' submissions with evidence."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this domain's API, commands and demo steps."""
    from core import storage
    from credentials import api, cli, models, submission_api, submission_demo, submission_views, submissions  # noqa: F401

    api.init_app(app)
    cli.init_app(app)
    submission_api.init_app(app)
    submission_views.init_app(app)
    storage.register_referrer(submissions.referenced_digests)
