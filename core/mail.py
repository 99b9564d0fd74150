"""Outgoing messages to people, through an outbox.

``send`` writes an ``outbox`` row in the caller's transaction, so a message exists only if the change that
caused it commits (no more "reset link mailed, then the request rolled back"). With ``OUTBOX_INLINE`` it also
asks for the ``outbox.deliver`` job, which runs once that transaction commits: on the task queue when one is
configured, in the same process otherwise. ``outbox.sweep`` (the scheduler, every minute) and
``flask outbox send`` (cron, without a queue) deliver whatever is left: failed attempts whose backoff ran
out, rows whose job was lost, attempts of a worker that died mid-send.

Delivery is idempotent: an attempt first claims the row with one ``UPDATE … WHERE status = 'pending'`` (or
a ``sending`` row whose lease ran out), so a retried or duplicated job finds nothing to do. A failure puts
the row back to ``pending`` with an exponential backoff, and after ``OUTBOX_MAX_ATTEMPTS`` marks it
``failed``. Delivery is by SMTP when ``SMTP_URL`` is set, otherwise to the log, where an operator of a small
install can find them. Tests read ``sent`` to follow links.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa
from flask import current_app

from core import audit, clock, tasks
from core.authz import authorize
from core.db import db
from core.errors import Conflict, NotFound
from core.models import OutboxMessage, User

log = logging.getLogger("microcred.mail")

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
# The scheduler's sweep leaves a row this long to the job asked for at its commit (or its retry).
SWEEP_GRACE = timedelta(seconds=60)
MAX_BACKOFF = timedelta(days=1)


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    body: str


# Messages written to the outbox by this process, newest last (tests follow links from here).
sent: list[Message] = []
_KEEP = 100


def send(*, to: str, subject: str, body: str) -> OutboxMessage:
    """Queue a message in the current transaction; it is delivered only after that transaction commits."""
    row = OutboxMessage(to=to, subject=subject[:300], body=body, status=PENDING)
    db.session.add(row)
    db.session.flush()
    if current_app.config["OUTBOX_INLINE"]:
        tasks.enqueue("outbox.deliver", message_id=str(row.id))
    sent.append(Message(to=to, subject=subject, body=body))
    del sent[:-_KEEP]
    return row


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed delivery: the base, doubled for each further failure."""
    base = timedelta(seconds=current_app.config["OUTBOX_BACKOFF_SECONDS"])
    return min(base * 2 ** min(attempts - 1, 32), MAX_BACKOFF)


