"""Demo data for design teams (a step of `flask demo`): the district's literacy design team, with a draft of its
own waiting for a reviewer outside the team (Ben Brooks, an author not on it, or the org admin)."""

from __future__ import annotations

from sqlalchemy import select

from core.db import db
from core.demo import DemoContext, demo_step
from credentials.authoring import demo_data, publication, teams
from credentials.authoring.models import CredentialVersion
from credentials.authoring.team_models import DesignTeam, name_key

TEAM_NAME = "Literacy design team"
TEAM_DRAFT_TITLE = "Vocabulary Instruction Across the Content Areas"


@demo_step(order=21)
def _design_team(ctx: DemoContext) -> None:
    assert ctx.organisation is not None
    admin, author = ctx.users["orgadmin"], ctx.users["author"]
    team = db.session.scalar(
        select(DesignTeam).where(
            DesignTeam.organisation_id == ctx.organisation.id, DesignTeam.name_key == name_key(TEAM_NAME)
        )
    )
    if team is None:
        team = teams.create_team(
            actor=admin,
            organisation_id=ctx.organisation.id,
            name=TEAM_NAME,
            description="Teachers and coaches who write the district's literacy micro-credentials.",
            member_ids=[author.id],
        )
        ctx.echo(f"Design team: {team.name} (member: {author.name})")
    exists = db.session.scalar(
        select(CredentialVersion.id).where(
            CredentialVersion.organisation_id == ctx.organisation.id, CredentialVersion.title == TEAM_DRAFT_TITLE
        )
    )
    if exists is None:
        content = {
            **demo_data.CLOSE_READING,
            "title": TEAM_DRAFT_TITLE,
            "short_description": "Teach subject-specific vocabulary so students use it in speaking and writing.",
            "tags": ["literacy", "vocabulary"],
        }
        draft = teams.create_team_credential(actor=author, team_id=team.id, content=content)
        publication.add_comment(
            actor=author, version_id=draft.id, body="First full draft; the rubric follows close reading."
        )
        publication.request_review(actor=author, version_id=draft.id, comment="Ready for a reviewer outside the team.")
        ctx.echo(f"Team draft waiting for an outside reviewer: {draft.title}")
