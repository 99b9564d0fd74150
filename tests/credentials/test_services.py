"""Authoring rules, called on the services directly inside one rolled-back transaction."""

from __future__ import annotations

import traceback
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select

import credentials
import standards
from core import clock, demo
from core.db import db
from core.errors import Conflict, Forbidden, NotFound, PreconditionFailed, Unauthorized, ValidationFailed
from core.models import AuditEvent, Organisation, Role, User
from credentials.authoring import catalogue, demo_data, images, publication, stacks, versions
from credentials.authoring.models import (
    CommentKind,
    CredentialVersion,
    MicroCredential,
    Stack,
    StackState,
    VersionState,
)
from tests.factories import (
    AlignmentFactory,
    CredentialVersionFactory,
    DraftCommentFactory,
    FrameworkFactory,
    OrganisationFactory,
    StackFactory,
    StandardItemFactory,
    UserFactory,
    member,
    valid_content,
)

pytestmark = pytest.mark.usefixtures("session")

# --- fixtures and helpers ----------------------------------------------------------------------------


@pytest.fixture
def org() -> Organisation:
    return OrganisationFactory(name="Riverside District")


@pytest.fixture
def author(org: Organisation) -> User:
    return member(org, Role.AUTHOR, name="Ana Author")


@pytest.fixture
def reviewer(org: Organisation) -> User:
    return member(org, Role.AUTHOR, name="Ben Reviewer")


@pytest.fixture
def org_admin(org: Organisation) -> User:
    return member(org, Role.ORG_ADMIN)


@pytest.fixture
def item() -> Any:
    return StandardItemFactory(human_coding_scheme="InTASC.4", full_statement="Content knowledge")


def create(actor: User, org: Organisation, **overrides: Any) -> CredentialVersion:
    return versions.create_micro_credential(actor=actor, organisation_id=org.id, content=valid_content(**overrides))


def publish(version: CredentialVersion, author: User, reviewer: User) -> CredentialVersion:
    """Take a complete draft through review to publication, as two authors do."""
    publication.request_review(actor=author, version_id=version.id)
    publication.approve(actor=reviewer, version_id=version.id)
    return publication.publish(actor=author, version_id=version.id)


def error_fields(exc: pytest.ExceptionInfo[ValidationFailed]) -> list[str]:
    return [e["field"] for e in exc.value.errors]


def events(action: str, obj: Any) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == action, AuditEvent.object_id == str(obj.id))
            .order_by(AuditEvent.occurred_at, AuditEvent.id)
        )
    )


def count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def catalogue_titles(**filters: Any) -> list[str]:
    return [v.title for v in catalogue.catalogue(page=1, page_size=50, **filters).items]


# --- creating ----------------------------------------------------------------------------------------


def test_an_author_creates_a_micro_credential_whose_version_1_is_a_draft(org, author, item):
    version = create(author, org, alignments=[item.id], tags=["  Close   Reading ", "LITERACY", "literacy"])

    assert (version.number, version.state) == (1, "draft")
    assert version.micro_credential.organisation_id == org.id
    assert version.micro_credential.created_by_id == author.id
    assert [r.key for r in version.requirements] == ["lesson-plan", "reflection", "recording"]
    assert version.requirements[0].allowed_file_types == ["pdf", "docx"]
    assert (version.requirements[1].min_words, version.requirements[1].max_words) == (300, 800)
    assert version.requirements[2].required is False
    assert [c.key for c in version.criteria] == ["planning", "analysis"]
    assert version.criteria[1].requirement_keys == ["reflection", "recording"]
    levels = version.criteria[0].levels
    assert [(lv.position, lv.name, lv.points) for lv in levels] == [
        (0, "Not yet", 0),
        (1, "Developing", 1),
        (2, "Proficient", 2),
        (3, "Exemplary", 3),
    ]
    assert (version.passing_level, version.passing_points) == ("Proficient", 4)
    assert version.tags == ["close reading", "literacy"]
    aligned = catalogue.aligned_items(version)
    assert [(a["id"], a["code"], a["statement"]) for a in aligned] == [(item.id, "InTASC.4", "Content knowledge")]
    assert aligned[0]["url"].endswith(f"/standards/items/{item.id}")  # urn:uuid URIs point at our page
    assert versions.content_of(version) == valid_content(alignments=[item.id], tags=["close reading", "literacy"])
    (event,) = events("credential.created", version)
    assert event.actor_id == author.id and event.after["state"] == "draft"


def test_a_draft_needs_only_a_title(org, author):
    version = versions.create_micro_credential(actor=author, organisation_id=org.id, content={"title": "Idea"})
    assert version.state == "draft"
    assert version.requirements == [] and version.criteria == [] and version.tags == []
    assert version.achievement_type == "MicroCredential"


@pytest.mark.parametrize(
    "who",
    ["earner", "assessor", "org_admin_only", "other_org_author"],
)
def test_only_the_organisations_authors_create_micro_credentials(org, who):
    actor = {
        "earner": lambda: UserFactory(),
        "assessor": lambda: member(org, Role.ASSESSOR),
        "org_admin_only": lambda: member(org, Role.ORG_ADMIN),
        "other_org_author": lambda: member(OrganisationFactory(), Role.AUTHOR),
    }[who]()
    with pytest.raises(Forbidden):
        create(actor, org)
    assert count(MicroCredential) == 0


