"""Design teams: who makes them, who drafts a team's micro-credentials, its changes history and comments, review
by someone outside the team, approval voided by a later edit, and the programme lead's overview."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import pytest

from core import mail
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.models import Organisation, Role, User
from credentials.authoring import changes, programme, publication, teams, versions
from credentials.authoring.models import CredentialVersion
from credentials.authoring.team_models import DesignTeam
from tests.factories import MembershipFactory, OrganisationFactory, member, valid_content

pytestmark = pytest.mark.usefixtures("session")


@pytest.fixture
def org() -> Organisation:
    return OrganisationFactory(name="Riverside District")


@pytest.fixture
def admin(org: Organisation) -> User:
    return member(org, Role.ORG_ADMIN, name="Olivia Admin")


@pytest.fixture
def ana(org: Organisation) -> User:
    return member(org, Role.AUTHOR, name="Ana Author")


@pytest.fixture
def ben(org: Organisation) -> User:
    return member(org, Role.AUTHOR, name="Ben Teammate")


@pytest.fixture
def rita(org: Organisation) -> User:
    """An author of the organisation who is not on the team: the outside reviewer."""
    return member(org, Role.AUTHOR, name="Rita Reviewer")


@pytest.fixture
def team(org: Organisation, admin: User, ana: User, ben: User) -> DesignTeam:
    return teams.create_team(actor=admin, organisation_id=org.id, name="Literacy team", member_ids=[ana.id, ben.id])


def team_draft(team: DesignTeam, actor: User, **overrides: Any) -> CredentialVersion:
    return teams.create_team_credential(actor=actor, team_id=team.id, content=valid_content(**overrides))


# --- teams -------------------------------------------------------------------------------------------


def test_an_admin_makes_a_team_of_authors_from_the_organisation_and_its_units(org, admin, ana):
    school = OrganisationFactory(name="North School", parent=org)
    teacher = member(school, Role.AUTHOR, name="Tom Teacher")
    team = teams.create_team(
        actor=admin, organisation_id=org.id, name="  Literacy   team ", member_ids=[ana.id, teacher.id, ana.id]
    )
    assert team.name == "Literacy team"
    assert [m.user_id for m in team.members] == [ana.id, teacher.id]
    assert {u.id for u in teams.eligible_members(org.id)} == {ana.id, teacher.id}
    assert teams.list_teams(actor=ana, organisation_id=org.id) == [team]


def test_only_admins_of_the_organisation_or_above_manage_teams(org, admin, ana):
    with pytest.raises(Forbidden):
        teams.create_team(actor=ana, organisation_id=org.id, name="Mine")
    with pytest.raises(NotFound):  # another organisation's admin cannot even tell it exists
        teams.create_team(actor=member(OrganisationFactory(), Role.ORG_ADMIN), organisation_id=org.id, name="X")
    with pytest.raises(NotFound):
        teams.create_team(actor=admin, organisation_id=uuid.uuid4(), name="X")
    school = OrganisationFactory(parent=org)
    assert teams.create_team(actor=admin, organisation_id=school.id, name="School team").organisation_id == school.id


@pytest.mark.parametrize(
    ("name", "error"),
    [("", ValidationFailed), ("   ", ValidationFailed), ("x" * 121, ValidationFailed), ("LITERACY  team", Conflict)],
)
def test_a_team_needs_a_free_name(org, admin, team, name, error):
    with pytest.raises(error) as raised:
        teams.create_team(actor=admin, organisation_id=org.id, name=name)
    assert raised.value.errors[0]["field"] == "name"


def test_members_must_author_in_the_organisation_or_below(org, admin, ana):
    outsider = member(OrganisationFactory(), Role.AUTHOR)
    assessor = member(org, Role.ASSESSOR)
    for bad in (outsider.id, assessor.id, uuid.uuid4()):
        with pytest.raises(ValidationFailed) as raised:
            teams.create_team(actor=admin, organisation_id=org.id, name="T", member_ids=[ana.id, bad])
        assert raised.value.errors[0]["field"] == "member_ids.1"
    assert teams.list_teams(actor=admin, organisation_id=org.id) == []  # nothing half-written


def test_adding_and_removing_members(org, admin, team, rita, ana):
    mail.sent.clear()
    teams.add_member(actor=admin, team_id=team.id, user_id=rita.id)
    assert team.has_member(rita)
    [message] = mail.sent
    assert message.to == rita.email and "Literacy team" in message.subject
    assert f"/authoring/teams/{team.id}" in message.body and "Olivia Admin" in message.body
    with pytest.raises(Conflict):
        teams.add_member(actor=admin, team_id=team.id, user_id=rita.id)
    with pytest.raises(Forbidden):
        teams.add_member(actor=ana, team_id=team.id, user_id=rita.id)
    teams.remove_member(actor=admin, team_id=team.id, user_id=rita.id)
    assert not team.has_member(rita)
    with pytest.raises(NotFound):
        teams.remove_member(actor=admin, team_id=team.id, user_id=rita.id)
    with pytest.raises(NotFound):
        teams.get_team(actor=member(OrganisationFactory(), Role.ORG_ADMIN), team_id=team.id)


def test_renaming_a_team(org, admin, team):
    other = teams.create_team(actor=admin, organisation_id=org.id, name="Maths team")
    with pytest.raises(Conflict):
        teams.update_team(actor=admin, team_id=other.id, changes={"name": "literacy TEAM"})
    teams.update_team(actor=admin, team_id=team.id, changes={"name": "Literacy Team", "description": "Reading"})
    assert (team.name, team.description) == ("Literacy Team", "Reading")


# --- drafting together -------------------------------------------------------------------------------


def test_only_the_team_edits_its_drafts(org, team, ana, ben, rita, admin):
    version = team_draft(team, ana)
    assert version.micro_credential.team_id == team.id
    versions.update_draft(actor=ben, version_id=version.id, changes={"title": "Close Reading, by Ben"})
    with pytest.raises(Forbidden, match="design team"):
        versions.update_draft(actor=rita, version_id=version.id, changes={"title": "Rita's"})
    with pytest.raises(Forbidden):
        versions.update_draft(actor=admin, version_id=version.id, changes={"title": "Admin's"})
    with pytest.raises(NotFound):  # another organisation's author: the same answer as an unknown id
        versions.update_draft(actor=member(OrganisationFactory(), Role.AUTHOR), version_id=version.id, changes={})
    with pytest.raises(Forbidden):
        team_draft(team, rita)
    assert version.title == "Close Reading, by Ben"


def test_a_unit_author_on_the_team_drafts_and_loses_it_with_the_author_role(org, admin, team):
    school = OrganisationFactory(parent=org)
    teacher = member(school, Role.AUTHOR)
    teams.add_member(actor=admin, team_id=team.id, user_id=teacher.id)
    version = team_draft(team, teacher)
    versions.update_draft(actor=teacher, version_id=version.id, changes={"key_method": "Three reads."})
    sibling_author = member(OrganisationFactory(parent=org), Role.AUTHOR)
    with pytest.raises(NotFound):
        versions.get_version(actor=sibling_author, version_id=version.id)
    for m in list(teacher.memberships):
        teacher.memberships.remove(m)
    MembershipFactory(organisation=school, user=teacher, role=Role.ASSESSOR.value)
    with pytest.raises(Forbidden):
        versions.update_draft(actor=teacher, version_id=version.id, changes={"key_method": "Again."})


def test_every_change_is_in_the_history_with_who_and_which_fields(team, ana, ben):
    version = team_draft(team, ana)
    content = versions.content_of(version)
    # A whole-form save resends every field: only the changed ones are recorded.
    versions.update_draft(actor=ben, version_id=version.id, changes={**content, "key_method": "Four reads."})
    entries = changes.list_changes(actor=ana, version_id=version.id)
    assert [(e["actor"], e["action"]) for e in entries] == [
        ("Ben Teammate", "credential.draft_updated"),
        ("Ana Author", "credential.created"),
    ]
    assert entries[0]["fields"] == ["key_method"]
    with pytest.raises(NotFound):
        changes.list_changes(actor=member(OrganisationFactory(), Role.AUTHOR), version_id=version.id)


def test_a_comment_is_mailed_to_the_other_team_members(team, ana, ben, rita):
    version = team_draft(team, ana)
    mail.sent.clear()
    publication.add_comment(actor=ana, version_id=version.id, body="Is the rubric too strict?")
    [message] = mail.sent
    assert message.to == ben.email
    assert message.subject == f"New comment on {version.title}"
    assert "Ana Author" in message.body and "Is the rubric too strict?" in message.body
    assert f"/authoring/versions/{version.id}" in message.body
    # The outside reviewer may join the thread; the organisation's assessors do not even see the draft.
    publication.add_comment(actor=rita, version_id=version.id, body="Looks fine to me.")
    assert [c.body for c in publication.list_comments(actor=ben, version_id=version.id)] == [
        "Is the rubric too strict?",
        "Looks fine to me.",
    ]
    with pytest.raises(NotFound):
        publication.add_comment(actor=member(team.organisation, Role.ASSESSOR), version_id=version.id, body="Hi")


# --- review before publish ---------------------------------------------------------------------------


def test_a_reviewer_outside_the_team_approves_before_publish(org, team, ana, ben, rita, admin):
    version = team_draft(team, ana)
    with pytest.raises(Conflict, match="reviewer outside its design team must approve"):
        publication.publish(actor=ana, version_id=version.id)
    publication.request_review(actor=ana, version_id=version.id, comment="Ready")
    assert version.stage == "in_review"
    with pytest.raises(Conflict, match="reviewer outside its design team must approve"):
        publication.publish(actor=ana, version_id=version.id)
    with pytest.raises(Forbidden, match="not be on its design team"):
        publication.approve(actor=ben, version_id=version.id)  # a teammate, though not the one who asked
    mail.sent.clear()
    publication.approve(actor=rita, version_id=version.id, comment="Clear.")
    assert version.stage == "approved" and version.approved_by_id == rita.id
    assert sorted(m.to for m in mail.sent) == sorted([ana.email, ben.email])
    assert all("Rita Reviewer approved" in m.body for m in mail.sent)
    with pytest.raises(Forbidden):
        publication.publish(actor=rita, version_id=version.id)  # the team publishes
    publication.publish(actor=ben, version_id=version.id)
    assert version.stage == "published"


def test_an_admin_outside_the_team_may_review_and_ask_for_changes(team, ana, admin):
    version = team_draft(team, ana)
    publication.request_review(actor=ana, version_id=version.id)
    mail.sent.clear()
    publication.request_changes(actor=admin, version_id=version.id, comment="Name the text sets.")
    assert version.state == "draft" and version.stage == "changes_requested"
    assert any("Name the text sets." in m.body for m in mail.sent)
    publication.request_review(actor=ana, version_id=version.id)
    assert version.stage == "in_review" and version.changes_requested_at is None


def test_an_edit_after_approval_voids_it(team, ana, rita):
    version = team_draft(team, ana)
    publication.request_review(actor=ana, version_id=version.id)
    publication.approve(actor=rita, version_id=version.id)
    versions.update_draft(actor=ana, version_id=version.id, changes={"title": "Changed after approval"})
    assert version.state == "in_review" and version.approved_by_id is None and version.approved_at is None
    with pytest.raises(Conflict, match="must approve"):
        publication.publish(actor=ana, version_id=version.id)
    assert changes.list_changes(actor=ana, version_id=version.id)[0]["approval_voided"] is True
    publication.approve(actor=rita, version_id=version.id)
    publication.publish(actor=ana, version_id=version.id)
    with pytest.raises(Conflict, match="Start a new version"):
        versions.update_draft(actor=ana, version_id=version.id, changes={"title": "After publishing"})


def test_credentials_without_a_team_keep_the_organisation_wide_rules(org, ana, rita, admin, team):
    version = versions.create_micro_credential(actor=ana, organisation_id=org.id, content=valid_content())
    versions.update_draft(actor=rita, version_id=version.id, changes={"title": "Anyone may edit"})
    publication.request_review(actor=ana, version_id=version.id)
    with pytest.raises(Conflict, match="only drafts"):
        versions.update_draft(actor=ana, version_id=version.id, changes={"title": "In review"})
    teams.set_credential_team(actor=admin, micro_credential_id=version.micro_credential_id, team_id=team.id)
    with pytest.raises(Forbidden):
        publication.approve(actor=ana, version_id=version.id)  # Ana is on the team now
    publication.approve(actor=rita, version_id=version.id)


def test_giving_a_credential_to_a_team(org, admin, ana, team):
    version = versions.create_micro_credential(actor=ana, organisation_id=org.id, content=valid_content())
    other_team = teams.create_team(actor=member(OrganisationFactory(), Role.ORG_ADMIN, is_platform_admin=True),
                                   organisation_id=OrganisationFactory().id, name="Elsewhere")  # fmt: skip
    with pytest.raises(ValidationFailed) as raised:
        teams.set_credential_team(actor=admin, micro_credential_id=version.micro_credential_id, team_id=other_team.id)
    assert raised.value.errors[0]["field"] == "team_id"
    with pytest.raises(Forbidden):
        teams.set_credential_team(actor=ana, micro_credential_id=version.micro_credential_id, team_id=team.id)
    with pytest.raises(NotFound):
        teams.set_credential_team(actor=admin, micro_credential_id=uuid.uuid4(), team_id=team.id)
    teams.set_credential_team(actor=admin, micro_credential_id=version.micro_credential_id, team_id=team.id)
    assert version.micro_credential.team_id == team.id
    teams.set_credential_team(actor=admin, micro_credential_id=version.micro_credential_id, team_id=None)
    assert version.micro_credential.team is None


# --- the programme lead's overview -------------------------------------------------------------------


@pytest.fixture
def hierarchy(org, admin, team, ana, rita):
    """The district with its team's three credentials at different stages, and two schools with a team each."""
    drafted = team_draft(team, ana, title="Drafted")
    in_review = team_draft(team, ana, title="In review")
    publication.request_review(actor=ana, version_id=in_review.id)
    published = team_draft(team, ana, title="Published")
    publication.request_review(actor=ana, version_id=published.id)
    publication.approve(actor=rita, version_id=published.id)
    publication.publish(actor=ana, version_id=published.id)
    north, south = OrganisationFactory(name="North School", parent=org), OrganisationFactory(name="South", parent=org)
    north_admin = member(north, Role.ORG_ADMIN)
    north_author = member(north, Role.AUTHOR)
    north_team = teams.create_team(
        actor=admin, organisation_id=north.id, name="North team", member_ids=[north_author.id]
    )
    north_draft = team_draft(north_team, north_author, title='=HYPERLINK("http://x")')
    south_author = member(south, Role.AUTHOR)
    south_team = teams.create_team(
        actor=admin, organisation_id=south.id, name="South team", member_ids=[south_author.id]
    )
    team_draft(south_team, south_author, title="South secret")
    return {"drafted": drafted, "north": north, "north_admin": north_admin, "north_draft": north_draft,
            "south": south, "south_author": south_author}  # fmt: skip


