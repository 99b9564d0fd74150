"""The per-process caches and cheaper statements that make issuing fast must not change what is issued:
rotation (by any process) is seen by the next badge, a changed key-encryption key is never bypassed, status
indexes stay unique and random and a revoked one is never handed out again, cached documents are copied."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest
from sqlalchemy import Uuid, bindparam, select, text

from badges import issuers, issuing, keys, proofs, revocation, status
from badges.models import Badge, KeyState, SigningKey, StatusList
from core import audit, clock
from core.db import db
from core.errors import Conflict
from core.models import AuditEvent
from tests.badges.issued import admin_of, award, issue_again, passed_submission


def _active(organisation_id: uuid.UUID) -> dict[str, SigningKey]:
    rows = db.session.scalars(
        select(SigningKey).where(SigningKey.organisation_id == organisation_id, SigningKey.state == "active")
    )
    return {row.algorithm: row for row in rows}


def _signed_by(badge: Badge) -> tuple[str, str]:
    """(the key id in the DI proof's did:web verification method, the kid URL of the VC-JWT)."""
    return badge.credential["proof"][0]["verificationMethod"].split("#", 1)[1], proofs.jwt_header(badge.jwt)["kid"]


def test_a_rotation_made_by_another_process_is_used_by_the_next_badge(session: Any) -> None:
    submission = passed_submission()
    first = award(submission)  # fills this process's key caches
    old = _active(first.organisation_id)
    assert _signed_by(first) == (old["Ed25519"].kid, issuers.key_url(old["RS256"]))
    # Another process rotates: only the rows change, nothing in this process is told.
    for row in old.values():
        row.state, row.retired_at = KeyState.RETIRED.value, clock.now()
    fresh = {alg: issuers._new_key(first.organisation_id, alg) for alg in ("Ed25519", "RS256")}
    db.session.flush()

    second = award(passed_submission(version=submission.version))
    assert _signed_by(second) == (fresh["Ed25519"].kid, issuers.key_url(fresh["RS256"]))
    proofs.verify_eddsa_rdfc_2022(second.credential, keys.ed25519_public_key(fresh["Ed25519"].public_jwk))
    with pytest.raises(proofs.ProofError):
        proofs.verify_eddsa_rdfc_2022(second.credential, keys.ed25519_public_key(old["Ed25519"].public_jwk))
    rsa_public = issuers.private_key(fresh["RS256"]).public_key()
    assert proofs.decode_vc_jwt(second.jwt, lambda header: rsa_public)["id"] == second.credential["id"]


def test_rotating_through_the_service_switches_both_proofs_at_once(session: Any) -> None:
    submission = passed_submission()
    first = award(submission)
    fresh = {k.algorithm: k for k in issuers.rotate_keys(actor=admin_of(first), organisation_id=first.organisation_id)}
    second = award(passed_submission(version=submission.version))
    ed_kid, kid = _signed_by(second)
    assert ed_kid == fresh["Ed25519"].kid
    assert kid == issuers.key_url(fresh["RS256"]) != _signed_by(first)[1]


def test_the_key_cache_never_bypasses_a_changed_key_encryption_key(app: Any, monkeypatch: Any) -> None:
    submission = passed_submission()
    award(submission)  # the organisation's keys are now decrypted and cached under the configured KEK
    other = base64.urlsafe_b64encode(b"another-kek-of-exactly-32-bytes!").decode()
    monkeypatch.setitem(app.config, "KEY_ENCRYPTION_KEY", other)
    with pytest.raises(keys.KeyDecryptionError):
        award(passed_submission(version=submission.version))


def test_indexes_stay_unique_and_a_revoked_index_is_never_handed_out_again(session: Any) -> None:
    submission = passed_submission()
    organisation_id = submission.version.organisation_id
    # A tiny list, so issuing fills it: 75 % of 16 entries are handed out, then a new list is opened.
    small = StatusList(id=uuid.uuid4(), organisation_id=organisation_id, size=16, allocated=0)
    db.session.add(small)
    db.session.flush()
    badges = [award(submission)]
    revoked = revocation.revoke(actor=admin_of(badges[0]), badge_id=badges[0].id, reason="Plagiarised evidence")
    for _ in range(11):
        badges.append(award(passed_submission(version=submission.version)))
    in_small = [b for b in badges if b.status_list_id == small.id]
    assert len(in_small) == 12 == len({b.status_index for b in in_small})
    assert [b.status_index for b in in_small].count(revoked.status_index) == 1
    db.session.refresh(small)
    assert small.allocated == 12
    overflow = award(passed_submission(version=submission.version))
    assert overflow.status_list_id != small.id
    new_list = db.session.get(StatusList, overflow.status_list_id)
    assert new_list is not None and new_list.size == status.STATUS_LIST_SIZE and new_list.allocated == 1


def test_the_index_probe_takes_the_first_free_random_candidate(session: Any, monkeypatch: Any) -> None:
    submission = passed_submission()
    first = award(submission)
    # The next draws: the taken index twice, then a free one; the free one must be chosen, never the taken.
    draws = iter([first.status_index, first.status_index, 7, 9, 11, 13, 15, 17])
    monkeypatch.setattr(status.secrets, "randbelow", lambda n: next(draws))
    second = award(passed_submission(version=submission.version))
    assert (second.status_list_id, second.status_index) == (first.status_list_id, 7)


def test_cached_version_documents_are_handed_out_as_copies(session: Any) -> None:
    submission = passed_submission()
    issuer, achievement = issuing.version_documents(submission.version)
    issuer["name"] = "Tampered"
    achievement["alignment"][0]["targetName"] = "Tampered"
    achievement["resultDescription"].clear()
    again_issuer, again = issuing.version_documents(submission.version)
    assert again_issuer["name"] != "Tampered"
    assert again["alignment"][0]["targetName"] != "Tampered" and again["resultDescription"]
    badge = award(submission)
    assert "Tampered" not in str(badge.credential)
    badge.credential["credentialSubject"]["achievement"]["name"] = "Changed after issuing"
    assert issuing.version_documents(submission.version)[1]["name"] != "Changed after issuing"


def test_every_issued_badge_has_exactly_one_audit_row_even_after_a_lost_race(session: Any) -> None:
    submission = passed_submission()
    winner = award(submission)
    loser = issue_again(winner, submission)
    assert loser.id == winner.id
    events = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "badge.issued", AuditEvent.organisation_id == winner.organisation_id
        )
    ).all()
    assert [e.object_id for e in events] == [str(winner.id)]
    assert events[0].after["issue_key"] == winner.issue_key


