"""The author and catalogue pages over HTTP: form translation, refusals and hostile input (fast, no browser).

The journeys themselves are walked in a real browser in tests/browser/.
"""

from __future__ import annotations

from typing import Any

from core.models import Role
from credentials.authoring.models import CredentialVersion
from tests.conftest import csrf_token
from tests.core.test_web import BROWSER, location, sign_in, text
from tests.factories import CredentialVersionFactory, OrganisationFactory, member


def _author(organisation: Any = None) -> Any:
    return member(organisation or OrganisationFactory(), Role.AUTHOR)


def _edit_form(client: Any, version: CredentialVersion) -> dict[str, Any]:
    r = client.get(f"/authoring/versions/{version.id}/edit", headers=BROWSER)
    assert r.status_code == 200
    return {
        "csrf_token": csrf_token(text(r)),
        "title": version.title,
        "requirement_count": "1",
        "criterion_count": "0",
    }


def test_editor_saves_rows_into_the_draft(client, session):
    version = CredentialVersionFactory(requirements=False)
    sign_in(client, _author(version.organisation).email)
    form = _edit_form(client, version) | {
        "criterion_count": "1",
        "requirements-0-key": "plan",
        "requirements-0-title": "Plan",
        "requirements-0-prompt": "Upload it.",
        "requirements-0-evidence_kind": "file",
        "requirements-0-allowed_file_types": ["pdf", "docx"],
        "requirements-0-required": "on",
        "rubric-0-key": "quality",
        "rubric-0-name": "Quality",
        "rubric-0-requirements": "plan",
        "rubric-0-level_count": "3",
        "rubric-0-levels-0-name": "Not yet",
        "rubric-0-levels-0-points": "0",
        "rubric-0-levels-1-name": "Proficient",
        "rubric-0-levels-1-points": "2",
        "passing_rule-level": "Proficient",
        "tags": "Assessment,  literacy ,",
        "estimated_hours": "7.5",
    }
    r = client.post(f"/authoring/versions/{version.id}/edit", data=form, headers=BROWSER)
    assert r.status_code == 302, text(r)
    session.refresh(version)
    assert [r.key for r in version.requirements] == ["plan"]
    assert version.requirements[0].allowed_file_types == ["pdf", "docx"]
    assert [lv.name for lv in version.criteria[0].levels] == ["Not yet", "Proficient"]  # blank row ignored
    assert version.tags == ["assessment", "literacy"]
    assert version.estimated_hours == 7.5
    assert version.passing_level == "Proficient"


def test_editor_ties_errors_to_the_rows_they_came_from(client, session):
    version = CredentialVersionFactory(requirements=False)
    sign_in(client, _author(version.organisation).email)
    form = _edit_form(client, version) | {
        "requirement_count": "3",
        # row 0 left blank: skipped, so the service's requirements.0 is the form's row 1
        "requirements-1-key": "Bad Key!",
        "requirements-1-title": "Plan",
        "requirements-1-prompt": "x",
        "requirements-1-evidence_kind": "text",
        "requirements-2-key": "ok",
        "requirements-2-title": "Ok",
        "requirements-2-prompt": "x",
        "requirements-2-evidence_kind": "text",
        "requirements-2-max_words": "lots",
    }
    r = client.post(f"/authoring/versions/{version.id}/edit", data=form, headers=BROWSER)
    assert r.status_code == 422
    html = text(r)
    assert 'id="requirements-2-max_words-error"' in html and "Enter a number." in html
    assert 'value="Bad Key!"' in html  # what was typed is kept
    session.refresh(version)
    assert version.requirements == []  # nothing written


def test_editor_key_errors_point_at_the_right_row(client, session):
    version = CredentialVersionFactory(requirements=False)
    sign_in(client, _author(version.organisation).email)
    form = _edit_form(client, version) | {
        "requirement_count": "2",
        "requirements-1-key": "Bad Key!",
        "requirements-1-title": "Plan",
        "requirements-1-prompt": "x",
        "requirements-1-evidence_kind": "text",
    }
    r = client.post(f"/authoring/versions/{version.id}/edit", data=form, headers=BROWSER)
    assert r.status_code == 422
    html = text(r)
    row = html[html.index('name="requirements-1-key"') : html.index('id="rubric-heading"')]  # the second row
    assert 'class="error"' in row and "key" in row.lower()  # the refusal is shown in that row


def test_authors_never_type_keys_they_are_made_from_titles(client, session):
    version = CredentialVersionFactory(requirements=False)
    sign_in(client, _author(version.organisation).email)
    form = _edit_form(client, version) | {
        "requirement_count": "2",
        "requirements-0-title": "Lesson plan",
        "requirements-0-prompt": "Upload your plan.",
        "requirements-0-evidence_kind": "text",
        "requirements-1-title": "Lesson plan",
        "requirements-1-prompt": "And the revised one.",
        "requirements-1-evidence_kind": "text",
    }
    r = client.post(f"/authoring/versions/{version.id}/edit", data=form, headers=BROWSER)
    assert r.status_code in (302, 303), text(r)[:500]
    session.refresh(version)
    assert [q.key for q in version.requirements] == ["lesson-plan", "lesson-plan-2"]
    html = text(client.get(f"/authoring/versions/{version.id}/edit", headers=BROWSER))
    assert ">Key<" not in html and "comma-separated" not in html
    assert 'type="checkbox" name="rubric-0-requirements" value="lesson-plan"' in html  # judged by ticking