def test_the_lead_sees_every_team_of_the_organisation_and_its_units(org, admin, hierarchy):
    report = programme.programme(actor=admin, organisation_id=org.id)
    names = [(r.organisation.name, r.team.name if r.team else None) for r in report.teams]
    assert names == [("Riverside District", "Literacy team"), ("North School", "North team"), ("South", "South team")]
    assert report.teams[0].counts == {
        "draft": 1, "changes_requested": 0, "in_review": 1, "approved": 0, "published": 1, "retired": 0,
    }  # fmt: skip
    assert report.counts["draft"] == 3
    assert report.teams[0].last_activity is not None
    lead = member(org, Role.PROGRAMME_LEAD)
    assert len(programme.programme(actor=lead, organisation_id=org.id).teams) == 3
    assert versions.get_version(actor=lead, version_id=hierarchy["north_draft"].id) is not None


def test_a_unit_sees_itself_never_its_siblings(org, hierarchy):
    north_admin = hierarchy["north_admin"]
    report = programme.programme(actor=north_admin, organisation_id=hierarchy["north"].id)
    assert [r.team.name for r in report.teams if r.team] == ["North team"]
    with pytest.raises(NotFound):
        programme.programme(actor=north_admin, organisation_id=hierarchy["south"].id)
    with pytest.raises(NotFound):
        programme.programme(actor=north_admin, organisation_id=org.id)
    with pytest.raises(Forbidden):
        programme.programme(actor=hierarchy["south_author"], organisation_id=hierarchy["south"].id)


