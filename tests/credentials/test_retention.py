"""Evidence retention: files of decided submissions are deleted once the organisation's period has passed, with
an audit row saying what went; open, recent and kept-by-policy submissions keep theirs; hostile settings refused."""

from __future__ import annotations

import hashlib
import tempfile
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from core import clock, storage
from core.models import AuditEvent, Role
from credentials.portfolios import retention
from credentials.portfolios.models import EvidenceFile, Submission
from tests.conftest import bearer, problem
from tests.factories import EvidenceFileFactory, OrganisationFactory, SubmissionFactory, member


def _stored_file(submission: Submission, data: bytes) -> EvidenceFile:
    digest = hashlib.sha256(data).hexdigest()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "upload"
        path.write_bytes(data)
        storage.backend().put(path, digest)
    return EvidenceFileFactory(submission=submission, sha256=digest, size=len(data), media_type="text/plain")


def _decided(organisation, days_ago: int, state: str = "passed") -> Submission:
    submission = SubmissionFactory(version__organisation=organisation, submitted=True, state=state)
    submission.decided_at = clock.now() - timedelta(days=days_ago)
    return submission


def test_expired_evidence_is_deleted_and_said(session):
    organisation = OrganisationFactory(evidence_retention_days=90)
    old = _decided(organisation, 100)
    old_file = _stored_file(old, b"old evidence")
    recent = _decided(organisation, 10)
    _stored_file(recent, b"recent evidence")
    open_one = SubmissionFactory(version__organisation=organisation, submitted=True)
    _stored_file(open_one, b"still in review")
    shared = _stored_file(recent, b"old evidence")  # the same bytes in a kept submission: the stored file stays
    kept_org = OrganisationFactory()  # no retention period: kept for ever
    ancient = _decided(kept_org, 4000)
    _stored_file(ancient, b"kept for ever")
    session.flush()

    assert [d["submission"] for d in retention.purge_expired_evidence(dry_run=True)] == [old.reference]
    assert session.get(EvidenceFile, old_file.id) is not None  # a dry run deletes nothing

    done = retention.purge_expired_evidence()
    assert done == [{"submission": old.reference, "files": 1, "stored_files_deleted": 0}]
    session.expire_all()
    assert session.get(EvidenceFile, old_file.id) is None and old.evidence_purged_at is not None
    assert storage.backend().exists(shared.sha256)  # still used by the recent submission
    assert len(recent.files) == 2 and len(open_one.files) == 1 and len(ancient.files) == 1
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "evidence.purged"))
    assert event is not None and event.after["reference"] == old.reference and len(event.after["files"]) == 1
    assert retention.purge_expired_evidence() == []  # a second run finds nothing

    with clock.shifted(timedelta(days=200)):  # later the recent one expires too; its bytes go with it
        done = retention.purge_expired_evidence()
    assert [d["submission"] for d in done] == [recent.reference] and done[0]["stored_files_deleted"] == 2
    assert not storage.backend().exists(shared.sha256)


def test_the_retention_period_is_set_by_org_admins_and_bounded(client, session):
    organisation = OrganisationFactory()
    admin = member(organisation, Role.ORG_ADMIN)
    url = f"/api/v1/organisations/{organisation.id}"
    headers = {**bearer(admin), "If-Match": client.get(url, headers=bearer(admin)).headers["ETag"]}
    for bad in (0, 29, 40000, "soon", 1.5):
        problem(client.patch(url, json={"evidence_retention_days": bad}, headers=headers), 422)
    problem(client.patch(url, json={"evidence_retention_days": 365}, headers=bearer(member(organisation))), 403)
    done = client.patch(url, json={"evidence_retention_days": 365}, headers=headers)
    assert done.status_code == 200 and done.get_json()["evidence_retention_days"] == 365
    headers["If-Match"] = done.headers["ETag"]
    cleared = client.patch(url, json={"evidence_retention_days": None}, headers=headers)
    assert cleared.status_code == 200 and cleared.get_json()["evidence_retention_days"] is None


def test_the_command_and_the_job(app, session):
    organisation = OrganisationFactory(evidence_retention_days=30)
    old = _decided(organisation, 31, state="not_yet")
    _stored_file(old, b"not yet evidence")
    session.flush()
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["storage", "purge-evidence", "--dry-run"])
    assert dry.exit_code == 0 and old.reference in dry.output and "Would delete" in dry.output
    assert retention.purge_job() == 1
    session.expire_all()
    assert old.files == [] and old.evidence_purged_at is not None
