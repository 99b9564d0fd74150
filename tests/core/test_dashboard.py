"""The Home page (``/home``) where signing in lands: each role's section, only when it applies, every item a
link the signed-in user may open, and nothing of anyone else's."""

from __future__ import annotations

import re
from typing import Any

from core import clock
from core.models import Role
from credentials.authoring.models import VersionState
from credentials.portfolios.models import SubmissionState
from tests.assessors.test_services import World
from tests.badges.issued import award, passed_submission
from tests.core.test_web import BROWSER, location, sign_in, text
from tests.factories import CredentialVersionFactory, OrganisationFactory, SubmissionFactory, UserFactory, member


def _home(client: Any) -> str:
    r = client.get("/home", headers=BROWSER)
    assert r.status_code == 200, r.status_code
    return text(r)


def _section(html: str, key: str) -> str:
    """The HTML of one section ('' when it is not on the page)."""
    match = re.search(rf'<section class="card todo" id="todo-{key}".*?</section>', html, re.S)
    return match.group(0) if match else ""


def _links(html: str) -> list[str]:
    return re.findall(r'<a href="([^"]+)"', html)


def test_signing_in_lands_on_home_and_signed_out_visitors_are_sent_to_sign_in(client: Any, session: Any) -> None:
    assert location(client.get("/home", headers=BROWSER)).startswith("/login?next=/home")
    user = UserFactory()
    assert location(sign_in(client, user.email)) == "/home"
    html = _home(client)
    assert '<a href="/home" aria-current="page">Home</a>' in html


def test_a_new_user_is_told_what_to_do_next(client: Any, session: Any) -> None:
    sign_in(client, UserFactory().email)
    html = _home(client)
    assert "Nothing is waiting for you" in html
    assert '<a href="/catalogue/">Find a micro-credential in the catalogue</a>' in html
    # sections that do not apply give no next step: no review queue, no authoring for a plain earner
    assert "/review/" not in html and "/authoring/" not in html


def test_an_earners_drafts_feedback_and_new_badges_are_links(client: Any, session: Any) -> None:
    passed = passed_submission()
    earner = passed.earner
    badge = award(passed)
    draft = SubmissionFactory(earner=earner)
    not_yet = SubmissionFactory(
        earner=earner, state=SubmissionState.NOT_YET.value, decided_at=clock.now(), feedback_summary="Nearly."
    )
    # a "not yet" already followed by a next attempt is no longer feedback waiting to be read
    followed = SubmissionFactory(earner=earner, state=SubmissionState.NOT_YET.value, decided_at=clock.now())
    SubmissionFactory(
        earner=earner,
        version=followed.version,
        attempt=2,
        state=SubmissionState.SUBMITTED.value,
        submitted_at=clock.now(),
    )
    sign_in(client, earner.email)
    html = _home(client)
    assert "Nothing is waiting" not in html

    drafts = _section(html, "drafts")
    assert f"/portfolio/{draft.id}" in _links(drafts) and draft.version.title in drafts
    assert "draft, attempt 1:" in drafts and "to finish" in drafts

    feedback = _section(html, "feedback")
    assert _links(feedback) == [f"/portfolio/{not_yet.id}"]
    assert "read the assessor&#39;s feedback, then start attempt 2" in feedback

    badges = _section(html, "badges")
    assert f"/badges/{badge.id}" in _links(badges) and "/my/badges" in _links(badges)
    for url in _links(drafts) + _links(feedback) + _links(badges):
        assert client.get(url, headers=BROWSER).status_code == 200, url


def test_nothing_of_another_user_shows(client: Any, session: Any) -> None:
    other = passed_submission()
    award(other)
    SubmissionFactory(earner=other.earner)
    SubmissionFactory(earner=other.earner, state=SubmissionState.NOT_YET.value, decided_at=clock.now())
    sign_in(client, UserFactory().email)
    html = _home(client)
    assert "Nothing is waiting for you" in html
    assert not re.search(r"/portfolio/[0-9a-f-]{36}|/badges/[0-9a-f-]{36}", html)


def test_an_assessor_sees_claims_and_claimable_work_but_never_their_own(client: Any, session: Any) -> None:
    world = World(session)
    own = world.submission(earner=world.assessor)  # the assessor's own work is not theirs to review
    sign_in(client, world.assessor.email)
    html = _home(client)
    assert not _section(html, "reviews") and "Open your review queue" in html  # only their own is waiting
    world.submission()
    world.submission()
    html = _home(client)
    reviews = _section(html, "reviews")
    assert "2 submissions you may review in" in reviews and f"/review/{world.org.id}" in _links(reviews)
    task = world.claim(world.assessor)
    assert task is not None and task.submission_id != own.id
    reviews = _section(_home(client), "reviews")
    assert f"/review/tasks/{task.id}" in _links(reviews) and "claimed by you" in reviews and "decision due" in reviews
    assert "1 submission you may review in" in reviews
    assert client.get(f"/review/tasks/{task.id}", headers=BROWSER).status_code == 200


def test_a_double_scored_submission_counts_once(client: Any, session: Any) -> None:
    world = World(session, settings={"double_first_n": 100})
    world.submission()
    sign_in(client, world.assessor.email)
    assert "1 submission you may review in" in _section(_home(client), "reviews")


def test_an_org_admin_who_does_not_assess_gets_no_review_section(client: Any, session: Any) -> None:
    world = World(session)
    world.submission()
    sign_in(client, world.admin.email)
    html = _home(client)
    assert not _section(html, "reviews") and "Open your review queue" not in html


def test_an_author_sees_their_teams_versions_in_review_with_whose_move_it_is(client: Any, session: Any) -> None:
    org = OrganisationFactory()
    me, teammate = member(org, Role.AUTHOR), member(org, Role.AUTHOR)
    mine = CredentialVersionFactory(
        organisation=org, state=VersionState.IN_REVIEW.value, review_requested_by_id=me.id,
        review_requested_at=clock.now(),
    )  # fmt: skip
    theirs = CredentialVersionFactory(
        organisation=org, state=VersionState.IN_REVIEW.value, review_requested_by_id=teammate.id,
        review_requested_at=clock.now(),
    )  # fmt: skip
    approved = CredentialVersionFactory(organisation=org, state=VersionState.APPROVED.value)
    CredentialVersionFactory(organisation=org)  # a plain draft is not in review
    elsewhere = CredentialVersionFactory(state=VersionState.IN_REVIEW.value)  # another organisation's
    sign_in(client, me.email)
    section = _section(_home(client), "authoring")
    links = _links(section)
    for version in (mine, theirs, approved):
        assert f"/authoring/versions/{version.id}" in links
    assert f"/authoring/versions/{elsewhere.id}" not in links and len(links) == 4  # three and "all of them"
    assert "you asked for review: waiting for a teammate" in section
    assert "asks for your review" in section and "approved: ready to publish" in section
    for url in links:
        assert client.get(url, headers=BROWSER).status_code == 200, url


def test_an_author_with_nothing_in_review_is_offered_a_new_micro_credential(client: Any, session: Any) -> None:
    org = OrganisationFactory()
    sign_in(client, member(org, Role.AUTHOR).email)
    html = _home(client)
    assert "Nothing is waiting for you" in html and '<a href="/authoring/new">Write a new micro-credential</a>' in html