def test_anonymous_cannot_create_and_an_unknown_organisation_is_not_found(org, author):
    with pytest.raises(Unauthorized):
        create(None, org)  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        versions.create_micro_credential(actor=author, organisation_id=uuid.uuid4(), content=valid_content())
    assert count(MicroCredential) == 0


def test_a_platform_admin_may_author_in_any_organisation(org):
    version = create(UserFactory(is_platform_admin=True), org)
    assert version.organisation_id == org.id


# --- validation of cross-field rules -----------------------------------------------------------------


def _levels(*names: str) -> list[dict[str, Any]]:
    return [{"name": name, "points": i, "descriptor": ""} for i, name in enumerate(names)]


def _criterion(key: str, requirements: list[str], levels: list[dict[str, Any]]) -> dict[str, Any]:
    return {"key": key, "name": key.title(), "description": "", "requirements": requirements, "levels": levels}


def _requirement(key: str) -> dict[str, Any]:
    return {"key": key, "title": key.title(), "prompt": "Say it.", "evidence_kind": "text", "required": True}


INVALID = {
    "passing level missing in one criterion": (
        {
            "rubric": [
                _criterion("planning", ["lesson-plan"], _levels("Not yet", "Proficient")),
                _criterion("analysis", ["reflection"], _levels("Beginning", "Strong")),
            ],
            "passing_rule": {"level": "Proficient"},
        },
        ["passing_rule.level"],
    ),
    "passing points above the rubric's maximum": (
        {"passing_rule": {"level": None, "points": 7}},  # two criteria of at most 3 points each
        ["passing_rule.points"],
    ),
    "criterion judging an unknown requirement": (
        {
            "rubric": [_criterion("planning", ["lesson-plan", "portfolio"], _levels("Not yet", "Proficient"))],
            "passing_rule": {"level": "Proficient"},
        },
        ["rubric.0.requirements.1"],
    ),
    "duplicate requirement keys": (
        {"requirements": [_requirement("reflection"), _requirement("lesson-plan"), _requirement("reflection")]},
        ["requirements.2.key", "rubric.1.requirements.1"],  # and "recording" is gone
    ),
    "duplicate criterion keys": (
        {
            "rubric": [
                _criterion("planning", ["lesson-plan"], _levels("Not yet", "Proficient")),
                _criterion("planning", ["reflection"], _levels("Not yet", "Proficient")),
            ],
            "passing_rule": {"level": "Proficient"},
        },
        ["rubric.1.key"],
    ),
    "alignment to an unknown standard item": (
        {"alignments": [uuid.UUID(int=1)]},
        ["alignments.0"],
    ),
}


@pytest.mark.parametrize("case", list(INVALID))
def test_cross_field_problems_are_refused_naming_the_field(org, author, case):
    overrides, fields = INVALID[case]
    with pytest.raises(ValidationFailed) as exc:
        create(author, org, **overrides)
    assert error_fields(exc) == fields
    assert exc.value.status == 422
    assert count(MicroCredential) == 0


def test_every_problem_is_reported_at_once(org, author, item):
    with pytest.raises(ValidationFailed) as exc:
        create(
            author,
            org,
            alignments=[item.id, item.id, uuid.UUID(int=2)],
            rubric=[_criterion("planning", ["nowhere"], _levels("Low", "High"))],
            passing_rule={"level": "Proficient", "points": 99},
        )
    assert error_fields(exc) == [
        "rubric.0.requirements.0",
        "passing_rule.level",
        "passing_rule.points",
        "alignments.1",
        "alignments.2",
    ]
    assert "'planning'" in exc.value.errors[1]["detail"]  # says which criterion lacks the level


def test_the_passing_level_is_matched_without_regard_to_case(org, author):
    version = create(author, org, passing_rule={"level": "proficient", "points": None})
    assert version.passing_level == "proficient"


# --- editing drafts ----------------------------------------------------------------------------------


def test_update_replaces_only_the_given_fields_and_lists_whole(org, author, reviewer, item):
    version = create(author, org, alignments=[item.id])
    before = versions.content_of(version)
    new_requirements = [*valid_content()["requirements"][:2], _requirement("recording")]

    versions.update_draft(
        actor=reviewer,  # any author of the organisation edits the team's drafts
        version_id=version.id,
        changes={"title": "Close Reading, Revised", "requirements": new_requirements, "tags": ["Reading"]},
    )

    after = versions.content_of(version)
    assert after["title"] == "Close Reading, Revised"
    assert [r["key"] for r in after["requirements"]] == ["lesson-plan", "reflection", "recording"]
    assert after["requirements"][2]["evidence_kind"] == "text"
    assert version.tags == ["reading"]
    unchanged = {k: v for k, v in before.items() if k not in {"title", "requirements", "tags"}}
    assert {k: after[k] for k in unchanged} == unchanged
    (event,) = events("credential.draft_updated", version)
    assert event.actor_id == reviewer.id
    assert event.after["fields"] == ["requirements", "tags", "title"]