def test_the_overview_filters_by_stage_and_team(org, admin, team, hierarchy):
    report = programme.programme(actor=admin, organisation_id=org.id, stage="in_review")
    assert [v.title for r in report.teams for v in r.versions] == ["In review"]
    report = programme.programme(actor=admin, organisation_id=org.id, team_id=team.id)
    assert [r.team.id for r in report.teams] == [team.id]
    assert sorted(v.title for v in report.teams[0].versions) == ["Drafted", "In review", "Published"]
    with pytest.raises(ValidationFailed):
        programme.programme(actor=admin, organisation_id=org.id, stage="lost")
    foreign = teams.create_team(actor=member(OrganisationFactory(), Role.ORG_ADMIN, is_platform_admin=True),
                                organisation_id=OrganisationFactory().id, name="Foreign")  # fmt: skip
    with pytest.raises(ValidationFailed):
        programme.programme(actor=admin, organisation_id=org.id, team_id=foreign.id)


def test_the_csv_has_one_line_per_credential_and_disarms_formulas(org, admin, hierarchy):
    rows = list(csv.reader(io.StringIO(programme.as_csv(programme.programme(actor=admin, organisation_id=org.id)))))
    assert rows[0] == list(programme.CSV_COLUMNS)
    assert len(rows) == 1 + 3 + 1 + 1
    north = next(r for r in rows if r[1] == "North team")
    assert north[4] == '\'=HYPERLINK("http://x")' and north[6] == "draft"


