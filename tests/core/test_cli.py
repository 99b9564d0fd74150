from sqlalchemy import func, select

from core.auth import find_user_by_email
from core.db import db
from core.models import Membership, Organisation, User


def test_demo_creates_an_organisation_and_one_account_per_role_and_is_idempotent(app, session):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "demo-author-pass" in first.output  # passwords printed when created
    users = session.scalar(select(func.count()).select_from(User))
    memberships = session.scalar(select(func.count()).select_from(Membership))

    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0, second.output
    assert "already exist" in second.output
    assert session.scalar(select(func.count()).select_from(User)) == users
    assert session.scalar(select(func.count()).select_from(Membership)) == memberships

    org = session.scalar(select(Organisation).where(Organisation.slug == "riverside-usd"))
    roles = {m.role for m in org.memberships}
    assert roles == {"org_admin", "author", "assessor"}
    assert find_user_by_email("admin@demo.example").is_platform_admin


def test_users_create_and_orgs_create(app, session):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["users", "create", "--email", "Root@Example.org", "--name", "Root", "--platform-admin"],
        input="a long enough password\na long enough password\n",
    )
    assert result.exit_code == 0, result.output
    assert find_user_by_email("root@example.org").is_platform_admin

    result = runner.invoke(
        args=[
            "orgs",
            "create",
            "--slug",
            "north",
            "--name",
            "North",
            "--kind",
            "district",
            "--admin-email",
            "root@example.org",
        ]
    )
    assert result.exit_code == 0, result.output
    org = session.scalar(select(Organisation).where(Organisation.slug == "north"))
    assert {m.role for m in org.memberships} == {"org_admin"}

    base = ["orgs", "create", "--name", "North High", "--admin-email", "root@example.org"]
    result = runner.invoke(args=[*base, "--slug", "north-high", "--parent", "north"])
    assert result.exit_code == 0, result.output
    unit = session.scalar(select(Organisation).where(Organisation.slug == "north-high"))
    assert unit.parent_id == org.id
    result = runner.invoke(args=[*base, "--slug", "lost-high", "--parent", "nowhere"])
    assert result.exit_code == 2 and "nowhere" in result.output
    assert session.scalar(select(Organisation).where(Organisation.slug == "lost-high")) is None


def test_cli_refuses_bad_input_without_writing(app, session):
    runner = app.test_cli_runner()
    weak = runner.invoke(args=["users", "create", "--email", "a@example.org", "--name", "A"], input="short\nshort\n")
    assert weak.exit_code == 2
    assert "password" in weak.output
    assert find_user_by_email("a@example.org") is None

    bad_slug = runner.invoke(args=["orgs", "create", "--slug", "Bad Slug!", "--name", "X", "--admin-email", "x@y.z"])
    assert bad_slug.exit_code == 2
    assert "slug" in bad_slug.output
    missing_admin = runner.invoke(args=["orgs", "create", "--slug", "ok", "--name", "X", "--admin-email", "no@x.org"])
    assert missing_admin.exit_code == 2
    assert db.session.scalar(select(Organisation).where(Organisation.slug == "ok")) is None


def test_keygen_prints_usable_secrets(app):
    from core.config import load

    runner = app.test_cli_runner()
    kek = runner.invoke(args=["keygen", "kek"]).output.strip()
    secret = runner.invoke(args=["keygen", "secret"]).output.strip()
    values = load(
        environ={
            "APP_ENV": "production",
            "SECRET_KEY": secret,
            "KEY_ENCRYPTION_KEY": kek,
            "BASE_URL": "https://b.example",
            "DATABASE_URL": "postgresql+psycopg://x/y",
            "STORAGE_URL": "s3://b/p",
        }
    )
    assert values["KEY_ENCRYPTION_KEY"] == kek
