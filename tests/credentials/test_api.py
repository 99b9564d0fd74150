"""The authoring API over HTTP: wiring, status codes, ETags and problem documents."""

from __future__ import annotations

import copy
import io
import json
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from core.models import Role
from credentials.authoring.models import MicroCredential, Stack
from tests.conftest import bearer, problem
from tests.factories import (
    AlignmentFactory,
    CredentialVersionFactory,
    OrganisationFactory,
    StackFactory,
    StandardItemFactory,
    UserFactory,
    member,
    png_bytes,
    valid_content,
)

PROBLEM = "application/problem+json"


def fields_of(body: dict[str, Any]) -> list[str]:
    return [e["field"] for e in body.get("errors", [])]


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.json


@pytest.fixture
def org(session) -> Any:
    return OrganisationFactory()


@pytest.fixture
def author(org) -> Any:
    return member(org, Role.AUTHOR)


@pytest.fixture
def reviewer(org) -> Any:
    return member(org, Role.AUTHOR)


def post_credential(client: Any, org: Any, user: Any, **overrides: Any) -> Any:
    return client.post(
        f"/api/v1/organisations/{org.id}/micro-credentials", json=valid_content(**overrides), headers=bearer(user)
    )


def published_via_api(client: Any, org: Any, author: Any, reviewer: Any, **overrides: Any) -> dict[str, Any]:
    version = ok(post_credential(client, org, author, **overrides), 201)
    base = f"/api/v1/credential-versions/{version['id']}"
    ok(client.post(f"{base}/request-review", json={}, headers=bearer(author)))
    ok(client.post(f"{base}/approve", json={"comment": "Fine."}, headers=bearer(reviewer)))
    return ok(client.post(f"{base}/publish", headers=bearer(author)))


def micro_credentials(session: Any) -> int:
    return session.scalar(select(func.count()).select_from(MicroCredential))


# --- creating ----------------------------------------------------------------------------------------


def test_an_author_creates_a_draft(client, org, author):
    item = StandardItemFactory(human_coding_scheme="PSEL.2")
    r = post_credential(client, org, author, alignments=[item.id], tags=["Literacy ", "READING"])
    body = ok(r, 201)
    assert r.headers["ETag"] == f'W/"credential-version-{body["id"]}-v{body["lock_version"]}"'
    assert (body["number"], body["state"], body["organisation_id"]) == (1, "draft", str(org.id))
    assert body["tags"] == ["literacy", "reading"]
    assert [r["key"] for r in body["requirements"]] == ["lesson-plan", "reflection", "recording"]
    assert [lv["name"] for lv in body["rubric"][0]["levels"]] == ["Not yet", "Developing", "Proficient", "Exemplary"]
    assert body["rubric"][1]["requirements"] == ["reflection", "recording"]
    assert body["passing_rule"] == {"level": "Proficient", "points": 4}
    assert body["alignments"][0]["id"] == str(item.id) and body["alignments"][0]["code"] == "PSEL.2"
    assert body["has_custom_image"] is False

    got = ok(client.get(f"/api/v1/credential-versions/{body['id']}", headers=bearer(author)))
    assert got == body


@pytest.mark.parametrize(
    "who, status",
    [("anonymous", 401), ("earner", 403), ("assessor", 403), ("other_org_author", 403)],
)
def test_only_the_organisations_authors_create(client, session, org, who, status):
    users = {
        "anonymous": None,
        "earner": UserFactory(),
        "assessor": member(org, Role.ASSESSOR),
        "other_org_author": member(OrganisationFactory(), Role.AUTHOR),
    }
    user = users[who]
    r = client.post(
        f"/api/v1/organisations/{org.id}/micro-credentials",
        json=valid_content(),
        headers=bearer(user) if user else {},
    )
    body = problem(r, status)
    assert body["type"].endswith("/problems/unauthorized" if status == 401 else "/problems/forbidden")
    assert micro_credentials(session) == 0


