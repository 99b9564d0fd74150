"""The one clock. Services call ``now()``; tests move time with ``frozen_at``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

_offset = timedelta(0)
_fixed: datetime | None = None


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    if _fixed is not None:
        return _fixed
    return datetime.now(UTC) + _offset


@contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    """Within the block, ``now()`` returns ``moment``."""
    global _fixed
    previous, _fixed = _fixed, moment.astimezone(UTC)
    try:
        yield
    finally:
        _fixed = previous


@contextmanager
def shifted(delta: timedelta) -> Iterator[None]:
    """Within the block, ``now()`` runs ``delta`` ahead of the wall clock."""
    global _offset
    previous = _offset
    _offset = previous + delta
    try:
        yield
    finally:
        _offset = previous