def test_editor_refuses_absurd_row_counts_without_a_500(client, session):
    version = CredentialVersionFactory(requirements=False)
    sign_in(client, _author(version.organisation).email)
    form = _edit_form(client, version) | {"requirement_count": "999999999", "criterion_count": "-4"}
    r = client.post(f"/authoring/versions/{version.id}/edit", data=form, headers=BROWSER)
    assert r.status_code == 302


def test_editor_refuses_a_stale_copy(client, session):
    version = CredentialVersionFactory()
    sign_in(client, _author(version.organisation).email)
    form = _edit_form(client, version) | {"lock_version": str(version.lock_version - 1 or 99)}
    r = client.post(f"/authoring/versions/{version.id}/edit", data=form, headers=BROWSER)
    assert r.status_code == 422
    assert "Someone else saved this draft" in text(r)


def test_editor_needs_csrf(client, session):
    version = CredentialVersionFactory()
    sign_in(client, _author(version.organisation).email)
    r = client.post(f"/authoring/versions/{version.id}/edit", data={"title": "x"}, headers=BROWSER)
    assert r.status_code == 400


def test_authors_of_another_organisation_get_not_found(client, session):
    version = CredentialVersionFactory()
    sign_in(client, _author().email)
    assert client.get(f"/authoring/versions/{version.id}", headers=BROWSER).status_code == 404
    assert client.get(f"/authoring/versions/{version.id}/edit", headers=BROWSER).status_code == 404


def test_an_earner_cannot_open_the_author_pages(client, session):
    version = CredentialVersionFactory(published=True)
    earner = member(OrganisationFactory())
    sign_in(client, earner.email)
    assert client.get("/authoring/", headers=BROWSER).status_code == 403
    assert client.get(f"/authoring/versions/{version.id}", headers=BROWSER).status_code == 403


def test_published_versions_cannot_be_edited(client, session):
    version = CredentialVersionFactory(published=True)
    sign_in(client, _author(version.organisation).email)
    r = client.get(f"/authoring/versions/{version.id}/edit", headers=BROWSER)
    assert r.status_code == 302 and location(r) == f"/authoring/versions/{version.id}"


def test_requesting_changes_needs_a_comment(client, session):
    version = CredentialVersionFactory(state="in_review")
    sign_in(client, _author(version.organisation).email)
    token = csrf_token(text(client.get(f"/authoring/versions/{version.id}", headers=BROWSER)))
    r = client.post(
        f"/authoring/versions/{version.id}/request_changes", data={"csrf_token": token, "comment": " "}, headers=BROWSER
    )
    assert r.status_code == 302
    session.refresh(version)
    assert version.state == "in_review"
    assert "Write a comment first" in text(client.get(location(r), headers=BROWSER))


def test_unknown_workflow_steps_are_404(client, session):
    version = CredentialVersionFactory()
    sign_in(client, _author(version.organisation).email)
    token = csrf_token(text(client.get(f"/authoring/versions/{version.id}", headers=BROWSER)))
    r = client.post(f"/authoring/versions/{version.id}/delete", data={"csrf_token": token}, headers=BROWSER)
    assert r.status_code in {404, 405}


def test_aligning_a_bad_item_is_refused(client, session):
    version = CredentialVersionFactory()
    sign_in(client, _author(version.organisation).email)
    token = csrf_token(text(client.get(f"/authoring/versions/{version.id}/standards", headers=BROWSER)))
    url = f"/authoring/versions/{version.id}/standards"
    assert client.post(url, data={"csrf_token": token, "item": "nope"}, headers=BROWSER).status_code == 400
    r = client.post(url, data={"csrf_token": token, "item": "00000000-0000-0000-0000-000000000000"}, headers=BROWSER)
    assert r.status_code == 302
    assert "Not changed" in text(client.get(location(r), headers=BROWSER))


def test_catalogue_lists_published_only_and_survives_hostile_filters(client, session):
    published = CredentialVersionFactory(published=True, title="Listed one")
    CredentialVersionFactory(title="Hidden draft")
    html = text(client.get("/catalogue/?q=%25&tag=%00&organisation=x&standard=1&framework=&page=abc", headers=BROWSER))
    assert "Hidden draft" not in html
    html = text(client.get("/catalogue/", headers=BROWSER))
    assert "Listed one" in html and "Hidden draft" not in html
    assert client.get(f"/catalogue/{published.id}", headers=BROWSER).status_code == 200