def test_an_unknown_organisation_is_404(client, author):
    problem(
        client.post(
            f"/api/v1/organisations/{uuid.uuid4()}/micro-credentials", json=valid_content(), headers=bearer(author)
        ),
        404,
    )


def _mutate(path: list[Any], value: Any) -> dict[str, Any]:
    content = copy.deepcopy(valid_content())
    target: Any = content
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return content


def _with(change: Any) -> dict[str, Any]:
    content = copy.deepcopy(valid_content())
    change(content)
    return content


INVALID = {
    "criterion without levels": (_mutate(["rubric", 0, "levels"], []), ["rubric.0.levels"]),
    "criterion with one level": (
        _mutate(["rubric", 0, "levels"], [{"name": "Proficient", "points": 1}]),
        ["rubric.0.levels"],
    ),
    "duplicate level names": (
        _mutate(["rubric", 1, "levels"], [{"name": "Proficient"}, {"name": "proficient ", "points": 1}]),
        ["rubric.1.levels"],
    ),
    "criterion without a levels field": (_with(lambda c: c["rubric"][0].pop("levels")), ["rubric.0.levels"]),
    "passing level missing in a criterion": (_mutate(["passing_rule", "level"], "Mastery"), ["passing_rule.level"] * 2),
    "passing points above the rubric maximum": (_mutate(["passing_rule", "points"], 7), ["passing_rule.points"]),
    "empty passing rule": (_mutate(["passing_rule"], {}), ["passing_rule.level"]),
    "criterion judging an unknown requirement": (
        _mutate(["rubric", 0, "requirements"], ["portfolio"]),
        ["rubric.0.requirements.0"],
    ),
    "duplicate requirement keys": (
        _mutate(["requirements", 2, "key"], "reflection"),
        ["requirements.2.key", "rubric.1.requirements.1"],  # "recording" has gone
    ),
    "badly formed requirement key": (_mutate(["requirements", 0, "key"], "Lesson Plan"), ["requirements.0.key"]),
    "alignment to an unknown item": (_mutate(["alignments"], [str(uuid.uuid4())]), ["alignments.0"]),
    "alignment that is not an id": (_mutate(["alignments"], ["InTASC.4"]), ["alignments.0"]),
    "negative word limit": (_mutate(["requirements", 1, "min_words"], -5), ["requirements.1.min_words"]),
    "zero maximum words": (_mutate(["requirements", 1, "max_words"], 0), ["requirements.1.max_words"]),
    "min_words above max_words": (_mutate(["requirements", 1, "min_words"], 900), ["requirements.1.min_words"]),
    "min_files above max_files": (_mutate(["requirements", 0, "min_files"], 3), ["requirements.0.min_files"]),
    "file requirement without allowed types": (
        _mutate(["requirements", 0, "allowed_file_types"], []),
        ["requirements.0.allowed_file_types"],
    ),
    "unknown file type": (
        _mutate(["requirements", 0, "allowed_file_types"], ["exe"]),
        ["requirements.0.allowed_file_types.0"],
    ),
    "word limits on a file requirement": (_mutate(["requirements", 0, "max_words"], 500), ["requirements.0.min_words"]),
    "file settings on a text requirement": (
        _mutate(["requirements", 1, "allowed_file_types"], ["pdf"]),
        ["requirements.1.allowed_file_types"],
    ),
    "unknown evidence kind": (_mutate(["requirements", 2, "evidence_kind"], "video"), ["requirements.2.evidence_kind"]),
    "unknown achievement type": (_mutate(["achievement_type"], "Trophy"), ["achievement_type"]),
    "unknown top-level field": (_mutate(["colour"], "blue"), ["colour"]),
    "unknown nested field": (_mutate(["requirements", 0, "hint"], "x"), ["requirements.0.hint"]),
    "title of the wrong type": (_mutate(["title"], 42), ["title"]),
    "blank title": (_mutate(["title"], "   "), ["title"]),
    "missing title": (_with(lambda c: c.pop("title")), ["title"]),
    "requirements not a list": (_mutate(["requirements"], "all of them"), ["requirements"]),
    "hours not a number": (_mutate(["estimated_hours"], "lots"), ["estimated_hours"]),
    "negative credits": (_mutate(["credits"], -1), ["credits"]),
    "zero attempts": (_mutate(["max_attempts"], 0), ["max_attempts"]),
    "resource link to javascript": (_mutate(["resources", 0, "url"], "javascript:alert(1)"), ["resources.0.url"]),
    "control characters in a title": (_mutate(["title"], "Close\x00Reading"), ["title"]),
}


