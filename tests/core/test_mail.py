"""The mail outbox: messages exist only if their transaction commits, and go out after it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from core import clock, mail, tasks
from core.db import unit_of_work
from core.models import OutboxMessage
from tests.factories import UserFactory


def _rows(session: Any) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at)))


def test_a_request_writes_the_message_and_delivers_it_after_commit(client, session):
    user = UserFactory(email="outbox@example.org")
    response = client.post("/api/v1/auth/password-reset", json={"email": user.email})
    assert response.status_code == 202
    [row] = _rows(session)
    assert row.to == "outbox@example.org" and row.sent_at is not None and row.attempts == 1


def test_a_rolled_back_transaction_leaves_no_message_and_no_job(app, session, monkeypatch):
    calls: list[Any] = []
    monkeypatch.setattr(mail, "transport", calls.append)
    mail.send(to="nobody@example.org", subject="Never", body="Rolled back.")
    session.rollback()
    assert _rows(session) == []
    with unit_of_work():
        pass  # the next commit must not deliver what the rolled-back transaction asked for
    assert calls == []


def test_smtp_when_configured_and_retry_from_the_command(app, session, monkeypatch):
    delivered: list[Any] = []

    class FakeSMTP:
        def __init__(self, host: str, port: int, timeout: int) -> None:
            self.where = (host, port)

        def __enter__(self) -> FakeSMTP:
            return self

        def __exit__(self, *exc: Any) -> None:
            return None

        def login(self, user: str, password: str) -> None:
            self.user = (user, password)

        def send_message(self, message: Any) -> None:
            delivered.append((self.where, self.user, message["To"], message["Subject"]))

    monkeypatch.setitem(app.config, "OUTBOX_INLINE", False)
    with unit_of_work():
        mail.send(to="a@example.org", subject="Hello", body="Body")
    assert _rows(session)[0].status == "pending"  # not inline: left for the command
    monkeypatch.setitem(app.config, "SMTP_URL", "smtp://me:s%40cret@mail.example.org:2525")
    monkeypatch.setattr(mail.smtplib, "SMTP", FakeSMTP)
    result = app.test_cli_runner().invoke(args=["outbox", "send"])
    assert "Delivered 1" in result.output
    assert delivered == [(("mail.example.org", 2525), ("me", "s@cret"), "a@example.org", "Hello")]


def test_a_failed_delivery_is_kept_for_the_next_run(app, session, monkeypatch):
    def broken(message: Any) -> None:
        raise OSError("connection refused")

    monkeypatch.setattr(mail, "transport", broken)
    monkeypatch.setitem(app.config, "OUTBOX_INLINE", False)
    mail.send(to="b@example.org", subject="Hi", body="x")
    assert mail.deliver_all() == 0
    [row] = _rows(session)
    assert row.sent_at is None and row.attempts == 1 and "refused" in row.last_error
    assert row.status == "pending" and row.next_attempt_at is not None


# --- idempotent delivery, retries with backoff ---------------------------------------------------------


def _queued(session: Any, monkeypatch: pytest.MonkeyPatch, app: Any) -> OutboxMessage:
    monkeypatch.setitem(app.config, "OUTBOX_INLINE", False)
    with unit_of_work():
        row = mail.send(to="c@example.org", subject="Once", body="Only once.")
    return row


def test_a_duplicated_or_retried_delivery_sends_once(app, session, monkeypatch):
    delivered: list[Any] = []
    monkeypatch.setattr(mail, "transport", delivered.append)
    row = _queued(session, monkeypatch, app)
    assert mail.deliver(str(row.id)) is True
    assert mail.deliver(str(row.id)) is False  # the duplicate finds the row sent
    assert mail.deliver_all() == 0
    assert [m.subject for m in delivered] == ["Once"]
    session.refresh(row)
    assert (row.status, row.attempts) == ("sent", 1)


def test_a_message_held_by_another_attempt_is_retried_after_its_lease(app, session, monkeypatch):
    delivered: list[Any] = []
    monkeypatch.setattr(mail, "transport", delivered.append)
    row = _queued(session, monkeypatch, app)
    with unit_of_work():  # a worker claimed it, then died mid-send
        row.status, row.claimed_until, row.attempts = "sending", clock.now() + timedelta(seconds=300), 1
    with pytest.raises(tasks.RetryLater) as held:
        mail.deliver(str(row.id))
    assert 299 <= held.value.delay <= 300
    assert delivered == []
    with clock.shifted(timedelta(seconds=301)):
        assert mail.deliver_all() == 1
    session.refresh(row)
    assert (row.status, row.attempts, len(delivered)) == ("sent", 2, 1)


def test_failures_back_off_exponentially_then_give_up(app, session, monkeypatch):
    def refused(message: Any) -> None:
        raise OSError("connection refused")

    monkeypatch.setattr(mail, "transport", refused)
    monkeypatch.setitem(app.config, "OUTBOX_BACKOFF_SECONDS", 10)
    monkeypatch.setitem(app.config, "OUTBOX_MAX_ATTEMPTS", 3)
    row = _queued(session, monkeypatch, app)
    waits = []
    for attempt in range(2):
        with clock.shifted(timedelta(hours=attempt)):
            with pytest.raises(tasks.RetryLater) as retry:
                mail.deliver(str(row.id))
            waits.append(retry.value.delay)
            with pytest.raises(tasks.RetryLater):  # not due yet: a second job does not try early
                mail.deliver(str(row.id))
    assert waits == [10, 20]
    with clock.shifted(timedelta(hours=2)):
        assert mail.deliver(str(row.id)) is False
        assert mail.deliver(str(row.id)) is False
    session.refresh(row)
    assert (row.status, row.attempts, row.sent_at) == ("failed", 3, None)
    assert "refused" in row.last_error


def test_the_sweep_leaves_fresh_rows_to_their_own_job(app, session, monkeypatch):
    delivered: list[Any] = []
    monkeypatch.setattr(mail, "transport", delivered.append)
    row = _queued(session, monkeypatch, app)
    assert mail.sweep() == 0
    with clock.shifted(mail.SWEEP_GRACE + timedelta(seconds=1)):
        assert mail.sweep() == 1  # inline without a queue: the sweep's jobs deliver at once
    session.refresh(row)
    assert row.status == "sent" and len(delivered) == 1


def test_an_unknown_message_id_is_nothing_to_do(app, session):
    assert mail.deliver("00000000-0000-0000-0000-000000000000") is False


# --- the operators' page -------------------------------------------------------------------------------


def test_platform_admins_see_failed_mail_and_send_it_again(app, client, session, monkeypatch):
    from tests.conftest import csrf_token
    from tests.core.test_web import BROWSER, location, sign_in, text

    delivered: list[Any] = []
    monkeypatch.setattr(mail, "transport", delivered.append)
    admin = UserFactory(is_platform_admin=True)
    with unit_of_work():
        row = mail.send(to="gave-up@example.org", subject="Your badge", body="secret link")
    session.refresh(row)
    row.status, row.attempts, row.last_error = "failed", 8, "550 mailbox unavailable"
    session.flush()
    delivered.clear()
    sign_in(client, admin.email)
    page = text(client.get("/admin/outbox/", headers=BROWSER))
    assert "gave-up@example.org" in page and "550 mailbox unavailable" in page and "1 failed" in page
    assert "secret link" not in page  # bodies hold sign-in links
    assert ">Mail<" in page  # the nav link platform admins see
    r = client.post(f"/admin/outbox/{row.id}/resend", data={"csrf_token": csrf_token(page)}, headers=BROWSER)
    assert "is queued again" in text(client.get(location(r), headers=BROWSER))
    session.refresh(row)
    assert (row.status, row.attempts, [m.to for m in delivered]) == ("sent", 1, ["gave-up@example.org"])
    r = client.post(f"/admin/outbox/{row.id}/resend", data={"csrf_token": csrf_token(page)}, headers=BROWSER)
    assert "Only a failed message" in text(client.get(location(r), headers=BROWSER))


def test_other_users_may_not_see_the_outbox(client, session):
    from tests.core.test_web import BROWSER, sign_in, text

    user = UserFactory()
    sign_in(client, user.email)
    assert ">Mail<" not in text(client.get("/", headers=BROWSER))
    assert client.get("/admin/outbox/", headers=BROWSER).status_code == 403
    anonymous = client.application.test_client()
    assert anonymous.get("/admin/outbox/", headers=BROWSER).status_code in {302, 303}
