"""The authorisation rules of core: who may do what, and how a refusal reads."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from core import authz
from core.authz import authorize, can, registered_actions, rule
from core.errors import Forbidden, Unauthorized
from core.models import Organisation, Role, User
from tests.factories import InvitationFactory, MembershipFactory, OrganisationFactory, UserFactory, member

ACTORS = (
    "anonymous",
    "earner",
    "author",
    "assessor",
    "org_admin",
    "other_org_admin",
    "platform_admin",
    "inactive_platform_admin",
)

# Which actors may do each core action (to organisation A, to another user, or to nothing).
ALLOWED = {
    "organisation.create": {"platform_admin"},
    "organisation.read": {"author", "assessor", "org_admin", "platform_admin"},
    "organisation.add_unit": {"org_admin", "platform_admin"},
    "organisation.update": {"org_admin", "platform_admin"},
    "organisation.manage_members": {"org_admin", "platform_admin"},
    "organisation.read_audit": {"org_admin", "platform_admin"},
    "user.manage": {"platform_admin"},
    "user.read": {"platform_admin"},
    "audit.read_all": {"platform_admin"},
}


@dataclass
class World:
    organisation: Organisation
    other_organisation: Organisation
    someone: User  # the user that ``user.read`` is asked about
    actors: dict[str, User | None]

    def target(self, action: str) -> object:
        if action.startswith("organisation.") and action != "organisation.create":
            return self.organisation
        if action == "user.read":
            return self.someone
        return None


@pytest.fixture
def world(session, app, monkeypatch) -> World:
    # The matrix is the locked-down service; self-service creation is tested in test_self_service.py.
    monkeypatch.setitem(app.config, "ALLOW_ORGANISATION_SIGNUP", False)
    organisation = OrganisationFactory()
    other = OrganisationFactory()
    return World(
        organisation=organisation,
        other_organisation=other,
        someone=member(organisation, Role.AUTHOR),
        actors={
            "anonymous": None,
            "earner": UserFactory(),
            "author": member(organisation, Role.AUTHOR),
            "assessor": member(organisation, Role.ASSESSOR),
            "org_admin": member(organisation, Role.ORG_ADMIN),
            "other_org_admin": member(other, Role.ORG_ADMIN),
            "platform_admin": UserFactory(is_platform_admin=True),
            "inactive_platform_admin": UserFactory(is_platform_admin=True, is_active=False),
        },
    )


def test_the_matrix_covers_every_core_action():
    core_actions = {a for a in registered_actions() if a.split(".")[0] in {"organisation", "user", "audit"}}

    assert core_actions == set(ALLOWED)


@pytest.mark.parametrize("actor_kind", ACTORS)
@pytest.mark.parametrize("action", sorted(ALLOWED))
def test_role_matrix(world, action, actor_kind):
    actor = world.actors[actor_kind]
    expected = actor_kind in ALLOWED[action]

    assert can(actor, action, world.target(action)) is expected
    if expected:
        authorize(actor, action, world.target(action))
    else:
        # Nobody signed in is told to sign in (401); a signed-in user is refused (403).
        with pytest.raises(Unauthorized if actor is None else Forbidden):
            authorize(actor, action, world.target(action))


@pytest.mark.parametrize("actor_kind", [a for a in ACTORS if a != "anonymous"])
def test_users_read_their_own_account_while_active(world, actor_kind):
    actor = world.actors[actor_kind]

    assert can(actor, "user.read", actor) is (actor_kind != "inactive_platform_admin")


def test_an_inactive_org_admin_may_do_nothing(world):
    admin = member(world.organisation, Role.ORG_ADMIN, is_active=False)

    assert not any(can(admin, action, world.target(action)) for action in ALLOWED)


@pytest.mark.parametrize("target_kind", ["organisation", "id", "child"])
def test_organisation_rules_accept_the_organisation_its_id_or_an_object_of_it(world, target_kind):
    organisation = world.organisation
    foreign = InvitationFactory(organisation=world.other_organisation)
    own = InvitationFactory(organisation=organisation)
    targets = {
        "organisation": (organisation, world.other_organisation),
        "id": (organisation.id, world.other_organisation.id),
        "child": (own, foreign),
    }[target_kind]
    author = world.actors["author"]

    assert can(author, "organisation.read", targets[0])
    assert not can(author, "organisation.read", targets[1])
    assert not can(author, "organisation.update", targets[0])
    assert can(world.actors["org_admin"], "organisation.update", targets[0])
    assert not can(world.actors["org_admin"], "organisation.update", targets[1])


def test_a_membership_in_another_organisation_grants_nothing_here(world, session):
    # Admin over there and author here: the admin role must not leak across tenants.
    user = world.actors["other_org_admin"]
    MembershipFactory(organisation=world.organisation, user=user, role=Role.AUTHOR.value)
    session.refresh(user)

    assert can(user, "organisation.read", world.organisation)
    assert not can(user, "organisation.update", world.organisation)
    assert not can(user, "organisation.manage_members", world.organisation)
    assert can(user, "organisation.update", world.other_organisation)


@pytest.mark.parametrize(
    ("action", "detail"),
    [
        (
            "organisation.create",
            "You are not allowed to create organisations here; ask a platform admin to create one for you.",
        ),
        ("organisation.read", "You are not allowed to read this organisation."),
        ("organisation.update", "You are not allowed to update this organisation."),
        ("organisation.manage_members", "You are not allowed to manage the members of this organisation."),
        ("organisation.read_audit", "You are not allowed to read the audit log of this organisation."),
        ("user.manage", "You are not allowed to manage user accounts."),
        ("user.read", "You are not allowed to read this user."),
        ("audit.read_all", "You are not allowed to read the audit log of every organisation."),
    ],
)
def test_a_refusal_reads_well_in_a_problem_document(world, action, detail):
    with pytest.raises(Forbidden) as caught:
        authorize(world.actors["earner"], action, world.target(action))

    error = caught.value
    assert (error.status, error.type_slug) == (403, "forbidden")
    assert error.detail == str(error) == detail
    assert error.extra == {"action": action}


def test_a_rule_without_a_description_is_described_from_its_name(monkeypatch):
    monkeypatch.setattr(authz, "_rules", dict(authz._rules))

    @rule("widget.polish")
    def _never(actor, target):
        return False

    someone = User(email="someone@example.org", name="Someone", is_active=True)
    with pytest.raises(Forbidden, match=r"^You are not allowed to polish this widget\.$"):
        authorize(someone, "widget.polish")


def test_an_unknown_action_is_a_programming_error_not_a_refusal(world):
    for actor in (None, world.actors["platform_admin"]):
        with pytest.raises(LookupError, match=r"organisation\.destroy"):
            can(actor, "organisation.destroy", world.organisation)
        with pytest.raises(LookupError):
            authorize(actor, "organisation.destroy", world.organisation)


def test_registering_a_rule_twice_raises(monkeypatch):
    monkeypatch.setattr(authz, "_rules", dict(authz._rules))
    admin = User(id=uuid.uuid4(), email="a@example.org", name="A", is_platform_admin=True, is_active=True)

    with pytest.raises(RuntimeError, match="registered twice"):
        rule("organisation.create")(lambda actor, target: True)
    assert can(None, "organisation.create") is False  # the first rule still decides
    assert can(admin, "organisation.create") is True

    @rule("test.fresh")
    def _first(actor, target):
        return True

    with pytest.raises(RuntimeError, match="registered twice"):

        @rule("test.fresh")
        def _second(actor, target):
            return False

    assert can(None, "test.fresh") is True
    assert "test.fresh" in registered_actions()