@pytest.mark.parametrize("case", list(INVALID))
def test_invalid_content_is_422_naming_the_field(client, session, org, author, case):
    content, fields = INVALID[case]
    r = client.post(f"/api/v1/organisations/{org.id}/micro-credentials", json=content, headers=bearer(author))
    body = problem(r, 422)
    assert fields_of(body) == fields
    assert all(e["pointer"] == "#/" + e["field"].replace(".", "/") for e in body["errors"])
    assert micro_credentials(session) == 0


def test_extended_achievement_types_are_accepted(client, org, author):
    assert ok(post_credential(client, org, author, achievement_type="ext:TeacherLeader"), 201)["achievement_type"] == (
        "ext:TeacherLeader"
    )


# --- editing -----------------------------------------------------------------------------------------


def test_patch_replaces_only_what_is_sent_and_honours_if_match(client, org, author, reviewer):
    created = ok(post_credential(client, org, author), 201)
    url = f"/api/v1/credential-versions/{created['id']}"
    first_etag = client.get(url, headers=bearer(author)).headers["ETag"]

    r = client.patch(
        url,
        json={"title": "Close Reading, Revised", "tags": ["ela"], "method_components": []},
        headers={**bearer(reviewer), "If-Match": first_etag},
    )
    body = ok(r)
    assert r.headers["ETag"] != first_etag
    assert (body["title"], body["tags"], body["method_components"]) == ("Close Reading, Revised", ["ela"], [])
    assert body["requirements"] == created["requirements"] and body["rubric"] == created["rubric"]
    assert body["short_description"] == created["short_description"]

    stale = problem(client.patch(url, json={"title": "Mine"}, headers={**bearer(author), "If-Match": first_etag}), 412)
    assert stale["type"].endswith("/problems/precondition-failed")
    other = f'W/"credential-version-{uuid.uuid4()}-v1"'
    problem(client.patch(url, json={"title": "Mine"}, headers={**bearer(author), "If-Match": other}), 412)
    assert ok(client.get(url, headers=bearer(author)))["title"] == "Close Reading, Revised"

    ok(client.patch(url, json={"title": "Mine"}, headers={**bearer(author), "If-Match": r.headers["ETag"]}))
    ok(client.patch(url, json={"title": "No header, last write wins"}, headers=bearer(author)))


def test_patch_validates_fields_and_the_whole(client, org, author):
    created = ok(post_credential(client, org, author), 201)
    url = f"/api/v1/credential-versions/{created['id']}"
    assert fields_of(problem(client.patch(url, json={"title": None}, headers=bearer(author)), 422)) == ["title"]
    body = problem(client.patch(url, json={"requirements": []}, headers=bearer(author)), 422)
    assert fields_of(body) == ["rubric.0.requirements.0", "rubric.1.requirements.0", "rubric.1.requirements.1"]
    assert ok(client.get(url, headers=bearer(author)))["requirements"] == created["requirements"]


def test_patch_by_someone_outside_the_team(client, org, author):
    created = ok(post_credential(client, org, author), 201)
    url = f"/api/v1/credential-versions/{created['id']}"
    problem(client.patch(url, json={"title": "X"}), 401)
    problem(client.patch(url, json={"title": "X"}, headers=bearer(UserFactory())), 404)
    problem(client.patch(url, json={"title": "X"}, headers=bearer(member(org, Role.ORG_ADMIN))), 403)


