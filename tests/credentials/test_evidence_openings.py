"""Audited evidence downloads: every time someone other than the earner opens one of their files an audit row
says who, which file and when; the earner reads the list on their submission page, assessors unnamed."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from core.models import AuditEvent, Role
from tests.conftest import bearer, problem
from tests.core.test_web import BROWSER, sign_in, text
from tests.credentials import test_blind_evidence as blind
from tests.factories import UserFactory, member

world = blind.world  # an organisation whose credential takes files, with a qualified assessor
_upload, _submit_and_claim, pdf_with_author = blind._upload, blind._submit_and_claim, blind.pdf_with_author


def openings(session: Any, submission_id: str) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "evidence.opened", AuditEvent.object_id == submission_id)
            .order_by(AuditEvent.occurred_at)
        )
    )


def test_downloads_by_others_are_audited_and_the_earner_sees_them(client: Any, session: Any, world: Any) -> None:
    earner = member(world.org, name="Ottoline Fairweather")
    world.assessor.name = "Agatha Scorewell"
    world.admin.name = "Adele Admin"
    session.flush()
    submission_id, files = _upload(client, world, earner, [(pdf_with_author(), "my-plan.pdf")])
    file_url = f"/api/v1/submissions/{submission_id}/files/{files[0]['id']}"

    assert client.get(file_url, headers=bearer(earner)).status_code == 200
    assert openings(session, submission_id) == []  # the earner's own downloads are not "openings"

    assert client.get(file_url, headers=bearer(world.admin)).status_code == 200
    _submit_and_claim(session, world, submission_id)
    assert client.get(f"/api/v1/review-evidence/{files[0]['id']}", headers=bearer(world.assessor)).status_code == 200
    sign_in(client, world.assessor.email)
    assert client.get(f"/review/evidence/{files[0]['id']}?inline=1", headers=BROWSER).status_code == 200

    rows = openings(session, submission_id)
    assert [(r.actor_id, r.after["viewer"], r.after["copy"]) for r in rows] == [
        (world.admin.id, "org_admin", "original"),
        (world.assessor.id, "assessor", "assessor_copy"),
        (world.assessor.id, "assessor", "assessor_copy"),
    ]
    assert all(r.after["file_id"] == files[0]["id"] and r.organisation_id == world.org.id for r in rows)
    assert all(r.object_type == "Submission" for r in rows)

    listed = client.get(f"/api/v1/submissions/{submission_id}/openings", headers=bearer(earner)).json
    assert [(o["who"], o["file"], o["copy"]) for o in listed] == [
        ("an assessor", "my-plan.pdf", "the copy without hidden details"),
        ("an assessor", "my-plan.pdf", "the copy without hidden details"),
        ("Adele Admin (organisation admin)", "my-plan.pdf", "the original"),
    ]
    problem(client.get(f"/api/v1/submissions/{submission_id}/openings", headers=bearer(world.assessor)), 404)

    sign_in(client, earner.email)
    page = text(client.get(f"/portfolio/{submission_id}", headers=BROWSER))
    assert "Who opened your evidence" in page
    assert "an assessor" in page and "Adele Admin (organisation admin)" in page
    assert "Agatha" not in page and "Scorewell" not in page
    assert "my-plan.pdf" in page


def test_a_refused_download_writes_no_row(client: Any, session: Any, world: Any) -> None:
    earner = member(world.org)
    submission_id, files = _upload(client, world, earner, [(pdf_with_author(), "plan.pdf")])
    outsider = member(world.org, Role.AUTHOR)
    problem(client.get(f"/api/v1/submissions/{submission_id}/files/{files[0]['id']}", headers=bearer(outsider)), 404)
    problem(client.get(f"/api/v1/review-evidence/{files[0]['id']}", headers=bearer(world.assessor)), 403)
    problem(client.get(f"/api/v1/review-evidence/{uuid.uuid4()}", headers=bearer(world.assessor)), 404)
    assert openings(session, submission_id) == []


def test_the_assessor_copy_opened_by_an_admin_is_audited(client: Any, session: Any, world: Any) -> None:
    earner = member(world.org)
    submission_id, files = _upload(client, world, earner, [(pdf_with_author(), "plan.pdf")])
    url = f"/api/v1/submissions/{submission_id}/files/{files[0]['id']}/assessor-copy"
    assert client.get(url, headers=bearer(earner)).status_code == 200
    platform = UserFactory(is_platform_admin=True)
    assert client.get(url, headers=bearer(platform)).status_code == 200
    rows = openings(session, submission_id)
    assert [(r.actor_id, r.after["viewer"], r.after["copy"]) for r in rows] == [
        (platform.id, "platform_admin", "assessor_copy")
    ]


def test_other_people_never_see_the_openings_list(client: Any, session: Any, world: Any) -> None:
    earner = member(world.org)
    submission_id, files = _upload(client, world, earner, [(pdf_with_author(), "plan.pdf")])
    assert client.get(f"/api/v1/submissions/{submission_id}/files/{files[0]['id']}", headers=bearer(world.admin))
    world.admin.name = "Adele Admin"
    session.flush()
    sign_in(client, world.admin.email)
    page = text(client.get(f"/portfolio/{submission_id}", headers=BROWSER))
    assert "Who opened your evidence" not in page
