"""The task queue for real: `flask worker` processes on Redis, delivering the outbox to an SMTP server.

These tests commit (a worker is another process and sees only committed rows), so they do not use the
rolled-back per-test transaction; each removes the outbox rows it made. Redis keys live under a prefix of
the test's own, removed afterwards, so parallel runs sharing one Redis never see each other's jobs.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from core import clock, create_app, mail
from core.config import PROJECT_ROOT
from core.db import db, unit_of_work
from core.models import OutboxMessage
from tests.conftest import TEST_SECRET_KEY, make_test_config

pytestmark = pytest.mark.redis

DOMAIN = "worker.test"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MailServer:
    """A real SMTP server (aiosmtpd) that can refuse or stall recipients, and records what it accepted."""

    def __init__(self) -> None:
        self.accepted: list[str] = []  # subjects, one per message accepted
        self.attempts: list[float] = []  # monotonic time of each RCPT
        self.refuse = 0  # answer the next N recipients "451 try again later"
        self.stall_next = False  # hold the next recipient until ``released``
        self.stalled = threading.Event()
        self.released = threading.Event()
        self.port = _free_port()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        self.attempts.append(time.monotonic())
        if self.refuse:
            self.refuse -= 1
            return "451 4.3.0 Try again later"
        if self.stall_next:
            self.stall_next = False
            self.stalled.set()
            while not self.released.is_set():
                await asyncio.sleep(0.05)
            return "421 4.3.0 Closing"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        text = envelope.content.decode("utf-8", "replace")
        subject = next((line[9:] for line in text.splitlines() if line.startswith("Subject: ")), "")
        self.accepted.append(subject)
        return "250 Message accepted for delivery"


class Queue:
    """One test's task queue: its Redis prefix, an in-process app that sends jobs, and worker processes."""

    def __init__(self, redis_url: str, database_url: str, smtp_port: int, logs: Path) -> None:
        self.prefix = f"microcred-test-{uuid.uuid4().hex[:12]}"
        self.redis = redis.Redis.from_url(redis_url)
        self.logs = logs
        self.settings: dict[str, Any] = {
            "TASK_QUEUE_URL": redis_url,
            "TASK_QUEUE_PREFIX": self.prefix,
            "TASK_QUEUE_HEARTBEAT_TIMEOUT": 2,
            "TASK_SCHEDULE": "",
            "SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
            "OUTBOX_BACKOFF_SECONDS": 1,
            "OUTBOX_CLAIM_SECONDS": 3,
            "STORAGE_URL": f"file://{logs}",
        }
        self.app = create_app(make_test_config(database_url, **self.settings))
        self.env = {
            **os.environ,
            **{k: str(v) for k, v in make_test_config(database_url, **self.settings).items()},
            "SECRET_KEY": TEST_SECRET_KEY,
            "FLASK_APP": "wsgi",
            "PYTHONUNBUFFERED": "1",
        }
        self.workers: list[subprocess.Popen[bytes]] = []

    def start_worker(self, *extra: str, **settings: Any) -> subprocess.Popen[bytes]:
        seen = self._heartbeats()
        log = (self.logs / f"worker-{len(self.workers)}.log").open("wb")
        env = {**self.env, **{k: str(v) for k, v in settings.items()}}
        process = subprocess.Popen(  # noqa: S603 (our own interpreter, fixed arguments)
            [sys.executable, "-m", "flask", "worker", "--threads", "2", *extra],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: killing it kills Dramatiq's children too
        )
        self.workers.append(process)
        self.wait_for(lambda: self._heartbeats() - seen, "the worker to start", timeout=60)
        return process

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def _heartbeats(self) -> set[bytes]:
        return set(self.redis.zrange(f"{self.prefix}:__heartbeats__", 0, -1))

    def worker_logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(self.logs.glob("worker-*.log")))

    def wait_for(self, condition: Callable[[], Any], what: str, timeout: float = 60) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = condition()
            if result:
                return result
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}\n{self.worker_logs()}")

    def row(self, row_id: uuid.UUID) -> OutboxMessage:
        with self.app.app_context():
            row = db.session.get(OutboxMessage, row_id)
            assert row is not None
            db.session.expunge(row)
            return row

    def write_message(self, subject: str, **columns: Any) -> uuid.UUID:
        """Commit one message through ``mail.send`` (which asks for its delivery job at the commit)."""
        with self.app.app_context():
            with unit_of_work():
                row = mail.send(to=f"someone@{DOMAIN}", subject=subject, body="Hello from the worker tests.")
                for name, value in columns.items():
                    setattr(row, name, value)
            return row.id

    def close(self) -> None:
        for process in self.workers:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)
        with self.app.app_context():
            db.session.execute(sa.delete(OutboxMessage).where(OutboxMessage.to.like(f"%@{DOMAIN}")))
            db.session.commit()
            db.engine.dispose()
        keys = list(self.redis.scan_iter(match=f"{self.prefix}*", count=1000))
        if keys:
            self.redis.delete(*keys)


