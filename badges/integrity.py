"""Checking every stored badge as an outside verifier would: after a restore from backup, after a key-store
migration, or whenever an operator wants proof that what the database holds still verifies.

Each badge's JSON (its Data Integrity proof) and its VC-JWT are verified with ``badges.verifier`` (status lists
read from this database, keys from the published documents) and the verdict compared with the status the
database records (``Badge.status``). A difference is a finding: a signature that no longer verifies, a status
list that says revoked for a badge the database says is valid, or the reverse.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import func, select

from badges.models import Badge
from badges.verifier import verify
from core.db import db

BATCH = 200


@dataclass
class Finding:
    badge_id: uuid.UUID
    form: str  # "json" or "jwt"
    expected: str
    got: str
    detail: str


@dataclass
class Summary:
    checked: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


def _badges(sample: int | None) -> Iterator[Badge]:
    stmt = select(Badge).order_by(func.random() if sample else Badge.id)
    if sample:
        yield from db.session.scalars(stmt.limit(sample))
        return
    last: uuid.UUID | None = None
    while True:
        page = select(Badge).order_by(Badge.id).limit(BATCH)
        if last is not None:
            page = page.where(Badge.id > last)
        rows = list(db.session.scalars(page))
        if not rows:
            return
        yield from rows
        last = rows[-1].id
        db.session.expunge_all()  # keep memory flat over a large table


def check_all(*, sample: int | None = None) -> Summary:
    """Verify every badge (or a random ``sample``) in both its forms; what differs from the database is listed."""
    summary = Summary()
    for badge in _badges(sample):
        expected = badge.status()
        summary.checked += 1
        summary.by_status[expected] += 1
        for form, value in (("json", badge.credential), ("jwt", badge.jwt)):
            report = verify(value)
            if report.status != expected or report.verified != (expected == "valid"):
                failed = [f"{c['step']}: {c['detail']}" for c in report.checks if not c["passed"]]
                summary.findings.append(
                    Finding(badge.id, form, expected, report.status, "; ".join(failed) or "status differs")
                )
    return summary