@tasks.job("outbox.deliver", queue="mail", max_retries=100)
def deliver(message_id: str) -> bool:
    """Deliver one message unless it is sent, given up or held by another attempt; True when this call sent it.

    Raises ``RetryLater`` when the message must be tried again: it failed now (after the backoff) or another
    attempt holds it (after its lease, in case that attempt's worker died).
    """
    now = clock.now()
    lease = now + timedelta(seconds=current_app.config["OUTBOX_CLAIM_SECONDS"])
    row_id = uuid.UUID(message_id)
    claimable = sa.or_(
        sa.and_(
            OutboxMessage.status == PENDING,
            sa.or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
        ),
        sa.and_(OutboxMessage.status == SENDING, OutboxMessage.claimed_until <= now),
    )
    claimed = db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == row_id, claimable)
        .values(status=SENDING, claimed_until=lease, attempts=OutboxMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    row = db.session.get(OutboxMessage, row_id)
    if row is None or row.status in {SENT, FAILED}:
        return False  # a duplicate or retried job: done already
    if not claimed:
        until = row.claimed_until if row.status == SENDING else row.next_attempt_at
        wait = max((until - now).total_seconds(), 1.0) if until else 1.0
        raise tasks.RetryLater(f"message {row_id} is {row.status} until {until}", delay=wait)
    ours = sa.and_(OutboxMessage.id == row_id, OutboxMessage.status == SENDING, OutboxMessage.claimed_until == lease)
    message, attempts = Message(to=row.to, subject=row.subject, body=row.body), row.attempts
    db.session.commit()  # hold no transaction while the mail server takes its time
    try:
        transport(message)
    except (OSError, smtplib.SMTPException) as exc:
        error = str(exc)[:500] or type(exc).__name__
        if attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
            _finish(ours, status=FAILED, last_error=error)
            log.error("mail to %s failed for good after %d attempts: %s", message.to, attempts, exc)
            return False
        wait = backoff(attempts)
        _finish(ours, status=PENDING, next_attempt_at=clock.now() + wait, last_error=error)
        log.warning("mail to %s failed (attempt %d), next in %s: %s", message.to, attempts, wait, exc)
        raise tasks.RetryLater(error, delay=wait.total_seconds()) from None
    _finish(ours, status=SENT, sent_at=clock.now())
    return True


def _finish(ours: sa.ColumnElement[bool], **values: object) -> None:
    """End this attempt's claim (a no-op if its lease ran out and another attempt took the row)."""
    db.session.execute(
        sa.update(OutboxMessage)
        .where(ours)
        .values(claimed_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def due(limit: int, *, grace: timedelta = timedelta(0)) -> list[uuid.UUID]:
    """Messages waiting for a delivery attempt (``grace``: untouched that long), oldest first."""
    now = clock.now()
    stmt = (
        sa.select(OutboxMessage.id)
        .where(
            sa.or_(
                sa.and_(
                    OutboxMessage.status == PENDING,
                    sa.func.coalesce(OutboxMessage.next_attempt_at, OutboxMessage.created_at) <= now - grace,
                ),
                sa.and_(OutboxMessage.status == SENDING, OutboxMessage.claimed_until <= now),
            )
        )
        .order_by(OutboxMessage.created_at)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def deliver_all(limit: int = 500) -> int:
    """Deliver up to ``limit`` waiting messages in this process, oldest first (``flask outbox send``)."""
    delivered = 0
    for row_id in due(limit):
        try:
            delivered += deliver(str(row_id))
        except tasks.RetryLater:
            continue
    return delivered


@tasks.job("outbox.sweep")
def sweep(limit: int = 1000) -> int:
    """Send a delivery job for each message left waiting (the scheduler runs this every minute)."""
    ids = due(limit, grace=SWEEP_GRACE)
    for row_id in ids:
        tasks.send("outbox.deliver", message_id=str(row_id))
    return len(ids)


@dataclass(frozen=True)
class OutboxSummary:
    counts: dict[str, int]  # messages per status
    waiting: list[OutboxMessage]  # not sent yet (pending, sending, failed), failed first, oldest first


def summary(*, actor: User, limit: int = 100) -> OutboxSummary:
    """What the outbox holds, for the operators' page (bodies are never shown: they carry sign-in links)."""
    authorize(actor, "outbox.manage")
    counts = dict.fromkeys((PENDING, SENDING, SENT, FAILED), 0)
    for status, count in db.session.execute(
        sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)
    ):
        counts[status] = count
    failed_first = sa.case((OutboxMessage.status == FAILED, 0), else_=1)
    waiting = db.session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.status != SENT)
        .order_by(failed_first, OutboxMessage.created_at)
        .limit(limit)
    ).all()
    return OutboxSummary(counts=counts, waiting=list(waiting))


def resend(*, actor: User, message_id: uuid.UUID) -> OutboxMessage:
    """Give a ``failed`` message a fresh set of attempts (after the cause was fixed); Conflict otherwise."""
    authorize(actor, "outbox.manage")
    row = db.session.get(OutboxMessage, message_id)
    if row is None:
        raise NotFound("No such message in the outbox.")
    if row.status != FAILED:
        raise Conflict(f"Only a failed message can be sent again; this one is {row.status}.")
    row.status, row.attempts, row.next_attempt_at = PENDING, 0, None
    db.session.flush()
    tasks.enqueue("outbox.deliver", message_id=str(row.id))
    audit.record(actor=actor, action="outbox.resent", obj=row, after={"to": row.to, "subject": row.subject})
    return row


def transport(message: Message) -> None:
    """Hand one message to SMTP when ``SMTP_URL`` is configured, else write it to the log."""
    url = current_app.config["SMTP_URL"]
    if not url:
        log.info("mail to %s: %s\n%s", message.to, message.subject, message.body)
        return
    parts = urlsplit(url)
    email = EmailMessage()
    email["From"] = current_app.config["MAIL_FROM"]
    email["To"] = message.to
    email["Subject"] = message.subject
    email.set_content(message.body)
    port = parts.port or (465 if parts.scheme == "smtps" else 25)
    host = parts.hostname or "localhost"
    client = (
        smtplib.SMTP_SSL(host, port, context=ssl.create_default_context(), timeout=30)
        if parts.scheme == "smtps"
        else smtplib.SMTP(host, port, timeout=30)
    )
    with client:
        if parts.scheme == "smtp+starttls":
            client.starttls(context=ssl.create_default_context())
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
        client.send_message(email)
