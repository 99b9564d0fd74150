"""``signing.batch`` (bulk imports): status indexes reserved for the whole batch, keys and stack membership read
once — and still every badge exactly once, with its own random free index, both proofs and one audit row."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from badges import keys, proofs, revocation, signing, status
from badges.models import Badge, SigningKey, StatusList
from core.db import db
from core.models import AuditEvent
from tests.badges.issued import admin_of, award, passed_submission
from tests.factories import CredentialVersionFactory, StackFactory


def _audit_ids(organisation_id: uuid.UUID) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEvent.object_id).where(
                AuditEvent.action == "badge.issued", AuditEvent.organisation_id == organisation_id
            )
        )
    )


def test_a_batch_reserves_its_indexes_once_and_issues_each_badge_once(session: Any, monkeypatch: Any) -> None:
    submission = passed_submission()
    first = award(submission)  # outside the batch: the list exists, one index taken
    revocation.revoke(actor=admin_of(first), badge_id=first.id, reason="Evidence was not the earner's own")
    submissions = [passed_submission(version=submission.version) for _ in range(12)]
    allocations = []
    real_allocate = status._allocate
    monkeypatch.setattr(status, "_allocate", lambda org: allocations.append(org) or real_allocate(org))
    with signing.batch(len(submissions)):
        badges = [award(s) for s in submissions]
        assert [award(s).id for s in submissions[:3]] == [b.id for b in badges[:3]]  # again: the same badges
    assert len(allocations) == 1  # one reservation for the whole batch, not one per badge
    assert len({b.status_index for b in badges} | {first.status_index}) == 13
    assert {b.status_list_id for b in badges} == {first.status_list_id}
    status_list = db.session.get(StatusList, first.status_list_id)
    assert status_list is not None and status_list.allocated == 13
    assert sorted(_audit_ids(first.organisation_id)) == sorted(str(b.id) for b in [first, *badges])
    ed = db.session.scalars(
        select(SigningKey).where(SigningKey.organisation_id == first.organisation_id, SigningKey.algorithm == "Ed25519")
    ).one()
    for badge in badges:
        proofs.verify_eddsa_rdfc_2022(badge.credential, keys.ed25519_public_key(ed.public_jwk))
        assert badge.credential["credentialStatus"]["statusListIndex"] == str(badge.status_index)


def test_a_batch_larger_than_the_list_can_take_goes_badge_by_badge_into_the_next_list(session: Any) -> None:
    submission = passed_submission()
    organisation_id = submission.version.organisation_id
    small = StatusList(id=uuid.uuid4(), organisation_id=organisation_id, size=16, allocated=0)  # takes 12
    db.session.add(small)
    db.session.flush()
    with signing.batch(20):
        badges = [award(passed_submission(version=submission.version)) for _ in range(20)]
    in_small = [b.status_index for b in badges if b.status_list_id == small.id]
    assert len(in_small) == len(set(in_small)) and all(0 <= i < 16 for i in in_small)
    db.session.refresh(small)
    assert small.allocated <= 12 and small.allocated == len(in_small)
    others = [(b.status_list_id, b.status_index) for b in badges if b.status_list_id != small.id]
    assert len(others) == 20 - len(in_small) == len(set(others))


def test_reserved_indexes_are_random_free_and_distinct(session: Any, monkeypatch: Any) -> None:
    submission = passed_submission()
    first = award(submission)
    taken = first.status_index
    # The first index as ``_allocate`` takes it (eight candidates: the first free one wins), then the batch's
    # candidates: the taken index, the one already chosen, a repeat — none of them may be handed out again.
    draws = iter([taken, 5, 5, 9, 20, 21, 22, 23, taken, 5, 7, 7, *range(30, 10_000)])
    monkeypatch.setattr(status.secrets, "randbelow", lambda n: next(draws))
    reserved = status.reserve(first.organisation_id, 4)
    assert [index for _, index in reserved] == [5, 7, 30, 31]
    assert {list_id for list_id, _ in reserved} == {first.status_list_id}


def test_a_stack_completed_inside_a_batch_is_issued_once(session: Any) -> None:
    first = passed_submission()
    organisation = first.version.organisation
    second_version = CredentialVersionFactory(published=True, organisation=organisation)
    stack = StackFactory(
        organisation=organisation,
        micro_credentials=[first.version.micro_credential, second_version.micro_credential],
        state="published",
    )
    second = passed_submission(version=second_version)
    second.earner_id = first.earner_id
    db.session.flush()
    with signing.batch(2):
        award(first)
        award(second)
    assert db.session.query(Badge).filter_by(stack_id=stack.id, earner_id=first.earner_id).count() == 1
