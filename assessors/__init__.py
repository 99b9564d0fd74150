"""Review: the queue, claims, blind scoring, decisions, double scoring, calibration, appeals, reports."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this domain's blueprints, commands and demo steps."""
    from assessors import models  # noqa: F401 (registers the tables)