def test_an_update_is_validated_against_the_whole_draft(org, author):
    version = create(author, org)
    with pytest.raises(ValidationFailed) as exc:
        # "recording" is still judged by the analysis criterion
        versions.update_draft(
            actor=author, version_id=version.id, changes={"requirements": valid_content()["requirements"][:2]}
        )
    assert error_fields(exc) == ["rubric.1.requirements.1"]


def test_clearing_the_passing_rule_and_the_lists(org, author):
    version = create(author, org)
    versions.update_draft(
        actor=author,
        version_id=version.id,
        changes={"passing_rule": None, "rubric": [], "alignments": [], "method_components": []},
    )
    content = versions.content_of(version)
    assert content["passing_rule"] is None and content["rubric"] == [] and content["method_components"] == []
    assert len(content["requirements"]) == 3


def test_an_edit_based_on_an_old_save_is_refused(org, author, reviewer):
    version = create(author, org)
    seen = version.lock_version
    versions.update_draft(actor=reviewer, version_id=version.id, changes={"title": "Theirs"}, expected_version=seen)
    assert version.lock_version > seen

    with pytest.raises(PreconditionFailed):
        versions.update_draft(actor=author, version_id=version.id, changes={"title": "Mine"}, expected_version=seen)
    assert version.title == "Theirs"
    versions.update_draft(
        actor=author, version_id=version.id, changes={"title": "Mine"}, expected_version=version.lock_version
    )
    assert version.title == "Mine"


def test_who_may_edit_a_draft(org, author, org_admin):
    version = create(author, org)
    with pytest.raises(Forbidden):  # org admins may read drafts but not write them
        versions.update_draft(actor=org_admin, version_id=version.id, changes={"title": "X"})
    for outsider in (UserFactory(), member(org, Role.ASSESSOR), member(OrganisationFactory(), Role.AUTHOR)):
        with pytest.raises(NotFound):
            versions.update_draft(actor=outsider, version_id=version.id, changes={"title": "X"})
    with pytest.raises(NotFound):
        versions.update_draft(actor=author, version_id=uuid.uuid4(), changes={"title": "X"})
    assert version.title == "Close Reading of Complex Texts"


# --- review and publication --------------------------------------------------------------------------


def test_review_needs_a_complete_draft_and_says_what_is_missing(org, author):
    version = versions.create_micro_credential(actor=author, organisation_id=org.id, content={"title": "Idea"})
    with pytest.raises(ValidationFailed) as exc:
        publication.request_review(actor=author, version_id=version.id)
    assert error_fields(exc) == [
        "short_description",
        "competency_statement",
        "key_method",
        "requirements",
        "rubric",
        "passing_rule",
    ]
    assert version.state == "draft"


def test_review_needs_every_requirement_judged_and_one_required(org, author):
    optional = [{**r, "required": False} for r in valid_content()["requirements"]]
    rubric = [_criterion("planning", ["lesson-plan"], _levels("Not yet", "Proficient"))]
    version = create(author, org, requirements=optional, rubric=rubric, passing_rule={"level": "Proficient"})
    with pytest.raises(ValidationFailed) as exc:
        publication.request_review(actor=author, version_id=version.id)
    assert error_fields(exc) == ["requirements", "requirements.1", "requirements.2"]


def test_a_different_author_approves_and_then_it_can_be_published(org, author, reviewer):
    version = create(author, org)
    publication.request_review(actor=author, version_id=version.id, comment="Please check the rubric.")
    assert version.state == "in_review"
    assert version.review_requested_by_id == author.id and version.review_requested_at is not None

    with pytest.raises(Conflict, match="different author"):
        publication.approve(actor=author, version_id=version.id)
    with pytest.raises(Conflict):
        publication.publish(actor=author, version_id=version.id)  # not approved yet

    publication.approve(actor=reviewer, version_id=version.id, comment="Looks good.")
    assert version.state == "approved" and version.approved_by_id == reviewer.id

    publication.publish(actor=author, version_id=version.id)
    assert version.state == "published"
    assert version.published_at is not None and version.published_by_id == author.id
    assert versions.get_version(actor=None, version_id=version.id) is version
    assert catalogue_titles() == ["Close Reading of Complex Texts"]


def test_a_draft_cannot_be_published_or_approved(org, author, reviewer):
    version = create(author, org)
    with pytest.raises(Conflict):
        publication.publish(actor=author, version_id=version.id)
    with pytest.raises(Conflict):
        publication.approve(actor=reviewer, version_id=version.id)
    assert version.state == "draft"


def test_the_reviewer_must_be_an_author_of_the_organisation(org, author, org_admin):
    version = create(author, org)
    publication.request_review(actor=author, version_id=version.id)
    with pytest.raises(Forbidden):
        publication.approve(actor=org_admin, version_id=version.id)
    with pytest.raises(NotFound):
        publication.approve(actor=member(OrganisationFactory(), Role.AUTHOR), version_id=version.id)
    assert version.state == "in_review"


