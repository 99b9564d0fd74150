"""Design teams: the named group of people who own and draft an organisation's micro-credentials, and the
questions the permission rules ask of them (is this person on the team, may they draft for it)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import clock
from core.authz import ancestor_ids
from core.db import IdMixin, TimestampMixin, db
from core.models import Organisation, Role, User


class DesignTeam(IdMixin, TimestampMixin, db.Model):
    """A named team of one organisation; its members come from the organisation or the units below it."""

    __tablename__ = "design_teams"
    __table_args__ = (sa.UniqueConstraint("organisation_id", "name_key"),)

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(120))
    # The name folded (case, spaces), so "Literacy team" and "literacy  TEAM" cannot both exist in one organisation.
    name_key: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    organisation: Mapped[Organisation] = relationship()
    members: Mapped[list[DesignTeamMember]] = relationship(
        back_populates="team", cascade="all, delete-orphan", order_by="DesignTeamMember.added_at"
    )

    def has_member(self, user: User | None) -> bool:
        return user is not None and any(m.user_id == user.id for m in self.members)


class DesignTeamMember(db.Model):
    __tablename__ = "design_team_members"

    team_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("design_teams.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: Mapped[datetime] = mapped_column(default=clock.now)
    added_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    team: Mapped[DesignTeam] = relationship(back_populates="members")
    user: Mapped[User] = relationship(foreign_keys=[user_id])


def name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def authors_in_or_under(user: User | None, organisation_id: uuid.UUID) -> bool:
    """True when ``user`` holds the author role in the organisation or in one of its units (a school's teacher
    drafting on the district's team)."""
    if user is None:
        return False
    return any(
        m.role == Role.AUTHOR.value
        and (m.organisation_id == organisation_id or organisation_id in ancestor_ids(m.organisation_id))
        for m in user.memberships
    )


def leads_above(user: User | None, organisation_id: uuid.UUID) -> bool:
    """True when ``user`` is an org admin or programme lead of an organisation above this one (at any depth)."""
    if user is None:
        return False
    roles = (Role.ORG_ADMIN.value, Role.PROGRAMME_LEAD.value)
    leading = {m.organisation_id for m in user.memberships if m.role in roles}
    return bool(leading) and any(a in leading for a in ancestor_ids(organisation_id))


def may_draft_for(user: User | None, team: DesignTeam) -> bool:
    """A team member who still authors there (losing the author role ends their editing), or a platform admin."""
    if user is None:
        return False
    return user.is_platform_admin or (team.has_member(user) and authors_in_or_under(user, team.organisation_id))
