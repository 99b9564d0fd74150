"""Concurrent claiming: every submission claimed exactly once.

The PostgreSQL test commits for real (each claimer is a thread with its own app context, session and
connection, as in a server), so it cannot use the rolled-back per-test transaction; it builds its own
organisation and deletes everything it made afterwards.
"""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from assessors import queue
from assessors.models import ProgrammeSettings, Qualification, ReviewTask
from core import clock
from core.db import db
from core.models import AuditEvent, Membership, Organisation, Role, User
from credentials.authoring.models import CredentialVersion, MicroCredential
from credentials.portfolios.models import Submission
from tests.assessors.test_services import World
from tests.factories import CredentialVersionFactory, OrganisationFactory, member

CLAIMERS = 50
SUBMISSIONS = 500


def _build(app: Any) -> dict[str, Any]:
    with app.app_context():
        org = OrganisationFactory()
        version = CredentialVersionFactory(organisation=org, published=True)
        assessors = [member(org, Role.ASSESSOR, password_hash="x") for _ in range(CLAIMERS)]
        db.session.add(ProgrammeSettings(organisation_id=org.id, double_first_n=0, double_share=0.0))
        for assessor in assessors:
            db.session.add(
                Qualification(
                    organisation_id=org.id, micro_credential_id=version.micro_credential_id, user_id=assessor.id
                )
            )
        earners = [
            {"id": uuid.uuid4(), "email": f"earner-{uuid.uuid4().hex}@example.org", "name": "E"}
            for _ in range(SUBMISSIONS)
        ]
        db.session.execute(sa.insert(User), earners)
        start = clock.now() - timedelta(days=1)
        db.session.execute(
            sa.insert(Submission),
            [
                {
                    "id": uuid.uuid4(),
                    "reference": f"C{uuid.uuid4().hex[:12]}",
                    "organisation_id": org.id,
                    "micro_credential_id": version.micro_credential_id,
                    "version_id": version.id,
                    "earner_id": e["id"],
                    "state": "submitted",
                    "submitted_at": start + timedelta(seconds=i),
                }
                for i, e in enumerate(earners)
            ],
        )
        db.session.commit()
        return {
            "org": org.id,
            "mc": version.micro_credential_id,
            "assessors": [a.id for a in assessors],
            "users": [a.id for a in assessors] + [e["id"] for e in earners],
        }


def _clean(app: Any, made: dict[str, Any]) -> None:
    with app.app_context():
        org = made["org"]
        for model in (AuditEvent, ReviewTask, Submission, Qualification, ProgrammeSettings, Membership):
            db.session.execute(sa.delete(model).where(model.organisation_id == org))
        db.session.execute(sa.delete(CredentialVersion).where(CredentialVersion.organisation_id == org))
        db.session.execute(sa.delete(MicroCredential).where(MicroCredential.organisation_id == org))
        db.session.execute(sa.delete(User).where(User.id.in_(made["users"])))
        db.session.execute(sa.delete(Organisation).where(Organisation.id == org))
        db.session.commit()
        db.session.remove()


@pytest.mark.postgres
def test_fifty_concurrent_claimers_claim_each_submission_exactly_once(request: pytest.FixtureRequest) -> None:
    app = request.getfixturevalue("app")  # after the per-test transaction decided not to wrap this test
    made = _build(app)
    claims: list[tuple[uuid.UUID, uuid.UUID]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(CLAIMERS)

    def claimer(user_id: uuid.UUID) -> None:
        try:
            with app.app_context():
                barrier.wait()
                while True:
                    actor = db.session.get(User, user_id)
                    task = queue.claim_next(actor=actor, organisation_id=made["org"])
                    if task is None:
                        db.session.rollback()
                        break
                    with lock:
                        claims.append((task.id, task.submission_id))
                    db.session.commit()
                db.session.remove()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=claimer, args=(u,)) for u in made["assessors"]]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        assert errors == []
        assert len(claims) == SUBMISSIONS
        assert len({task for task, _ in claims}) == SUBMISSIONS
        assert len({submission for _, submission in claims}) == SUBMISSIONS
    finally:
        _clean(app, made)


def test_the_sqlite_fallback_takes_a_claim_only_while_it_is_free(session):
    world = World(session)
    world.submission()
    task = world.claim(world.assessor)
    now = clock.now()
    lease = timedelta(hours=1)
    assert queue._take(task.id, world.assessor2, now, lease, conditional=True) is None
    assert task.claimed_by_id == world.assessor.id
    later = now + timedelta(hours=49)
    assert queue._take(task.id, world.assessor2, later, lease, conditional=True).claimed_by_id == world.assessor2.id