# --- review, publication, versions -------------------------------------------------------------------


def test_the_review_flow_over_http(client, org, author, reviewer):
    incomplete = ok(
        client.post(
            f"/api/v1/organisations/{org.id}/micro-credentials", json={"title": "Idea"}, headers=bearer(author)
        ),
        201,
    )
    body = problem(
        client.post(f"/api/v1/credential-versions/{incomplete['id']}/request-review", headers=bearer(author)), 422
    )
    assert fields_of(body) == [
        "short_description",
        "competency_statement",
        "key_method",
        "requirements",
        "rubric",
        "passing_rule",
    ]

    version = ok(post_credential(client, org, author), 201)
    base = f"/api/v1/credential-versions/{version['id']}"
    problem(client.post(f"{base}/publish", headers=bearer(author)), 409)
    assert ok(client.post(f"{base}/request-review", json={"comment": "Ready"}, headers=bearer(author)))["state"] == (
        "in_review"
    )
    assert "different author" in problem(client.post(f"{base}/approve", json={}, headers=bearer(author)), 409)["detail"]
    assert fields_of(problem(client.post(f"{base}/request-changes", json={}, headers=bearer(reviewer)), 422)) == [
        "comment"
    ]
    changed = client.post(f"{base}/request-changes", json={"comment": "Add an example."}, headers=bearer(reviewer))
    assert ok(changed)["state"] == "draft"
    ok(client.post(f"{base}/request-review", headers=bearer(author)))
    ok(client.post(f"{base}/withdraw-review", headers=bearer(author)))
    ok(client.post(f"{base}/request-review", headers=bearer(author)))
    assert ok(client.post(f"{base}/approve", headers=bearer(reviewer)))["state"] == "approved"
    r = client.post(f"{base}/publish", headers=bearer(author))
    published = ok(r)
    assert published["state"] == "published" and published["published_at"]
    assert r.headers["ETag"].endswith(f'-v{published["lock_version"]}"')

    assert ok(client.get(base))["state"] == "published"  # public now
    assert problem(client.patch(base, json={"title": "X"}, headers=bearer(author)), 409)["type"].endswith("/conflict")

    comments = ok(client.get(f"{base}/comments", headers=bearer(reviewer)))
    assert [(c["kind"], c["body"]) for c in comments] == [
        ("review_requested", "Ready"),
        ("changes_requested", "Add an example."),
        ("review_requested", ""),
        ("review_requested", ""),
        ("approved", ""),
    ]
    assert comments[1]["author_name"] == reviewer.name
    posted = ok(client.post(f"{base}/comments", json={"body": "Shipped!"}, headers=bearer(author)), 201)
    assert posted["kind"] == "comment" and posted["author_id"] == str(author.id)
    problem(client.get(f"{base}/comments"), 401)
    assert fields_of(problem(client.post(f"{base}/comments", json={"body": " "}, headers=bearer(author)), 422)) == [
        "body"
    ]


