"""Review: the queue, claims, blind scoring, decisions, double scoring, calibration, appeals, reports.

Where things live:

* ``models``: qualifications, review tasks and claims, reviews and scores, calibration anchors and attempts,
  appeals, programme settings;
* ``access``: who may manage, assess, report and mark anchors (rules registered with ``core.authz``);
* ``qualifications``: who may assess (and lead) which micro-credential;
* ``settings``: programme settings (double scoring, turnaround, lease, calibration);
* ``queue``: submitted work onto the queue, listing it, claim-next, release, stale claims;
* ``sla``: due dates in business days, the calendar of non-working days, reminders, breaches, overdue work;
* ``conflicts``: conflicts of interest (declared, same unit, same district) for the claim query, and the
  declarations; ``waiting``: why a submission waits, for admins; ``conflict_views``: the declarations page;
* ``scoring``: what a blind assessor sees, evidence downloads, saving and submitting scores;
* ``decisions``: the passing rule, agreement of two reviews, adjudication, the final decision;
* ``appeals`` and ``calibration``: an earner's appeal; anchors, calibration sets and attempts;
* ``reports``: throughput, pass rate, turnaround, inter-rater agreement;
* ``issuance``: the seam through which a pass reaches the badges domain;
* ``jobs``: the periodic jobs (stale claims, new submissions, due dates) for the task queue;
* ``schemas`` / ``api``, ``views`` + ``templates/``, ``cli``, ``demo_data``.
"""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this domain's blueprints, commands and demo steps."""
    from assessors import api, cli, dashboard, demo_data, jobs, models, views  # noqa: F401 (jobs, models, demo_data: register)

    api.init_app(app)
    cli.init_app(app)
    # Their pages join the review blueprint before it is registered.
    from assessors import calibration_views, conflict_views  # noqa: F401

    views.init_app(app)
    dashboard.init_app()
    # A withdrawn submission leaves the queue in the same transaction.
    from assessors import queue
    from credentials.portfolios import services as portfolios

    portfolios.on_withdrawn(queue.cancel_queued)
    from assessors import personal_data
    from core import privacy

    privacy.register_exporter("assessors", personal_data.export)
    privacy.register_eraser("assessors", personal_data.erase)
