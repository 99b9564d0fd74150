"""Erasure on request: the person asks, an admin of an organisation holding their data carries it out. The
files leave storage (local and S3), the submissions are emptied, the account is anonymised, the badge stays
valid without the name, the audit rows stay with the person pseudonymised; the other earner is untouched."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from assessors.models import Review
from core import accounts, storage
from core.models import AuditEvent, ErasureRequest, Role, User
from credentials.portfolios.models import Answer, CriterionFeedback, EvidenceFile
from tests.conftest import S3_TEST_SETTINGS, bearer, problem
from tests.core import test_personal_data as pd
from tests.core.test_web import BROWSER, location, page, sign_in, text
from tests.factories import OrganisationFactory, member

world = pd.world
two = pd.two


def digests_of(session: Any, person: pd.Person) -> set[str]:
    files = session.scalars(select(EvidenceFile).where(EvidenceFile.submission_id == person.submission.id))
    return {d for f in files for d in (f.sha256, f.blind_sha256) if d}


def audit_text(session: Any, person_id: uuid.UUID) -> str:
    events = session.scalars(select(AuditEvent).where(AuditEvent.actor_id == person_id))
    return json.dumps([[e.before, e.after] for e in events])


def count_events(session: Any, person_id: uuid.UUID) -> int:
    return len(session.scalars(select(AuditEvent.id).where(AuditEvent.actor_id == person_id)).all())


def ask(client: Any, user: User, reason: str = "I am leaving teaching.") -> dict[str, Any]:
    response = client.post("/api/v1/me/erasure-request", json={"reason": reason}, headers=bearer(user))
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


def erase_and_check(client: Any, session: Any, world: Any, two: Any) -> None:
    me, other = two
    store = storage.backend()
    mine, theirs = digests_of(session, me), digests_of(session, other)
    assert mine and theirs and all(store.exists(d) for d in mine | theirs)
    archive = pd.archive_of(client, me.user)  # read back from this store (local, or S3 over HTTP)
    [exported] = json.loads(archive.read("submissions.json"))[0]["files"]
    assert archive.read(exported["in_archive"]) == me.file_bytes
    accounts.update_profile(actor=me.user, name="Ottoline F. Fairweather")  # an audit row naming the person
    session.flush()
    old_name, old_email, old_token = me.user.name, me.user.email, bearer(me.user)
    assert old_email in audit_text(session, me.user.id) and old_name in audit_text(session, me.user.id)
    before = text(client.get(f"/badges/{me.badge.id}", headers=BROWSER))
    assert "Ottoline Fairweather" in before and "fractions" in before  # name and public evidence, until erasure
    request = ask(client, me.user)
    events_before = count_events(session, me.user.id)

    done = client.post(f"/api/v1/erasure-requests/{request['id']}/carry-out", headers=bearer(world.admin))
    assert done.status_code == 200, done.get_data(as_text=True)
    body = done.json
    assert body["state"] == "completed" and body["pseudonym"].startswith("person-")
    assert body["summary"]["evidence_files"] == 1 and body["summary"]["stored_files_deleted"] == len(mine)
    assert body["reason"] == ""

    session.expire_all()
    # storage: the person's files are gone, the other earner's are not
    assert not any(store.exists(d) for d in mine)
    assert all(store.exists(d) for d in theirs)
    # submissions emptied, feedback blanked, the other person's kept
    assert session.scalars(select(Answer).where(Answer.submission_id == me.submission.id)).all() == []
    assert session.scalars(select(EvidenceFile).where(EvidenceFile.submission_id == me.submission.id)).all() == []
    feedback = session.scalars(select(CriterionFeedback).where(CriterionFeedback.submission_id == me.submission.id))
    assert {f.feedback for f in feedback} == {""}
    review = session.scalar(select(Review).where(Review.submission_id == me.submission.id))
    assert review.summary == "" and {s.feedback for s in review.scores} == {""}
    assert session.scalar(select(Answer.text).where(Answer.submission_id == other.submission.id)) == other.answer
    other_review = session.scalar(select(Review).where(Review.submission_id == other.submission.id))
    assert other_review.summary == "Bartholomew's lesson met the standard."
    # the account
    user = session.get(User, me.user.id)
    assert user.name != old_name and user.email.endswith("@erased.invalid") and body["pseudonym"] in user.email
    assert not user.is_active and user.password_hash is None and user.erased_at is not None
    assert user.memberships == []
    problem(client.get("/api/v1/me", headers=old_token), 401)
    problem(client.post("/api/v1/auth/token", json={"email": old_email, "password": "correct horse battery"}), 401)
    # the badge stays valid, its page without the name or the evidence
    badge_page = text(client.get(f"/badges/{me.badge.id}", headers=BROWSER))
    assert "VALID" in badge_page and old_name not in badge_page and "Ottoline" not in badge_page
    assert "fractions" not in badge_page
    served = client.get(f"/badges/{me.badge.id}.json")
    assert served.status_code == 200 and served.json == me.badge.credential  # signed: unchanged
    for given in ({"credential": me.badge.jwt}, {"credential": me.badge.credential}):
        report = client.post("/api/v1/verify", json=given).json
        assert (report["verified"], report["status"]) == (True, "valid")
    # audit rows kept, pseudonymised
    assert count_events(session, me.user.id) == events_before
    kept = audit_text(session, me.user.id)
    assert old_email not in kept and old_name not in kept
    completed = session.scalar(select(AuditEvent).where(AuditEvent.action == "privacy.erasure_completed"))
    assert completed.actor_id == world.admin.id and old_name not in json.dumps(completed.after)
    # a second go is refused
    again = client.post(f"/api/v1/erasure-requests/{request['id']}/carry-out", headers=bearer(world.admin))
    problem(again, 409)


def test_an_admin_erases_a_person_on_request(client: Any, session: Any, world: Any, two: Any) -> None:
    erase_and_check(client, session, world, two)


def test_erasure_deletes_the_files_from_s3(
    client: Any,
    session: Any,
    app: Any,
    world: Any,
    monkeypatch: Any,
    s3_server: str,
    s3_bucket: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    config = {"S3_ENDPOINT_URL": s3_server, **S3_TEST_SETTINGS}
    store = storage.S3Backend(s3_bucket, f"erase-{uuid.uuid4().hex[:6]}", config, tmp_path)
    monkeypatch.setitem(app.extensions, "storage", store)
    people = request.getfixturevalue("two")  # uploaded after the store was switched, so into S3
    assert sum(1 for _ in store.list()) >= 2
    erase_and_check(client, session, world, people)


def test_only_admins_holding_the_persons_data_see_and_carry_out_the_request(
    client: Any, session: Any, world: Any, two: Any
) -> None:
    me, other = two
    request = ask(client, me.user)
    listed = client.get("/api/v1/erasure-requests?state=pending", headers=bearer(world.admin))
    assert [(r["id"], r["person"]["email"]) for r in listed.json] == [(request["id"], me.user.email)]
    elsewhere = member(OrganisationFactory(), Role.ORG_ADMIN)
    assert client.get("/api/v1/erasure-requests", headers=bearer(elsewhere)).json == []
    for who in (elsewhere, me.user, other.user, world.assessor):
        problem(client.get(f"/api/v1/erasure-requests/{request['id']}", headers=bearer(who)), 404)
        problem(client.post(f"/api/v1/erasure-requests/{request['id']}/carry-out", headers=bearer(who)), 404)
    problem(client.post(f"/api/v1/erasure-requests/{uuid.uuid4()}/carry-out", headers=bearer(world.admin)), 404)
    problem(client.get("/api/v1/erasure-requests?state=gone", headers=bearer(world.admin)), 422)
    problem(client.get("/api/v1/erasure-requests?page=99999999999999999999", headers=bearer(world.admin)), 422)
    own_org = client.get(f"/api/v1/erasure-requests?organisation_id={world.org.id}", headers=bearer(world.admin))
    assert [r["id"] for r in own_org.json] == [request["id"]]
    problem(client.get(f"/api/v1/erasure-requests?organisation_id={world.org.id}", headers=bearer(elsewhere)), 404)
    platform = member(OrganisationFactory(), is_platform_admin=True)
    assert [r["id"] for r in client.get("/api/v1/erasure-requests", headers=bearer(platform)).json] == [request["id"]]
    assert session.get(User, me.user.id).erased_at is None


def test_a_person_asks_once_and_may_withdraw(client: Any, session: Any, world: Any) -> None:
    earner = member(world.org, Role.AUTHOR)
    ask(client, earner)
    problem(client.post("/api/v1/me/erasure-request", json={}, headers=bearer(earner)), 409)
    assert client.get("/api/v1/me/erasure-request", headers=bearer(earner)).json["state"] == "pending"
    assert client.delete("/api/v1/me/erasure-request", headers=bearer(earner)).status_code == 204
    problem(client.get("/api/v1/me/erasure-request", headers=bearer(earner)), 404)
    problem(client.delete("/api/v1/me/erasure-request", headers=bearer(earner)), 404)
    assert client.get("/api/v1/erasure-requests?state=pending", headers=bearer(world.admin)).json == []
    states = [r.state for r in session.scalars(select(ErasureRequest).where(ErasureRequest.user_id == earner.id))]
    assert states == ["cancelled"]
    ask(client, earner)  # a new request after withdrawing one


@pytest.mark.parametrize(
    "body",
    [{"reason": "x" * 2001}, {"reason": "bad\x00byte"}, {"reason": 12}, {"surprise": True}, ["reason"]],
)
def test_hostile_requests_are_refused(client: Any, world: Any, body: Any) -> None:
    earner = member(world.org)
    problem(client.post("/api/v1/me/erasure-request", json=body, headers=bearer(earner)), 422)
    problem(client.get("/api/v1/me/erasure-request", headers=bearer(earner)), 404)


def test_the_same_bytes_uploaded_by_someone_else_stay(client: Any, session: Any, world: Any) -> None:
    data = pd.pdf_naming("Nobody In Particular")
    first, second = member(world.org, Role.AUTHOR), member(world.org, Role.AUTHOR)
    pd.blind._upload(client, world, first, [(data, "a.pdf")])
    pd.blind._upload(client, world, second, [(data, "b.pdf")])
    [digest] = set(session.scalars(select(EvidenceFile.sha256)))
    request = ask(client, first)
    done = client.post(f"/api/v1/erasure-requests/{request['id']}/carry-out", headers=bearer(world.admin))
    assert done.status_code == 200
    assert storage.backend().exists(digest)  # the second person's file is the same bytes
    assert len(session.scalars(select(EvidenceFile)).all()) == 1


def test_the_erasure_journey_on_pages(client: Any, session: Any, world: Any) -> None:
    earner = member(world.org, Role.AUTHOR, name="Perpetua Lindqvist")
    sign_in(client, earner.email)
    account = text(client.get("/account", headers=BROWSER))
    assert 'href="/account/erasure"' in account
    _, token = page(client, "/account/erasure")
    refused = client.post("/account/erasure", data={"csrf_token": token, "reason": "bye"}, headers=BROWSER)
    assert refused.status_code == 422 and "Tick the box" in text(refused)
    sent = client.post("/account/erasure", data={"csrf_token": token, "confirm": "yes"}, headers=BROWSER)
    assert sent.status_code == 302
    assert "Withdraw my request" in text(client.get("/account/erasure", headers=BROWSER))

    sign_in(client, world.admin.email)
    assert "1 erasure request waits for you" in text(client.get("/account", headers=BROWSER))
    listing = text(client.get("/organisations/erasure-requests", headers=BROWSER))
    assert "Perpetua Lindqvist" in listing
    request_id = session.scalar(select(ErasureRequest.id).where(ErasureRequest.user_id == earner.id))
    detail, token = page(client, f"/organisations/erasure-requests/{request_id}")
    assert "Erase now" in text(detail)
    unconfirmed = client.post(
        f"/organisations/erasure-requests/{request_id}/carry-out", data={"csrf_token": token}, headers=BROWSER
    )
    assert location(unconfirmed) == f"/organisations/erasure-requests/{request_id}"
    assert session.get(User, earner.id).erased_at is None
    done = client.post(
        f"/organisations/erasure-requests/{request_id}/carry-out",
        data={"csrf_token": token, "confirm": "yes"},
        headers=BROWSER,
    )
    assert location(done) == "/organisations/erasure-requests"
    session.expire_all()
    assert session.get(User, earner.id).erased_at is not None
    assert "Perpetua" not in text(client.get("/organisations/erasure-requests?state=completed", headers=BROWSER))


def test_a_request_another_admin_just_carried_out_is_not_erased_twice(client: Any, session: Any, world: Any) -> None:
    import sqlalchemy as sa

    from core import erasure
    from core.errors import Conflict

    earner = member(world.org, Role.AUTHOR, name="Twice Over")
    request = erasure.request_erasure(actor=earner)
    session.flush()
    # As if a second admin's transaction committed between this one reading the request and erasing:
    # the row says completed, the object this session holds still says pending.
    session.execute(
        sa.update(ErasureRequest)
        .where(ErasureRequest.id == request.id)
        .values(state="completed")
        .execution_options(synchronize_session=False)
    )
    assert request.state == "pending"
    with pytest.raises(Conflict):
        erasure.carry_out(actor=world.admin, request_id=request.id)
    assert session.get(User, earner.id).name == "Twice Over"