def test_changes_requested_send_the_draft_back_with_the_comment(org, author, reviewer):
    version = create(author, org)
    publication.request_review(actor=author, version_id=version.id, comment="Ready?")
    with pytest.raises(Conflict):
        publication.request_changes(actor=author, version_id=version.id, comment="Self-review")

    publication.request_changes(actor=reviewer, version_id=version.id, comment="Add a descriptor for Exemplary.")
    assert version.state == "draft"
    versions.update_draft(actor=author, version_id=version.id, changes={"key_method": "Four reads."})
    publication.add_comment(actor=author, version_id=version.id, body="Done, see the key method.")

    comments = publication.list_comments(actor=reviewer, version_id=version.id)
    assert [(c.kind, c.author_id, c.body) for c in comments] == [
        (CommentKind.REVIEW_REQUESTED.value, author.id, "Ready?"),
        (CommentKind.CHANGES_REQUESTED.value, reviewer.id, "Add a descriptor for Exemplary."),
        (CommentKind.COMMENT.value, author.id, "Done, see the key method."),
    ]


def test_withdrawing_a_review_returns_the_version_to_draft(org, author, reviewer):
    version = create(author, org)
    publication.request_review(actor=author, version_id=version.id)
    publication.withdraw_review(actor=author, version_id=version.id)
    assert version.state == "draft"

    publication.request_review(actor=author, version_id=version.id)
    publication.approve(actor=reviewer, version_id=version.id)
    publication.withdraw_review(actor=reviewer, version_id=version.id)
    assert version.state == "draft" and version.approved_by_id is None and version.approved_at is None
    with pytest.raises(Conflict):
        publication.withdraw_review(actor=author, version_id=version.id)


def test_only_drafts_can_be_edited(org, author, reviewer):
    version = create(author, org)
    publication.request_review(actor=author, version_id=version.id)
    with pytest.raises(Conflict, match="only drafts"):
        versions.update_draft(actor=author, version_id=version.id, changes={"title": "X"})
    publication.approve(actor=reviewer, version_id=version.id)
    publication.publish(actor=author, version_id=version.id)
    with pytest.raises(Conflict, match="Start a new version"):
        versions.update_draft(actor=author, version_id=version.id, changes={"title": "X"})
    with pytest.raises(Conflict):
        publication.request_review(actor=author, version_id=version.id)
    assert version.title == "Close Reading of Complex Texts"


def test_editing_a_published_credential_starts_the_next_version_as_a_copy(org, author, reviewer, item):
    v1 = publish(create(author, org, alignments=[item.id], tags=["literacy", "reading"]), author, reviewer)

    v2 = versions.new_version(actor=reviewer, micro_credential_id=v1.micro_credential_id)
    assert (v2.number, v2.state, v2.micro_credential_id) == (2, "draft", v1.micro_credential_id)
    assert versions.content_of(v2) == versions.content_of(v1)
    assert v1.state == "published"  # earners keep seeing v1 until v2 is published
    with pytest.raises(Conflict, match="finish it first"):
        versions.new_version(actor=author, micro_credential_id=v1.micro_credential_id)

    versions.update_draft(actor=reviewer, version_id=v2.id, changes={"title": "Close Reading 2"})
    assert v1.title == "Close Reading of Complex Texts"
    publish(v2, reviewer, author)

    assert v1.state == "retired" and v1.retired_reason == "Superseded by version 2."
    assert v1.retired_at is not None
    assert versions.get_version(actor=None, version_id=v1.id) is v1  # still readable for issued badges
    assert catalogue_titles() == ["Close Reading 2"]
    assert catalogue_titles(tag="reading") == ["Close Reading 2"]
    (retired,) = events("credential.retired", v1)
    assert retired.before["state"] == "published" and retired.after["state"] == "retired"


def test_versions_follow_one_another_within_one_transaction(org, author, reviewer):
    v1 = publish(create(author, org), author, reviewer)
    v2 = publish(versions.new_version(actor=author, micro_credential_id=v1.micro_credential_id), author, reviewer)
    v3 = versions.new_version(actor=author, micro_credential_id=v1.micro_credential_id)
    assert [v.number for v in (v1, v2, v3)] == [1, 2, 3]
    assert [v.state for v in (v1, v2, v3)] == ["retired", "published", "draft"]


def test_two_authors_starting_the_same_version_at_once_get_a_conflict(session, org, author):
    v1 = CredentialVersionFactory(organisation=org, published=True)
    assert len(v1.micro_credential.versions) == 1  # what this request read
    # meanwhile another request inserts version 2
    session.execute(
        insert(CredentialVersion).values(
            id=uuid.uuid4(), micro_credential_id=v1.micro_credential_id, organisation_id=org.id, number=2, title="X"
        )
    )
    with pytest.raises(Conflict, match="Version 2"):
        versions.new_version(actor=author, micro_credential_id=v1.micro_credential_id)


def test_nobody_outside_the_team_starts_a_new_version(org, author, reviewer):
    v1 = publish(create(author, org), author, reviewer)
    with pytest.raises(Forbidden):
        versions.new_version(actor=UserFactory(), micro_credential_id=v1.micro_credential_id)
    with pytest.raises(NotFound):
        versions.new_version(actor=author, micro_credential_id=uuid.uuid4())
    assert [
        v.number for v in versions.get_micro_credential(actor=None, micro_credential_id=v1.micro_credential_id).versions
    ] == [1]


