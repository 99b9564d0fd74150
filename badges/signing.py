"""Signing and storing one badge: the step every way of issuing ends in (an assessment, a completed stack, a
renewal, an imported past award).

A badge gets a status-list index, both proofs (Data Integrity, then the VC-JWT over it) and one row, once per
issue key. Who the badge names is a ``Recipient``. What is issued and when is decided by the callers:
``badges.issuing``, ``badges.stacks``, ``badges.renewal`` and ``badges.imports``. The keys it signs with come
from ``badges.issuers``.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached

from badges import consent, documents, notices
from badges.access import _base
from badges.issuers import active_signers, verification_method
from badges.models import Acceptance, Badge, BadgeSource, EarnerDid, KeyAlgorithm
from badges.status import _allocate, reserve, status_list_url
from core import audit, clock
from core.db import db
from core.errors import Conflict
from core.models import User


@dataclass(frozen=True)
class Recipient:
    """Who a badge names: an account, or (for imported past awards) an email and name."""

    email: str
    name: str
    user_id: uuid.UUID | None = None
    did: str | None = None


def _recipient_of(user: User) -> Recipient:
    did = db.session.get(EarnerDid, user.id)
    return Recipient(email=user.email, name=user.name, user_id=user.id, did=did.did if did else None)


@dataclass
class _Batch:
    """What a batch of badges issued in one transaction shares: random status indexes reserved for all of them at
    once, the active keys read once, and which published stacks each micro-credential belongs to. Tied to the
    transaction it started in (the status list's row lock is held to its end): after a commit it starts over."""

    remaining: int
    transaction: object = None
    indexes: dict[uuid.UUID, list[tuple[uuid.UUID, int]]] = field(default_factory=dict)
    signers: dict[uuid.UUID, Any] = field(default_factory=dict)
    stacks: dict[uuid.UUID, list[uuid.UUID]] = field(default_factory=dict)

    def current(self) -> _Batch:
        transaction = db.session().get_transaction()
        if transaction is not self.transaction:
            self.transaction = transaction
            self.indexes.clear()
            self.signers.clear()
            self.stacks.clear()
        return self

    def index(self, organisation_id: uuid.UUID) -> tuple[uuid.UUID, int]:
        pool = self.indexes.get(organisation_id)
        if not pool:
            pool = self.indexes[organisation_id] = reserve(organisation_id, max(self.remaining, 1))
        self.remaining -= 1
        return pool.pop()

    def signing(self, organisation_id: uuid.UUID) -> Any:
        if organisation_id not in self.signers:
            self.signers[organisation_id] = active_signers(organisation_id)
        return self.signers[organisation_id]

    def stacks_of(self, micro_credential_id: uuid.UUID, load: Callable[[], list[uuid.UUID]]) -> list[uuid.UUID]:
        if micro_credential_id not in self.stacks:
            self.stacks[micro_credential_id] = load()
        return self.stacks[micro_credential_id]


_BATCH: ContextVar[_Batch | None] = ContextVar("issuing_batch", default=None)


@contextmanager
def batch(expected: int) -> Iterator[None]:
    """Issue up to ``expected`` badges in this transaction as one batch (bulk imports): what every badge would ask
    the database for separately is asked once. Each badge is still issued exactly once per issue key, with its
    own random index, both proofs and its audit row. Indexes reserved but not used (a row found issued before)
    stay counted in the list's ``allocated``, which only decides when the next list opens."""
    token = _BATCH.set(_Batch(remaining=expected))
    try:
        yield
    finally:
        _BATCH.reset(token)


def current_batch() -> _Batch | None:
    found = _BATCH.get()
    return found.current() if found is not None else None


_EXISTING = select(Badge.id).where(Badge.issue_key == bindparam("issue_key"))


def _existing(issue_key: str) -> Badge | None:
    # The id first: almost every call finds nothing, and a one-column probe skips loading a Badge entity.
    badge_id = db.session.scalar(_EXISTING, {"issue_key": issue_key})
    return db.session.get(Badge, badge_id) if badge_id is not None else None


def _sign_and_store(
    *,
    organisation_id: uuid.UUID,
    issuer: dict[str, Any],
    achievement: dict[str, Any],
    recipient: Recipient,
    results: list[dict[str, Any]],
    evidence: list[dict[str, Any]],
    awarded_at: datetime,
    valid_from: datetime,
    valid_until: datetime | None,
    source: BadgeSource,
    issue_key: str,
    title: str,
    version_id: uuid.UUID | None = None,
    stack_id: uuid.UUID | None = None,
    submission_id: uuid.UUID | None = None,
    renewed_from_id: uuid.UUID | None = None,
    identity: dict[str, Any] | None = None,
) -> Badge:
    from badges import proofs

    base = _base()
    badge_id = uuid.uuid4()
    in_batch = current_batch()
    status_list_id, index = in_batch.index(organisation_id) if in_batch else _allocate(organisation_id)
    if identity is None and not recipient.did:
        identity = documents.hashed_email(recipient.email, secrets.token_hex(16))
    unsigned = documents.credential(
        badge_id=badge_id,
        base=base,
        issuer=issuer,
        achievement=achievement,
        subject_did=recipient.did,
        identity=identity,
        results=results,
        evidence=evidence,
        valid_from=valid_from,
        valid_until=valid_until,
        awarded_at=awarded_at,
        status_list_url=status_list_url(status_list_id),
        status_index=index,
    )
    signing = in_batch.signing(organisation_id) if in_batch else active_signers(organisation_id)
    ed_key, rsa_key = signing[KeyAlgorithm.ED25519.value], signing[KeyAlgorithm.RS256.value]
    # The key as the issuer's did:web document lists it: its controller is the DID that is ``issuer.id``.
    vm = verification_method(organisation_id, ed_key.kid)
    signed = proofs.sign_eddsa_rdfc_2022(unsigned, ed_key.private, vm, documents.iso(clock.now()))
    # DI proof first, then the JWT over the credential carrying it (NOTES §2: "If both …").
    rsa_url = f"{documents.issuer_url(base, organisation_id)}/keys/{rsa_key.kid}"
    token = proofs.sign_vc_jwt(signed, rsa_key.private, rsa_url)
    now = clock.now()
    original = db.session.get(Badge, renewed_from_id) if renewed_from_id is not None else None
    hidden_at = original.hidden_at if original is not None else None
    if original is not None:  # a renewal keeps the earner's answer about the badge it renews
        pending = original.acceptance != Acceptance.ACCEPTED.value
    else:
        pending = consent.starts_pending(
            organisation_id=organisation_id, earner_id=recipient.user_id, source=source.value
        )
    row = {
        "id": badge_id,
        "organisation_id": organisation_id,
        "version_id": version_id,
        "stack_id": stack_id,
        "earner_id": recipient.user_id,
        "recipient_name": recipient.name,
        "source": source.value,
        "submission_id": submission_id,
        "issue_key": issue_key,
        "renewed_from_id": renewed_from_id,
        "title": title,
        "status_list_id": status_list_id,
        "status_index": index,
        "awarded_at": awarded_at.replace(microsecond=0),
        "valid_from": valid_from.replace(microsecond=0),
        "valid_until": valid_until.replace(microsecond=0) if valid_until else None,
        "issued_at": now,
        "credential": signed,
        "jwt": token,
        "revoked_at": None,
        "revocation_reason": None,
        "revoked_by_id": None,
        "acceptance": (Acceptance.PENDING if pending else Acceptance.ACCEPTED).value,
        "acceptance_at": None,
        "hidden_at": hidden_at,
        "created_at": now,
        "updated_at": now,
    }
    # Losing a race on the unique keys (issue key, submission, status index) must not spoil the caller's
    # transaction: ``INSERT … ON CONFLICT DO NOTHING`` (SQLite and PostgreSQL) skips the row instead of failing,
    # without the two extra statements of a savepoint; the audit row follows only when the badge row went in.
    # Both are prebuilt Core INSERTs rather than the ORM's unit of work (its bookkeeping for two new rows cost
    # more than both proofs); the Badge object is then attached as the persistent row it now is.
    insert = _INSERT_BADGE.get(db.session.get_bind().dialect.name)
    if insert is not None:
        inserted = db.session.execute(insert, row).first() is not None
    else:  # another database: a savepoint does the same job
        try:
            with db.session.begin_nested():
                db.session.execute(Badge.__table__.insert(), row)
            inserted = True
        except IntegrityError:
            inserted = False
    if not inserted:
        winner = _existing(issue_key)
        if winner is None:  # not our issue key: the submission was issued under another key
            raise Conflict("A badge already holds this submission or status index.")
        return winner
    audit.record_row(
        actor_id=None,
        action="badge.issued",
        object_type="Badge",
        object_id=badge_id,
        organisation_id=organisation_id,
        after={
            "source": source.value,
            "title": title,
            "earner_id": recipient.user_id,
            "issue_key": issue_key,
            "acceptance": row["acceptance"],
        },
    )
    badge = Badge(**row)
    make_transient_to_detached(badge)
    db.session.add(badge)
    if pending:
        notices.acceptance_requested(badge=badge)
    return badge


_INSERT_BADGE = {
    dialect.__name__.rsplit(".", 1)[-1]: dialect.insert(Badge.__table__)
    .on_conflict_do_nothing()
    .returning(Badge.__table__.c.id)
    for dialect in (postgresql, sqlite)
}


def _validity(validity_days: int | None, start: datetime) -> datetime | None:
    return start + timedelta(days=validity_days) if validity_days else None
