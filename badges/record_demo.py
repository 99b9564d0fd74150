"""Demo step: a state agency endorses the demo district's first micro-credential, and the demo earner's transcript
(CLR 2.0) of their badges from the district is signed, so both can be looked at right away."""

from __future__ import annotations

from sqlalchemy import select

from badges import clr, endorsements
from badges.record_models import Endorsement
from core.auth import find_user_by_email, hash_password
from core.db import db
from core.demo import DEMO_DOMAIN, DemoContext, demo_password, demo_step
from core.errors import NotFound
from core.models import Membership, Organisation, OrganisationKind, Role, User
from credentials.authoring.models import CredentialVersion, VersionState

AGENCY_SLUG = "state-educator-board"


def _agency(ctx: DemoContext) -> tuple[Organisation, User]:
    agency = db.session.scalar(select(Organisation).where(Organisation.slug == AGENCY_SLUG))
    if agency is None:
        agency = Organisation(
            slug=AGENCY_SLUG,
            name="State Board of Educator Standards",
            kind=OrganisationKind.STATE_AGENCY.value,
            url="https://educators.state.demo.example",
            description="A demo state agency that recognises micro-credentials for licence renewal.",
        )
        db.session.add(agency)
        db.session.flush()
    email = f"stateadmin@{DEMO_DOMAIN}"
    admin = find_user_by_email(email)
    if admin is None:
        admin = User(email=email, name="Sasha State", password_hash=hash_password(demo_password("stateadmin")))
        db.session.add(admin)
        db.session.flush()
        ctx.echo(f"  {email:28} {demo_password('stateadmin'):24} org_admin of {agency.name}")
    if Role.ORG_ADMIN not in admin.roles_in(agency.id):
        admin.memberships.append(Membership(organisation_id=agency.id, role=Role.ORG_ADMIN.value))
        db.session.flush()
    return agency, admin


@demo_step(order=60)
def _endorsement_and_transcript(ctx: DemoContext) -> None:
    assert ctx.organisation is not None
    version = db.session.scalar(
        select(CredentialVersion)
        .where(
            CredentialVersion.organisation_id == ctx.organisation.id,
            CredentialVersion.state == VersionState.PUBLISHED.value,
        )
        .order_by(CredentialVersion.created_at, CredentialVersion.title)
        .limit(1)
    )
    if version is None:
        return
    agency, admin = _agency(ctx)
    standing = db.session.scalar(
        select(Endorsement).where(
            Endorsement.endorser_id == agency.id, Endorsement.target_id == version.id, Endorsement.revoked_at.is_(None)
        )
    )
    if standing is None:
        standing = endorsements.endorse(
            actor=admin,
            endorser_id=agency.id,
            target_kind="achievement",
            target_id=version.id,
            comment="Approved by the State Board as professional learning toward educator licence renewal.",
        )
    ctx.echo(f"Endorsement by {agency.name}: {endorsements.endorsement_url(standing.id)}")
    earner = ctx.users["earner"]
    try:
        version_row = clr.transcript(actor=earner, organisation_id=ctx.organisation.id, earner_id=earner.id)
    except NotFound:
        return
    ctx.echo(f"Transcript (CLR 2.0) of {earner.name}: {version_row.credential['id']}")