def test_a_second_badge_for_one_submission_under_another_key_is_refused_and_the_transaction_survives(
    session: Any,
) -> None:
    submission = passed_submission()
    winner = award(submission)
    with pytest.raises(Conflict):
        issue_again(winner, submission, issue_key="another-key", submission_id=submission.id)
    assert db.session.scalar(select(Badge.id).where(Badge.issue_key == "another-key")) is None
    audited = db.session.scalars(select(AuditEvent.object_id).where(AuditEvent.action == "badge.issued")).all()
    assert str(winner.id) in audited and len(set(audited)) == len(audited)
    award(passed_submission(version=submission.version))  # the session is still usable


def test_the_fast_audit_row_is_the_same_row_record_writes(session: Any) -> None:
    badge = award(passed_submission())
    after = {"source": "assessment", "earner_id": badge.earner_id, "when": badge.awarded_at}
    slow = audit.record(actor=None, action="x.slow", obj=badge, organisation_id=badge.organisation_id, after=after)
    fast_id = audit.record_row(
        actor_id=None,
        action="x.fast",
        object_type="Badge",
        object_id=badge.id,
        organisation_id=badge.organisation_id,
        after=after,
    )
    columns = "actor_id, organisation_id, object_type, object_id, before IS NULL, after"
    rows = {
        action: tuple(row)
        for action, *row in db.session.execute(
            text(f"SELECT action, {columns} FROM audit_events WHERE id IN (:a, :b)").bindparams(  # noqa: S608
                bindparam("a", type_=Uuid()), bindparam("b", type_=Uuid())
            ),
            {"a": slow.id, "b": fast_id},
        )
    }
    assert rows["x.slow"] == rows["x.fast"]
    assert db.session.get(AuditEvent, fast_id).after == slow.after  # type: ignore[union-attr]
