"""Personal data: a person downloads everything held about them as one ZIP, and has it erased on request.

Two earners of one organisation go all the way (files uploaded through the API, a blind review with written
feedback, a signed badge); one of them exports and is erased. Nothing of the other person, nor the assessor's
identity, may appear in the archive; erasure must delete the files from storage and leave the badge valid.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tracemalloc
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from sqlalchemy import select

from assessors import scoring
from assessors.models import ReviewTask
from badges.models import Badge
from core import accounts, clock, exports, storage
from core.models import ApiToken, AuditEvent, Role, User
from credentials.portfolios.models import EvidenceFile, Submission
from tests.assessors.test_services import full_scores
from tests.conftest import bearer
from tests.credentials import test_blind_evidence as blind
from tests.factories import AnswerFactory, DraftCommentFactory, SubmissionFactory, member

world = blind.world  # an organisation whose credential takes files, with qualified assessors


def pdf_naming(name: str) -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(100, 100))
    pdf.docinfo["/Title"] = f"Lesson plan by {name}"
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


@dataclass
class Person:
    user: User
    submission: Submission
    file_bytes: bytes
    answer: str
    badge: Badge | None


def person(client: Any, session: Any, world: Any, name: str, *roles: Role) -> Person:
    """An earner of ``world.org`` with a passed, badged submission: a file, an answer, written feedback."""
    email = f"{name.split()[0].lower()}@{uuid.uuid4().hex[:6]}.example"
    user = member(world.org, *roles, name=name, email=email)
    data = pdf_naming(name)
    submission_id, files = blind._upload(client, world, user, [(data, f"{name.split()[0]}-plan.pdf")])
    submission = session.get(Submission, uuid.UUID(submission_id))
    answer = f"{name} taught the fractions unit in room 12."
    AnswerFactory(submission=submission, text=answer)
    submission.evidence_public = True  # so the signed badge carries the answer as its evidence narrative
    blind._submit_and_claim(session, world, submission_id)
    opened = client.get(f"/api/v1/review-evidence/{files[0]['id']}", headers=bearer(world.assessor))
    assert opened.status_code in {200, 302}  # 302: to a presigned S3 URL
    task = session.scalar(select(ReviewTask).where(ReviewTask.submission_id == submission.id))
    scoring.submit_review(
        actor=world.assessor,
        task_id=task.id,
        scores=full_scores(2, 2, feedback=f"Good questioning, {name.split()[0]}"),
        summary=f"{name.split()[0]}'s lesson met the standard.",
    )
    session.refresh(submission)
    badge = session.scalar(select(Badge).where(Badge.submission_id == submission.id))
    return Person(user=user, submission=submission, file_bytes=data, answer=answer, badge=badge)


@pytest.fixture
def two(client: Any, session: Any, world: Any) -> tuple[Person, Person]:
    world.assessor.name, world.assessor.email = "Agatha Scorewell", "agatha.scorewell@assessors.example"
    session.flush()
    first = person(client, session, world, "Ottoline Fairweather", Role.AUTHOR)
    second = person(client, session, world, "Bartholomew Quince", Role.AUTHOR)
    return first, second


def archive_of(client: Any, user: User) -> zipfile.ZipFile:
    response = client.get("/api/v1/me/export", headers=bearer(user))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.is_streamed
    assert response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["Cache-Control"] == "private, no-store"
    return zipfile.ZipFile(io.BytesIO(response.data))


def everything(archive: zipfile.ZipFile) -> bytes:
    return b"\n".join(archive.read(name) for name in archive.namelist())


def test_the_archive_holds_each_part_of_a_persons_data(client: Any, session: Any, world: Any, two: Any) -> None:
    me, _ = two
    assert me.badge is not None and me.submission.state == "passed"
    accounts.create_api_token(actor=me.user, name="my laptop script")
    DraftCommentFactory(version=world.version, author=me.user, body="Tighten criterion 2, please.")
    session.flush()

    archive = archive_of(client, me.user)
    names = set(archive.namelist())
    for part in (
        "README.txt",
        "manifest.json",
        "account.json",
        "memberships.json",
        "api_tokens.json",
        "submissions.json",
        "reviews_of_your_work.json",
        "badges.json",
        "audit.json",
    ):
        assert part in names, part
    assert archive.testzip() is None

    account = json.loads(archive.read("account.json"))[0]
    assert (account["name"], account["email"]) == (me.user.name, me.user.email)
    assert json.loads(archive.read("memberships.json")) == [
        {
            "organisation": world.org.name,
            "role": "author",
            "since": me.user.memberships[0].created_at.isoformat(),
            "unit": None,
            "job_role": None,
        }
    ]
    tokens = json.loads(archive.read("api_tokens.json"))
    token = session.scalar(select(ApiToken).where(ApiToken.user_id == me.user.id))
    assert [t["name"] for t in tokens] == ["my laptop script"]
    assert token.token_hash.encode() not in everything(archive)

    [submission] = json.loads(archive.read("submissions.json"))
    assert submission["reference"] == me.submission.reference
    assert submission["answers"][0]["text"] == me.answer
    assert {f["criterion_key"] for f in submission["feedback"]} == {"quality", "impact"}
    [file] = submission["files"]
    assert archive.read(file["in_archive"]) == me.file_bytes  # the original, as uploaded
    assert file["in_archive"].startswith(f"evidence/{me.submission.reference}/")

    [comment] = json.loads(archive.read("draft_comments.json"))
    assert comment["body"] == "Tighten criterion 2, please."

    [review] = json.loads(archive.read("reviews_of_your_work.json"))
    assert review["assessor"] == "an assessor" and review["summary"] == "Ottoline's lesson met the standard."
    assert review["scores"][0]["feedback"] == "Good questioning, Ottoline"

    [badge] = json.loads(archive.read("badges.json"))
    assert badge["id"] == str(me.badge.id) and badge["status"] == "valid"
    assert json.loads(archive.read(f"badges/{me.badge.id}.json")) == me.badge.credential
    assert archive.read(f"badges/{me.badge.id}.jwt").decode() == me.badge.jwt

    audit = json.loads(archive.read("audit.json"))
    actions = {(e["action"], e["by"]) for e in audit}
    assert ("submission.files_added", "you") in actions
    assert ("evidence.opened", "an assessor") in actions
    manifest = json.loads(archive.read("manifest.json"))
    for entry in manifest["files"]:
        data = archive.read(entry["path"])
        assert (len(data), hashlib.sha256(data).hexdigest()) == (entry["size"], entry["sha256"])
    assert {e["path"] for e in manifest["files"]} == names - {"manifest.json"}
    readme = archive.read("README.txt").decode()
    assert "an assessor" in readme and "evidence/" in readme

    exported = session.scalar(select(AuditEvent).where(AuditEvent.action == "privacy.exported"))
    assert exported.actor_id == me.user.id


def test_nobody_elses_data_is_in_the_archive(client: Any, session: Any, world: Any, two: Any) -> None:
    me, other = two
    DraftCommentFactory(version=world.version, author=other.user, body="Bartholomew's private remark")
    data = everything(archive_of(client, me.user))
    assert me.user.email.encode() in data  # the check below would mean nothing if the archive were empty
    strangers = [
        other.user.name,
        other.user.email,
        str(other.user.id),
        other.answer,
        other.submission.reference,
        str(other.submission.id),
        str(other.badge.id),
        hashlib.sha256(other.file_bytes).hexdigest(),
        "Bartholomew",
        "Quince",
        "Agatha",
        "Scorewell",
        world.assessor.email,
        str(world.assessor.id),
        world.admin.email,
        str(world.admin.id),
    ]
    for secret in strangers:
        assert secret.encode() not in data, secret
    assert other.file_bytes not in data


def test_an_assessor_exports_the_reviews_they_wrote_without_earner_names(
    client: Any, session: Any, world: Any, two: Any
) -> None:
    data = archive_of(client, world.assessor)
    written = json.loads(data.read("reviews_you_wrote.json"))
    assert {r["submission"] for r in written} == {p.submission.reference for p in two}
    text = everything(data)
    for earner in two:
        assert earner.user.name.encode() not in text and earner.user.email.encode() not in text
        assert str(earner.user.id).encode() not in text


def test_the_archive_is_streamed_with_flat_memory(app: Any, session: Any, world: Any, tmp_path: Path) -> None:
    earner = member(world.org)
    submission = SubmissionFactory(version=world.version, earner=earner)
    size = 40 * 1024 * 1024
    big = tmp_path / "big"
    with big.open("wb") as f:
        for _ in range(size // storage.CHUNK):
            f.write(os.urandom(storage.CHUNK))
    digest, _ = storage.keep_path(big)
    session.add(
        EvidenceFile(
            submission=submission,
            requirement_key="artefact",
            sha256=digest,
            size=size,
            media_type="video/mp4",
            filename="lesson.mp4",
            created_at=clock.now(),
        )
    )
    session.flush()
    archive = exports.export(actor=earner)
    tracemalloc.start()
    total = 0
    try:
        for chunk in archive.chunks:
            total += len(chunk)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert total > 0
    assert peak < 8 * 1024 * 1024, f"peak {peak:,} bytes for a {size:,}-byte file"


def test_export_needs_a_signed_in_person(client: Any) -> None:
    from tests.conftest import problem

    problem(client.get("/api/v1/me/export"), 401)


def test_the_account_page_links_to_the_archive(client: Any, session: Any, world: Any) -> None:
    from tests.core.test_web import BROWSER, sign_in, text

    earner = member(world.org, Role.AUTHOR)
    sign_in(client, earner.email)
    page = text(client.get("/account", headers=BROWSER))
    assert 'href="/account/export"' in page
    response = client.get("/account/export", headers=BROWSER)
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert "account.json" in zipfile.ZipFile(io.BytesIO(response.data)).namelist()


def test_archives_are_rate_limited_across_the_page_and_the_api(client: Any, world: Any) -> None:
    from tests.conftest import problem
    from tests.core.test_web import BROWSER, sign_in

    earner = member(world.org, Role.AUTHOR)
    sign_in(client, earner.email)
    for _ in range(5):
        assert client.get("/api/v1/me/export", headers=bearer(earner)).status_code == 200
        assert client.get("/account/export", headers=BROWSER).status_code == 200
    problem(client.get("/api/v1/me/export", headers=bearer(earner)), 429)
    assert client.get("/account/export", headers=BROWSER).status_code == 429


def test_a_file_missing_from_storage_is_named_in_the_archive(client: Any, session: Any, world: Any) -> None:
    from tests.factories import EvidenceFileFactory

    earner = member(world.org, Role.AUTHOR)
    submission = SubmissionFactory(version=world.version, earner=earner)
    EvidenceFileFactory(submission=submission, sha256="ab" * 32, filename="gone.png")
    archive = archive_of(client, earner)
    [missing] = [n for n in archive.namelist() if n.endswith(".missing.txt")]
    assert missing.startswith(f"evidence/{submission.reference}/1-gone.png")
    assert b"could not be read" in archive.read(missing)
