"""Background jobs: on a Dramatiq task queue over Redis when ``TASK_QUEUE_URL`` is set, inline when it is not.

A domain registers a job with ``@job("name")`` (a plain function taking JSON-able keyword arguments) and asks
for it with ``enqueue("name", …)`` inside its transaction: the job is sent only once that transaction commits
(``core.db.after_commit``), and forgotten if it rolls back, so a worker never looks for rows that do not
exist yet. Without a queue the job runs in the same process right after the commit, which keeps a
SQLite-only install working with nothing else running.

Every job must be idempotent: the queue delivers at least once (a worker killed mid-job has its job handed
to another), so a job that runs twice must change nothing the second time. Jobs do that with a status
transition made in one conditional UPDATE (see ``core.mail``). A job that must try again later raises
``RetryLater(delay)``; on the queue that becomes Dramatiq's retry after ``delay``, inline it is left to the
periodic sweep (``flask outbox send`` from cron, or the scheduler).

The scheduler (``flask scheduler``, or ``flask worker --with-scheduler``) sends the jobs of
``TASK_SCHEDULE`` at their intervals; each (job, time slot) is claimed with a Redis ``SET NX``, so any number
of scheduler processes on any number of hosts send each periodic job once per slot.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from core.config import ConfigError, parse_schedule
from core.db import after_commit, db, run_after_commit

log = logging.getLogger("microcred.tasks")

_PENDING = "tasks_pending"
# The broker returns a dead worker's unfinished jobs during "maintenance", run on a share of its calls to
# Redis (Dramatiq's default is one in a thousand). A fifth keeps recovery within seconds of the heartbeat
# timeout; each run is a handful of cheap Redis commands.
_MAINTENANCE_CHANCE = 200_000


class RetryLater(Exception):
    """Raised by a job that has recorded its failure and must run again after ``delay`` seconds."""

    def __init__(self, reason: str, *, delay: float) -> None:
        super().__init__(reason)
        self.delay = delay


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[..., object]
    queue: str
    max_retries: int


_registry: dict[str, Job] = {}


def job(name: str, *, queue: str = "default", max_retries: int = 20) -> Callable[[Callable[..., Any]], Any]:
    """Register ``fn`` as the job ``name`` (``max_retries``: unexpected errors and ``RetryLater`` together)."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        _registry[name] = Job(name=name, run=fn, queue=queue, max_retries=max_retries)
        return fn

    return register


def registered() -> dict[str, Job]:
    return dict(_registry)


def _check(name: str, kwargs: dict[str, Any]) -> None:
    if name not in _registry:
        raise LookupError(f"no job named {name!r}")
    json.dumps(kwargs)  # a message is JSON on the queue; fail here, in the caller, not in the worker


def enqueue(name: str, **kwargs: Any) -> None:
    """Run the job once the current transaction commits: sent to the queue, or run inline without one."""
    _check(name, kwargs)
    db.session.connection()  # begin the transaction now, so its rollback (an event) forgets the job
    db.session.info.setdefault(_PENDING, []).append((name, kwargs))


def send(name: str, *, delay: float | None = None, **kwargs: Any) -> None:
    """Send the job now, outside any transaction (scheduler, CLI); inline without a queue (``delay`` ignored)."""
    _check(name, kwargs)
    queue: TaskQueue | None = current_app.extensions.get("tasks")
    if queue is None:
        run_inline(name, kwargs)
    else:
        queue.send(name, kwargs, delay=delay)


@event.listens_for(Session, "after_soft_rollback")
def _forget_pending(session: Session, previous_transaction: SessionTransaction) -> None:
    """Jobs asked for by a rolled-back transaction were never asked for."""
    if not previous_transaction.nested:
        session.info.pop(_PENDING, None)


@after_commit
def _dispatch_pending() -> None:
    pending = db.session.info.pop(_PENDING, [])
    for name, kwargs in pending:
        queue: TaskQueue | None = current_app.extensions.get("tasks")
        if queue is None:
            run_inline(name, kwargs)
            continue
        try:
            queue.send(name, kwargs)
        except Exception as exc:  # Redis down: the change is committed; the job's periodic sweep catches up
            log.warning("could not queue job %s (%s); its periodic sweep will pick the work up", name, exc)


