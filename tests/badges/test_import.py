"""Bulk issue of past awards from CSV: all or nothing, row-numbered errors, exactly once per row."""

from __future__ import annotations

from typing import Any

import pytest

from badges import imports
from badges.models import Badge
from core.db import db
from core.errors import Forbidden, ValidationFailed
from core.models import Role
from tests.badges.issued import schema_errors
from tests.conftest import bearer, problem
from tests.factories import CredentialVersionFactory, OrganisationFactory, member


@pytest.fixture
def setup(session: Any) -> tuple[Any, Any, Any]:
    organisation = OrganisationFactory()
    version = CredentialVersionFactory(published=True, organisation=organisation, validity_days=None)
    return organisation, version, member(organisation, Role.ORG_ADMIN)


def _csv(version: Any, *rows: str) -> bytes:
    return (
        "email,name,version_id,awarded_on,award_id\n" + "".join(r.format(v=version.id) + "\n" for r in rows)
    ).encode()


def test_import_issues_a_badge_per_row_and_a_second_upload_issues_nothing(setup: Any) -> None:
    organisation, version, admin = setup
    data = _csv(version, "a@example.org,Ann,{v},2023-05-01,", "b@example.org,Bo,{v},2023-06-01,HR-7")
    report = imports.import_awards(actor=admin, organisation_id=organisation.id, data=data)
    assert report["issued"] == 2 and report["skipped"] == 0
    badges = db.session.query(Badge).filter_by(organisation_id=organisation.id).all()
    assert len(badges) == 2 and all(schema_errors(b.credential) == [] for b in badges)
    assert {b.credential["awardedDate"][:10] for b in badges} == {"2023-05-01", "2023-06-01"}
    again = imports.import_awards(actor=admin, organisation_id=organisation.id, data=data)
    assert again["issued"] == 0 and again["skipped"] == 2
    # Reordered, and one row with a changed name but the same award id: still the same awards.
    changed = _csv(version, "b@example.org,Bob,{v},2023-06-01,HR-7", "a@example.org,Ann,{v},2023-05-01,")
    assert imports.import_awards(actor=admin, organisation_id=organisation.id, data=changed)["issued"] == 0
    assert db.session.query(Badge).filter_by(organisation_id=organisation.id).count() == 2


def test_a_file_with_any_bad_row_issues_nothing_and_names_each_line(setup: Any) -> None:
    organisation, version, admin = setup
    other_org_version = CredentialVersionFactory(published=True)
    draft = CredentialVersionFactory(organisation=organisation)
    data = _csv(
        version,
        "ok@example.org,Ok,{v},2023-05-01,",
        "not-an-email,X,{v},2023-05-01,",
        f"c@example.org,C,{other_org_version.id},2023-05-01,",
        f"d@example.org,D,{draft.id},2023-05-01,",
        "e@example.org,E,{v},yesterday,",
        "f@example.org,F,{v},2999-01-01,",
        "g@example.org,G,{v}",
        "ok@example.org,Ok again,{v},2023-05-01,",
    )
    with pytest.raises(ValidationFailed) as caught:
        imports.import_awards(actor=admin, organisation_id=organisation.id, data=data)
    fields = [e["field"] for e in caught.value.errors]
    assert fields == [
        "line 3.email",
        "line 4.version_id",
        "line 5.version_id",
        "line 6.awarded_on",
        "line 7.awarded_on",
        "line 8",
        "line 9",
    ]
    assert db.session.query(Badge).filter_by(organisation_id=organisation.id).count() == 0


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (b"", "file"),
        (b"\xff\xfe\x00", "file"),
        (b"email,version_id\n", "line 1"),
        (b"email,version_id,awarded_on,colour\n", "line 1"),
        (b"email,version_id,awarded_on\n", "file"),
        (b"email,email,version_id,awarded_on\n", "line 1"),
    ],
)
def test_hostile_files_are_refused_clearly(setup: Any, data: bytes, field: str) -> None:
    organisation, _, admin = setup
    with pytest.raises(ValidationFailed) as caught:
        imports.import_awards(actor=admin, organisation_id=organisation.id, data=data)
    assert caught.value.errors[0]["field"] == field


def test_only_org_admins_import(setup: Any) -> None:
    organisation, version, _ = setup
    with pytest.raises(Forbidden):
        imports.import_awards(
            actor=member(organisation, Role.AUTHOR), organisation_id=organisation.id, data=_csv(version)
        )


def test_import_api(client: Any, setup: Any) -> None:
    organisation, version, admin = setup
    url = f"/api/v1/organisations/{organisation.id}/badge-imports"
    data = _csv(version, "a@example.org,Ann,{v},2023-05-01,")
    response = client.post(url, data=data, headers={**bearer(admin), "Content-Type": "text/csv"})
    assert response.status_code == 200 and response.json["issued"] == 1
    response = client.post(url, data={"file": (__import__("io").BytesIO(data), "awards.csv")}, headers=bearer(admin))
    assert response.status_code == 200 and response.json["skipped"] == 1
    body = problem(client.post(url, data=b"email\n", headers={**bearer(admin), "Content-Type": "text/csv"}), 422)
    assert body["errors"][0]["field"] == "line 1"
    problem(client.post(url, data=data, headers={**bearer(admin), "Content-Type": "application/json"}), 415)
    author = member(organisation, Role.AUTHOR)
    problem(client.post(url, data=data, headers={**bearer(author), "Content-Type": "text/csv"}), 403)