def test_new_versions_and_retiring_over_http(client, org, author, reviewer):
    v1 = published_via_api(client, org, author, reviewer)
    mc_url = f"/api/v1/micro-credentials/{v1['micro_credential_id']}"
    r = client.post(f"{mc_url}/versions", headers=bearer(author))
    v2 = ok(r, 201)
    assert (v2["number"], v2["state"]) == (2, "draft")
    assert v2["requirements"] == [
        {**req, "id": v2["requirements"][i]["id"]} for i, req in enumerate(v1["requirements"])
    ]
    problem(client.post(f"{mc_url}/versions", headers=bearer(author)), 409)
    problem(client.post(f"{mc_url}/versions", headers=bearer(UserFactory())), 403)

    # anonymous visitors see version 1 only
    assert [v["number"] for v in ok(client.get(mc_url))["versions"]] == [1]
    assert [v["number"] for v in ok(client.get(mc_url, headers=bearer(author)))["versions"]] == [1, 2]

    base2 = f"/api/v1/credential-versions/{v2['id']}"
    ok(client.patch(base2, json={"title": "Close Reading 2"}, headers=bearer(author)))
    ok(client.post(f"{base2}/request-review", headers=bearer(author)))
    ok(client.post(f"{base2}/approve", headers=bearer(reviewer)))
    ok(client.post(f"{base2}/publish", headers=bearer(author)))
    old = ok(client.get(f"/api/v1/credential-versions/{v1['id']}"))
    assert old["state"] == "retired" and old["retired_reason"] == "Superseded by version 2."

    diff = ok(client.get(f"{base2}/diff", query_string={"against": v1["id"]}))
    assert diff["changes"] == [
        {"path": "title", "change": "changed", "before": "Close Reading of Complex Texts", "after": "Close Reading 2"}
    ]

    retire = f"{base2}/retire"
    assert fields_of(problem(client.post(retire, json={}, headers=bearer(author)), 422)) == ["reason"]
    problem(client.post(retire, json={"reason": "Old"}, headers=bearer(member(org, Role.ASSESSOR))), 403)
    problem(client.post(retire, json={"reason": "Old"}), 401)
    retired = ok(client.post(retire, json={"reason": "Old"}, headers=bearer(member(org, Role.ORG_ADMIN))))
    assert retired["state"] == "retired" and retired["retired_at"]
    assert ok(client.get(base2))["retired_reason"] == "Old"
    assert ok(client.get("/api/v1/catalogue")) == []


# --- visibility and the catalogue --------------------------------------------------------------------


def test_drafts_are_404_for_everyone_outside_the_team(client, org, author):
    draft = CredentialVersionFactory(organisation=org)
    sibling = CredentialVersionFactory(micro_credential=draft.micro_credential)
    urls = [
        f"/api/v1/credential-versions/{draft.id}",
        f"/api/v1/credential-versions/{draft.id}/image",
        f"/api/v1/credential-versions/{draft.id}/diff?against={sibling.id}",
        f"/api/v1/micro-credentials/{draft.micro_credential_id}",
    ]
    outsiders = [
        {},
        bearer(UserFactory()),
        bearer(member(org, Role.ASSESSOR)),
        bearer(member(OrganisationFactory(), Role.AUTHOR)),
    ]
    for url in urls:
        for headers in outsiders:
            body = problem(client.get(url, headers=headers), 404)
            assert body["type"].endswith("/problems/not-found")
        for insider in (author, member(org, Role.ORG_ADMIN), UserFactory(is_platform_admin=True)):
            assert client.get(url, headers=bearer(insider)).status_code == 200, url


def test_the_diff_needs_two_versions_of_one_micro_credential(client, org, author):
    a = CredentialVersionFactory(organisation=org, published=True)
    b = CredentialVersionFactory(organisation=org, published=True)
    url = f"/api/v1/credential-versions/{a.id}/diff"
    assert fields_of(problem(client.get(url, query_string={"against": str(b.id)}), 422)) == ["against"]
    assert fields_of(problem(client.get(url), 422)) == ["against"]
    assert fields_of(problem(client.get(url, query_string={"against": "v1"}), 422)) == ["against"]
    problem(client.get(url, query_string={"against": str(uuid.uuid4())}), 404)