def run_inline(name: str, kwargs: dict[str, Any]) -> None:
    """Run a job in this process. Its failure is logged, never raised: the change that asked for it committed."""
    try:
        _registry[name].run(**kwargs)
    except RetryLater as exc:
        log.info("job %s will be retried by its sweep: %s", name, exc)
    except Exception:
        db.session.rollback()
        log.exception("job %s failed", name)
    else:
        run_after_commit()  # what the job's own commits asked for (a job that mails, say)


class TaskQueue:
    """The Dramatiq broker of one app, with an actor per registered job."""

    def __init__(self, app: Flask) -> None:
        import dramatiq
        from dramatiq.brokers.redis import RedisBroker

        self.prefix = app.config["TASK_QUEUE_PREFIX"]
        self.broker = RedisBroker(
            url=app.config["TASK_QUEUE_URL"],
            namespace=self.prefix,
            heartbeat_timeout=app.config["TASK_QUEUE_HEARTBEAT_TIMEOUT"] * 1000,
            maintenance_chance=_MAINTENANCE_CHANCE,
        )
        self.actors = {
            spec.name: dramatiq.Actor(
                _performer(app, spec),
                broker=self.broker,
                actor_name=spec.name,
                queue_name=spec.queue,
                priority=0,
                options={"max_retries": spec.max_retries},
            )
            for spec in _registry.values()
        }

    def send(self, name: str, kwargs: dict[str, Any], *, delay: float | None = None) -> None:
        actor = self.actors[name]
        if delay:
            actor.send_with_options(kwargs=kwargs, delay=int(delay * 1000))
        else:
            actor.send(**kwargs)

    def schedule_tick(self, schedule: list[tuple[str, int]], now: float) -> list[str]:
        """Send each periodic job whose slot (``now // every``) no scheduler has sent yet; the names sent."""
        sent = []
        for name, every in schedule:
            slot = int(now // every)
            key = f"{self.prefix}:schedule:{name}:{slot}"
            if self.broker.client.set(key, "1", nx=True, ex=every * 2 + 60):
                self.send(name, {})
                sent.append(name)
        return sent


def _performer(app: Flask, spec: Job) -> Callable[..., None]:
    """The function Dramatiq calls: the job in an app context of its own, ``RetryLater`` as a timed retry."""
    import dramatiq

    def perform(**kwargs: Any) -> None:
        with app.app_context():
            try:
                spec.run(**kwargs)
                run_after_commit()  # send the jobs its own commits asked for
            except RetryLater as exc:
                db.session.rollback()
                raise dramatiq.Retry(str(exc), delay=max(1, int(exc.delay * 1000))) from None
            except BaseException:
                db.session.rollback()
                raise
            finally:
                db.session.remove()

    perform.__name__ = perform.__qualname__ = spec.name.replace(".", "_")
    perform.__module__ = spec.run.__module__
    return perform


def run_scheduler(app: Flask, stop: threading.Event, *, tick: float = 1.0) -> None:
    """Send the periodic jobs of ``TASK_SCHEDULE`` until ``stop`` is set."""
    queue: TaskQueue = app.extensions["tasks"]
    schedule = parse_schedule(app.config["TASK_SCHEDULE"])
    log.info("scheduler: %s", ", ".join(f"{name} every {every} s" for name, every in schedule) or "nothing")
    while not stop.is_set():
        try:
            for name in queue.schedule_tick(schedule, time.time()):
                log.info("scheduler sent %s", name)
        except Exception as exc:  # Redis away for a moment: try again at the next tick
            log.warning("scheduler: %s", exc)
        stop.wait(tick)


def init_app(app: Flask) -> None:
    """After the domains registered their jobs: check the schedule, and build the queue when one is configured."""
    for name, _ in parse_schedule(app.config["TASK_SCHEDULE"]):
        if name not in _registry:
            raise ConfigError(f"TASK_SCHEDULE names no job {name!r} (jobs: {', '.join(sorted(_registry))})")
    if app.config["TASK_QUEUE_URL"]:
        app.extensions["tasks"] = TaskQueue(app)