def test_the_demo_has_a_design_team_with_a_draft_in_review(app, session):
    from sqlalchemy import func, select

    from credentials.authoring import team_demo

    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    team = session.scalar(select(DesignTeam).where(DesignTeam.name == team_demo.TEAM_NAME))
    assert [m.user.email for m in team.members] == ["author@demo.example"]
    draft = session.scalar(select(CredentialVersion).where(CredentialVersion.title == team_demo.TEAM_DRAFT_TITLE))
    assert draft.micro_credential.team_id == team.id and draft.stage == "in_review"
    reviewer = session.scalar(select(User).where(User.email == "author2@demo.example"))
    assert not team.has_member(reviewer)  # Ben can approve it
    teams_before = session.scalar(select(func.count()).select_from(DesignTeam))
    assert app.test_cli_runner().invoke(args=["demo"]).exit_code == 0
    assert session.scalar(select(func.count()).select_from(DesignTeam)) == teams_before


def test_sending_for_review_tells_the_rest_of_the_team(team, ana, ben):
    version = team_draft(team, ana)
    mail.sent.clear()
    publication.request_review(actor=ana, version_id=version.id, comment="Ready when you are.")
    [message] = mail.sent
    assert message.to == ben.email and message.subject == f"Sent for review: {version.title}"
    assert "Ana Author sent version 1" in message.body and "Ready when you are." in message.body


def test_a_persons_data_export_names_their_design_teams(team, ana):
    from credentials.authoring import personal_data

    [part] = [p for p in personal_data.export(ana) if p.name == "design_teams"]
    assert [(r["team"], r["organisation"]) for r in part.records] == [("Literacy team", "Riverside District")]