def test_import_cli(app: Any, setup: Any, tmp_path: Any) -> None:
    organisation, version, _ = setup
    path = tmp_path / "awards.csv"
    path.write_bytes(_csv(version, "a@example.org,Ann,{v},2023-05-01,"))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["badges", "import-awards", str(path), "--org", organisation.slug])
    assert result.exit_code == 0, result.output
    assert "Issued 1 badge(s)" in result.output
    result = runner.invoke(args=["badges", "import-awards", str(path), "--org", organisation.slug])
    assert "skipped 1" in result.output
    path.write_bytes(b"email\n")
    result = runner.invoke(args=["badges", "import-awards", str(path), "--org", organisation.slug])
    assert result.exit_code == 2 and "line 1" in result.output
    result = runner.invoke(args=["badges", "keys", "rotate", "--org", organisation.slug])
    assert result.exit_code == 0 and "/keys/" in result.output


# --- the import as a job (the page's way) ---------------------------------------------------------------


def _five(version: Any) -> bytes:
    return _csv(version, *(f"p{i}@example.org,P{i},{{v}},2023-05-0{i + 1}," for i in range(5)))


def test_a_queued_import_issues_in_chunks_and_a_duplicate_job_changes_nothing(setup: Any, monkeypatch: Any) -> None:
    from core.db import unit_of_work

    organisation, version, admin = setup
    monkeypatch.setattr(imports, "CHUNK", 2)
    with unit_of_work():  # without a task queue the job runs right after this commit
        job = imports.start_import(actor=admin, organisation_id=organisation.id, data=_five(version))
    db.session.refresh(job)
    assert (job.status, job.total, job.processed, job.issued, job.skipped) == ("done", 5, 5, 5, 0)
    assert [r["line"] for r in job.results] == [2, 3, 4, 5, 6] and {r["result"] for r in job.results} == {"issued"}
    imports.run_import(str(job.id))  # delivered twice by the queue
    db.session.refresh(job)
    assert (job.processed, job.issued, len(job.results)) == (5, 5, 5)
    assert db.session.query(Badge).filter_by(organisation_id=organisation.id).count() == 5
    with unit_of_work():
        again = imports.start_import(actor=admin, organisation_id=organisation.id, data=_five(version))
    db.session.refresh(again)
    assert (again.status, again.issued, again.skipped) == ("done", 0, 5)


def test_an_import_whose_worker_died_is_resumed_from_its_last_chunk(setup: Any, monkeypatch: Any) -> None:
    from datetime import timedelta

    from core import clock, tasks
    from core.db import unit_of_work

    organisation, version, admin = setup
    monkeypatch.setattr(imports, "CHUNK", 2)
    monkeypatch.setattr(tasks, "enqueue", lambda *a, **k: None)  # as if the job were still on its way
    with unit_of_work():
        job = imports.start_import(actor=admin, organisation_id=organisation.id, data=_five(version))
    # A worker took it and died after its first chunk: two badges and the counters committed together.
    rows = imports.parse_import(organisation_id=organisation.id, data=job.data)
    with unit_of_work():
        first = [imports._issue_row(row) for row in rows[:2]]
        job.status, job.processed, job.issued = "running", 2, 2
        job.results = [{**r, "badge_id": str(r["badge_id"])} for r in first]
        job.claimed_until = clock.now() + timedelta(minutes=5)
    with pytest.raises(tasks.RetryLater):  # its lease still runs: the redelivered job waits
        imports.run_import(str(job.id))
    with clock.shifted(timedelta(minutes=6)):
        imports.run_import(str(job.id))
    db.session.refresh(job)
    assert (job.status, job.processed, job.issued, job.skipped) == ("done", 5, 5, 0)
    assert [r["line"] for r in job.results] == [2, 3, 4, 5, 6]
    assert db.session.query(Badge).filter_by(organisation_id=organisation.id).count() == 5


def test_an_import_is_seen_only_by_its_organisations_admins(client: Any, setup: Any) -> None:
    from core.db import unit_of_work
    from core.errors import NotFound
    from tests.core.test_web import BROWSER, sign_in

    organisation, version, admin = setup
    with unit_of_work():
        job = imports.start_import(actor=admin, organisation_id=organisation.id, data=_five(version))
    other = OrganisationFactory()
    with pytest.raises(NotFound):
        imports.get_import(actor=member(other, Role.ORG_ADMIN), organisation_id=other.id, import_id=job.id)
    with pytest.raises(Forbidden):
        imports.get_import(actor=member(organisation, Role.AUTHOR), organisation_id=organisation.id, import_id=job.id)
    sign_in(client, member(other, Role.ORG_ADMIN).email)
    assert client.get(f"/organisations/{other.id}/badges/imports/{job.id}", headers=BROWSER).status_code == 404
    assert client.get(f"/organisations/{organisation.id}/badges/imports/{job.id}", headers=BROWSER).status_code == 403


def test_imports_left_waiting_are_resumed_by_the_scheduled_job(setup: Any, monkeypatch: Any) -> None:
    from datetime import timedelta

    from core import clock, tasks
    from core.db import unit_of_work

    organisation, version, admin = setup
    monkeypatch.setattr(tasks, "enqueue", lambda *a, **k: None)  # the job was lost (Redis away at the upload)
    with unit_of_work():
        job = imports.start_import(actor=admin, organisation_id=organisation.id, data=_five(version))
    assert imports.resume_imports() == 0  # too fresh: its own job may still be on the way
    with clock.shifted(timedelta(minutes=2)):
        assert imports.resume_imports() == 1  # without a queue the resent job runs at once
    db.session.refresh(job)
    assert (job.status, job.issued) == ("done", 5)
    with clock.shifted(timedelta(minutes=2)):
        assert imports.resume_imports() == 0