def test_the_catalogue_is_public_paged_and_filtered(client, org):
    item = StandardItemFactory()
    reading = CredentialVersionFactory(organisation=org, published=True, title="Reading 100%", tags=["literacy"])
    CredentialVersionFactory(organisation=org, published=True, title="Leading", tags=["leadership"])
    CredentialVersionFactory(published=True, title="Elsewhere")
    CredentialVersionFactory(organisation=org, title="Draft", tags=["literacy"])
    AlignmentFactory(version=reading, item=item)

    r = client.get("/api/v1/catalogue", query_string={"page_size": 2})
    assert len(ok(r)) == 2 and json.loads(r.headers["X-Pagination"])["total"] == 3

    def titles(**query: Any) -> list[str]:
        return sorted(v["title"] for v in ok(client.get("/api/v1/catalogue", query_string=query)))

    assert titles(tag="LITERACY") == ["Reading 100%"]
    assert titles(standard=str(item.id)) == ["Reading 100%"]
    assert titles(framework=str(item.framework_id)) == ["Reading 100%"]
    assert titles(organisation=str(org.id)) == ["Leading", "Reading 100%"]
    assert titles(q="0%") == ["Reading 100%"]
    assert titles(q="_") == []
    assert fields_of(problem(client.get("/api/v1/catalogue", query_string={"tags": "x"}), 422)) == ["tags"]
    assert fields_of(problem(client.get("/api/v1/catalogue", query_string={"standard": "InTASC"}), 422)) == ["standard"]


def test_the_organisations_list_is_for_the_team(client, org, author):
    CredentialVersionFactory(organisation=org, title="Draft one")
    CredentialVersionFactory(organisation=org, published=True, title="Published one")
    url = f"/api/v1/organisations/{org.id}/micro-credentials"
    assert sorted(v["title"] for v in ok(client.get(url, headers=bearer(author)))) == ["Draft one", "Published one"]
    only = ok(client.get(url, query_string={"state": "draft"}, headers=bearer(author)))
    assert [v["title"] for v in only] == ["Draft one"]
    problem(client.get(url, query_string={"state": "lost"}, headers=bearer(author)), 422)
    problem(client.get(url, headers=bearer(UserFactory())), 403)
    problem(client.get(url), 401)


# --- stacks ------------------------------------------------------------------------------------------


@pytest.fixture
def members(org) -> list[str]:
    return [str(CredentialVersionFactory(organisation=org, published=True).micro_credential_id) for _ in range(3)]


def test_stacks_over_http(client, session, org, author, members):
    url = f"/api/v1/organisations/{org.id}/stacks"
    stack = ok(
        client.post(
            url, json={"title": "Pathway", "micro_credentials": members, "required_count": 2}, headers=bearer(author)
        ),
        201,
    )
    assert (stack["state"], stack["micro_credentials"], stack["required_count"]) == ("draft", members, 2)
    item = f"/api/v1/stacks/{stack['id']}"
    problem(client.get(item), 404)
    assert ok(client.get(url)) == []

    r = client.get(item, headers=bearer(author))
    patched = ok(
        client.patch(item, json={"required_count": 3}, headers={**bearer(author), "If-Match": r.headers["ETag"]})
    )
    assert patched["required_count"] == 3
    problem(client.patch(item, json={"title": "Late"}, headers={**bearer(author), "If-Match": r.headers["ETag"]}), 412)
    body = problem(client.patch(item, json={"micro_credentials": members[:2]}, headers=bearer(author)), 422)
    assert fields_of(body) == ["required_count"]

    assert ok(client.post(f"{item}/publish", headers=bearer(author)))["state"] == "published"
    assert ok(client.get(item))["title"] == "Pathway"
    assert [s["title"] for s in ok(client.get(url))] == ["Pathway"]
    problem(client.patch(item, json={"title": "Renamed"}, headers=bearer(author)), 409)
    problem(client.post(f"{item}/publish", headers=bearer(author)), 409)
    problem(client.post(f"{item}/retire", headers=bearer(UserFactory())), 404)  # outsiders: as an unknown id
    assert ok(client.post(f"{item}/retire", headers=bearer(author)))["state"] == "retired"


