"""Mail to an earner about their badge: waiting for their acceptance, revoked, suspended, reinstated, and about
to expire or expired (``badges.expiry`` decides when), and invited to renew it (``badges.renewal_invitations``).

Each notice goes through the outbox (``core.mail.send``) in the caller's transaction, so it exists only if the
change it reports commits. A badge with no account behind it (an imported award for an email nobody signed
up with) has nobody to tell: the notice is skipped.
"""

from __future__ import annotations

from datetime import datetime

from badges.access import _base
from badges.models import Badge
from core import mail
from core.db import db
from core.models import Organisation, OutboxMessage, User
from credentials.authoring.models import CredentialVersion

_WHAT = {
    "revoked": (
        "has been revoked",
        "It is no longer valid, and its page and every verifier now say REVOKED. Revocation is permanent.",
    ),
    "suspended": (
        "has been suspended",
        "While it is suspended its page and every verifier say SUSPENDED, not valid. "
        "The issuer can lift the suspension; you will be told when that happens.",
    ),
    "reinstated": (
        "is valid again",
        "The suspension has been lifted: its page and verifiers show its status as before.",
    ),
}


def _issuer_name(badge: Badge) -> str:
    organisation = db.session.get(Organisation, badge.organisation_id)
    return organisation.name if organisation is not None else "The issuer"


def _earner(badge: Badge) -> User | None:
    return db.session.get(User, badge.earner_id) if badge.earner_id is not None else None


def status_changed(*, badge: Badge, change: str, reason: str) -> OutboxMessage | None:
    """Tell the earner that ``badge`` was revoked, suspended or reinstated, and why."""
    earner = _earner(badge)
    if earner is None:
        return None
    headline, meaning = _WHAT[change]
    issuer = _issuer_name(badge)
    return mail.send(
        to=earner.email,
        subject=f"Your badge “{badge.title}” {headline}",
        body=f"Hello {earner.name or 'there'},\n\n"
        f"{issuer} says your badge “{badge.title}” {headline}.\n"
        f"Reason given: {reason}\n\n{meaning}\n\n"
        f"The badge's page:\n{_base()}/badges/{badge.id}\n\n"
        f"If you think this is a mistake, reply to {issuer} through the contact on that page.",
    )


def expiry(*, badge: Badge, days_before: int, now: datetime) -> OutboxMessage | None:
    """Tell the earner that ``badge`` expires soon (``days_before`` > 0) or has expired (0)."""
    earner = _earner(badge)
    if earner is None or badge.valid_until is None:
        return None
    issuer = _issuer_name(badge)
    on = f"{badge.valid_until:%Y-%m-%d}"
    left = (badge.valid_until.date() - now.date()).days
    page = f"{_base()}/badges/{badge.id}"
    criteria = (
        f"\nWhat it takes to earn it again:\n{_base()}/achievements/{badge.version_id}\n" if badge.version_id else ""
    )
    if days_before > 0 and left > 0:
        subject = f"Your badge “{badge.title}” expires on {on}"
        news = (
            f"Your badge “{badge.title}” from {issuer} expires on {on}, in {left} day{'s' if left != 1 else ''}.\n"
            "Until then it is valid; from that day its page and every verifier say EXPIRED."
        )
    else:
        subject = f"Your badge “{badge.title}” has expired"
        news = (
            f"Your badge “{badge.title}” from {issuer} expired on {on}.\n"
            "Its page and every verifier now say EXPIRED; it still shows what you earned and when."
        )
    return mail.send(
        to=earner.email,
        subject=subject,
        body=f"Hello {earner.name or 'there'},\n\n{news}\n\nThe badge's page:\n{page}\n{criteria}\n"
        f"To keep the credential current, ask {issuer} about renewing it.",
    )


def acceptance_requested(*, badge: Badge) -> OutboxMessage | None:
    """Ask the earner to accept (or decline) a new badge that is not public until they do."""
    earner = _earner(badge)
    if earner is None:
        return None
    issuer = _issuer_name(badge)
    return mail.send(
        to=earner.email,
        subject=f"Accept your badge “{badge.title}” from {issuer}",
        body=f"Hello {earner.name or 'there'},\n\n"
        f"{issuer} has issued you the badge “{badge.title}”. It waits for your answer: until you accept it, "
        "its page says it is pending and it cannot be shared or downloaded.\n\n"
        f"Accept or decline it on your badges page:\n{_base()}/my/badges#badge-{badge.id}\n\n"
        "After accepting you can still hide it from public view at any time.\n"
        f"If you do not know {issuer} or did not expect this badge, decline it.",
    )


def renewal_invitation(*, badge: Badge, version: CredentialVersion, now: datetime) -> OutboxMessage | None:
    """Invite the earner to renew ``badge`` by evidence before it expires, with the link that starts it."""
    earner = _earner(badge)
    if earner is None or badge.valid_until is None:
        return None
    issuer = _issuer_name(badge)
    on = f"{badge.valid_until:%Y-%m-%d}"
    left = max(0, (badge.valid_until.date() - now.date()).days)
    asked = "\n".join(f"- {r.title}" for r in version.renewal_requirements)
    return mail.send(
        to=earner.email,
        subject=f"Renew your badge “{badge.title}” before {on}",
        body=f"Hello {earner.name or 'there'},\n\n"
        f"Your badge “{badge.title}” from {issuer} expires on {on}, in {left} day{'s' if left != 1 else ''}. "
        f"{issuer} renews it by evidence of current practice: a shorter submission than the first time, scored "
        "by trained assessors. When it passes you get a new badge, valid for another "
        f"{version.renewal_months} month{'s' if version.renewal_months != 1 else ''}, linked to this one.\n\n"
        f"What the renewal asks for:\n{asked}\n\n"
        f"Start your renewal here (sign in first if asked):\n{_base()}/my/badges/{badge.id}/renew\n\n"
        f"The badge's page:\n{_base()}/badges/{badge.id}\n\n"
        "Submit before it expires if you can: until a renewal passes, the badge reads EXPIRED after that date.",
    )
