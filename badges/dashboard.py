"""The earner's "new badges" section of the Home page (``core.dashboard``): badges issued to them lately,
each a link to its public page."""

from __future__ import annotations

from datetime import timedelta

from flask import url_for
from flask_babel import gettext as _

from badges import issuing
from core import clock
from core.dashboard import Item, Section, register_section
from core.i18n import date_filter, label
from core.models import User

NEW_FOR = timedelta(days=30)


def new_badges(user: User) -> Section:
    badges = issuing.recent_badges(actor=user, since=clock.now() - NEW_FOR)
    items = []
    for badge in badges:
        status = badge.status()
        note = _("issued %(day)s", day=date_filter(badge.issued_at))
        if status != "valid":
            note += f", {label(status)}"
        items.append(Item(label=badge.title, url=url_for("badges.badge_page", badge_id=badge.id), note=note))
    return Section(
        key="badges",
        title=_("New badges"),
        items=items,
        more=Item(label=_("Share and download them from My badges"), url=url_for("badges.my_badges")),
    )


def init_app() -> None:
    register_section("badges", new_badges, order=40)