@pytest.mark.parametrize(
    "change, fields",
    [
        ({"required_count": 4}, ["required_count"]),
        ({"micro_credentials": "draft"}, ["micro_credentials.1"]),
        ({"micro_credentials": "foreign"}, ["micro_credentials.0"]),
        ({"micro_credentials": "unknown"}, ["micro_credentials.2"]),
        ({"micro_credentials": "one"}, ["micro_credentials"]),
        ({"micro_credentials": "twice"}, ["micro_credentials"]),
        ({"required_count": 0}, ["required_count"]),
        ({"extra": True}, ["extra"]),
    ],
    ids=["count", "draft", "foreign", "unknown", "one", "twice", "zero", "unknown-field"],
)
def test_invalid_stacks_are_422_naming_the_field(client, session, org, author, members, change, fields):
    choices = {
        "draft": [members[0], str(CredentialVersionFactory(organisation=org).micro_credential_id)],
        "foreign": [str(CredentialVersionFactory(published=True).micro_credential_id), members[0]],
        "unknown": [members[0], members[1], str(uuid.uuid4())],
        "one": [members[0]],
        "twice": [members[0], members[0]],
    }
    data: dict[str, Any] = {"title": "Pathway", "micro_credentials": members}
    for key, value in change.items():
        data[key] = choices[value] if key == "micro_credentials" else value
    r = client.post(f"/api/v1/organisations/{org.id}/stacks", json=data, headers=bearer(author))
    assert fields_of(problem(r, 422)) == fields
    assert session.scalar(select(func.count()).select_from(Stack)) == 0


def test_a_draft_stack_is_for_the_team(client, org, author, members):
    stack = StackFactory(organisation=org, micro_credentials=[])
    for headers in ({}, bearer(UserFactory()), bearer(member(org, Role.ASSESSOR))):
        problem(client.get(f"/api/v1/stacks/{stack.id}", headers=headers), 404)
    problem(
        client.post(f"/api/v1/organisations/{org.id}/stacks", json={"title": "X", "micro_credentials": members}), 401
    )
    assert ok(client.get(f"/api/v1/stacks/{stack.id}", headers=bearer(author)))["state"] == "draft"


# --- images ------------------------------------------------------------------------------------------


@pytest.fixture
def draft(org) -> Any:
    return CredentialVersionFactory(organisation=org, title="Close Reading")


def test_a_draft_shows_the_default_image_in_a_sandbox(client, author, draft):
    r = client.get(f"/api/v1/credential-versions/{draft.id}/image", headers=bearer(author))
    assert r.status_code == 200 and r.mimetype == "image/svg+xml"
    assert b"<polygon" in r.data and b"CR" in r.data
    assert "sandbox" in r.headers["Content-Security-Policy"]
    assert "default-src 'none'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    # a draft's image is for the team: no shared cache may keep it and hand it to someone else
    assert "public" not in r.headers["Cache-Control"] and "no-store" in r.headers["Cache-Control"]


def test_a_published_image_may_be_cached_by_anyone(client, org):
    published = CredentialVersionFactory(organisation=org, published=True)
    r = client.get(f"/api/v1/credential-versions/{published.id}/image")
    assert r.status_code == 200 and r.headers["Cache-Control"].startswith("public")


def test_a_png_is_uploaded_as_a_raw_body_or_a_form_file(client, author, draft):
    url = f"/api/v1/credential-versions/{draft.id}/image"
    png = png_bytes(256, 256)
    body = ok(client.put(url, data=png, content_type="image/png", headers=bearer(author)))
    assert body["has_custom_image"] is True
    r = client.get(url, headers=bearer(author))
    assert (r.mimetype, r.data) == ("image/png", png)
    assert "sandbox" in r.headers["Content-Security-Policy"]

    other = png_bytes(128, 128)
    form = {"file": (io.BytesIO(other), "badge.png", "image/png")}
    ok(client.put(url, data=form, content_type="multipart/form-data", headers=bearer(author)))
    assert client.get(url, headers=bearer(author)).data == other

    assert ok(client.delete(url, headers=bearer(author)))["has_custom_image"] is False
    assert client.get(url, headers=bearer(author)).mimetype == "image/svg+xml"


