"""Demo data for shared definitions: a state agency above the demo district publishes a micro-credential and
shares it; the district adopts it and offers it under its own issuer (`flask demo` runs the step below)."""

from __future__ import annotations

from sqlalchemy import select

from core.auth import find_user_by_email, hash_password
from core.db import db
from core.demo import DEMO_DOMAIN, DemoContext, demo_password, demo_step
from core.models import Membership, Organisation, OrganisationKind, Role, User
from credentials.authoring import adoption, demo_data, publication, versions
from credentials.authoring.adoption_models import AdoptionState, CredentialAdoption
from credentials.authoring.models import CredentialVersion

STATE_SLUG = "lakes-state-education"
STATE_TITLE = "Evidence-Based Reading Across the State"
# (local part, name, roles in the state agency); password demo-<local part>-pass.
STATE_USERS = (
    ("stateadmin", "Stella Stone", (Role.ORG_ADMIN, Role.AUTHOR)),
    ("statelead", "Leo Lane", (Role.AUTHOR,)),
)


def _state(ctx: DemoContext) -> Organisation:
    state = db.session.scalar(select(Organisation).where(Organisation.slug == STATE_SLUG))
    if state is None:
        state = Organisation(
            slug=STATE_SLUG,
            name="Lakes State Department of Education",
            kind=OrganisationKind.STATE_AGENCY.value,
            url="https://education.lakes.demo.example",
            email="credentials@education.lakes.demo.example",
            description="A demo state agency whose districts adopt its micro-credentials.",
        )
        db.session.add(state)
        db.session.flush()
        ctx.echo(f"Created state agency {state.name} ({state.slug}).")
    assert ctx.organisation is not None
    if ctx.organisation.parent_id is None:
        ctx.organisation.parent = state
        db.session.flush()
        ctx.echo(f"{ctx.organisation.name} is now a district of {state.name}.")
    return state


def _people(ctx: DemoContext, state: Organisation) -> dict[str, User]:
    people = {}
    for local, name, roles in STATE_USERS:
        email = f"{local}@{DEMO_DOMAIN}"
        user = find_user_by_email(email)
        if user is None:
            user = User(email=email, name=name, password_hash=hash_password(demo_password(local)))
            db.session.add(user)
            db.session.flush()
            ctx.echo(f"  {email:28} {demo_password(local):24} {', '.join(r.value for r in roles)} (state agency)")
        for role in roles:
            if role not in user.roles_in(state.id):
                user.memberships.append(Membership(organisation_id=state.id, role=role.value))
        people[local] = user
    db.session.flush()
    return people


@demo_step(order=25)
def _shared_definition(ctx: DemoContext) -> None:
    """The state publishes and shares one micro-credential; the demo district adopts it."""
    state = _state(ctx)
    people = _people(ctx, state)
    version = db.session.scalar(
        select(CredentialVersion).where(
            CredentialVersion.organisation_id == state.id, CredentialVersion.title == STATE_TITLE
        )
    )
    if version is None:
        content, _ = demo_data.PUBLISHED[0]
        content = {
            **content,
            "title": STATE_TITLE,
            "short_description": "The state's close-reading micro-credential, offered by its districts.",
            "tags": ["literacy", "state-wide"],
        }
        version = versions.create_micro_credential(
            actor=people["stateadmin"], organisation_id=state.id, content=content
        )
        publication.request_review(actor=people["stateadmin"], version_id=version.id, comment="For every district.")
        publication.approve(actor=people["statelead"], version_id=version.id, comment="Approved state-wide.")
        publication.publish(actor=people["stateadmin"], version_id=version.id)
        ctx.echo(f"State agency published: {version.title}")
    share = adoption.get_share(version.micro_credential_id)
    if share is None:
        adoption.share(
            actor=people["stateadmin"], micro_credential_id=version.micro_credential_id, mode="adopt", scope="all"
        )
        ctx.echo(f"Shared with the state's districts: {version.title}")
    assert ctx.organisation is not None
    adopted = db.session.scalar(
        select(CredentialAdoption).where(
            CredentialAdoption.organisation_id == ctx.organisation.id,
            CredentialAdoption.micro_credential_id == version.micro_credential_id,
            CredentialAdoption.state == AdoptionState.ACTIVE.value,
        )
    )
    if adopted is None and version.state == "published":
        adoption.adopt(actor=ctx.users["orgadmin"], organisation_id=ctx.organisation.id, version_id=version.id)
        ctx.echo(f"{ctx.organisation.name} adopted “{version.title}” and issues it under its own issuer.")
