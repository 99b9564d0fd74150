"""Outgoing messages to people (invitations, password resets).

Until the notifications outbox lands (review-queue issue), messages go to the log, where an operator
of a small install can find them; tests read ``sent`` to follow links.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

log = logging.getLogger("microcred.mail")


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    body: str


sent: list[Message] = []
_KEEP = 100


def send(*, to: str, subject: str, body: str) -> None:
    message = Message(to=to, subject=subject, body=body)
    sent.append(message)
    del sent[:-_KEEP]
    log.info("mail to %s: %s\n%s", to, subject, body)