def test_an_uploaded_svg_is_served_sanitised(client, author, draft):
    url = f"/api/v1/credential-versions/{draft.id}/image"
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script>'
        b'<circle r="40" fill="#0b5cad"/></svg>'
    )
    # the declared type does not matter: the content decides
    ok(client.put(url, data=svg, content_type="image/png", headers=bearer(author)))
    r = client.get(url, headers=bearer(author))
    assert r.mimetype == "image/svg+xml"
    assert b"<circle" in r.data and b"alert" not in r.data and b"script" not in r.data


@pytest.mark.parametrize(
    "data, content_type, status, field",
    [
        (b"MZ\x90\x00" + bytes(500), "image/png", 422, "file"),
        (b"\x7fELF" + bytes(500), "image/png", 422, "file"),
        (png_bytes(3000, 1), "image/png", 422, "file"),
        (png_bytes(64, 64)[:60], "image/png", 422, "file"),
        (b"\x89PNG\r\n\x1a\n" + bytes(600 * 1024), "image/png", 422, "file"),
        (b"\x89PNG\r\n\x1a\n" + bytes(2 * 1024 * 1024), "image/png", 413, None),
        (b'<!DOCTYPE svg [<!ENTITY a "a">]><svg xmlns="http://www.w3.org/2000/svg"/>', "image/svg+xml", 422, "file"),
        (b"<svg>" + b"<g>" * 3000 + b"</g>" * 3000 + b"</svg>", "image/svg+xml", 422, "file"),
        (b"plain text", "text/plain", 415, None),
        (b'{"image": "x"}', "application/json", 415, None),
    ],
    ids=["exe", "elf", "too-wide", "truncated", "over-512k", "over-request-limit", "entities", "deep", "text", "json"],
)
def test_bad_uploads_are_refused_with_a_problem(client, session, author, draft, data, content_type, status, field):
    url = f"/api/v1/credential-versions/{draft.id}/image"
    body = problem(client.put(url, data=data, content_type=content_type, headers=bearer(author)), status)
    if field:
        assert fields_of(body) == [field]
    session.expire_all()
    assert draft.image_id is None


def test_a_form_without_the_file_field_is_422(client, author, draft):
    url = f"/api/v1/credential-versions/{draft.id}/image"
    form = {"image": (io.BytesIO(png_bytes()), "badge.png", "image/png")}
    body = problem(client.put(url, data=form, content_type="multipart/form-data", headers=bearer(author)), 422)
    assert fields_of(body) == ["file"]


def test_images_of_published_versions_cannot_change(client, org, author):
    published = CredentialVersionFactory(organisation=org, published=True)
    url = f"/api/v1/credential-versions/{published.id}/image"
    problem(client.put(url, data=png_bytes(), content_type="image/png", headers=bearer(author)), 409)
    problem(client.delete(url, headers=bearer(author)), 409)
    assert client.get(url).status_code == 200  # public
    problem(client.put(url, data=png_bytes(), content_type="image/png"), 401)


# --- the OpenAPI document ----------------------------------------------------------------------------


def test_the_api_is_described(client):
    paths = ok(client.get("/api/v1/openapi.json"))["paths"]
    for path in (
        "/api/v1/catalogue",
        "/api/v1/organisations/{organisation_id}/micro-credentials",
        "/api/v1/credential-versions/{version_id}",
        "/api/v1/credential-versions/{version_id}/request-review",
        "/api/v1/credential-versions/{version_id}/approve",
        "/api/v1/credential-versions/{version_id}/publish",
        "/api/v1/credential-versions/{version_id}/image",
        "/api/v1/credential-versions/{version_id}/diff",
        "/api/v1/stacks/{stack_id}",
    ):
        assert path in paths, path
    assert "image/png" in paths["/api/v1/credential-versions/{version_id}/image"]["put"]["requestBody"]["content"]
