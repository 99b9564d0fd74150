"""Self-service start: a signed-in person creates an organisation (when ALLOW_ORGANISATION_SIGNUP allows it) and
its admins follow the first-run checklist, judged from real data, to the first badge. Service, API and pages."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from badges import issuers
from core import checklist, organisations
from core.config import load
from core.db import db
from core.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from core.models import AuditEvent, Organisation, Role
from tests.badges.issued import award, passed_submission
from tests.conftest import bearer, csrf_token, problem
from tests.core.test_api import error_fields
from tests.core.test_web import BROWSER, location, sign_in, text
from tests.factories import (
    AlignmentFactory,
    CredentialVersionFactory,
    InvitationFactory,
    OrganisationFactory,
    UserFactory,
    member,
    png_bytes,
)

SAFE_PRODUCTION = {
    "APP_ENV": "production",
    "SECRET_KEY": "s" * 40,
    "KEY_ENCRYPTION_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    "BASE_URL": "https://badges.example.org",
    "DATABASE_URL": "postgresql+psycopg://db/app",
    "STORAGE_URL": "s3://bucket/evidence",
}
STEPS = [
    "issuer_profile",
    "issuer_logo",
    "drafted",
    "team",
    "rubric",
    "standards",
    "published",
    "assessors",
    "first_badge",
]


@pytest.fixture
def signup_off(app, monkeypatch):
    monkeypatch.setitem(app.config, "ALLOW_ORGANISATION_SIGNUP", False)


@pytest.fixture
def signup_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "ALLOW_ORGANISATION_SIGNUP", True)


def created_events() -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "organisation.created")))


# --- configuration -----------------------------------------------------------------------------------------


def test_self_service_is_on_in_development_and_off_in_production_unless_set():
    assert load(environ={})["ALLOW_ORGANISATION_SIGNUP"] is True
    assert load(environ=SAFE_PRODUCTION)["ALLOW_ORGANISATION_SIGNUP"] is False
    assert load(environ={**SAFE_PRODUCTION, "ALLOW_ORGANISATION_SIGNUP": "true"})["ALLOW_ORGANISATION_SIGNUP"] is True
    assert load(environ={"ALLOW_ORGANISATION_SIGNUP": "off"})["ALLOW_ORGANISATION_SIGNUP"] is False


# --- the service -------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("signup_on")
def test_a_person_who_signed_up_creates_an_organisation_and_becomes_its_admin_and_author(session):
    founder = UserFactory(email="founder@example.org")

    organisation = organisations.create_organisation(
        actor=founder, name="  École Nord-Est District ", url="https://nord.example.org", email="hi@nord.example.org"
    )

    assert organisation.name == "École Nord-Est District"
    assert organisation.slug == "ecole-nord-est-district"
    assert founder.roles_in(organisation.id) == {Role.ORG_ADMIN, Role.AUTHOR}
    (event,) = created_events()
    assert event.actor_id == founder.id and event.organisation_id == organisation.id
    assert event.after["self_service"] is True
    assert event.after["first_admin_roles"] == ["org_admin", "author"]
    assert event.after["slug"] == "ecole-nord-est-district"


@pytest.mark.usefixtures("signup_on")
def test_a_slug_made_from_a_taken_name_gets_the_next_free_number(session):
    OrganisationFactory(slug="riverside")
    OrganisationFactory(slug="riverside-2")
    founder = UserFactory()

    organisation = organisations.create_organisation(actor=founder, name="Riverside")

    assert organisation.slug == "riverside-3"


@pytest.mark.usefixtures("signup_on")
def test_a_long_name_makes_a_slug_that_fits_even_with_a_number(session):
    name = "Very " * 30
    OrganisationFactory(slug=organisations.slug_from_name(name))

    organisation = organisations.create_organisation(actor=UserFactory(), name=name)

    assert len(organisation.slug) <= 64 and organisation.slug.endswith("-2")
    assert not organisation.slug.startswith("-") and "--" not in organisation.slug


@pytest.mark.usefixtures("signup_on")
@pytest.mark.parametrize("name", ["東京都教育委員会", "!!!", "—"])
def test_a_name_with_nothing_to_make_a_slug_from_asks_for_one(session, name):
    with pytest.raises(ValidationFailed) as caught:
        organisations.create_organisation(actor=UserFactory(), name=name)
    assert caught.value.errors[0]["field"] == "slug"
    assert organisations.create_organisation(actor=UserFactory(), name=name, slug="tokyo").slug == "tokyo"


@pytest.mark.usefixtures("signup_on")
def test_a_chosen_slug_that_is_taken_is_a_conflict_and_writes_nothing(session):
    OrganisationFactory(slug="taken")
    founder = UserFactory()

    with pytest.raises(Conflict):
        organisations.create_organisation(actor=founder, name="Other", slug="taken")

    assert founder.memberships == []
    assert created_events() == []


@pytest.mark.usefixtures("signup_on")
def test_only_platform_admins_name_someone_else_as_first_admin(session):
    founder, victim = UserFactory(), UserFactory()

    with pytest.raises(Forbidden, match="Only platform admins"):
        organisations.create_organisation(actor=founder, name="Mine", admin_user_id=victim.id)
    assert victim.memberships == [] and founder.memberships == []
    # naming oneself is naming no one
    organisation = organisations.create_organisation(actor=founder, name="Mine", admin_user_id=founder.id)
    assert founder.roles_in(organisation.id) == {Role.ORG_ADMIN, Role.AUTHOR}


@pytest.mark.usefixtures("signup_off")
def test_with_self_service_off_only_platform_admins_create(session):
    with pytest.raises(Forbidden, match="ask a platform admin"):
        organisations.create_organisation(actor=UserFactory(), name="Mine")
    with pytest.raises(Unauthorized):
        organisations.create_organisation(actor=None, name="Mine")  # type: ignore[arg-type]
    with pytest.raises(Forbidden):
        organisations.create_organisation(actor=UserFactory(is_active=False, is_platform_admin=True), name="X")
    admin = UserFactory(is_platform_admin=True)
    organisation = organisations.create_organisation(actor=admin, name="Theirs")
    assert admin.roles_in(organisation.id) == {Role.ORG_ADMIN}  # as the CLI does: no author role
    assert created_events()[0].after["self_service"] is False


# --- the checklist -----------------------------------------------------------------------------------------


def progress_of(actor, organisation) -> dict[str, bool]:
    found = checklist.first_run_checklist(actor=actor, organisation_id=organisation.id)
    return {step.key: done for step, done in found.steps}


@pytest.mark.usefixtures("signup_on")
def test_the_checklist_ticks_each_step_from_real_data_up_to_the_first_badge(session):
    founder = UserFactory()
    organisation = organisations.create_organisation(actor=founder, name="Lakeside")
    steps = list(progress_of(founder, organisation))
    assert steps == STEPS
    assert not any(progress_of(founder, organisation).values())

    organisations.update_organisation(
        actor=founder,
        organisation_id=organisation.id,
        changes={"url": "https://lakeside.example", "email": "a@lakeside.example", "description": "Schools."},
    )
    assert progress_of(founder, organisation)["issuer_profile"]
    issuers.update_profile(actor=founder, organisation_id=organisation.id, changes={}, image=png_bytes(64, 64))
    assert progress_of(founder, organisation)["issuer_logo"]

    draft = CredentialVersionFactory(organisation=organisation, requirements=False)
    assert {k for k, v in progress_of(founder, organisation).items() if v} == {
        "issuer_profile",
        "issuer_logo",
        "drafted",
    }
    CredentialVersionFactory(micro_credential=draft.micro_credential)  # with its rubric criterion
    AlignmentFactory(version=draft)
    member(organisation, Role.AUTHOR)
    InvitationFactory(organisation=organisation, roles=["assessor"])
    done = progress_of(founder, organisation)
    assert done["rubric"] and done["standards"] and done["team"] and done["assessors"]
    assert not done["published"] and not done["first_badge"]

    version = CredentialVersionFactory(organisation=organisation, published=True)
    assert progress_of(founder, organisation)["published"]
    award(passed_submission(version=version))
    progress = checklist.first_run_checklist(actor=founder, organisation_id=organisation.id)
    assert progress.complete and progress.done_count == len(steps)


@pytest.mark.usefixtures("signup_on")
def test_an_expired_or_revoked_invitation_is_not_an_assessor_invited(session):
    founder = UserFactory()
    organisation = organisations.create_organisation(actor=founder, name="Hill")
    InvitationFactory(organisation=organisation, roles=["assessor"], revoked_at=db.func.now())
    invitation = InvitationFactory(organisation=organisation, roles=["assessor", "author"])
    invitation.expires_at = invitation.created_at
    db.session.flush()
    assert not progress_of(founder, organisation)["assessors"]
    member(organisation, Role.ASSESSOR)
    assert progress_of(founder, organisation)["assessors"]


def test_the_checklist_is_for_the_organisations_admins(session):
    organisation = OrganisationFactory()
    author = member(organisation, Role.AUTHOR)
    with pytest.raises(Forbidden):
        checklist.first_run_checklist(actor=author, organisation_id=organisation.id)
    with pytest.raises(NotFound):  # another organisation's admin cannot learn it exists
        checklist.first_run_checklist(
            actor=member(OrganisationFactory(), Role.ORG_ADMIN), organisation_id=organisation.id
        )
    with pytest.raises(NotFound):
        checklist.first_run_checklist(actor=author, organisation_id=uuid.uuid4())


# --- the API -----------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("signup_on")
def test_api_self_service_create_with_a_slug_made_from_the_name(client):
    founder = UserFactory()
    r = client.post(
        "/api/v1/organisations",
        json={"name": "Bay Area Teachers", "email": "team@bay.example", "url": "https://bay.example"},
        headers=bearer(founder),
    )
    assert r.status_code == 201, r.json
    assert r.json["slug"] == "bay-area-teachers"
    org_id = r.json["id"]
    members = client.get(f"/api/v1/organisations/{org_id}/members", headers=bearer(founder))
    assert members.json[0]["roles"] == ["author", "org_admin"]
    steps = client.get(f"/api/v1/organisations/{org_id}/checklist", headers=bearer(founder))
    assert steps.status_code == 200
    assert steps.json[0] == {
        "key": "issuer_profile",
        "label": "Complete the issuer profile",
        "hint": steps.json[0]["hint"],
        "done": False,
    }
    assert [s["key"] for s in steps.json][-1] == "first_badge"
    events = client.get(f"/api/v1/organisations/{org_id}/audit-events", headers=bearer(founder))
    assert [e["action"] for e in events.json] == ["organisation.created"]


@pytest.mark.usefixtures("signup_off")
def test_api_self_service_off_is_a_403_problem(client):
    founder = UserFactory()
    body = problem(client.post("/api/v1/organisations", json={"name": "Mine"}, headers=bearer(founder)), 403)
    assert "ask a platform admin" in body["detail"]
    assert founder.memberships == []
    problem(client.post("/api/v1/organisations", json={"name": "Mine"}), 401)


@pytest.mark.usefixtures("signup_on")
def test_api_self_service_hostile_input(client):
    founder, victim = UserFactory(), UserFactory()
    post = lambda body: client.post("/api/v1/organisations", json=body, headers=bearer(founder))  # noqa: E731
    body = problem(post({"name": "X", "admin_user_id": str(victim.id)}), 403)
    assert "Only platform admins" in body["detail"]
    assert error_fields(problem(post({"name": "東京"}), 422)) == {"slug": "#/slug"}
    assert error_fields(problem(post({"name": "Ok", "slug": None}), 422)) == {"slug": "#/slug"}
    assert error_fields(problem(post({"name": "a\x00b"}), 422)) == {"name": "#/name"}
    assert set(error_fields(problem(post({"name": "Ok", "is_platform_admin": True}), 422))) == {"is_platform_admin"}
    assert error_fields(problem(post({"name": "Ok", "url": "javascript:alert(1)"}), 422)) == {"url": "#/url"}
    OrganisationFactory(slug="dup")
    assert error_fields(problem(post({"name": "Dup", "slug": "dup"}), 409)) == {"slug": "#/slug"}
    assert problem(client.post("/api/v1/organisations", data="name=x", headers=bearer(founder)), 415)
    session_orgs = db.session.scalars(select(Organisation).where(Organisation.slug != "dup")).all()
    assert [o.slug for o in session_orgs if founder.roles_in(o.id)] == []


def test_api_checklist_refusals(client):
    organisation = OrganisationFactory()
    problem(client.get(f"/api/v1/organisations/{organisation.id}/checklist"), 401)
    author = member(organisation, Role.AUTHOR)
    problem(client.get(f"/api/v1/organisations/{organisation.id}/checklist", headers=bearer(author)), 403)
    stranger = member(OrganisationFactory(), Role.ORG_ADMIN)
    problem(client.get(f"/api/v1/organisations/{organisation.id}/checklist", headers=bearer(stranger)), 404)
    problem(client.get(f"/api/v1/organisations/{uuid.uuid4()}/checklist", headers=bearer(stranger)), 404)


# --- the pages ---------------------------------------------------------------------------------------------


def form_token(client, url: str) -> str:
    r = client.get(url, headers=BROWSER)
    assert r.status_code == 200, r.status_code
    return csrf_token(text(r))


@pytest.mark.usefixtures("signup_on")
def test_sign_up_then_new_micro_credential_offers_to_create_an_organisation(client):
    founder = UserFactory()
    sign_in(client, founder.email)
    for url in ("/authoring/new", "/authoring/"):
        r = client.get(url, headers=BROWSER)
        assert r.status_code == 403
        assert "not an author in any organisation yet" in text(r)
        assert 'href="/organisations/new"' in text(r)
    assert 'href="/organisations/new"' in text(client.get("/account", headers=BROWSER))
    assert 'href="/organisations/new"' in text(client.get("/", headers=BROWSER))

    token = form_token(client, "/organisations/new")
    r = client.post(
        "/organisations/new",
        data={"csrf_token": token, "name": "Oak Grove Schools", "slug": "", "kind": "district", "email": "", "url": ""},
        headers=BROWSER,
    )
    assert r.status_code == 302
    overview = location(r)
    page = text(client.get(overview, headers=BROWSER))
    assert "Oak Grove Schools is created" in page and "0 of 9 steps done" in page
    assert 'data-step="issuer_profile"' in page and "/profile" in page

    organisation = db.session.scalar(select(Organisation).where(Organisation.slug == "oak-grove-schools"))
    assert organisation is not None and organisation.email is None and organisation.kind == "district"
    r = client.get(f"/authoring/new?org={organisation.id}", headers=BROWSER)
    assert r.status_code == 200 and f'value="{organisation.id}" selected' in text(r)
    # the Organisation nav link now leads to its overview
    assert location(client.get("/organisations/", headers=BROWSER)) == overview


@pytest.mark.usefixtures("signup_off")
def test_with_self_service_off_the_pages_say_whom_to_ask(client):
    founder = UserFactory()
    sign_in(client, founder.email)
    r = client.get("/authoring/new", headers=BROWSER)
    assert r.status_code == 403 and "Ask an admin of your organisation" in text(r)
    assert "/organisations/new" not in text(r)
    r = client.get("/organisations/new", headers=BROWSER)
    assert r.status_code == 403 and "ask a platform admin" in text(r)
    assert "/organisations/new" not in text(client.get("/account", headers=BROWSER))
    token = csrf_token(text(client.get("/account", headers=BROWSER)))
    r = client.post("/organisations/new", data={"csrf_token": token, "name": "Sneaky"}, headers=BROWSER)
    assert r.status_code == 403
    assert db.session.scalar(select(Organisation).where(Organisation.name == "Sneaky")) is None


@pytest.mark.usefixtures("signup_off")
def test_a_platform_admin_always_creates_from_the_same_page(client):
    admin = UserFactory(is_platform_admin=True)
    sign_in(client, admin.email)
    token = form_token(client, "/organisations/new")
    r = client.post("/organisations/new", data={"csrf_token": token, "name": "State Agency"}, headers=BROWSER)
    assert r.status_code == 302
    assert db.session.scalar(select(Organisation).where(Organisation.slug == "state-agency")) is not None


@pytest.mark.usefixtures("signup_on")
@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"name": ""}, "name", ""),
        ({"name": "Ok", "slug": "Not A Slug"}, "slug", "lower-case"),
        ({"name": "Ok", "email": "nope"}, "email", "email"),
        ({"name": "Ok", "url": "javascript:alert(1)"}, "url", "URL"),
        ({"name": "Ok", "kind": "castle"}, "kind", ""),
        ({"name": "Bad\x1b[2J"}, "name", "control"),
        ({"name": "x" * 500}, "name", ""),
        ({"name": "!!!"}, "slug", "choose a slug"),
        ({"name": "Dup", "slug": "dup"}, "slug", "taken"),
    ],
)
def test_the_create_form_shows_each_error_at_its_field(client, form, field, message):
    OrganisationFactory(slug="dup")
    sign_in(client, UserFactory().email)
    token = form_token(client, "/organisations/new")
    r = client.post("/organisations/new", data={"csrf_token": token, **form}, headers=BROWSER)
    assert r.status_code == 422
    html = text(r)
    assert f'id="{field}-error"' in html and f'href="#{field}"' in html
    assert message.lower() in html.lower()
    assert 'aria-invalid="true"' in html
    assert db.session.scalar(select(Organisation).where(Organisation.slug != "dup")) is None


@pytest.mark.usefixtures("signup_on")
def test_the_admin_edits_the_issuer_profile_and_the_step_is_ticked(client):
    founder = UserFactory()
    organisation = organisations.create_organisation(actor=founder, name="Pine")
    sign_in(client, founder.email)
    url = f"/organisations/{organisation.id}/profile"
    token = form_token(client, url)
    data = {"csrf_token": token, "name": "Pine District", "kind": "district", "url": "https://pine.example"}
    r = client.post(url, data={**data, "email": "nope", "version": organisation.version}, headers=BROWSER)
    assert r.status_code == 422 and 'id="email-error"' in text(r)
    full = {**data, "email": "hi@pine.example", "description": "Six schools.", "version": organisation.version}
    r = client.post(url, data=full, headers=BROWSER)
    assert r.status_code == 302
    page = text(client.get(location(r), headers=BROWSER))
    assert "1 of 9 steps done" in page and "Pine District" in page
    # a second save from the same (now stale) form is refused, not merged
    r = client.post(url, data={**full, "name": "Stale"}, headers=BROWSER)
    assert r.status_code == 422 and "someone else" in text(r)
    db.session.refresh(organisation)
    assert organisation.name == "Pine District"


def test_overview_and_profile_pages_are_for_admins(client):
    organisation = OrganisationFactory()
    author = member(organisation, Role.AUTHOR)
    sign_in(client, author.email)
    assert client.get(f"/organisations/{organisation.id}", headers=BROWSER).status_code == 403
    assert client.get(f"/organisations/{organisation.id}/profile", headers=BROWSER).status_code == 403
    assert client.get(f"/organisations/{OrganisationFactory().id}", headers=BROWSER).status_code == 404


@pytest.mark.usefixtures("signup_on")
def test_creating_organisations_is_rate_limited_per_person_and_refusals_do_not_count(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "ORGANISATION_SIGNUP_RATE_LIMIT", "2 per hour")
    founder, other = UserFactory(), UserFactory()
    post = lambda who, body: client.post("/api/v1/organisations", json=body, headers=bearer(who))  # noqa: E731
    for _ in range(3):
        problem(post(founder, {"name": "!!!"}), 422)  # refused attempts are not counted
    assert post(founder, {"name": "First"}).status_code == 201
    assert post(founder, {"name": "Second"}).status_code == 201
    refused = post(founder, {"name": "Third"})
    problem(refused, 429)
    assert int(refused.headers["Retry-After"]) > 0
    assert post(other, {"name": "Someone else's"}).status_code == 201  # per person, not per address
    admin = UserFactory(is_platform_admin=True)
    for n in range(3):
        assert post(admin, {"name": f"Admin {n}"}).status_code == 201

    sign_in(client, founder.email)  # the page shares the person's count
    token = form_token(client, "/organisations/new")
    r = client.post("/organisations/new", data={"csrf_token": token, "name": "Fourth"}, headers=BROWSER)
    assert r.status_code == 429
    assert db.session.scalar(select(Organisation).where(Organisation.name.in_(["Third", "Fourth"]))) is None