@pytest.mark.parametrize("retirer", ["author", "org_admin"])
def test_retiring_keeps_the_version_readable_but_out_of_the_catalogue(org, author, reviewer, org_admin, retirer):
    version = publish(create(author, org), author, reviewer)
    actor = {"author": author, "org_admin": org_admin}[retirer]
    publication.retire(actor=actor, version_id=version.id, reason="Replaced by the state's new framework.")

    assert version.state == "retired" and version.retired_reason == "Replaced by the state's new framework."
    assert versions.get_version(actor=None, version_id=version.id) is version
    assert catalogue_titles() == []
    with pytest.raises(Conflict):
        publication.retire(actor=actor, version_id=version.id, reason="Again")


def test_who_may_retire(org, author, reviewer):
    version = publish(create(author, org), author, reviewer)
    for outsider in (UserFactory(), member(org, Role.ASSESSOR), member(OrganisationFactory(), Role.AUTHOR)):
        with pytest.raises(Forbidden):
            publication.retire(actor=outsider, version_id=version.id, reason="No")
    with pytest.raises(Unauthorized):
        publication.retire(actor=None, version_id=version.id, reason="No")  # type: ignore[arg-type]
    draft = create(author, org)
    with pytest.raises(Conflict):
        publication.retire(actor=author, version_id=draft.id, reason="Not published")
    assert version.state == "published"


def test_comments_are_for_the_team(org, author, reviewer):
    version = create(author, org)
    DraftCommentFactory(version=version, author=reviewer, body="Earlier note")
    publication.add_comment(actor=author, version_id=version.id, body="Reply")
    assert [c.body for c in publication.list_comments(actor=reviewer, version_id=version.id)] == [
        "Earlier note",
        "Reply",
    ]
    with pytest.raises(NotFound):
        publication.add_comment(actor=UserFactory(), version_id=version.id, body="Hi")
    with pytest.raises(NotFound):
        publication.list_comments(actor=member(OrganisationFactory(), Role.AUTHOR), version_id=version.id)


# --- audit -------------------------------------------------------------------------------------------


def test_each_review_step_is_audited_with_actor_and_states(org, author, reviewer):
    version = create(author, org)
    publication.request_review(actor=author, version_id=version.id)
    publication.request_changes(actor=reviewer, version_id=version.id, comment="Tighten the prompt.")
    publication.request_review(actor=author, version_id=version.id)
    publication.approve(actor=reviewer, version_id=version.id)
    publication.publish(actor=author, version_id=version.id)
    publication.retire(actor=reviewer, version_id=version.id, reason="Superseded by policy.")

    expected = [
        ("credential.changes_requested", reviewer, "in_review", "draft"),
        ("credential.approved", reviewer, "in_review", "approved"),
        ("credential.published", author, "approved", "published"),
        ("credential.retired", reviewer, "published", "retired"),
    ]
    for action, actor, before, after in expected:
        (event,) = events(action, version)
        assert event.actor_id == actor.id
        assert event.organisation_id == org.id
        assert event.object_type == "CredentialVersion"
        assert (event.before["state"], event.after["state"]) == (before, after)
    (retired,) = events("credential.retired", version)
    assert retired.after["retired_reason"] == "Superseded by policy."
    assert len(events("credential.review_requested", version)) == 2


# --- visibility --------------------------------------------------------------------------------------


def _viewers(org: Organisation) -> dict[str, User | None]:
    return {
        "author": member(org, Role.AUTHOR),
        "org_admin": member(org, Role.ORG_ADMIN),
        "platform_admin": UserFactory(is_platform_admin=True),
        "assessor": member(org, Role.ASSESSOR),
        "earner": UserFactory(),
        "other_org_author": member(OrganisationFactory(), Role.AUTHOR),
        "anonymous": None,
    }


TEAM = {"author", "org_admin", "platform_admin"}


def test_drafts_are_visible_only_to_the_team(org, author):
    draft = create(author, org)
    first = publish(create(author, org, title="Published one"), author, member(org, Role.AUTHOR))
    other = CredentialVersionFactory(micro_credential=first.micro_credential, state=VersionState.DRAFT.value)

    for name, viewer in _viewers(org).items():
        if name in TEAM:
            assert versions.get_version(actor=viewer, version_id=draft.id) is draft
            assert images.image_of(actor=viewer, version_id=draft.id).media_type == "image/svg+xml"
            assert versions.diff(actor=viewer, version_id=other.id, against_id=first.id)["changes"] is not None
        else:
            with pytest.raises(NotFound):
                versions.get_version(actor=viewer, version_id=draft.id)
            with pytest.raises(NotFound):
                images.image_of(actor=viewer, version_id=draft.id)
            with pytest.raises(NotFound):
                versions.diff(actor=viewer, version_id=other.id, against_id=first.id)
            with pytest.raises(NotFound):
                versions.get_micro_credential(actor=viewer, micro_credential_id=draft.micro_credential_id)
            # the published version 1 is public, its draft successor is not
            mc = versions.get_micro_credential(actor=viewer, micro_credential_id=first.micro_credential_id)
            assert versions.visible_versions(viewer, mc) == [first]


