"""The earner's sections of the Home page (``core.dashboard``): drafts to finish and decisions with feedback
to read, each a link to the submission. Everyone signed in may earn, so both apply to every user."""

from __future__ import annotations

from flask import url_for

from core.dashboard import Item, Section, register_section
from core.models import User
from credentials.portfolios import services


def _drafts(user: User) -> Section:
    drafts, _ = services.waiting_for_earner(actor=user)
    items = []
    for submission in drafts:
        left = len(services.problems(submission))
        ready = "ready to submit" if not left else f"{left} item{'s' if left != 1 else ''} to finish"
        items.append(
            Item(
                label=submission.version.title,
                url=url_for("portfolio.submission", submission_id=submission.id),
                note=f"draft, attempt {submission.attempt}: {ready}",
            )
        )
    return Section(
        key="drafts",
        title="Drafts to finish",
        items=items,
        next_step=Item(
            label="Find a micro-credential in the catalogue",
            url=url_for("catalogue.index"),
            note="start a submission, answer its requirements and submit it for review",
        ),
    )


def _feedback(user: User) -> Section:
    _, decided = services.waiting_for_earner(actor=user)
    items = []
    for submission in decided:
        left = services.attempts_left(submission, submission.earner_id)
        then = f"then start attempt {submission.attempt + 1}" if left else "no attempts left"
        items.append(
            Item(
                label=submission.version.title,
                url=url_for("portfolio.submission", submission_id=submission.id),
                note=f"not yet: read the assessor's feedback, {then}",
            )
        )
    return Section(key="feedback", title="Feedback to read", items=items)


def init_app() -> None:
    register_section("drafts", _drafts, order=20)
    register_section("feedback", _feedback, order=30)
