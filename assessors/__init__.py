"""Review: the queue, claims, blind scoring, decisions, double scoring, calibration, appeals, reports."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this domain's blueprints, commands and demo steps."""
    from assessors import api, models  # noqa: F401 (models: registers the tables)

    api.init_app(app)
