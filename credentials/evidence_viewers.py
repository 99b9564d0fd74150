"""Who else may see a submission's evidence: a seam for later domains.

Credentials knows the earner and the organisation's admins. The review domain (``assessors``) knows which
assessor currently holds a claim; it cannot be imported from here (imports point the other way), so it
registers a predicate at start-up::

    from credentials import evidence_viewers
    evidence_viewers.register(lambda actor, submission: is_current_claimant(actor, submission))

``submission.view_evidence`` then allows the actor when any registered predicate says yes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.models import User
    from credentials.models import Submission

Viewer = Callable[["User", "Submission"], bool]
_viewers: list[Viewer] = []


def register(fn: Viewer) -> Viewer:
    """Add a predicate (idempotent, so an app factory may run twice in one process)."""
    if fn not in _viewers:
        _viewers.append(fn)
    return fn


def unregister(fn: Viewer) -> None:
    if fn in _viewers:
        _viewers.remove(fn)


def allows(actor: User, submission: Submission) -> bool:
    return any(viewer(actor, submission) for viewer in _viewers)
