"""factory-boy factories for every model, bound to the test session (they flush, never commit)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import factory
from factory.alchemy import SQLAlchemyModelFactory

from core import clock
from core.auth import hash_password, new_secret_token, token_digest
from core.db import db
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
from standards.models import Framework, StandardItem, search_text
from tests.conftest import TEST_PASSWORD


class BaseFactory(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "flush"


class UserFactory(BaseFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    name = factory.Faker("name")
    is_platform_admin = False
    is_active = True

    @factory.lazy_attribute
    def password_hash(self) -> str:
        return hash_password(TEST_PASSWORD)


class OrganisationFactory(BaseFactory):
    class Meta:
        model = Organisation

    slug = factory.Sequence(lambda n: f"org-{n}")
    name = factory.Sequence(lambda n: f"Organisation {n}")
    kind = "district"
    description = ""


class MembershipFactory(BaseFactory):
    class Meta:
        model = Membership

    organisation = factory.SubFactory(OrganisationFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.AUTHOR.value


class InvitationFactory(BaseFactory):
    class Meta:
        model = Invitation
        exclude = ("token",)

    organisation = factory.SubFactory(OrganisationFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.org")
    roles = factory.LazyFunction(lambda: [Role.AUTHOR.value])
    token = factory.LazyFunction(lambda: new_secret_token()[0])
    token_hash = factory.LazyAttribute(lambda o: token_digest(o.token))
    expires_at = factory.LazyFunction(lambda: clock.now() + timedelta(days=7))


class PasswordResetTokenFactory(BaseFactory):
    class Meta:
        model = PasswordResetToken

    user = factory.SubFactory(UserFactory)
    token_hash = factory.LazyFunction(lambda: new_secret_token()[1])
    expires_at = factory.LazyFunction(lambda: clock.now() + timedelta(hours=1))


class ApiTokenFactory(BaseFactory):
    class Meta:
        model = ApiToken

    user = factory.SubFactory(UserFactory)
    name = "script"
    prefix = "mct_abcdef"
    token_hash = factory.LazyFunction(lambda: new_secret_token("mct_")[1])


class AuditEventFactory(BaseFactory):
    class Meta:
        model = AuditEvent

    action = "thing.happened"
    object_type = "Thing"
    object_id = factory.Sequence(lambda n: f"thing-{n}")


def member(organisation: Organisation, *roles: Role, **user_fields: Any) -> User:
    """A new user holding ``roles`` in ``organisation``."""
    user = UserFactory(**user_fields)
    for role in roles:
        MembershipFactory(organisation=organisation, user=user, role=role.value)
    db.session.refresh(user)
    return user


# --- standards ---------------------------------------------------------------------------------------


class FrameworkFactory(BaseFactory):
    class Meta:
        model = Framework

    case_identifier = factory.Faker("uuid4")
    uri = factory.LazyAttribute(lambda o: f"urn:uuid:{o.case_identifier}")
    title = factory.Sequence(lambda n: f"Framework {n}")
    creator = "Standards Body"
    source_note = "Made by a test factory."
    subject = factory.LazyFunction(list)


class StandardItemFactory(BaseFactory):
    """A top-level item unless ``parent`` is given (then one level under it)."""

    class Meta:
        model = StandardItem
        exclude = ("parent",)

    parent = None
    framework = factory.LazyAttribute(lambda o: o.parent.framework if o.parent else FrameworkFactory())
    parent_id = factory.LazyAttribute(lambda o: o.parent.id if o.parent else None)
    case_identifier = factory.Faker("uuid4")
    uri = factory.LazyAttribute(lambda o: f"urn:uuid:{o.case_identifier}")
    human_coding_scheme = factory.Sequence(lambda n: f"STD.{n}")
    full_statement = factory.Sequence(lambda n: f"Statement number {n}")
    position = factory.Sequence(lambda n: n % 1000)
    depth = factory.LazyAttribute(lambda o: o.parent.depth + 1 if o.parent else 0)
    path = factory.LazyAttribute(lambda o: (o.parent.path if o.parent else "") + f"{o.position:06d}")
    education_level = factory.LazyFunction(list)
    search_text = factory.LazyAttribute(
        lambda o: search_text(o.human_coding_scheme, o.abbreviated_statement, o.full_statement)
    )
    abbreviated_statement = None
