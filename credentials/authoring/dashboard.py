"""The author's section of the Home page (``core.dashboard``): micro-credential versions in team review,
each a link to its overview, saying whose move it is."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _

from core.dashboard import Item, Section, register_section
from core.models import Role, User
from credentials.authoring import publication
from credentials.authoring.models import CredentialVersion, VersionState


def _whose_move(version: CredentialVersion, user: User) -> str:
    if version.state == VersionState.APPROVED.value:
        return _("approved: ready to publish")
    if version.review_requested_by_id == user.id:
        return _("you asked for review: waiting for a teammate")
    return _("asks for your review")


def in_review(user: User) -> Section | None:
    """For authors: their organisations' versions in review or approved, the longest waiting first."""
    if not any(m.role == Role.AUTHOR.value for m in user.memberships):
        return None
    items = [
        Item(
            label=_("%(title)s (version %(number)s)", title=version.title, number=version.number),
            url=url_for("authoring.overview", version_id=version.id),
            note=_whose_move(version, user),
        )
        for version in publication.in_review_for(actor=user)
    ]
    return Section(
        key="authoring",
        title=_("Micro-credentials in review"),
        items=items,
        more=Item(label=_("All your organisation's micro-credentials"), url=url_for("authoring.index")),
        next_step=Item(
            label=_("Write a new micro-credential"),
            url=url_for("authoring.create"),
            note=_("or open a draft under My credentials and ask a teammate to review it"),
        ),
    )


def init_app() -> None:
    register_section("authoring", in_review, order=15)