def test_catalogue_image_of_a_draft_is_private(client, session):
    draft = CredentialVersionFactory()
    assert client.get(f"/catalogue/{draft.id}/image").status_code == 404
    published = CredentialVersionFactory(published=True)
    r = client.get(f"/catalogue/{published.id}/image")
    assert r.status_code == 200 and r.mimetype == "image/svg+xml"
    assert "sandbox" in r.headers["Content-Security-Policy"]


def test_author_list_survives_hostile_filters(client, session):
    version = CredentialVersionFactory(title="Mine")
    sign_in(client, _author(version.organisation).email)
    r = client.get(f"/authoring/?org={version.organisation_id}&q=%00&state=bogus", headers=BROWSER)
    assert r.status_code == 200 and "Mine" in text(r)
    r = client.get(f"/authoring/versions/{version.id}/standards?q=%00&framework=%00", headers=BROWSER)
    assert r.status_code == 200


def test_stacks_hold_published_micro_credentials(client, session):
    organisation = OrganisationFactory()
    one = CredentialVersionFactory(organisation=organisation, published=True, title="One")
    two = CredentialVersionFactory(organisation=organisation, published=True, title="Two")
    CredentialVersionFactory(organisation=organisation, title="Draft only")
    sign_in(client, _author(organisation).email)
    r = client.get(f"/authoring/stacks/new?org={organisation.id}", headers=BROWSER)
    html = text(r)
    assert "One" in html and "Two" in html and "Draft only" not in html
    form = {"csrf_token": csrf_token(html), "title": "Reading stack", "required_count": "9"}
    url = f"/authoring/stacks/new?org={organisation.id}"
    r = client.post(url, data=form | {"micro_credentials": [str(one.micro_credential_id)]}, headers=BROWSER)
    assert r.status_code == 422
    assert 'aria-describedby="micro_credentials-error"' in text(r)
    members = [str(one.micro_credential_id), str(two.micro_credential_id)]
    r = client.post(url, data=form | {"micro_credentials": members, "required_count": "x"}, headers=BROWSER)
    assert r.status_code == 422 and "Enter a number." in text(r)
    r = client.post(url, data=form | {"micro_credentials": members, "required_count": "1"}, headers=BROWSER)
    assert r.status_code == 302
    r = client.get(location(r), headers=BROWSER)
    assert "Reading stack" in text(r) and text(r).count("checked") == 2
    token = csrf_token(text(r))
    r = client.post(r.request.path, data={"csrf_token": token, "state": "published"}, headers=BROWSER)
    assert "The stack is published." in text(client.get(location(r), headers=BROWSER))


def test_editor_saves_every_field_of_a_version(client, session):
    version = CredentialVersionFactory()
    sign_in(client, _author(version.organisation).email)
    r = client.get(f"/authoring/versions/{version.id}/edit", headers=BROWSER)
    html = text(r)
    for name in ("method_components-0-name", "resources-0-url", "supporting_research-0-citation", "achievement_type"):
        assert f'name="{name}"' in html
    form = {
        "csrf_token": csrf_token(html),
        "title": version.title,
        "requirement_count": "0",
        "criterion_count": "0",
        "achievement_type": "Competency",
        "method_components_count": "2",
        "method_components-1-name": "Questioning",
        "method_components-1-description": "Ask, wait, follow up.",
        "resources_count": "1",
        "resources-0-title": "Guide",
        "resources-0-url": "https://example.org/guide",
        "supporting_research_count": "1",
        "supporting_research-0-citation": "Black & Wiliam (1998).",
    }
    r = client.post(f"/authoring/versions/{version.id}/edit", data=form, headers=BROWSER)
    assert r.status_code == 302, text(r)
    session.refresh(version)
    assert version.achievement_type == "Competency"
    assert version.method_components == [{"name": "Questioning", "description": "Ask, wait, follow up."}]
    assert version.resources == [{"title": "Guide", "url": "https://example.org/guide", "description": ""}]
    assert version.supporting_research == [{"citation": "Black & Wiliam (1998).", "url": None}]

    form |= {"resources-0-url": "javascript:alert(1)", "achievement_type": "Nonsense"}
    r = client.post(f"/authoring/versions/{version.id}/edit", data=form, headers=BROWSER)
    assert r.status_code == 422
    html = text(r)
    assert 'id="resources-0-url-error"' in html and 'id="achievement_type-error"' in html


def test_the_picker_shows_only_the_top_of_a_big_framework(client, session, monkeypatch):
    from credentials.authoring import views as authoring_views
    from tests.factories import StandardItemFactory

    top = StandardItemFactory(full_statement="Top level item")
    StandardItemFactory(parent=top, full_statement="Second level item")
    version = CredentialVersionFactory()
    sign_in(client, _author(version.organisation).email)
    url = f"/authoring/versions/{version.id}/standards?framework={top.framework_id}"
    assert "Second level item" in text(client.get(url, headers=BROWSER))
    monkeypatch.setattr(authoring_views, "TREE_LIMIT", 1)
    html = text(client.get(url, headers=BROWSER))
    assert "Top level item" in html and "Second level item" not in html
