"""`flask demo`: an idempotent walk-through data set that grows with each domain.

Core makes the organisation and one account per role; each domain adds its part with ``@demo_step``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import click
from sqlalchemy import select

from core.auth import find_user_by_email, hash_password
from core.db import db
from core.models import Membership, Organisation, OrganisationKind, Role, User


@dataclass
class DemoContext:
    """What earlier steps made, for later steps to build on."""

    organisation: Organisation | None = None
    users: dict[str, User] = field(default_factory=dict)
    echo: Callable[[str], None] = click.echo
    # Lines `flask demo` prints last (e.g. each issued badge's URL and expected status), after all steps.
    closing: list[str] = field(default_factory=list)


Step = Callable[[DemoContext], None]
_steps: list[tuple[int, str, Step]] = []


def demo_step(order: int) -> Callable[[Step], Step]:
    """Register a step of the demo; steps run by ``order`` and must be idempotent."""

    def register(fn: Step) -> Step:
        _steps.append((order, fn.__qualname__, fn))
        return fn

    return register


DEMO_DOMAIN = "demo.example"
DEMO_ORG_SLUG = "riverside-usd"
# (local part, name, roles in the demo organisation, platform admin). Password: demo-<local part>-pass.
DEMO_USERS = (
    ("admin", "Pat Platform", (), True),
    ("orgadmin", "Olivia Ortiz", (Role.ORG_ADMIN,), False),
    ("author", "Ana Alvarez", (Role.AUTHOR,), False),
    ("author2", "Ben Brooks", (Role.AUTHOR,), False),
    ("assessor", "Sam Sato", (Role.ASSESSOR,), False),
    ("assessor2", "Tia Thompson", (Role.ASSESSOR,), False),
    ("earner", "Erin Evans", (), False),
)


def demo_password(local: str) -> str:
    return f"demo-{local}-pass"


@demo_step(order=0)
def _organisation_and_people(ctx: DemoContext) -> None:
    organisation = db.session.scalar(select(Organisation).where(Organisation.slug == DEMO_ORG_SLUG))
    if organisation is None:
        organisation = Organisation(
            slug=DEMO_ORG_SLUG,
            name="Riverside Unified School District",
            kind=OrganisationKind.DISTRICT.value,
            url="https://riverside.demo.example",
            email="credentials@riverside.demo.example",
            description="A demo district running an educator micro-credential programme.",
        )
        db.session.add(organisation)
        db.session.flush()
        ctx.echo(f"Created organisation {organisation.name} ({organisation.slug}).")
    ctx.organisation = organisation
    created = []
    for local, name, roles, platform_admin in DEMO_USERS:
        email = f"{local}@{DEMO_DOMAIN}"
        user = find_user_by_email(email)
        if user is None:
            user = User(
                email=email,
                name=name,
                password_hash=hash_password(demo_password(local)),
                is_platform_admin=platform_admin,
            )
            db.session.add(user)
            db.session.flush()
            created.append(
                (
                    email,
                    demo_password(local),
                    ", ".join(r.value for r in roles) or ("platform admin" if platform_admin else "earner"),
                )
            )
        for role in roles:
            if role not in user.roles_in(organisation.id):
                user.memberships.append(Membership(organisation_id=organisation.id, role=role.value))
        ctx.users[local] = user
    db.session.flush()
    if created:
        ctx.echo("Demo accounts (passwords are shown only now):")
        for email, password, roles in created:
            ctx.echo(f"  {email:28} {password:24} {roles}")
    else:
        ctx.echo(f"Demo accounts already exist (passwords: demo-<name>-pass, e.g. {demo_password('author')}).")


def run_demo(echo: Callable[[str], None] = click.echo) -> DemoContext:
    ctx = DemoContext(echo=echo)
    for _, _, step in sorted(_steps, key=lambda s: (s[0], s[1])):
        step(ctx)
    return ctx
