"""`flask demo` leaves data that gives every impact chart something to draw."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from badges import impact
from core.db import db
from core.demo import DEMO_ORG_SLUG
from core.models import Organisation, User


def test_demo_data_fills_the_impact_charts(app: Any, session: Any) -> None:
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    organisation = db.session.scalar(select(Organisation).where(Organisation.slug == DEMO_ORG_SLUG))
    admin = db.session.scalar(select(User).where(User.email.like("orgadmin@%")))
    scope = impact.scope(actor=admin, organisation_id=organisation.id, include_children=True)
    badges = impact.badges_over_time(scope=scope, by="unit")
    print(badges, impact.funnel(scope=scope), impact.time_to_earn(scope=scope), impact.retention(scope=scope))
    assert badges["total"]["badges"] >= 3
    assert len([m for m in badges["months"] if m["badges"]]) >= 3  # a trend, not one bar
    assert any(g["key"] for g in badges["groups"])  # placed in units of the district
    assert (
        impact.time_to_earn(scope=scope)["total"]["first_attempt"] < impact.time_to_earn(scope=scope)["total"]["passed"]
    )
    assert impact.funnel(scope=scope)["total"]["passed"] >= 3
    assert impact.time_to_earn(scope=scope)["total"]["median_days"] is not None
    assert impact.retention(scope=scope)["total"]["attempted_second"] >= 1
