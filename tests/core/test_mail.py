"""The mail outbox: messages exist only if their transaction commits, and go out after it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core import mail
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


def test_a_rolled_back_transaction_leaves_no_message(app, session):
    mail.send(to="nobody@example.org", subject="Never", body="Rolled back.")
    session.rollback()
    assert _rows(session) == []
    assert mail.deliver_pending() == 0


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
    mail.send(to="a@example.org", subject="Hello", body="Body")
    assert mail.deliver_pending() == 0  # not inline: left for the command
    monkeypatch.setitem(app.config, "SMTP_URL", "smtp://me:s%40cret@mail.example.org:2525")
    monkeypatch.setattr(mail.smtplib, "SMTP", FakeSMTP)
    result = app.test_cli_runner().invoke(args=["outbox", "send"])
    assert "Delivered 1" in result.output
    assert delivered == [(("mail.example.org", 2525), ("me", "s@cret"), "a@example.org", "Hello")]


def test_a_failed_delivery_is_kept_for_the_next_run(app, session, monkeypatch):
    def broken(message: Any) -> None:
        raise OSError("connection refused")

    monkeypatch.setattr(mail, "transport", broken)
    mail.send(to="b@example.org", subject="Hi", body="x")
    assert mail.deliver_all() == 0
    [row] = _rows(session)
    assert row.sent_at is None and row.attempts == 1 and "refused" in row.last_error
