"""The earner's sections of the Home page (``core.dashboard``): drafts to finish and decisions with feedback
to read, each a link to the submission. Everyone signed in may earn, so both apply to every user."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from core.dashboard import Item, Section, register_section
from core.models import User
from credentials.portfolios import services


def _drafts(user: User) -> Section:
    drafts, _decided = services.waiting_for_earner(actor=user)
    items = []
    for submission in drafts:
        left = len(services.problems(submission))
        ready = (
            _("ready to submit") if not left else ngettext("%(num)d item to finish", "%(num)d items to finish", left)
        )
        items.append(
            Item(
                label=submission.version.title,
                url=url_for("portfolio.submission", submission_id=submission.id),
                note=_("draft, attempt %(attempt)s: %(ready)s", attempt=submission.attempt, ready=ready),
            )
        )
    return Section(
        key="drafts",
        title=_("Drafts to finish"),
        items=items,
        next_step=Item(
            label=_("Find a micro-credential in the catalogue"),
            url=url_for("catalogue.index"),
            note=_("start a submission, answer its requirements and submit it for review"),
        ),
    )


def _feedback(user: User) -> Section:
    _open, decided = services.waiting_for_earner(actor=user)
    items = []
    for submission in decided:
        left = services.attempts_left(submission, submission.earner_id)
        then = _("then start attempt %(next)s", next=submission.attempt + 1) if left else _("no attempts left")
        items.append(
            Item(
                label=submission.version.title,
                url=url_for("portfolio.submission", submission_id=submission.id),
                note=_("not yet: read the assessor's feedback, %(then)s", then=then),
            )
        )
    return Section(key="feedback", title=_("Feedback to read"), items=items)


def init_app() -> None:
    register_section("drafts", _drafts, order=20)
    register_section("feedback", _feedback, order=30)