def test_published_and_retired_versions_are_public(org):
    published = CredentialVersionFactory(organisation=org, published=True)
    retired = CredentialVersionFactory(organisation=org, retired=True)
    for viewer in _viewers(org).values():
        assert versions.get_version(actor=viewer, version_id=published.id) is published
        assert versions.get_version(actor=viewer, version_id=retired.id) is retired


def test_the_organisations_list_shows_the_newest_version_of_each_to_the_team(org, author, reviewer):
    v1 = publish(create(author, org, title="Literacy"), author, reviewer)
    v2 = versions.new_version(actor=author, micro_credential_id=v1.micro_credential_id)
    draft = create(author, org, title="Leadership")
    CredentialVersionFactory(title="Elsewhere")

    page = versions.list_organisation_credentials(actor=reviewer, organisation_id=org.id, page=1, page_size=10)
    assert page.total == 2 and {v.id for v in page.items} == {v2.id, draft.id}
    only = versions.list_organisation_credentials(
        actor=reviewer, organisation_id=org.id, page=1, page_size=10, state="draft", q="leadersh"
    )
    assert [v.id for v in only.items] == [draft.id]
    with pytest.raises(Forbidden):
        versions.list_organisation_credentials(actor=UserFactory(), organisation_id=org.id, page=1, page_size=10)


# --- the catalogue -----------------------------------------------------------------------------------


def test_the_catalogue_lists_published_versions_and_filters_them(org):
    framework = FrameworkFactory()
    item_a = StandardItemFactory(framework=framework)
    item_b = StandardItemFactory(framework=framework)
    elsewhere = StandardItemFactory()
    other_org = OrganisationFactory()
    with clock.frozen_at(clock.now()):
        reading = CredentialVersionFactory(organisation=org, published=True, title="Reading", tags=["literacy"])
    leading = CredentialVersionFactory(organisation=org, published=True, title="Leading", tags=["leadership"])
    equity = CredentialVersionFactory(organisation=other_org, published=True, title="Equity", tags=["equity"])
    CredentialVersionFactory(organisation=org, title="Draft reading", tags=["literacy"])
    CredentialVersionFactory(organisation=org, retired=True, title="Retired reading", tags=["literacy"])
    CredentialVersionFactory(organisation=org, state="in_review", title="Reading in review")
    AlignmentFactory(version=reading, item=item_a)
    AlignmentFactory(version=leading, item=item_b)
    AlignmentFactory(version=equity, item=elsewhere)

    assert sorted(catalogue_titles()) == ["Equity", "Leading", "Reading"]
    assert catalogue_titles(tag=" Literacy ") == ["Reading"]
    assert catalogue_titles(standard=item_b.id) == ["Leading"]
    assert sorted(catalogue_titles(framework=framework.id)) == ["Leading", "Reading"]
    assert catalogue_titles(organisation=other_org.id) == ["Equity"]
    assert catalogue_titles(q="READ") == ["Reading"]
    assert catalogue_titles(tag="nothing") == []
    assert catalogue.catalogue(page=1, page_size=2).total == 3
    assert len(catalogue.catalogue(page=2, page_size=2).items) == 1


def test_catalogue_search_treats_wildcards_literally(org):
    CredentialVersionFactory(organisation=org, published=True, title="100% engagement")
    CredentialVersionFactory(organisation=org, published=True, title="1000 engaged readers")
    CredentialVersionFactory(organisation=org, published=True, title="snake_case naming")
    CredentialVersionFactory(organisation=org, published=True, title="snakeXcase", short_description="back\\slash")
    assert catalogue_titles(q="100%") == ["100% engagement"]
    assert catalogue_titles(q="%") == ["100% engagement"]
    assert catalogue_titles(q="e_c") == ["snake_case naming"]
    assert catalogue_titles(q="\\") == ["snakeXcase"]


# --- differences -------------------------------------------------------------------------------------


def test_the_difference_between_two_versions(org, author, reviewer, item):
    v1 = publish(create(author, org), author, reviewer)
    v2 = versions.new_version(actor=author, micro_credential_id=v1.micro_credential_id)
    content = valid_content()
    lesson_plan, reflection, _recording = content["requirements"]
    portfolio = {**_requirement("portfolio"), "evidence_kind": "link"}
    rubric = content["rubric"]
    rubric[0]["levels"][3] = {**rubric[0]["levels"][3], "name": "Distinguished"}
    rubric[1]["requirements"] = ["reflection", "portfolio"]
    versions.update_draft(
        actor=author,
        version_id=v2.id,
        changes={
            "title": "Close Reading 2",
            "requirements": [{**reflection, "prompt": "What changed?"}, lesson_plan, portfolio],
            "rubric": rubric,
            "alignments": [item.id],
        },
    )

    result = versions.diff(actor=author, version_id=v2.id, against_id=v1.id)
    assert (result["from_version"], result["to_version"]) == (v1.id, v2.id)
    changes = {(c["path"], c["change"]): c for c in result["changes"]}
    assert changes[("title", "changed")]["before"] == "Close Reading of Complex Texts"
    assert changes[("title", "changed")]["after"] == "Close Reading 2"
    assert changes[("requirements.reflection.prompt", "changed")]["after"] == "What changed?"
    assert changes[("requirements.recording", "removed")]["before"]["title"] == "Recording"
    assert changes[("requirements.portfolio", "added")]["after"]["evidence_kind"] == "link"
    assert changes[("requirements", "reordered")]["after"] == ["reflection", "lesson-plan", "portfolio"]
    levels = changes[("rubric.planning.levels", "changed")]
    assert [lv["name"] for lv in levels["after"]][-1] == "Distinguished"
    assert changes[("rubric.analysis.requirements", "changed")]["after"] == ["reflection", "portfolio"]
    assert changes[("alignments", "changed")]["after"] == [str(item.id)]
    assert not any(path.startswith("rubric.analysis.levels") for path, _ in changes)

    reverse = versions.diff(actor=author, version_id=v1.id, against_id=v2.id)
    assert {(c["path"], c["change"]) for c in reverse["changes"]} >= {
        ("requirements.recording", "added"),
        ("requirements.portfolio", "removed"),
    }
    assert versions.diff(actor=author, version_id=v1.id, against_id=v1.id)["changes"] == []


