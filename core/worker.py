"""What Dramatiq's CLI loads in each worker process: ``dramatiq core.worker:broker`` (``flask worker`` runs it).

The app is built from the environment, as ``wsgi.py`` builds it, so a worker sees the same settings as the
web processes; it needs ``TASK_QUEUE_URL``. ``scheduler`` is the fork function of
``flask worker --with-scheduler``: one more process that sends the periodic jobs of ``TASK_SCHEDULE``.
"""

from __future__ import annotations

import threading

from core import create_app, tasks

app = create_app()
if "tasks" not in app.extensions:
    raise SystemExit("TASK_QUEUE_URL is not set: there is no task queue to work for (jobs run inline)")
broker = app.extensions["tasks"].broker


def scheduler() -> int:
    """Run the scheduler until Dramatiq stops this fork process (it exits on SIGTERM)."""
    tasks.run_scheduler(app, threading.Event())
    return 0
