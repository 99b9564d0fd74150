"""Review: the queue, claims, blind scoring, decisions, double scoring, calibration, appeals, reports."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this domain's blueprints, commands and demo steps."""
    from assessors import api, cli, demo_data, models, views  # noqa: F401 (models, demo_data: register themselves)

    api.init_app(app)
    cli.init_app(app)
    views.init_app(app)
    # A withdrawn submission leaves the queue in the same transaction.
    from assessors import services
    from credentials.portfolios import services as portfolios

    portfolios.on_withdrawn(services.cancel_queued)
