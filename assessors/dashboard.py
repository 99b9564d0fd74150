"""The assessor's section of the Home page (``core.dashboard``): reviews they hold and queues with work they
may claim, each a link to the task or the queue."""

from __future__ import annotations

from flask import url_for

from assessors import queue
from assessors.models import TaskKind
from core.dashboard import Item, Section, register_section
from core.db import db
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
        what = "Adjudication" if task.kind == TaskKind.ADJUDICATION.value else "Review"
        due = task.lease_expires_at.strftime("%d %b %H:%M UTC") if task.lease_expires_at else ""
        note = f"claimed by you, yours until {due}" if due else "claimed by you"
        if task.due_at is not None:
            note += f"; decision due {task.due_at:%d %b %H:%M UTC}"
        items.append(
            Item(
                label=f"{what}: {version.title if version else 'a submission'}",
                url=url_for("review.task", task_id=task.id),
                note=note,
            )
        )
    for organisation in organisations:
        waiting = queue.count_claimable(actor=user, organisation_id=organisation.id)
        if waiting:
            items.append(
                Item(
                    label=f"{waiting} submission{'s' if waiting != 1 else ''} you may review in {organisation.name}",
                    url=url_for("review.queue", organisation_id=organisation.id),
                    note="claim the next one from the queue",
                )
            )
    return Section(
        key="reviews",
        title="Reviews waiting for you",
        items=items,
        next_step=Item(
            label="Open your review queue",
            url=url_for("review.index"),
            note="nothing you may claim is waiting; calibration and your qualifications are there too",
        ),
    )


def init_app() -> None:
    register_section("reviews", reviews_waiting, order=10)