def test_versions_of_different_micro_credentials_are_not_compared(org, author):
    a, b = create(author, org), create(author, org)
    with pytest.raises(ValidationFailed) as exc:
        versions.diff(actor=author, version_id=a.id, against_id=b.id)
    assert error_fields(exc) == ["against"]


# --- stacks ------------------------------------------------------------------------------------------


@pytest.fixture
def published(org: Organisation) -> list[MicroCredential]:
    return [CredentialVersionFactory(organisation=org, published=True).micro_credential for _ in range(3)]


def test_a_stack_of_published_micro_credentials_is_created_published_and_retired(org, author, published):
    stack = stacks.create_stack(
        actor=author,
        organisation_id=org.id,
        title="Leadership pathway",
        micro_credentials=[mc.id for mc in published],
        required_count=2,
    )
    assert stack.state == "draft"
    assert [m.micro_credential_id for m in stack.members] == [mc.id for mc in published]

    stacks.set_stack_state(actor=author, stack_id=stack.id, state=StackState.PUBLISHED)
    assert stack.state == "published" and stack.published_at is not None
    with pytest.raises(Conflict):
        stacks.update_stack(actor=author, stack_id=stack.id, changes={"title": "Renamed"})
    with pytest.raises(Conflict):
        stacks.set_stack_state(actor=author, stack_id=stack.id, state=StackState.PUBLISHED)
    assert stack.title == "Leadership pathway"

    stacks.set_stack_state(actor=author, stack_id=stack.id, state=StackState.RETIRED)
    assert stack.state == "retired" and stack.retired_at is not None
    assert stacks.get_stack(actor=None, stack_id=stack.id) is stack
    (event,) = events("stack.published", stack)
    assert event.actor_id == author.id and (event.before["state"], event.after["state"]) == ("draft", "published")


def test_a_draft_stack_cannot_be_retired(org, author, published):
    stack = StackFactory(organisation=org, micro_credentials=published[:2])
    with pytest.raises(Conflict):
        stacks.set_stack_state(actor=author, stack_id=stack.id, state=StackState.RETIRED)


def test_a_stack_holds_only_published_micro_credentials_of_its_organisation(org, author, published):
    draft = CredentialVersionFactory(organisation=org).micro_credential
    foreign = CredentialVersionFactory(published=True).micro_credential
    with pytest.raises(ValidationFailed) as exc:
        stacks.create_stack(
            actor=author,
            organisation_id=org.id,
            title="Mixed",
            micro_credentials=[published[0].id, draft.id, foreign.id, uuid.uuid4()],
        )
    assert error_fields(exc) == ["micro_credentials.1", "micro_credentials.2", "micro_credentials.3"]


def test_a_stack_cannot_require_more_than_it_holds(org, author, published):
    with pytest.raises(ValidationFailed) as exc:
        stacks.create_stack(
            actor=author,
            organisation_id=org.id,
            title="Too demanding",
            micro_credentials=[mc.id for mc in published[:2]],
            required_count=3,
        )
    assert error_fields(exc) == ["required_count"]
    stack = StackFactory(organisation=org, micro_credentials=published[:2])
    with pytest.raises(ValidationFailed) as exc:
        stacks.update_stack(actor=author, stack_id=stack.id, changes={"required_count": 3})
    assert error_fields(exc) == ["required_count"]


def test_a_draft_stack_is_edited_with_optimistic_locking(org, author, published):
    stack = StackFactory(organisation=org, micro_credentials=published[:2])
    seen = stack.lock_version
    stacks.update_stack(
        actor=author,
        stack_id=stack.id,
        changes={"micro_credentials": [mc.id for mc in reversed(published)], "required_count": 2},
        expected_version=seen,
    )
    assert [m.micro_credential_id for m in stack.members] == [mc.id for mc in reversed(published)]
    assert stack.required_count == 2
    with pytest.raises(PreconditionFailed):
        stacks.update_stack(actor=author, stack_id=stack.id, changes={"title": "Late"}, expected_version=seen)


