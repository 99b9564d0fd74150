"""Authoring (micro-credentials, versions, requirements, rubrics, stacks) and earners' submissions with evidence."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this domain's API, commands and demo steps."""
    from core import storage
    from credentials import (  # noqa: F401 (models: registers the tables; submission_demo: its demo step)
        api,
        authoring_views,
        cli,
        models,
        submission_api,
        submission_demo,
        submission_views,
        submissions,
    )

    api.init_app(app)
    cli.init_app(app)
    submission_api.init_app(app)
    submission_views.init_app(app)
    storage.register_referrer(submissions.referenced_digests)
    authoring_views.init_app(app)
