"""Earners' portfolios: submissions with their evidence. Where things live:

* ``models``: submissions, answers, evidence files, the per-criterion feedback an earner receives;
* ``services``: start, save drafts (optimistic concurrency), submit, withdraw, next attempt, what still
  needs attention, links checked;
* ``evidence``: evidence files checked (size, type sniffed from content, executables refused), stored
  content-addressed, downloaded and removed;
* ``schemas`` / ``api``: the REST API; ``views``: the earner's pages under ``/portfolio/``; ``demo_data``:
  the demo step.

Portfolios build on ``credentials.authoring`` (a submission answers one published version's requirements);
the review domain (``assessors``) builds on portfolios.
"""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the portfolio API, pages and demo step, and tell storage which files are still referenced."""
    from core import storage
    from credentials.portfolios import api, dashboard, demo_data, evidence, models, retention, views  # noqa: F401 (tables, demo, jobs)

    api.init_app(app)
    views.init_app(app)
    dashboard.init_app()
    storage.register_referrer(evidence.referenced_digests)
    storage.storage_cli.add_command(retention.purge_command)
    from core import privacy
    from credentials.portfolios import personal_data

    privacy.register_exporter("portfolios", personal_data.export)
    privacy.register_eraser("portfolios", personal_data.erase)
    privacy.register_ties("portfolios", personal_data.earners_of)
