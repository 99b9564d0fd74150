"""Jobs without a task queue: they run inline, once, only after the transaction that asked for them commits."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from core import tasks
from core.db import db, unit_of_work

ran: list[dict[str, Any]] = []


@tasks.job("tests.record")
def _record(**kwargs: Any) -> None:
    ran.append(kwargs)


@tasks.job("tests.explode")
def _explode() -> None:
    raise RuntimeError("boom")


@pytest.fixture(autouse=True)
def _clear() -> None:
    ran.clear()


def test_a_job_runs_after_the_commit_not_before(app, session):
    with unit_of_work():
        tasks.enqueue("tests.record", n=1)
        assert ran == []
    assert ran == [{"n": 1}]


def test_a_job_asked_for_in_a_rolled_back_transaction_never_runs(app, session):
    with pytest.raises(ZeroDivisionError), unit_of_work():
        tasks.enqueue("tests.record", n=2)
        1 / 0  # noqa: B018
    with unit_of_work():
        pass
    assert ran == []


def test_a_request_that_fails_sends_no_job_and_one_that_succeeds_does(app, session):
    from flask import Response

    from core import _commit_or_rollback  # the request boundary

    with app.test_request_context():
        tasks.enqueue("tests.record", n=3)
        _commit_or_rollback(Response(status=409))
        assert ran == []
        tasks.enqueue("tests.record", n=4)
        _commit_or_rollback(Response(status=200))
    assert ran == [{"n": 4}]


def test_unknown_jobs_and_arguments_that_are_not_json_are_refused_at_once(app, session):
    with pytest.raises(LookupError):
        tasks.enqueue("tests.nothing")
    with pytest.raises(TypeError):
        tasks.enqueue("tests.record", when=object())


def test_an_inline_failure_is_logged_not_raised_into_the_committed_caller(app, session, caplog):
    with caplog.at_level(logging.ERROR, logger="microcred.tasks"), unit_of_work():
        tasks.enqueue("tests.explode")
    assert "job tests.explode failed" in caplog.text


def test_send_outside_a_transaction_runs_inline_without_a_queue(app, session):
    tasks.send("tests.record", n=5, delay=30)
    assert ran == [{"n": 5}]


def test_worker_and_scheduler_refuse_to_start_without_a_queue(app):
    runner = app.test_cli_runner()
    for command in ("worker", "scheduler"):
        result = runner.invoke(args=[command])
        assert result.exit_code == 2 and "TASK_QUEUE_URL is not set" in result.output


def test_every_domain_job_is_registered(app):
    assert {"outbox.deliver", "outbox.sweep", "review.stale_claims", "review.enqueue", "badges.import_awards"} <= set(
        tasks.registered()
    )


@tasks.job("tests.chain")
def _chain() -> None:
    tasks.enqueue("tests.record", n="chained")  # a job whose own commit (not a boundary) asks for another
    db.session.commit()


def test_a_job_asked_for_by_a_job_runs_too(app, session):
    tasks.send("tests.chain")
    assert ran == [{"n": "chained"}]
