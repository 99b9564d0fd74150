"""Behaviour of the account and organisation services, called directly inside one rolled-back transaction."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core import accounts, clock, mail, organisations
from core.auth import issue_access_token, user_from_access_token, user_from_api_token
from core.db import db
from core.errors import (
    Conflict,
    Forbidden,
    NotFound,
    PreconditionFailed,
    Unauthorized,
    ValidationFailed,
)
from core.models import (
    ApiToken,
    AuditEvent,
    Invitation,
    Membership,
    Organisation,
    PasswordResetToken,
    Role,
    User,
)
from tests.conftest import TEST_PASSWORD
from tests.factories import (
    AuditEventFactory,
    MembershipFactory,
    OrganisationFactory,
    UserFactory,
    member,
)

NEW_PASSWORD = "a much better passphrase"
T0 = datetime(2030, 1, 15, 9, 0, tzinfo=UTC)


# --- helpers -----------------------------------------------------------------------------------------


def events(action: str | None = None, **where: object) -> list[AuditEvent]:
    """Audit events, oldest first, optionally of one action and matching column values."""
    stmt = select(AuditEvent).order_by(AuditEvent.occurred_at, AuditEvent.id)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    for column, value in where.items():
        stmt = stmt.where(getattr(AuditEvent, column) == value)
    return list(db.session.scalars(stmt))


def only_event(action: str, **where: object) -> AuditEvent:
    found = events(action, **where)
    assert len(found) == 1, f"expected one {action} event, found {len(found)}"
    return found[0]


def link_token(kind: str, to: str | None = None) -> str:
    """The token of the newest ``/<kind>/<token>`` link mailed (to ``to``, when given)."""
    for message in reversed(mail.sent):
        if to is not None and message.to != to:
            continue
        match = re.search(rf"http://localhost/{kind}/(\S+)", message.body)
        if match:
            return match.group(1)
    raise AssertionError(f"no {kind} link was mailed")


def count(model: type, *where: object) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def platform_admin(**fields: object) -> User:
    return UserFactory(is_platform_admin=True, **fields)


def make_org(admin: User, slug: str = "district-9", name: str = "District Nine") -> Organisation:
    return organisations.create_organisation(actor=admin, slug=slug, name=name, kind="district")


def all_members(actor: User, organisation: Organisation) -> dict[str, list[str]]:
    page = organisations.list_members(actor=actor, organisation_id=organisation.id, page=1, page_size=100)
    return {m["user"].email: m["roles"] for m in page.items}


# --- users: register ---------------------------------------------------------------------------------


def test_register_creates_an_active_earner_and_records_it(session):
    user = accounts.register(email="  Ada@Example.org ", name=" Ada Lovelace ", password=NEW_PASSWORD)

    assert user.email == "Ada@Example.org"
    assert user.name == "Ada Lovelace"
    assert user.is_active and not user.is_platform_admin
    assert user.memberships == []
    assert accounts.authenticate(email="ada@example.org", password=NEW_PASSWORD) is user
    event = only_event("user.registered")
    assert event.actor_id == user.id
    assert (event.object_type, event.object_id) == ("User", str(user.id))
    assert event.before is None
    assert event.after == {
        "email": "Ada@Example.org",
        "name": "Ada Lovelace",
        "is_platform_admin": False,
        "is_active": True,
    }


def test_register_refuses_an_email_taken_in_another_case(session):
    accounts.register(email="A@x.org", name="First", password=NEW_PASSWORD)

    with pytest.raises(Conflict) as caught:
        accounts.register(email="a@X.org", name="Second", password=NEW_PASSWORD)

    assert caught.value.errors[0]["field"] == "email"
    assert count(User, func.lower(User.email) == "a@x.org") == 1


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1!", "at least 10 characters"),
        ("someone@example.org", "must not be your email"),
        (" SOMEONE@example.ORG ", "must not be your email"),
        ("abababababab", "too easy to guess"),
    ],
)
def test_register_refuses_weak_passwords(session, password, message):
    with pytest.raises(ValidationFailed) as caught:
        accounts.register(email="someone@example.org", name="Some One", password=password)

    assert caught.value.errors[0]["field"] == "password"
    assert message in caught.value.errors[0]["detail"].lower()
    assert count(User, User.email == "someone@example.org") == 0


def test_register_is_refused_when_signup_is_closed(app, monkeypatch):
    monkeypatch.setitem(app.config, "ALLOW_SIGNUP", False)

    with pytest.raises(Forbidden, match="Sign-up is closed"):
        accounts.register(email="late@example.org", name="Late", password=NEW_PASSWORD)

    assert count(User, User.email == "late@example.org") == 0
    assert events("user.registered") == []


# --- users: administration ---------------------------------------------------------------------------


def test_platform_admin_creates_a_user_with_a_password(session):
    admin = platform_admin()

    user = accounts.create_user(actor=admin, email="new@example.org", name="New", password=NEW_PASSWORD)

    assert accounts.authenticate(email="new@example.org", password=NEW_PASSWORD) is user
    assert mail.sent == []
    event = only_event("user.created")
    assert event.actor_id == admin.id
    assert event.object_id == str(user.id)
    assert event.after["email"] == "new@example.org"


def test_a_user_created_without_password_gets_a_link_to_choose_one(session):
    admin = platform_admin()

    user = accounts.create_user(actor=admin, email="nopw@example.org", name="No Password")

    assert user.password_hash is None
    assert [m.to for m in mail.sent] == ["nopw@example.org"]
    assert "choose a password" in mail.sent[0].subject.lower()
    with pytest.raises(Unauthorized):
        accounts.authenticate(email="nopw@example.org", password="")
    accounts.reset_password(token=link_token("password-reset"), password=NEW_PASSWORD)
    assert accounts.authenticate(email="nopw@example.org", password=NEW_PASSWORD) is user


def test_create_user_can_make_a_platform_admin(session):
    user = accounts.create_user(actor=platform_admin(), email="root@example.org", name="Root", is_platform_admin=True)

    assert user.is_platform_admin


@pytest.mark.parametrize("role", [None, Role.ORG_ADMIN, Role.AUTHOR])
def test_only_platform_admins_create_users(session, role):
    organisation = OrganisationFactory()
    actor = member(organisation, role) if role else UserFactory()

    with pytest.raises(Forbidden):
        accounts.create_user(actor=actor, email="x@example.org", name="X", password=NEW_PASSWORD)

    assert count(User, User.email == "x@example.org") == 0
    assert mail.sent == []


def test_create_user_refuses_a_taken_email(session):
    UserFactory(email="taken@example.org")

    with pytest.raises(Conflict):
        accounts.create_user(actor=platform_admin(), email="TAKEN@example.org", name="Dup")


def test_deactivating_a_user_signs_them_out_everywhere(session):
    admin = platform_admin()
    user = UserFactory()
    token, _ = issue_access_token(user)
    version = user.token_version

    accounts.update_user(actor=admin, user_id=user.id, changes={"is_active": False})

    assert not user.is_active
    assert user.token_version == version + 1
    with pytest.raises(Unauthorized):
        user_from_access_token(token)
    with pytest.raises(Unauthorized):
        accounts.authenticate(email=user.email, password=TEST_PASSWORD)
    event = only_event("user.updated")
    assert event.actor_id == admin.id
    assert event.before["is_active"] is True
    assert event.after["is_active"] is False


def test_update_user_renames_without_signing_out(session):
    user = UserFactory(name="Old Name")
    token, _ = issue_access_token(user)

    accounts.update_user(actor=platform_admin(), user_id=user.id, changes={"name": "  New Name "})

    assert user.name == "New Name"
    assert user_from_access_token(token) is user
    event = only_event("user.updated")
    assert (event.before["name"], event.after["name"]) == ("Old Name", "New Name")


@pytest.mark.parametrize("changes", [{"is_active": False}, {"is_platform_admin": False}])
def test_admins_cannot_deactivate_or_demote_themselves(session, changes):
    admin = platform_admin()

    with pytest.raises(Conflict):
        accounts.update_user(actor=admin, user_id=admin.id, changes=changes)

    assert admin.is_active and admin.is_platform_admin
    assert events("user.updated") == []


def test_update_user_needs_a_platform_admin_and_an_existing_user(session):
    user = UserFactory()

    with pytest.raises(Forbidden):
        accounts.update_user(actor=UserFactory(), user_id=user.id, changes={"is_active": False})
    with pytest.raises(NotFound):
        accounts.update_user(actor=platform_admin(), user_id=uuid.uuid4(), changes={"name": "X"})
    assert user.is_active


def test_get_user_shows_yourself_but_not_others(session):
    me, other = UserFactory(), UserFactory()

    assert accounts.get_user(actor=me, user_id=me.id) is me
    with pytest.raises(NotFound):  # someone else's account answers as an unknown id does
        accounts.get_user(actor=me, user_id=other.id)
    assert accounts.get_user(actor=platform_admin(), user_id=other.id) is other
    with pytest.raises(NotFound):
        accounts.get_user(actor=me, user_id=uuid.uuid4())


def test_list_users_searches_email_and_name_for_platform_admins_only(session):
    admin = platform_admin(email="admin@example.org", name="Admin")
    UserFactory(email="grace@example.org", name="Grace Hopper")
    UserFactory(email="alan@example.org", name="Alan Turing")

    found = accounts.list_users(actor=admin, page=1, page_size=10, q="HOPPER")

    assert [u.email for u in found.items] == ["grace@example.org"]
    assert found.total == 1
    with pytest.raises(Forbidden):
        accounts.list_users(actor=UserFactory(), page=1, page_size=10)


# --- users: own profile ------------------------------------------------------------------------------


def test_update_profile_changes_the_name(session):
    user = UserFactory(name="Before")

    accounts.update_profile(actor=user, name=" After ")

    assert user.name == "After"
    event = only_event("user.profile_updated")
    assert event.actor_id == user.id
    assert event.before["name"] == "Before"
    assert event.after["name"] == "After"
    assert event.after["password_changed"] is False


def test_changing_the_password_needs_the_current_one_and_signs_out_elsewhere(session):
    user = UserFactory()
    token, _ = issue_access_token(user)
    version = user.token_version

    accounts.update_profile(actor=user, password=NEW_PASSWORD, current_password=TEST_PASSWORD)

    assert user.token_version == version + 1
    with pytest.raises(Unauthorized):
        user_from_access_token(token)
    with pytest.raises(Unauthorized):
        accounts.authenticate(email=user.email, password=TEST_PASSWORD)
    assert accounts.authenticate(email=user.email, password=NEW_PASSWORD) is user
    assert only_event("user.profile_updated").after["password_changed"] is True


@pytest.mark.parametrize("current", [None, "not the password"])
def test_a_password_change_without_the_right_current_password_changes_nothing(session, current):
    user = UserFactory(name="Unchanged")
    version = user.token_version

    with pytest.raises(ValidationFailed) as caught:
        accounts.update_profile(actor=user, name="Changed", password=NEW_PASSWORD, current_password=current)

    assert caught.value.errors[0]["field"] == "current_password"
    session.flush()
    session.expire(user)
    assert user.name == "Unchanged"
    assert user.token_version == version
    assert accounts.authenticate(email=user.email, password=TEST_PASSWORD) is user
    assert events("user.profile_updated") == []


def test_a_weak_new_password_is_refused(session):
    user = UserFactory()

    with pytest.raises(ValidationFailed) as caught:
        accounts.update_profile(actor=user, password="short", current_password=TEST_PASSWORD)

    assert caught.value.errors[0]["field"] == "password"
    assert accounts.authenticate(email=user.email, password=TEST_PASSWORD) is user


# --- users: authenticate -----------------------------------------------------------------------------


def test_authenticate_accepts_any_case_of_the_email_and_records_the_login(session):
    user = UserFactory(email="Case@Example.org")
    assert user.last_login_at is None

    with clock.frozen_at(T0):
        assert accounts.authenticate(email=" case@EXAMPLE.org", password=TEST_PASSWORD) is user

    session.flush()
    session.expire(user)
    assert user.last_login_at == T0


def test_authenticate_refuses_everything_else_with_one_message(session):
    UserFactory(email="known@example.org")
    UserFactory(email="gone@example.org", is_active=False)
    UserFactory(email="nopw@example.org", password_hash=None)
    attempts = [
        ("known@example.org", "wrong password!"),
        ("unknown@example.org", TEST_PASSWORD),
        ("gone@example.org", TEST_PASSWORD),
        ("nopw@example.org", TEST_PASSWORD),
    ]

    messages = set()
    for email, password in attempts:
        with pytest.raises(Unauthorized) as caught:
            accounts.authenticate(email=email, password=password)
        messages.add(caught.value.detail)

    assert messages == {"The email address or password is not correct."}
    assert session.scalar(select(User).where(User.email == "gone@example.org")).last_login_at is None


def test_issue_token_gives_a_bearer_token_for_the_user(session):
    user = UserFactory()

    token, ttl = accounts.issue_token(email=user.email, password=TEST_PASSWORD)

    assert ttl > 0
    assert user_from_access_token(token) is user


# --- password reset ----------------------------------------------------------------------------------


def test_a_reset_for_an_unknown_or_inactive_email_sends_nothing(session):
    UserFactory(email="inactive@example.org", is_active=False)

    assert accounts.request_password_reset(email="nobody@example.org") is None
    assert accounts.request_password_reset(email="inactive@example.org") is None

    assert mail.sent == []
    assert count(PasswordResetToken) == 0
    assert events() == []


def test_a_reset_link_works_once(session):
    user = UserFactory(email="forgetful@example.org")

    accounts.request_password_reset(email="FORGETFUL@example.org")

    assert [m.to for m in mail.sent] == ["forgetful@example.org"]
    token = link_token("password-reset")
    assert accounts.reset_password(token=token, password=NEW_PASSWORD) is user
    assert accounts.authenticate(email=user.email, password=NEW_PASSWORD) is user
    with pytest.raises(Unauthorized):
        accounts.authenticate(email=user.email, password=TEST_PASSWORD)
    with pytest.raises(ValidationFailed) as caught:
        accounts.reset_password(token=token, password="yet another passphrase")
    assert caught.value.errors[0]["field"] == "token"
    assert accounts.authenticate(email=user.email, password=NEW_PASSWORD) is user

    requested = only_event("user.password_reset_requested")
    assert requested.actor_id is None
    assert requested.object_id == str(user.id)
    reset = only_event("user.password_reset")
    assert reset.actor_id == user.id


def test_an_expired_reset_link_is_refused(app, session):
    user = UserFactory()
    accounts.request_password_reset(email=user.email)
    token = link_token("password-reset")
    ttl = timedelta(seconds=app.config["PASSWORD_RESET_TTL"])

    with clock.shifted(ttl + timedelta(seconds=1)), pytest.raises(ValidationFailed):
        accounts.reset_password(token=token, password=NEW_PASSWORD)

    assert accounts.authenticate(email=user.email, password=TEST_PASSWORD) is user
    with clock.shifted(ttl - timedelta(minutes=1)):
        assert accounts.reset_password(token=token, password=NEW_PASSWORD) is user


def test_an_unknown_reset_token_is_refused(session):
    with pytest.raises(ValidationFailed):
        accounts.reset_password(token="not-a-token", password=NEW_PASSWORD)


def test_a_weak_password_does_not_use_up_the_reset_link(session):
    user = UserFactory()
    accounts.request_password_reset(email=user.email)
    token = link_token("password-reset")

    with pytest.raises(ValidationFailed) as caught:
        accounts.reset_password(token=token, password="weak")

    assert caught.value.errors[0]["field"] == "password"
    assert accounts.reset_password(token=token, password=NEW_PASSWORD) is user


def test_a_reset_ends_every_existing_access_token(session):
    user = UserFactory()
    old_token, _ = issue_access_token(user)
    assert user_from_access_token(old_token) is user
    accounts.request_password_reset(email=user.email)

    accounts.reset_password(token=link_token("password-reset"), password=NEW_PASSWORD)

    with pytest.raises(Unauthorized):
        user_from_access_token(old_token)
    new_token, _ = issue_access_token(user)
    assert user_from_access_token(new_token) is user


# --- organisations -----------------------------------------------------------------------------------


def test_create_organisation_makes_the_creator_its_org_admin(session):
    admin = platform_admin(email="boss@example.org")

    organisation = organisations.create_organisation(
        actor=admin,
        slug="springfield",
        name="  Springfield District ",
        kind="district",
        url="https://springfield.example.org",
        email="office@springfield.example.org",
        description="Schools of Springfield",
    )

    assert organisation.name == "Springfield District"
    assert organisation.version == 1
    assert admin.roles_in(organisation.id) == {Role.ORG_ADMIN}
    assert all_members(admin, organisation) == {"boss@example.org": ["org_admin"]}
    event = only_event("organisation.created")
    assert event.actor_id == admin.id
    assert event.organisation_id == organisation.id
    assert (event.object_type, event.object_id) == ("Organisation", str(organisation.id))
    assert event.after == {
        "slug": "springfield",
        "name": "Springfield District",
        "kind": "district",
        "url": "https://springfield.example.org",
        "email": "office@springfield.example.org",
        "description": "Schools of Springfield",
        "first_admin": str(admin.id),
        "first_admin_roles": ["org_admin"],
        "self_service": False,
    }


def test_create_organisation_can_name_another_first_admin(session):
    creator = platform_admin()
    chosen = UserFactory(email="chosen@example.org")

    organisation = organisations.create_organisation(actor=creator, slug="north", name="North", admin_user_id=chosen.id)

    assert chosen.roles_in(organisation.id) == {Role.ORG_ADMIN}
    assert creator.roles_in(organisation.id) == set()
    assert all_members(chosen, organisation) == {"chosen@example.org": ["org_admin"]}
    assert only_event("organisation.created").after["first_admin"] == str(chosen.id)


def test_the_first_admin_holds_the_role_at_once_even_when_already_a_member_elsewhere(session):
    # A platform admin who already belongs to an organisation has their memberships loaded; the new
    # one must show up on the same object, not only after a reload.
    elsewhere = OrganisationFactory()
    creator = member(elsewhere, Role.AUTHOR, is_platform_admin=True, email="both@example.org")
    assert creator.roles_in(elsewhere.id) == {Role.AUTHOR}

    organisation = make_org(creator)

    assert creator.roles_in(organisation.id) == {Role.ORG_ADMIN}
    assert all_members(creator, organisation) == {"both@example.org": ["org_admin"]}


@pytest.mark.parametrize("role", [None, Role.ORG_ADMIN])
def test_only_platform_admins_create_organisations_when_self_service_is_off(session, role, app, monkeypatch):
    monkeypatch.setitem(app.config, "ALLOW_ORGANISATION_SIGNUP", False)
    actor = member(OrganisationFactory(), role) if role else UserFactory()

    with pytest.raises(Forbidden):
        organisations.create_organisation(actor=actor, slug="mine", name="Mine")

    assert count(Organisation, Organisation.slug == "mine") == 0


def test_create_organisation_refuses_a_taken_slug(session):
    admin = platform_admin()
    make_org(admin, slug="taken")

    with pytest.raises(Conflict) as caught:
        make_org(admin, slug="taken", name="Another")

    assert caught.value.errors[0]["field"] == "slug"
    assert count(Organisation, Organisation.slug == "taken") == 1


def test_a_slug_taken_concurrently_is_a_conflict_not_a_crash(session, monkeypatch):
    # Another request may take the slug between our check and our insert; the unique index decides.
    admin = platform_admin()
    OrganisationFactory(slug="raced")
    monkeypatch.setattr(organisations, "_ensure_slug_free", lambda slug, **_: None)

    with pytest.raises(Conflict):
        make_org(admin, slug="raced")


def test_a_failed_create_organisation_leaves_nothing_behind(session):
    admin = platform_admin()

    with pytest.raises(ValidationFailed) as caught:
        organisations.create_organisation(actor=admin, slug="orphan", name="Orphan", admin_user_id=uuid.uuid4())

    assert caught.value.errors[0]["field"] == "admin_user_id"
    # Whatever the caller does next (here: flush and query), the failed call must not have left the
    # organisation pending in the session, to be written without an admin.
    session.flush()
    assert count(Organisation, Organisation.slug == "orphan") == 0
    assert events("organisation.created") == []


def test_update_organisation_records_before_and_after(session):
    admin = platform_admin()
    organisation = make_org(admin, slug="old-slug", name="Old Name")

    updated = organisations.update_organisation(
        actor=admin,
        organisation_id=organisation.id,
        changes={"name": " New Name ", "slug": "new-slug", "url": "https://new.example.org"},
        expected_version=1,
    )

    assert updated is organisation
    assert (organisation.name, organisation.slug, organisation.version) == ("New Name", "new-slug", 2)
    event = only_event("organisation.updated")
    assert event.actor_id == admin.id
    assert event.organisation_id == organisation.id
    assert event.object_id == str(organisation.id)
    assert event.before == {
        "slug": "old-slug",
        "name": "Old Name",
        "kind": "district",
        "url": None,
        "email": None,
        "description": "",
    }
    assert event.after == {
        "slug": "new-slug",
        "name": "New Name",
        "kind": "district",
        "url": "https://new.example.org",
        "email": None,
        "description": "",
    }


def test_update_organisation_refuses_a_stale_version(session):
    admin = platform_admin()
    organisation = make_org(admin, name="Original")
    organisations.update_organisation(actor=admin, organisation_id=organisation.id, changes={"name": "Second"})
    assert organisation.version == 2

    with pytest.raises(PreconditionFailed):
        organisations.update_organisation(
            actor=admin, organisation_id=organisation.id, changes={"name": "Lost"}, expected_version=1
        )

    assert organisation.name == "Second"
    assert len(events("organisation.updated")) == 1


def test_update_organisation_refuses_a_slug_taken_by_another(session):
    admin = platform_admin()
    make_org(admin, slug="first")
    second = make_org(admin, slug="second")

    with pytest.raises(Conflict):
        organisations.update_organisation(actor=admin, organisation_id=second.id, changes={"slug": "first"})
    organisations.update_organisation(actor=admin, organisation_id=second.id, changes={"slug": "second"})
    assert second.slug == "second"


@pytest.mark.parametrize("role", [Role.AUTHOR, Role.ASSESSOR])
def test_only_org_admins_update_their_organisation(session, role):
    organisation = OrganisationFactory(name="Keep")
    other = OrganisationFactory()

    for actor in (member(organisation, role), member(other, Role.ORG_ADMIN)):
        with pytest.raises(Forbidden):
            organisations.update_organisation(
                actor=actor, organisation_id=organisation.id, changes={"name": "Taken over"}
            )
    assert organisation.name == "Keep"
    organisations.update_organisation(
        actor=member(organisation, Role.ORG_ADMIN), organisation_id=organisation.id, changes={"name": "Ok"}
    )
    assert organisation.name == "Ok"


def test_get_organisation_is_for_members_only(session):
    organisation = OrganisationFactory()

    assert organisations.get_organisation(actor=member(organisation, Role.AUTHOR), organisation_id=organisation.id)
    with pytest.raises(Forbidden):
        organisations.get_organisation(actor=UserFactory(), organisation_id=organisation.id)
    with pytest.raises(NotFound):
        organisations.get_organisation(actor=platform_admin(), organisation_id=uuid.uuid4())


def test_list_organisations_shows_members_their_own_and_platform_admins_all(session):
    mine = OrganisationFactory(name="Alpha")
    also_mine = OrganisationFactory(name="Beta")
    OrganisationFactory(name="Gamma")
    user = member(mine, Role.AUTHOR)
    MembershipFactory(organisation=also_mine, user=user, role=Role.ASSESSOR.value)

    own = organisations.list_organisations(actor=user, page=1, page_size=10)
    everything = organisations.list_organisations(actor=platform_admin(), page=1, page_size=10)
    nothing = organisations.list_organisations(actor=UserFactory(), page=1, page_size=10)

    assert [o.name for o in own.items] == ["Alpha", "Beta"]
    assert own.total == 2
    assert {"Alpha", "Beta", "Gamma"} <= {o.name for o in everything.items}
    assert everything.total == count(Organisation)
    assert (nothing.items, nothing.total) == ([], 0)


def test_list_organisations_pages_and_filters_by_kind(session):
    admin = platform_admin()
    for n in range(5):
        OrganisationFactory(name=f"Org {n}", kind="university" if n % 2 else "district")

    first = organisations.list_organisations(actor=admin, page=1, page_size=2, kind="district")
    last = organisations.list_organisations(actor=admin, page=2, page_size=2, kind="district")

    assert [o.name for o in first.items] == ["Org 0", "Org 2"]
    assert [o.name for o in last.items] == ["Org 4"]
    assert first.total == last.total == 3


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("100%", ["100% Schools"]),
        ("%", ["100% Schools"]),
        ("r_s", ["Under_score Academy"]),
        ("_", ["Under_score Academy"]),
        ("\\", ["Back\\slash Institute"]),
        ("ACADEMY", ["Under_score Academy", "Underxscore Academy"]),
        ("slug-of-100", ["100% Schools"]),
    ],
)
def test_list_organisations_search_takes_like_metacharacters_literally(session, q, expected):
    admin = platform_admin()
    OrganisationFactory(name="100% Schools", slug="slug-of-100")
    OrganisationFactory(name="1000 Schools")
    OrganisationFactory(name="Under_score Academy")
    OrganisationFactory(name="Underxscore Academy")
    OrganisationFactory(name="Back\\slash Institute")

    found = organisations.list_organisations(actor=admin, page=1, page_size=50, q=q)

    assert [o.name for o in found.items] == expected


# --- members -----------------------------------------------------------------------------------------


def test_list_members_shows_roles_and_filters(session):
    organisation = OrganisationFactory()
    admin = member(organisation, Role.ORG_ADMIN, name="Anna Admin", email="anna@example.org")
    member(organisation, Role.AUTHOR, Role.ASSESSOR, name="Bob Both", email="bob@example.org")
    member(organisation, Role.ASSESSOR, name="Cleo Check", email="cleo@example.org")
    member(OrganisationFactory(), Role.AUTHOR, name="Outsider", email="out@example.org")

    everyone = organisations.list_members(actor=admin, organisation_id=organisation.id, page=1, page_size=10)
    assessors = organisations.list_members(
        actor=admin, organisation_id=organisation.id, page=1, page_size=10, role="assessor"
    )
    searched = organisations.list_members(actor=admin, organisation_id=organisation.id, page=1, page_size=10, q="CLEO")

    assert [(m["user"].name, m["roles"]) for m in everyone.items] == [
        ("Anna Admin", ["org_admin"]),
        ("Bob Both", ["assessor", "author"]),
        ("Cleo Check", ["assessor"]),
    ]
    assert everyone.total == 3
    assert [m["user"].name for m in assessors.items] == ["Bob Both", "Cleo Check"]
    assert [m["user"].name for m in searched.items] == ["Cleo Check"]


@pytest.mark.parametrize("role", [Role.AUTHOR, Role.ASSESSOR])
def test_list_members_is_for_org_admins(session, role):
    organisation = OrganisationFactory()

    with pytest.raises(Forbidden):
        organisations.list_members(
            actor=member(organisation, role), organisation_id=organisation.id, page=1, page_size=10
        )


def test_set_member_roles_replaces_the_roles(session):
    organisation = OrganisationFactory()
    admin = member(organisation, Role.ORG_ADMIN)
    user = member(organisation, Role.AUTHOR, email="x@example.org")

    result = organisations.set_member_roles(
        actor=admin, organisation_id=organisation.id, user_id=user.id, roles=["assessor", "org_admin"]
    )

    assert result["roles"] == ["assessor", "org_admin"]
    assert user.roles_in(organisation.id) == {Role.ASSESSOR, Role.ORG_ADMIN}
    session.expire_all()
    assert all_members(admin, organisation)["x@example.org"] == ["assessor", "org_admin"]
    event = only_event("membership.roles_set")
    assert event.actor_id == admin.id
    assert event.organisation_id == organisation.id
    assert (event.object_type, event.object_id) == ("User", str(user.id))
    assert event.before == {"roles": ["author"]}
    assert event.after == {"roles": ["assessor", "org_admin"]}


def test_set_member_roles_with_no_roles_removes_the_member(session):
    organisation = OrganisationFactory()
    admin = member(organisation, Role.ORG_ADMIN)
    user = member(organisation, Role.AUTHOR, Role.ASSESSOR, email="leaving@example.org")

    organisations.set_member_roles(actor=admin, organisation_id=organisation.id, user_id=user.id, roles=[])

    assert user.roles_in(organisation.id) == set()
    assert count(Membership, Membership.user_id == user.id) == 0
    assert "leaving@example.org" not in all_members(admin, organisation)
    with pytest.raises(NotFound):
        organisations.set_member_roles(actor=admin, organisation_id=organisation.id, user_id=user.id, roles=[])


def test_the_last_org_admin_cannot_be_removed(session):
    organisation = OrganisationFactory()
    admin = member(organisation, Role.ORG_ADMIN)

    for roles in ([], ["author"]):
        with pytest.raises(Conflict):
            organisations.set_member_roles(actor=admin, organisation_id=organisation.id, user_id=admin.id, roles=roles)
    assert admin.roles_in(organisation.id) == {Role.ORG_ADMIN}

    second = member(organisation, Role.ORG_ADMIN)
    organisations.set_member_roles(actor=second, organisation_id=organisation.id, user_id=admin.id, roles=[])
    assert admin.roles_in(organisation.id) == set()
    with pytest.raises(Conflict):
        organisations.set_member_roles(
            actor=platform_admin(), organisation_id=organisation.id, user_id=second.id, roles=[]
        )


def test_set_member_roles_refuses_non_members(session):
    organisation = OrganisationFactory()
    admin = member(organisation, Role.ORG_ADMIN)
    outsider = member(OrganisationFactory(), Role.AUTHOR)

    for user_id in (outsider.id, uuid.uuid4()):
        with pytest.raises(NotFound):
            organisations.set_member_roles(
                actor=admin, organisation_id=organisation.id, user_id=user_id, roles=["author"]
            )
    assert outsider.roles_in(organisation.id) == set()


def test_another_organisations_admin_cannot_touch_members(session):
    organisation = OrganisationFactory()
    member(organisation, Role.ORG_ADMIN)
    user = member(organisation, Role.AUTHOR)
    intruder = member(OrganisationFactory(), Role.ORG_ADMIN)

    with pytest.raises(Forbidden):
        organisations.list_members(actor=intruder, organisation_id=organisation.id, page=1, page_size=10)
    with pytest.raises(Forbidden):
        organisations.set_member_roles(
            actor=intruder, organisation_id=organisation.id, user_id=user.id, roles=["org_admin"]
        )
    with pytest.raises(Forbidden):
        organisations.invite(actor=intruder, organisation_id=organisation.id, email="spy@example.org", roles=["author"])
    with pytest.raises(Forbidden):
        organisations.list_invitations(actor=intruder, organisation_id=organisation.id, page=1, page_size=10)
    assert user.roles_in(organisation.id) == {Role.AUTHOR}
    assert count(Invitation) == 0
    assert mail.sent == []


# --- invitations -------------------------------------------------------------------------------------


def test_inviting_mails_a_link_and_records_it(session):
    organisation = OrganisationFactory(name="Riverside")
    admin = member(organisation, Role.ORG_ADMIN, name="Rita")

    invitation, link = organisations.invite(
        actor=admin, organisation_id=organisation.id, email=" new@example.org ", roles=["author", "author"]
    )

    assert invitation.email == "new@example.org"
    assert invitation.roles == ["author"]
    assert invitation.state == "pending"
    assert [m.to for m in mail.sent] == ["new@example.org"]
    assert link in mail.sent[0].body
    assert "Riverside" in mail.sent[0].subject
    assert link.startswith("http://localhost/invitations/")
    assert invitation.token_hash not in link
    event = only_event("invitation.created")
    assert event.actor_id == admin.id
    assert event.organisation_id == organisation.id
    assert (event.object_type, event.object_id) == ("Invitation", str(invitation.id))
    assert event.after == {"email": "new@example.org", "roles": ["author"]}
    listed = organisations.list_invitations(actor=admin, organisation_id=organisation.id, page=1, page_size=10)
    assert listed.items == [invitation]


def test_accepting_as_a_new_person_creates_the_account_with_the_roles(session):
    organisation = OrganisationFactory()
    admin = member(organisation, Role.ORG_ADMIN)
    invitation, _ = organisations.invite(
        actor=admin, organisation_id=organisation.id, email="fresh@example.org", roles=["assessor", "author"]
    )

    user = organisations.accept_invitation(token=link_token("invitations"), name="Fresh Face", password=NEW_PASSWORD)

    assert (user.email, user.name) == ("fresh@example.org", "Fresh Face")
    assert user.roles_in(organisation.id) == {Role.ASSESSOR, Role.AUTHOR}
    assert accounts.authenticate(email="fresh@example.org", password=NEW_PASSWORD) is user
    assert invitation.state == "accepted"
    assert invitation.accepted_by_id == user.id
    event = only_event("invitation.accepted")
    assert event.actor_id == user.id
    assert event.organisation_id == organisation.id
    assert event.after == {"roles": ["assessor", "author"]}


def test_a_new_account_from_an_invitation_needs_a_name_and_a_good_password(session):
    organisation = OrganisationFactory()
    admin = member(organisation, Role.ORG_ADMIN)
    invitation, _ = organisations.invite(
        actor=admin, organisation_id=organisation.id, email="fresh@example.org", roles=["author"]
    )
    token = link_token("invitations")

    with pytest.raises(ValidationFailed) as caught:
        organisations.accept_invitation(token=token)
    assert {e["field"] for e in caught.value.errors} == {"name", "password"}
    with pytest.raises(ValidationFailed):
        organisations.accept_invitation(token=token, name="Fresh", password="weak")

    assert count(User, User.email == "fresh@example.org") == 0
    assert invitation.state == "pending"


def test_an_invitation_for_a_new_email_cannot_be_taken_by_someone_signed_in(session):
    organisation = OrganisationFactory()
    admin = member(organisation, Role.ORG_ADMIN)
    organisations.invite(actor=admin, organisation_id=organisation.id, email="fresh@example.org", roles=["author"])
    someone = UserFactory()

    with pytest.raises(Conflict):
        organisations.accept_invitation(token=link_token("invitations"), actor=someone)

    assert someone.roles_in(organisation.id) == set()


def test_accepting_as_an_existing_user_needs_that_user_signed_in(session):
    organisation = OrganisationFactory()
    admin = member(organisation, Role.ORG_ADMIN)
    existing = member(organisation, Role.AUTHOR, email="Existing@Example.org")
    invitation, _ = organisations.invite(
        actor=admin, organisation_id=organisation.id, email="existing@example.org", roles=["assessor"]
    )
    token = link_token("invitations")

    for actor in (None, UserFactory()):
        with pytest.raises(Unauthorized):
            organisations.accept_invitation(token=token, actor=actor, name="X", password=NEW_PASSWORD)
    assert invitation.state == "pending"

    assert organisations.accept_invitation(token=token, actor=existing) is existing
    assert existing.roles_in(organisation.id) == {Role.AUTHOR, Role.ASSESSOR}
    assert count(Membership, Membership.user_id == existing.id) == 2
    assert accounts.authenticate(email=existing.email, password=TEST_PASSWORD) is existing


def test_used_revoked_expired_and_unknown_invitations_are_refused(app, session):
    organisation = OrganisationFactory()
    admin = member(organisation, Role.ORG_ADMIN)

    def new_invitation(email: str) -> tuple[Invitation, str]:
        invitation, _ = organisations.invite(
            actor=admin, organisation_id=organisation.id, email=email, roles=["author"]
        )
        return invitation, link_token("invitations", to=email)

    _, used = new_invitation("used@example.org")
    organisations.accept_invitation(token=used, name="Used", password=NEW_PASSWORD)
    revoked_invitation, revoked = new_invitation("revoked@example.org")
    organisations.revoke_invitation(actor=admin, organisation_id=organisation.id, invitation_id=revoked_invitation.id)
    _, expired = new_invitation("expired@example.org")

    ttl = timedelta(seconds=app.config["INVITATION_TTL"])
    for token, moment in [
        (used, timedelta(0)),
        (revoked, timedelta(0)),
        (expired, ttl + timedelta(seconds=1)),
        ("no-such-token", timedelta(0)),
    ]:
        with clock.shifted(moment), pytest.raises(ValidationFailed) as caught:
            organisations.accept_invitation(token=token, name="Late", password=NEW_PASSWORD)
        assert caught.value.errors[0]["field"] == "token"

    assert count(User, User.email.in_(["revoked@example.org", "expired@example.org"])) == 0
    assert len(events("invitation.accepted")) == 1


def test_inviting_someone_who_already_holds_the_roles_is_a_conflict(session):
    organisation = OrganisationFactory()
    admin = member(organisation, Role.ORG_ADMIN)
    member(organisation, Role.AUTHOR, Role.ASSESSOR, email="holder@example.org")

    with pytest.raises(Conflict):
        organisations.invite(actor=admin, organisation_id=organisation.id, email="HOLDER@example.org", roles=["author"])
    assert count(Invitation) == 0
    assert mail.sent == []

    invitation, _ = organisations.invite(
        actor=admin, organisation_id=organisation.id, email="holder@example.org", roles=["org_admin"]
    )
    assert invitation.roles == ["org_admin"]


def test_an_invitation_is_revoked_once(session):
    organisation = OrganisationFactory()
    admin = member(organisation, Role.ORG_ADMIN)
    invitation, _ = organisations.invite(
        actor=admin, organisation_id=organisation.id, email="maybe@example.org", roles=["author"]
    )

    organisations.revoke_invitation(actor=admin, organisation_id=organisation.id, invitation_id=invitation.id)

    assert invitation.state == "revoked"
    with pytest.raises(Conflict, match="already revoked"):
        organisations.revoke_invitation(actor=admin, organisation_id=organisation.id, invitation_id=invitation.id)
    event = only_event("invitation.revoked")
    assert event.actor_id == admin.id
    assert event.organisation_id == organisation.id
    assert event.object_id == str(invitation.id)


def test_an_invitation_cannot_be_revoked_through_another_organisation(session):
    org_a, org_b = OrganisationFactory(), OrganisationFactory()
    admin_a = member(org_a, Role.ORG_ADMIN)
    admin_b = member(org_b, Role.ORG_ADMIN)
    invitation, _ = organisations.invite(
        actor=admin_a, organisation_id=org_a.id, email="target@example.org", roles=["author"]
    )

    with pytest.raises(NotFound):
        organisations.revoke_invitation(actor=admin_b, organisation_id=org_b.id, invitation_id=invitation.id)
    with pytest.raises(Forbidden):
        organisations.revoke_invitation(actor=admin_b, organisation_id=org_a.id, invitation_id=invitation.id)
    with pytest.raises(NotFound):
        organisations.revoke_invitation(actor=admin_a, organisation_id=org_a.id, invitation_id=uuid.uuid4())

    assert invitation.state == "pending"


# --- API tokens --------------------------------------------------------------------------------------


def test_an_api_token_is_shown_once_and_identifies_its_owner(session):
    user = UserFactory()

    with clock.frozen_at(T0):
        api_token, secret = accounts.create_api_token(actor=user, name=" deploy script ")
        assert user_from_api_token(secret) is user

    assert secret.startswith("mct_")
    assert len(secret) > 30
    assert api_token.name == "deploy script"
    assert api_token.prefix == secret[:10]
    assert secret not in (api_token.token_hash, api_token.prefix)
    assert api_token.last_used_at == T0
    assert accounts.list_api_tokens(actor=user) == [api_token]
    assert accounts.list_api_tokens(actor=UserFactory()) == []
    event = only_event("api_token.created")
    assert event.actor_id == user.id
    assert (event.object_type, event.object_id) == ("ApiToken", str(api_token.id))
    assert event.after == {"name": "deploy script"}


def test_a_revoked_api_token_stops_working(session):
    user = UserFactory()
    api_token, secret = accounts.create_api_token(actor=user, name="ci")

    accounts.revoke_api_token(actor=user, token_id=api_token.id)
    accounts.revoke_api_token(actor=user, token_id=api_token.id)  # revoking again is harmless

    with pytest.raises(Unauthorized):
        user_from_api_token(secret)
    event = only_event("api_token.revoked")
    assert event.actor_id == user.id
    assert event.object_id == str(api_token.id)


def test_an_expired_api_token_stops_working(session):
    user = UserFactory()
    _, secret = accounts.create_api_token(actor=user, name="short", expires_at=clock.now() + timedelta(hours=1))

    with clock.shifted(timedelta(minutes=59)):
        assert user_from_api_token(secret) is user
    with clock.shifted(timedelta(hours=1, seconds=1)), pytest.raises(Unauthorized):
        user_from_api_token(secret)


def test_an_api_token_cannot_expire_in_the_past(session):
    with pytest.raises(ValidationFailed) as caught:
        accounts.create_api_token(actor=UserFactory(), name="x", expires_at=clock.now())

    assert caught.value.errors[0]["field"] == "expires_at"
    assert count(ApiToken) == 0


def test_an_inactive_users_api_token_stops_working(session):
    user = UserFactory()
    _, secret = accounts.create_api_token(actor=user, name="ci")

    accounts.update_user(actor=platform_admin(), user_id=user.id, changes={"is_active": False})

    with pytest.raises(Unauthorized):
        user_from_api_token(secret)


def test_nobody_else_can_revoke_your_api_token(session):
    owner = UserFactory()
    api_token, secret = accounts.create_api_token(actor=owner, name="mine")

    for actor in (UserFactory(), platform_admin()):
        with pytest.raises(NotFound):
            accounts.revoke_api_token(actor=actor, token_id=api_token.id)
    with pytest.raises(NotFound):
        accounts.revoke_api_token(actor=owner, token_id=uuid.uuid4())

    assert user_from_api_token(secret) is owner
    assert events("api_token.revoked") == []


# --- audit log ---------------------------------------------------------------------------------------


def test_no_secret_ever_reaches_the_audit_log(session):
    admin = platform_admin()
    secrets: list[str] = [TEST_PASSWORD, NEW_PASSWORD]

    registered = accounts.register(email="reg@example.org", name="Reg", password=NEW_PASSWORD)
    created = accounts.create_user(actor=admin, email="made@example.org", name="Made")
    secrets.append(link_token("password-reset"))
    accounts.reset_password(token=secrets[-1], password=NEW_PASSWORD)
    accounts.update_profile(actor=registered, password="third good passphrase", current_password=NEW_PASSWORD)
    secrets.append("third good passphrase")
    accounts.request_password_reset(email=registered.email)
    secrets.append(link_token("password-reset"))
    accounts.reset_password(token=secrets[-1], password="fourth good passphrase")
    secrets.append("fourth good passphrase")
    organisation = make_org(admin)
    organisations.update_organisation(actor=admin, organisation_id=organisation.id, changes={"name": "Renamed"})
    _, link = organisations.invite(
        actor=admin, organisation_id=organisation.id, email="inv@example.org", roles=["author"]
    )
    secrets.append(link.rsplit("/", 1)[1])
    invitee = organisations.accept_invitation(token=secrets[-1], name="Inv", password="fifth good passphrase")
    secrets.append("fifth good passphrase")
    organisations.set_member_roles(actor=admin, organisation_id=organisation.id, user_id=invitee.id, roles=["assessor"])
    api_token, api_secret = accounts.create_api_token(actor=registered, name="script")
    secrets.append(api_secret)
    accounts.revoke_api_token(actor=registered, token_id=api_token.id)
    accounts.update_user(actor=admin, user_id=created.id, changes={"is_active": False})

    secrets += [u.password_hash for u in (registered, created, invitee) if u.password_hash]
    secrets += list(session.scalars(select(PasswordResetToken.token_hash)))
    secrets += list(session.scalars(select(Invitation.token_hash)))
    secrets += list(session.scalars(select(ApiToken.token_hash)))
    logged = events()
    assert {e.action for e in logged} == {
        "user.registered",
        "user.created",
        "user.password_reset",
        "user.profile_updated",
        "user.password_reset_requested",
        "organisation.created",
        "organisation.updated",
        "invitation.created",
        "invitation.accepted",
        "membership.roles_set",
        "api_token.created",
        "api_token.revoked",
        "user.updated",
    }
    text = json.dumps([[e.before, e.after] for e in logged])
    assert len(secrets) >= 14
    for secret in secrets:
        assert secret not in text
    assert "password_hash" not in text
    assert "token_hash" not in text


def test_org_admins_read_only_their_organisations_log(session):
    org_a, org_b = OrganisationFactory(), OrganisationFactory()
    admin_a = member(org_a, Role.ORG_ADMIN)
    admin_b = member(org_b, Role.ORG_ADMIN)
    organisations.update_organisation(actor=admin_a, organisation_id=org_a.id, changes={"name": "A2"})
    organisations.update_organisation(actor=admin_b, organisation_id=org_b.id, changes={"name": "B2"})
    accounts.create_api_token(actor=admin_a, name="not in any organisation")

    page = organisations.list_audit_events(actor=admin_a, organisation_id=org_a.id, page=1, page_size=50)

    assert [(e.action, e.organisation_id) for e in page.items] == [("organisation.updated", org_a.id)]
    assert page.total == 1
    with pytest.raises(Forbidden):
        organisations.list_audit_events(actor=admin_a, organisation_id=org_b.id, page=1, page_size=50)
    with pytest.raises(Forbidden):
        organisations.list_audit_events(actor=admin_a, organisation_id=None, page=1, page_size=50)
    with pytest.raises(NotFound):
        organisations.list_audit_events(actor=admin_a, organisation_id=uuid.uuid4(), page=1, page_size=50)


def test_platform_admins_read_the_whole_log(session):
    org_a, org_b = OrganisationFactory(), OrganisationFactory()
    admin = platform_admin()
    organisations.update_organisation(actor=admin, organisation_id=org_a.id, changes={"name": "A2"})
    organisations.update_organisation(actor=admin, organisation_id=org_b.id, changes={"name": "B2"})
    accounts.create_api_token(actor=admin, name="global")

    everything = organisations.list_audit_events(actor=admin, organisation_id=None, page=1, page_size=50)
    of_b = organisations.list_audit_events(actor=admin, organisation_id=org_b.id, page=1, page_size=50)

    assert {e.organisation_id for e in everything.items} == {org_a.id, org_b.id, None}
    assert everything.total == count(AuditEvent) == 3
    assert [e.organisation_id for e in of_b.items] == [org_b.id]


@pytest.mark.parametrize("role", [Role.AUTHOR, Role.ASSESSOR])
def test_other_roles_cannot_read_the_log(session, role):
    organisation = OrganisationFactory()
    actor = member(organisation, role)

    with pytest.raises(Forbidden):
        organisations.list_audit_events(actor=actor, organisation_id=organisation.id, page=1, page_size=50)
    with pytest.raises(Forbidden):
        organisations.list_audit_events(actor=actor, organisation_id=None, page=1, page_size=50)


def test_the_log_filters_by_action_and_time_newest_first(session):
    organisation = OrganisationFactory()
    admin = member(organisation, Role.ORG_ADMIN)
    for hours, action in [(0, "a.first"), (1, "b.second"), (2, "a.third"), (3, "b.fourth")]:
        with clock.frozen_at(T0 + timedelta(hours=hours)):
            AuditEventFactory(action=action, organisation_id=organisation.id, actor_id=admin.id)

    def actions(**filters: object) -> list[str]:
        page = organisations.list_audit_events(
            actor=admin, organisation_id=organisation.id, page=1, page_size=50, **filters
        )
        return [e.action for e in page.items]

    assert actions() == ["b.fourth", "a.third", "b.second", "a.first"]
    assert actions(action="a.third") == ["a.third"]
    assert actions(since=T0 + timedelta(hours=1)) == ["b.fourth", "a.third", "b.second"]
    assert actions(until=T0 + timedelta(hours=2)) == ["b.second", "a.first"]
    assert actions(since=T0 + timedelta(hours=1), until=T0 + timedelta(hours=3)) == ["a.third", "b.second"]
    assert actions(actor_id=admin.id, since=T0 + timedelta(hours=4)) == []
