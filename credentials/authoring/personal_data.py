"""What authoring holds about a person: the comments they wrote on drafts, the micro-credentials they created and
the design teams they are on. Erasure leaves them (they are the organisation's work); the author is then shown by
the anonymised name."""

from __future__ import annotations

from sqlalchemy import select

from core.db import db
from core.models import User
from core.privacy import ExportPart
from credentials.authoring.models import CredentialVersion, DraftComment, MicroCredential
from credentials.authoring.team_models import DesignTeam, DesignTeamMember


def export(person: User) -> list[ExportPart]:
    comments = db.session.execute(
        select(DraftComment, CredentialVersion.title, CredentialVersion.number)
        .join(CredentialVersion, CredentialVersion.id == DraftComment.version_id)
        .where(DraftComment.author_id == person.id)
        .order_by(DraftComment.created_at)
    )
    created = db.session.scalars(
        select(MicroCredential).where(MicroCredential.created_by_id == person.id).order_by(MicroCredential.created_at)
    )
    on_teams = db.session.execute(
        select(DesignTeam, DesignTeamMember.added_at)
        .join(DesignTeamMember, DesignTeamMember.team_id == DesignTeam.id)
        .where(DesignTeamMember.user_id == person.id)
        .order_by(DesignTeamMember.added_at)
    )
    return [
        ExportPart(
            name="design_teams",
            description="Design teams you are on",
            records=[
                {"team": t.name, "organisation": t.organisation.name, "added_at": added_at} for t, added_at in on_teams
            ],
        ),
        ExportPart(
            name="draft_comments",
            description="Comments you wrote on micro-credential drafts",
            records=[
                {"micro_credential": title, "version": number, "kind": c.kind, "body": c.body, "at": c.created_at}
                for c, title, number in comments
            ],
        ),
        ExportPart(
            name="micro_credentials_created",
            description="Micro-credentials you created (they belong to the organisation)",
            records=[{"id": m.id, "organisation": m.organisation.name, "created_at": m.created_at} for m in created],
        ),
    ]
