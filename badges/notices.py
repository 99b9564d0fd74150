"""Mail to an earner about their badge: waiting for their acceptance, revoked, suspended, reinstated, and about
to expire or expired (``badges.expiry`` decides when), and invited to renew it (``badges.renewal_invitations``).

Each notice goes through the outbox (``core.mail.send``) in the caller's transaction, so it exists only if the
change it reports commits. A badge with no account behind it (an imported award for an email nobody signed
up with) has nobody to tell: the notice is skipped.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from badges.access import _base
from badges.models import Badge
from core import mail
from core.db import db
from core.i18n import recipient_language
from core.models import Organisation, OutboxMessage, User
from credentials.authoring.models import CredentialVersion

_WHAT = {
    "revoked": (
        _l("has been revoked"),
        _l("It is no longer valid, and its page and every verifier now say REVOKED. Revocation is permanent."),
    ),
    "suspended": (
        _l("has been suspended"),
        _l(
            "While it is suspended its page and every verifier say SUSPENDED, not valid. "
            "The issuer can lift the suspension; you will be told when that happens."
        ),
    ),
    "reinstated": (
        _l("is valid again"),
        _l("The suspension has been lifted: its page and verifiers show its status as before."),
    ),
}


def _issuer_name(badge: Badge) -> str:
    organisation = db.session.get(Organisation, badge.organisation_id)
    return organisation.name if organisation is not None else _("The issuer")


def _earner(badge: Badge) -> User | None:
    return db.session.get(User, badge.earner_id) if badge.earner_id is not None else None


def _hello(earner: User) -> str:
    return _("Hello %(name)s,", name=earner.name) if earner.name else _("Hello there,")


def status_changed(*, badge: Badge, change: str, reason: str) -> OutboxMessage | None:
    """Tell the earner that ``badge`` was revoked, suspended or reinstated, and why (in their language)."""
    earner = _earner(badge)
    if earner is None:
        return None
    with recipient_language(earner):
        headline, meaning = _WHAT[change]
        issuer = _issuer_name(badge)
        return mail.send(
            to=earner.email,
            subject=_("Your badge “%(title)s” %(headline)s", title=badge.title, headline=headline),
            body=_hello(earner)
            + "\n\n"
            + _(
                "%(issuer)s says your badge “%(title)s” %(headline)s.\nReason given: %(reason)s\n\n%(meaning)s\n\n"
                "The badge's page:\n%(page)s\n\n"
                "If you think this is a mistake, reply to %(issuer)s through the contact on that page.",
                issuer=issuer,
                title=badge.title,
                headline=headline,
                reason=reason,
                meaning=meaning,
                page=f"{_base()}/badges/{badge.id}",
            ),
        )


def expiry(*, badge: Badge, days_before: int, now: datetime) -> OutboxMessage | None:
    """Tell the earner that ``badge`` expires soon (``days_before`` > 0) or has expired (0)."""
    earner = _earner(badge)
    if earner is None or badge.valid_until is None:
        return None
    with recipient_language(earner):
        issuer = _issuer_name(badge)
        on = format_date(badge.valid_until, "long")
        left = (badge.valid_until.date() - now.date()).days
        page = f"{_base()}/badges/{badge.id}"
        criteria = (
            "\n" + _("What it takes to earn it again:") + f"\n{_base()}/achievements/{badge.version_id}\n"
            if badge.version_id
            else ""
        )
        if days_before > 0 and left > 0:
            subject = _("Your badge “%(title)s” expires on %(on)s", title=badge.title, on=on)
            news = ngettext(
                "Your badge “%(title)s” from %(issuer)s expires on %(on)s, in %(num)d day.\n"
                "Until then it is valid; from that day its page and every verifier say EXPIRED.",
                "Your badge “%(title)s” from %(issuer)s expires on %(on)s, in %(num)d days.\n"
                "Until then it is valid; from that day its page and every verifier say EXPIRED.",
                left,
                title=badge.title,
                issuer=issuer,
                on=on,
            )
        else:
            subject = _("Your badge “%(title)s” has expired", title=badge.title)
            news = _(
                "Your badge “%(title)s” from %(issuer)s expired on %(on)s.\n"
                "Its page and every verifier now say EXPIRED; it still shows what you earned and when.",
                title=badge.title,
                issuer=issuer,
                on=on,
            )
        page_label = _("The badge's page:")
        return mail.send(
            to=earner.email,
            subject=subject,
            body=f"{_hello(earner)}\n\n{news}\n\n{page_label}\n{page}\n{criteria}\n"
            + _("To keep the credential current, ask %(issuer)s about renewing it.", issuer=issuer),
        )


def acceptance_requested(*, badge: Badge) -> OutboxMessage | None:
    """Ask the earner to accept (or decline) a new badge that is not public until they do."""
    earner = _earner(badge)
    if earner is None:
        return None
    with recipient_language(earner):
        issuer = _issuer_name(badge)
        return mail.send(
            to=earner.email,
            subject=_("Accept your badge “%(title)s” from %(issuer)s", title=badge.title, issuer=issuer),
            body=_hello(earner)
            + "\n\n"
            + _(
                "%(issuer)s has issued you the badge “%(title)s”. It waits for your answer: until you accept it, "
                "its page says it is pending and it cannot be shared or downloaded.\n\n"
                "Accept or decline it on your badges page:\n%(link)s\n\n"
                "After accepting you can still hide it from public view at any time.\n"
                "If you do not know %(issuer)s or did not expect this badge, decline it.",
                issuer=issuer,
                title=badge.title,
                link=f"{_base()}/my/badges#badge-{badge.id}",
            ),
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
