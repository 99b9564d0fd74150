"""The assessor's section of the Home page (``core.dashboard``): reviews they hold and queues with work they
may claim, each a link to the task or the queue."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from assessors import queue
from assessors.models import TaskKind
from core.dashboard import Item, Section, register_section
from core.db import db
from core.i18n import datetime_filter
from core.models import Organisation, Role, User
from credentials.authoring.models import CredentialVersion


def _assessing_for(user: User) -> list[Organisation]:
    orgs = {m.organisation_id: m.organisation for m in user.memberships if m.role == Role.ASSESSOR.value}
    return sorted(orgs.values(), key=lambda o: o.name)


def reviews_waiting(user: User) -> Section | None:
    """For assessors: the claims they hold (oldest first), then each queue with tasks they may claim."""
    organisations = _assessing_for(user)
    if not organisations:
        return None
    items = []
    for task in queue.my_claims(actor=user):
        version = db.session.get(CredentialVersion, task.version_id)
        what = _("Adjudication") if task.kind == TaskKind.ADJUDICATION.value else _("Review")
        due = datetime_filter(task.lease_expires_at) + " UTC" if task.lease_expires_at else ""
        note = _("claimed by you, yours until %(due)s", due=due) if due else _("claimed by you")
        if task.due_at is not None:
            note += _("; decision due %(due)s UTC", due=datetime_filter(task.due_at))
        items.append(
            Item(
                label=_("%(what)s: %(title)s", what=what, title=version.title if version else _("a submission")),
                url=url_for("review.task", task_id=task.id),
                note=note,
            )
        )
    for organisation in organisations:
        waiting = queue.count_claimable(actor=user, organisation_id=organisation.id)
        if waiting:
            items.append(
                Item(
                    label=ngettext(
                        "%(num)d submission you may review in %(name)s",
                        "%(num)d submissions you may review in %(name)s",
                        waiting,
                        name=organisation.name,
                    ),
                    url=url_for("review.queue", organisation_id=organisation.id),
                    note=_("claim the next one from the queue"),
                )
            )
    return Section(
        key="reviews",
        title=_("Reviews waiting for you"),
        items=items,
        next_step=Item(
            label=_("Open your review queue"),
            url=url_for("review.index"),
            note=_("nothing you may claim is waiting; calibration and your qualifications are there too"),
        ),
    )


def init_app() -> None:
    register_section("reviews", reviews_waiting, order=10)