@pytest.fixture
def smtp() -> Iterator[MailServer]:
    server = MailServer()
    controller = Controller(server, hostname="127.0.0.1", port=server.port)
    controller.start()
    try:
        yield server
    finally:
        server.released.set()
        controller.stop()


@pytest.fixture
def queue(
    request: pytest.FixtureRequest, redis_url: str, database_url: str, smtp: MailServer, tmp_path: Path
) -> Iterator[Queue]:
    request.getfixturevalue("app")  # the migrated schema, after the per-test transaction chose not to wrap us
    made = Queue(redis_url, database_url, smtp.port, tmp_path)
    try:
        yield made
    finally:
        made.close()


def test_a_committed_message_is_delivered_by_a_worker(queue, smtp):
    queue.start_worker()
    row_id = queue.write_message("Delivered by a worker")
    queue.wait_for(lambda: queue.row(row_id).status == "sent", "the message to be sent")
    assert smtp.accepted == ["Delivered by a worker"]
    assert queue.row(row_id).attempts == 1


def test_a_worker_killed_mid_delivery_has_it_done_exactly_once_by_the_next(queue, smtp):
    smtp.stall_next = True
    first = queue.start_worker()
    row_id = queue.write_message("Survives a killed worker")
    assert smtp.stalled.wait(timeout=60), queue.worker_logs()
    queue.kill(first)  # SIGKILL in the middle of the SMTP conversation: no ack, no cleanup
    smtp.released.set()
    held = queue.row(row_id)
    assert (held.status, held.attempts, smtp.accepted) == ("sending", 1, [])

    queue.start_worker()  # its broker returns the dead worker's job to the queue once the heartbeat is stale
    queue.wait_for(lambda: queue.row(row_id).status == "sent", "the restarted worker to deliver", timeout=90)
    time.sleep(3)  # time for a duplicate to show itself
    assert smtp.accepted == ["Survives a killed worker"]
    assert queue.row(row_id).attempts == 2


def test_refused_deliveries_are_retried_with_exponential_backoff(queue, smtp):
    smtp.refuse = 2
    queue.start_worker()
    row_id = queue.write_message("Third time lucky")
    queue.wait_for(lambda: queue.row(row_id).status == "sent", "the third attempt", timeout=60)
    first, second, third = smtp.attempts
    assert second - first >= 0.9  # OUTBOX_BACKOFF_SECONDS = 1, then doubled
    assert third - second >= 1.9
    row = queue.row(row_id)
    assert (row.attempts, smtp.accepted) == (3, ["Third time lucky"])
    assert "Try again later" in row.last_error


def test_duplicated_jobs_deliver_a_message_once(queue, smtp):
    row_id = queue.write_message("Sent three times, delivered once")  # its job waits on the queue
    with queue.app.app_context():
        for _ in range(3):
            queue.app.extensions["tasks"].send("outbox.deliver", {"message_id": str(row_id)})
    queue.start_worker()
    queue.wait_for(lambda: queue.row(row_id).status == "sent", "the message to be sent")
    queue.wait_for(lambda: queue.redis.llen(f"{queue.prefix}:mail") == 0, "the duplicates to be consumed")
    time.sleep(2)
    assert smtp.accepted == ["Sent three times, delivered once"]
    assert queue.row(row_id).attempts == 1


def test_the_scheduler_sweeps_up_a_message_whose_job_was_lost(queue, smtp):
    queue.app.config["OUTBOX_INLINE"] = False  # no job at commit: only the sweep can deliver it
    row_id = queue.write_message("Found by the sweep", created_at=clock.now() - timedelta(minutes=5))
    queue.start_worker("--with-scheduler", TASK_SCHEDULE="outbox.sweep=1")
    queue.wait_for(lambda: queue.row(row_id).status == "sent", "the sweep to deliver it")
    assert smtp.accepted == ["Found by the sweep"]


def test_two_schedulers_send_each_periodic_job_once_per_slot(queue):
    tasks = queue.app.extensions["tasks"]
    schedule = [("outbox.sweep", 60), ("review.stale_claims", 3600)]
    with queue.app.app_context():
        now = time.time()
        assert tasks.schedule_tick(schedule, now) == ["outbox.sweep", "review.stale_claims"]
        assert tasks.schedule_tick(schedule, now + 1) == []  # another scheduler, same slots
        assert tasks.schedule_tick(schedule, now + 60) == ["outbox.sweep"]
    assert queue.redis.llen(f"{queue.prefix}:default") == 3
