"""The seam between a final "passed" decision and issuing its badge.

Assessors cannot import ``badges`` (domains import one way: core ← standards ← credentials ← assessors ←
badges), so the badges domain registers its handler here at start-up and the review code calls
``hand_off`` inside the transaction that records the final decision. The handler must be idempotent
(one passed submission yields exactly one badge): a unique constraint on the badge's submission makes a
retry or a race a no-op rather than a second badge.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class CriterionResult:
    criterion_key: str
    level_position: int  # RubricLevel.position: 0 is the lowest level
    points: int | None = None


@dataclass(frozen=True)
class Award:
    """Everything issuance needs to know about a final passed decision."""

    submission_id: uuid.UUID
    version_id: uuid.UUID
    earner_id: uuid.UUID
    decided_at: datetime
    results: tuple[CriterionResult, ...] = field(default_factory=tuple)


Handler = Callable[[Award], object]
_handlers: list[Handler] = []


def register(handler: Handler) -> None:
    """Called by the badges domain's ``init_app``; registering the same handler twice is harmless."""
    if handler not in _handlers:
        _handlers.append(handler)


def hand_off(award: Award) -> None:
    """Give a passed submission to issuance, in the caller's transaction. No handler: nothing happens yet."""
    for handler in _handlers:
        handler(award)
