"""Outgoing messages to people, through an outbox.

``send`` writes an ``outbox`` row in the caller's transaction, so a message exists only if the change that
caused it commits (no more "reset link mailed, then the request rolled back"). After the commit the request
or CLI boundary calls ``deliver_pending`` (when ``OUTBOX_INLINE`` is on); ``flask outbox send`` delivers
whatever is left (failed or not delivered inline). Delivery is by SMTP when ``SMTP_URL`` is set, otherwise to
the log, where an operator of a small install can find them. Tests read ``sent`` to follow links.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from core import clock
from core.db import after_commit, db
from core.models import OutboxMessage

log = logging.getLogger("microcred.mail")


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    body: str


# Messages written to the outbox by this process, newest last (tests follow links from here).
sent: list[Message] = []
_KEEP = 100
_PENDING = "outbox_pending"


def send(*, to: str, subject: str, body: str) -> OutboxMessage:
    """Queue a message in the current transaction; it is delivered only after that transaction commits."""
    row = OutboxMessage(to=to, subject=subject[:300], body=body)
    db.session.add(row)
    db.session.flush()
    db.session.info.setdefault(_PENDING, []).append(row.id)
    sent.append(Message(to=to, subject=subject, body=body))
    del sent[:-_KEEP]
    return row


@event.listens_for(Session, "after_soft_rollback")
def _forget_pending(session: Session, previous_transaction: object) -> None:
    """Rolled-back messages were never written; do not try to deliver them."""
    session.info.pop(_PENDING, None)


@after_commit
def deliver_pending() -> int:
    """Deliver the messages the just-committed transaction wrote (no-op unless ``OUTBOX_INLINE``)."""
    ids = db.session.info.pop(_PENDING, [])
    if not ids or not current_app.config["OUTBOX_INLINE"]:
        return 0
    rows = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.id.in_(ids), OutboxMessage.sent_at.is_(None))
    ).all()
    return _deliver(rows)


def deliver_all(limit: int = 500) -> int:
    """Deliver up to ``limit`` unsent messages, oldest first (``flask outbox send``)."""
    rows = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.sent_at.is_(None)).order_by(OutboxMessage.created_at).limit(limit)
    ).all()
    return _deliver(rows)


def _deliver(rows: list[OutboxMessage] | sa.Sequence[OutboxMessage]) -> int:
    delivered = 0
    for row in rows:
        try:
            transport(Message(to=row.to, subject=row.subject, body=row.body))
        except (OSError, smtplib.SMTPException) as exc:
            row.attempts += 1
            row.last_error = str(exc)[:500]
            log.warning("mail to %s failed (attempt %d): %s", row.to, row.attempts, exc)
        else:
            row.attempts += 1
            row.sent_at = clock.now()
            delivered += 1
    db.session.commit()
    return delivered


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