def test_draft_stacks_are_hidden_from_everyone_but_the_team(org, author, published):
    draft = StackFactory(organisation=org, title="Draft stack", micro_credentials=published[:2])
    live = StackFactory(organisation=org, title="Live stack", state="published", micro_credentials=published[1:])
    for name, viewer in _viewers(org).items():
        listed = [s.title for s in stacks.list_stacks(actor=viewer, organisation_id=org.id, page=1, page_size=10).items]
        assert stacks.get_stack(actor=viewer, stack_id=live.id) is live
        if name in TEAM:
            assert stacks.get_stack(actor=viewer, stack_id=draft.id) is draft
            assert listed == ["Draft stack", "Live stack"]
        else:
            with pytest.raises(NotFound):
                stacks.get_stack(actor=viewer, stack_id=draft.id)
            assert listed == ["Live stack"]


def test_only_the_team_manages_stacks(org, published):
    stack = StackFactory(organisation=org, micro_credentials=published[:2])
    for outsider in (UserFactory(), member(org, Role.ASSESSOR), member(OrganisationFactory(), Role.AUTHOR)):
        with pytest.raises(Forbidden):
            stacks.create_stack(
                actor=outsider, organisation_id=org.id, title="X", micro_credentials=[m.id for m in published]
            )
        # a member without the role is refused; someone outside the organisation is told no such stack exists
        with pytest.raises(Forbidden if outsider.roles_in(org.id) else NotFound):
            stacks.set_stack_state(actor=outsider, stack_id=stack.id, state=StackState.PUBLISHED)
    assert count(Stack) == 1 and stack.state == "draft"


# --- the demo ----------------------------------------------------------------------------------------


def _failed_in_standards(result: Any) -> bool:
    """Whether the demo broke inside the standards package (finished by another engineer), not in ours."""
    if result.exc_info is None or isinstance(result.exception, SystemExit):
        return False
    packages = {Path(module.__file__).parent: module.__name__ for module in (standards, credentials)}
    frames = [Path(frame.filename).parent for frame in traceback.extract_tb(result.exc_info[2])]
    innermost = [packages[folder] for folder in frames if folder in packages]
    return bool(innermost) and innermost[-1] == "standards"


def test_the_demo_adds_published_credentials_a_stack_and_a_draft_under_review(app, session):
    if not any(fn.__module__.startswith("standards") for _, _, fn in demo._steps):
        pytest.skip("the standards package has no demo step yet, so nothing is aligned")
    result = app.test_cli_runner().invoke(args=["demo"])
    if result.exit_code != 0 and _failed_in_standards(result):
        pytest.skip(f"the standards step of the demo fails (not credentials): {result.exception!r}")
    assert result.exit_code == 0, result.output

    titles = {content["title"] for content, _codes in demo_data.PUBLISHED}
    versions = {v.title: v for v in session.scalars(select(CredentialVersion))}
    assert len(titles) == 3
    for title in titles:
        assert versions[title].state == "published"
        assert versions[title].alignments, f"{title} is aligned to no bundled standard"
    assert versions[demo_data.UNDER_REVIEW[0]["title"]].state == "in_review"
    stack = session.scalar(select(Stack).where(Stack.title == demo_data.STACK_TITLE))
    assert stack.state == "published" and len(stack.members) == 3
    assert set(catalogue_titles()) >= titles

    again = app.test_cli_runner().invoke(args=["demo"])
    assert again.exit_code == 0, again.output
    assert session.scalar(select(func.count()).select_from(CredentialVersion)) == len(versions)


# --- obsolete standard items -------------------------------------------------------------------------


def test_a_new_alignment_to_an_obsolete_item_is_refused_but_an_existing_one_survives(org, author, item):
    version = versions.create_micro_credential(
        actor=author, organisation_id=org.id, content=valid_content(alignments=[item.id])
    )
    item.obsolete_at = clock.now()  # the framework was re-imported without this item
    retired_item = StandardItemFactory(obsolete_at=clock.now())
    db.session.flush()

    # Saving the draft with its existing alignment still works ...
    versions.update_draft(actor=author, version_id=version.id, changes={"title": "Renamed"})
    # ... but a newly added obsolete item is refused at its place.
    with pytest.raises(ValidationFailed) as refused:
        versions.update_draft(actor=author, version_id=version.id, changes={"alignments": [item.id, retired_item.id]})
    assert [e["field"] for e in refused.value.errors] == ["alignments.1"]
    with pytest.raises(ValidationFailed):
        versions.create_micro_credential(
            actor=author, organisation_id=org.id, content=valid_content(alignments=[retired_item.id])
        )


def test_missing_for_review_lists_what_request_review_would_refuse(session):
    version = CredentialVersionFactory(requirements=False, competency_statement="")
    missing = {e["field"] for e in versions.missing_for_review(version)}
    assert {"competency_statement", "requirements", "rubric"} <= missing
    assert versions.missing_for_review(CredentialVersionFactory()) == []


@pytest.mark.parametrize(
    ("value", "label"),
    [
        ("MicroCredential", "micro-credential"),
        ("ApprenticeshipCertificate", "apprenticeship certificate"),
        ("CoCurricular", "co-curricular activity"),
        ("ext:Summer_Institute", "summer institute"),
        (None, "micro-credential"),
    ],
)
def test_achievement_types_are_shown_in_words(value: str | None, label: str) -> None:
    from credentials.authoring.models import achievement_type_label

    assert achievement_type_label(value) == label
