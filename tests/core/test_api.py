"""The core REST API over HTTP: status codes, problem documents, headers and hostile input."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta
from typing import Any

import jsonschema
import pytest
from openapi_spec_validator import OpenAPIV30SpecValidator, validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from core import clock, mail
from core.models import Role
from tests.conftest import TEST_PASSWORD, bearer, problem
from tests.factories import InvitationFactory, OrganisationFactory, UserFactory, member

PROBLEM = "application/problem+json"
SQL = "'; DROP TABLE users; --"
HTML = "<script>alert(1)</script>"
NEW_PASSWORD = "a brand new passphrase"


def error_fields(body: dict[str, Any]) -> dict[str, str]:
    """Offending field name → JSON pointer, from a problem document's ``errors``."""
    return {e["field"]: e["pointer"] for e in body["errors"]}


def pagination(response: Any) -> dict[str, Any]:
    return json.loads(response.headers["X-Pagination"])


def token_for(client: Any, email: str, password: str = TEST_PASSWORD) -> dict[str, str]:
    r = client.post("/api/v1/auth/token", json={"email": email, "password": password})
    assert r.status_code == 200, r.json
    return {"Authorization": f"Bearer {r.json['access_token']}"}


@pytest.fixture
def admin() -> Any:
    return UserFactory(is_platform_admin=True)


@pytest.fixture
def org() -> Any:
    return OrganisationFactory(name="Riverside District", slug="riverside")


@pytest.fixture
def org_admin(org: Any) -> Any:
    return member(org, Role.ORG_ADMIN)


@pytest.fixture
def limited_login(app: Any) -> Any:
    previous = app.config["LOGIN_RATE_LIMIT"]
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    try:
        yield
    finally:
        app.config["LOGIN_RATE_LIMIT"] = previous


# --- POST /auth/token (a fixed contract) -------------------------------------------------------------


def test_token_contract(client, app):
    user = UserFactory(email="Someone@Example.org")
    r = client.post("/api/v1/auth/token", json={"email": "someone@example.ORG", "password": TEST_PASSWORD})
    assert r.status_code == 200
    assert r.mimetype == "application/json"
    assert set(r.json) == {"access_token", "token_type", "expires_in"}
    assert r.json["token_type"] == "Bearer"
    assert r.json["expires_in"] == app.config["ACCESS_TOKEN_TTL"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {r.json['access_token']}"})
    assert me.status_code == 200
    assert me.json["email"] == user.email


def test_token_wrong_credentials_are_one_401(client):
    user = UserFactory()
    wrong_password = problem(
        client.post("/api/v1/auth/token", json={"email": user.email, "password": "not it at all"}), 401
    )
    unknown_email = problem(
        client.post("/api/v1/auth/token", json={"email": "ghost@example.org", "password": "whatever1"}), 401
    )
    assert wrong_password["detail"] == unknown_email["detail"]  # does not reveal which accounts exist
    assert wrong_password["type"].endswith("/problems/unauthorized")


def test_token_refused_for_deactivated_account(client):
    user = UserFactory(is_active=False)
    problem(client.post("/api/v1/auth/token", json={"email": user.email, "password": TEST_PASSWORD}), 401)


def test_token_malformed_json_is_400(client):
    body = problem(client.post("/api/v1/auth/token", data='{"email": ', content_type="application/json"), 400)
    assert "JSON" in body["detail"]


@pytest.mark.parametrize(
    "raw",
    [b"[" * 100_000 + b"]" * 100_000, b'{"email": ' + b"1" * 5000 + b', "password": "x"}', b"\xff\xfe{"],
    ids=["nested-too-deep", "huge-integer", "not-utf8"],
)
def test_token_json_the_decoder_chokes_on_is_400(client, raw):
    problem(client.post("/api/v1/auth/token", data=raw, content_type="application/json"), 400)


@pytest.mark.parametrize("body", [["a", "b"], "just a string", 42, None], ids=["array", "string", "number", "null"])
def test_token_body_that_is_not_an_object_is_422(client, body):
    r = client.post("/api/v1/auth/token", data=json.dumps(body), content_type="application/json")
    problem(r, 422)


@pytest.mark.parametrize(
    "data, content_type",
    [
        ("email=a%40example.org&password=x", "application/x-www-form-urlencoded"),
        ('{"email": "a@example.org", "password": "x"}', "text/plain"),
        ('{"email": "a@example.org", "password": "x"}', None),
    ],
    ids=["form", "text", "no-type"],
)
def test_token_body_not_json_is_415(client, data, content_type):
    r = client.post("/api/v1/auth/token", data=data, content_type=content_type)
    assert "application/json" in problem(r, 415)["detail"]


def test_json_suffix_media_types_are_accepted(client):
    user = UserFactory()
    body = json.dumps({"email": user.email, "password": TEST_PASSWORD})
    r = client.post("/api/v1/auth/token", data=body, content_type="application/merge-patch+json")
    assert r.status_code == 200


def test_ten_megabyte_body_is_413(client):
    body = '{"email": "' + "x" * (10 * 1024 * 1024) + '", "password": "x"}'
    problem(client.post("/api/v1/auth/token", data=body, content_type="application/json"), 413)


def test_token_missing_and_mistyped_fields_are_named(client):
    body = problem(client.post("/api/v1/auth/token", json={}), 422)
    assert error_fields(body) == {"email": "#/email", "password": "#/password"}
    body = problem(client.post("/api/v1/auth/token", json={"email": 123, "password": ["x"]}), 422)
    assert set(error_fields(body)) == {"email", "password"}
    body = problem(client.post("/api/v1/auth/token", json={"email": "a@b.org", "password": "x", "otp": 1}), 422)
    assert error_fields(body) == {"otp": "#/otp"}


@pytest.mark.parametrize("email", ["a\x00b@example.org", "x" * 10_000], ids=["nul", "huge"])
def test_token_hostile_email_is_422_not_500(client, email):
    body = problem(client.post("/api/v1/auth/token", json={"email": email, "password": "whatever"}), 422)
    assert "email" in error_fields(body)


def test_token_wrong_method_is_405(client):
    r = client.get("/api/v1/auth/token")
    problem(r, 405)
    assert "POST" in r.headers["Allow"]


def test_login_rate_limit_is_429(client, limited_login):
    user = UserFactory()
    for _ in range(3):
        problem(client.post("/api/v1/auth/token", json={"email": user.email, "password": "wrong guess"}), 401)
    r = client.post("/api/v1/auth/token", json={"email": user.email, "password": TEST_PASSWORD})
    body = problem(r, 429)  # even the right password waits now
    assert body["type"].endswith("/problems/too-many-requests")
    assert int(r.headers["Retry-After"]) > 0


# --- bearer authentication ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [None, "Bearer not-a-token", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer mct_unknown", "Token abc"],
    ids=["missing", "garbage", "empty", "basic", "unknown-api-token", "other-scheme"],
)
def test_me_without_valid_credentials_is_401(client, header):
    UserFactory()
    headers = {"Authorization": header} if header else {}
    body = problem(client.get("/api/v1/me", headers=headers), 401)
    assert body["type"].endswith("/problems/unauthorized")


def test_expired_access_token_is_401(client, app):
    user = UserFactory()
    headers = bearer(user)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    with clock.shifted(timedelta(seconds=app.config["ACCESS_TOKEN_TTL"] + 1)):
        body = problem(client.get("/api/v1/me", headers=headers), 401)
    assert "expired" in body["detail"]


def test_access_token_signed_with_another_key_is_401(client, app):
    user = UserFactory()
    header = bearer(user)["Authorization"]
    head, payload, signature = header.removeprefix("Bearer ").split(".")
    forged = f"{head}.{payload}.{signature[:-4]}AAAA"
    problem(client.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"}), 401)


# --- /auth/register ----------------------------------------------------------------------------------


def test_register_then_sign_in(client):
    r = client.post(
        "/api/v1/auth/register",
        json={"email": "new@example.org", "name": "  Nia Newcomer ", "password": NEW_PASSWORD},
    )
    assert r.status_code == 201
    assert r.json["email"] == "new@example.org"
    assert r.json["name"] == "Nia Newcomer"
    assert "password" not in r.json and "password_hash" not in r.json
    me = client.get("/api/v1/me", headers=token_for(client, "new@example.org", NEW_PASSWORD))
    assert me.json["memberships"] == []


def test_register_duplicate_email_is_409(client):
    UserFactory(email="taken@example.org")
    r = client.post(
        "/api/v1/auth/register", json={"email": "TAKEN@example.org", "name": "Copy", "password": NEW_PASSWORD}
    )
    body = problem(r, 409)
    assert error_fields(body) == {"email": "#/email"}


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"email": "not-an-email", "name": "N", "password": NEW_PASSWORD}, "email"),
        ({"email": "n@example.org", "name": 123, "password": NEW_PASSWORD}, "name"),
        ({"email": "n@example.org", "name": "Bell\x07", "password": NEW_PASSWORD}, "name"),
        ({"email": "n@example.org", "name": "   ", "password": NEW_PASSWORD}, "name"),
        ({"email": "n@example.org", "name": "x" * 10_000, "password": NEW_PASSWORD}, "name"),
        ({"email": "n@example.org", "name": "N", "password": "short"}, "password"),
        ({"email": "n@example.org", "name": "N", "password": "aaaaaaaaaaaa"}, "password"),
        ({"email": "n@example.org", "name": "N"}, "password"),
        (
            {"email": "n@example.org", "name": "N", "password": NEW_PASSWORD, "is_platform_admin": True},
            "is_platform_admin",
        ),
    ],
    ids=[
        "email",
        "name-type",
        "name-control",
        "name-blank",
        "name-huge",
        "pw-short",
        "pw-guessable",
        "pw-missing",
        "privilege",
    ],
)
def test_register_bad_input_is_422_naming_the_field(client, payload, field):
    body = problem(client.post("/api/v1/auth/register", json=payload), 422)
    assert field in error_fields(body)
    assert error_fields(body)[field] == f"#/{field}"


def test_register_stores_markup_and_sql_verbatim(client):
    name = f"{HTML} {SQL}"
    r = client.post("/api/v1/auth/register", json={"email": "m@example.org", "name": name, "password": NEW_PASSWORD})
    assert r.status_code == 201
    assert r.mimetype == "application/json"
    assert r.json["name"] == name
    assert client.get("/api/v1/me", headers=token_for(client, "m@example.org", NEW_PASSWORD)).json["name"] == name


# --- password reset ----------------------------------------------------------------------------------


def _reset_token_from_mail(to: str) -> str:
    [message] = [m for m in mail.sent if m.to == to]
    return re.search(r"/password-reset/(\S+)", message.body).group(1)


def test_password_reset_answers_202_whether_or_not_the_account_exists(client):
    user = UserFactory()
    known = client.post("/api/v1/auth/password-reset", json={"email": user.email})
    unknown = client.post("/api/v1/auth/password-reset", json={"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 202
    assert known.get_data() == unknown.get_data()
    assert [m.to for m in mail.sent] == [user.email]


def test_password_reset_confirm_sets_password_and_signs_out_everywhere(client):
    user = UserFactory()
    old = token_for(client, user.email)
    assert client.post("/api/v1/auth/password-reset", json={"email": user.email}).status_code == 202
    token = _reset_token_from_mail(user.email)

    r = client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD})
    assert r.status_code == 204
    assert r.get_data() == b""
    problem(client.get("/api/v1/me", headers=old), 401)
    problem(client.post("/api/v1/auth/token", json={"email": user.email, "password": TEST_PASSWORD}), 401)
    assert client.get("/api/v1/me", headers=token_for(client, user.email, NEW_PASSWORD)).status_code == 200

    again = client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "password": "yet another one"})
    assert error_fields(problem(again, 422)) == {"token": "#/token"}


def test_password_reset_confirm_refuses_bad_token_and_weak_password(client):
    user = UserFactory()
    client.post("/api/v1/auth/password-reset", json={"email": user.email})
    token = _reset_token_from_mail(user.email)
    bad = client.post("/api/v1/auth/password-reset/confirm", json={"token": "forged", "password": NEW_PASSWORD})
    assert "token" in error_fields(problem(bad, 422))
    weak = client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "password": "short"})
    assert "password" in error_fields(problem(weak, 422))
    # the weak attempt wrote nothing: the link still works
    ok = client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD})
    assert ok.status_code == 204


def test_password_reset_expired_link_is_422(client, app):
    user = UserFactory()
    client.post("/api/v1/auth/password-reset", json={"email": user.email})
    token = _reset_token_from_mail(user.email)
    with clock.shifted(timedelta(seconds=app.config["PASSWORD_RESET_TTL"] + 1)):
        r = client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD})
    problem(r, 422)


@pytest.mark.parametrize("email", ["x\x00@example.org", "y" * 10_000, ""], ids=["nul", "huge", "empty"])
def test_password_reset_hostile_email_is_422(client, email):
    problem(client.post("/api/v1/auth/password-reset", json={"email": email}), 422)


# --- invitations, end to end -------------------------------------------------------------------------


def _invite(client: Any, org: Any, by: Any, email: str, roles: list[str]) -> dict[str, Any]:
    r = client.post(
        f"/api/v1/organisations/{org.id}/invitations",
        json={"email": email, "roles": roles},
        headers=bearer(by),
    )
    assert r.status_code == 201, r.json
    return r.json


def test_invitation_flow_creates_an_account_that_can_sign_in(client, org, org_admin):
    invitation = _invite(client, org, org_admin, "Ines@Example.org", ["assessor", "author"])
    assert invitation["state"] == "pending"
    assert invitation["roles"] == ["assessor", "author"]
    [message] = mail.sent
    assert message.to == "Ines@Example.org"
    assert invitation["accept_url"] in message.body
    token = invitation["accept_url"].rsplit("/", 1)[1]

    r = client.post("/api/v1/auth/invitations/accept", json={"token": token, "name": "Ines", "password": NEW_PASSWORD})
    assert r.status_code == 200
    assert r.json["email"] == "Ines@Example.org"
    assert sorted((m["organisation_id"], m["role"]) for m in r.json["memberships"]) == [
        (str(org.id), "assessor"),
        (str(org.id), "author"),
    ]

    me = client.get("/api/v1/me", headers=token_for(client, "ines@example.org", NEW_PASSWORD))
    assert me.json["name"] == "Ines"
    listed = client.get(f"/api/v1/organisations/{org.id}/invitations", headers=bearer(org_admin))
    assert [i["state"] for i in listed.json] == ["accepted"]
    again = client.post("/api/v1/auth/invitations/accept", json={"token": token, "name": "X", "password": NEW_PASSWORD})
    assert "token" in error_fields(problem(again, 422))


def test_invitation_for_new_account_needs_name_and_password(client, org, org_admin):
    token = _invite(client, org, org_admin, "n@example.org", ["author"])["accept_url"].rsplit("/", 1)[1]
    body = problem(client.post("/api/v1/auth/invitations/accept", json={"token": token}), 422)
    assert error_fields(body) == {"name": "#/name", "password": "#/password"}
    body = problem(
        client.post("/api/v1/auth/invitations/accept", json={"token": token, "name": "N", "password": "short"}),
        422,
    )
    assert "password" in error_fields(body)


def test_invitation_for_existing_account_needs_that_account_signed_in(client, org, org_admin):
    existing = UserFactory()
    stranger = UserFactory()
    token = _invite(client, org, org_admin, existing.email, ["author"])["accept_url"].rsplit("/", 1)[1]
    problem(client.post("/api/v1/auth/invitations/accept", json={"token": token}), 401)
    problem(client.post("/api/v1/auth/invitations/accept", json={"token": token}, headers=bearer(stranger)), 401)
    r = client.post("/api/v1/auth/invitations/accept", json={"token": token}, headers=bearer(existing))
    assert r.status_code == 200
    assert [m["role"] for m in r.json["memberships"]] == ["author"]


def test_invitation_accept_with_unknown_token_or_fields(client):
    problem(
        client.post("/api/v1/auth/invitations/accept", json={"token": "nope", "name": "N", "password": NEW_PASSWORD}),
        422,
    )
    body = problem(client.post("/api/v1/auth/invitations/accept", json={"token": "nope", "roles": ["org_admin"]}), 422)
    assert "roles" in error_fields(body)


def test_expired_invitation_is_refused(client, app, org, org_admin):
    token = _invite(client, org, org_admin, "late@example.org", ["author"])["accept_url"].rsplit("/", 1)[1]
    with clock.shifted(timedelta(seconds=app.config["INVITATION_TTL"] + 1)):
        r = client.post("/api/v1/auth/invitations/accept", json={"token": token, "name": "L", "password": NEW_PASSWORD})
    problem(r, 422)


# --- /me ---------------------------------------------------------------------------------------------


def test_me_shows_memberships(client, org, org_admin):
    r = client.get("/api/v1/me", headers=bearer(org_admin))
    assert r.status_code == 200
    assert r.json["memberships"] == [{"organisation_id": str(org.id), "role": "org_admin"}]
    assert "password_hash" not in r.json


def test_me_rename_and_change_password(client):
    user = UserFactory()
    headers = token_for(client, user.email)
    r = client.patch("/api/v1/me", json={"name": f"  {HTML} "}, headers=headers)
    assert r.status_code == 200
    assert r.json["name"] == HTML

    body = problem(client.patch("/api/v1/me", json={"password": NEW_PASSWORD}, headers=headers), 422)
    assert error_fields(body) == {"current_password": "#/current_password"}
    wrong = client.patch(
        "/api/v1/me", json={"password": NEW_PASSWORD, "current_password": "nope nope"}, headers=headers
    )
    assert "current_password" in error_fields(problem(wrong, 422))

    ok = client.patch("/api/v1/me", json={"password": NEW_PASSWORD, "current_password": TEST_PASSWORD}, headers=headers)
    assert ok.status_code == 200
    problem(client.get("/api/v1/me", headers=headers), 401)  # other sessions are signed out
    assert client.get("/api/v1/me", headers=token_for(client, user.email, NEW_PASSWORD)).status_code == 200


@pytest.mark.parametrize(
    "payload, field",
    [({"name": "tab\there"}, "name"), ({"name": 5}, "name"), ({"email": "x@example.org"}, "email")],
    ids=["control", "type", "not-changeable"],
)
def test_me_bad_update_is_422(client, payload, field):
    body = problem(client.patch("/api/v1/me", json=payload, headers=bearer(UserFactory())), 422)
    assert field in error_fields(body)


def test_me_wrong_method_is_405(client):
    problem(client.delete("/api/v1/me", headers=bearer(UserFactory())), 405)


# --- personal API tokens -----------------------------------------------------------------------------


def test_api_token_lifecycle(client):
    user = UserFactory()
    headers = bearer(user)
    created = client.post("/api/v1/me/tokens", json={"name": "nightly export"}, headers=headers)
    assert created.status_code == 201
    secret = created.json["token"]
    assert secret.startswith("mct_")
    assert secret.startswith(created.json["prefix"])

    as_script = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/me", headers=as_script).json["email"] == user.email

    listed = client.get("/api/v1/me/tokens", headers=headers)
    assert listed.status_code == 200
    assert [t["name"] for t in listed.json] == ["nightly export"]
    assert "token" not in listed.json[0]
    assert secret not in listed.get_data(as_text=True)
    assert listed.json[0]["last_used_at"] is not None

    r = client.delete(f"/api/v1/me/tokens/{created.json['id']}", headers=headers)
    assert r.status_code == 204
    problem(client.get("/api/v1/me", headers=as_script), 401)
    assert client.get("/api/v1/me/tokens", headers=headers).json[0]["revoked_at"] is not None


def test_api_token_expires(client):
    user = UserFactory()
    expires = (clock.now() + timedelta(days=1)).isoformat()
    created = client.post("/api/v1/me/tokens", json={"name": "short", "expires_at": expires}, headers=bearer(user))
    assert created.status_code == 201
    as_script = {"Authorization": f"Bearer {created.json['token']}"}
    assert client.get("/api/v1/me", headers=as_script).status_code == 200
    with clock.shifted(timedelta(days=2)):
        problem(client.get("/api/v1/me", headers=as_script), 401)


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"name": "old", "expires_at": "2001-01-01T00:00:00+00:00"}, "expires_at"),
        ({"name": "naive", "expires_at": "2999-01-01T00:00:00"}, "expires_at"),
        ({"name": "bad", "expires_at": "tomorrow"}, "expires_at"),
        ({"name": "n" * 10_000}, "name"),
        ({"name": "\x1b[31mred"}, "name"),
        ({}, "name"),
    ],
    ids=["past", "naive", "garbage", "huge", "control", "missing"],
)
def test_api_token_bad_input_is_422(client, payload, field):
    body = problem(client.post("/api/v1/me/tokens", json=payload, headers=bearer(UserFactory())), 422)
    assert field in error_fields(body)


def test_api_token_of_someone_else_cannot_be_revoked(client):
    owner, other = UserFactory(), UserFactory()
    created = client.post("/api/v1/me/tokens", json={"name": "mine"}, headers=bearer(owner))
    problem(client.delete(f"/api/v1/me/tokens/{created.json['id']}", headers=bearer(other)), 404)
    problem(client.delete("/api/v1/me/tokens/not-a-uuid", headers=bearer(owner)), 404)
    as_script = {"Authorization": f"Bearer {created.json['token']}"}
    assert client.get("/api/v1/me", headers=as_script).status_code == 200


def test_api_tokens_need_a_user(client):
    problem(client.get("/api/v1/me/tokens"), 401)
    problem(client.post("/api/v1/me/tokens", json={"name": "x"}), 401)


# --- /users (platform admins) ------------------------------------------------------------------------


def test_users_list_pages_and_filters(client, admin):
    for i in range(3):  # a name no random fixture name contains (the admin's own is random)
        UserFactory(name=f"Qwzpat {i}")
    UserFactory(name="100% real_name")
    r = client.get("/api/v1/users?page_size=2", headers=bearer(admin))
    assert r.status_code == 200
    assert len(r.json) == 2
    assert pagination(r)["total"] == 5
    assert pagination(r)["total_pages"] == 3
    last = client.get("/api/v1/users?page=3&page_size=2", headers=bearer(admin))
    assert len(last.json) == 1

    pats = client.get("/api/v1/users?q=qwzPAT", headers=bearer(admin))
    assert sorted(u["name"] for u in pats.json) == ["Qwzpat 0", "Qwzpat 1", "Qwzpat 2"]
    # LIKE wildcards in q are literal characters
    assert [u["name"] for u in client.get("/api/v1/users?q=%25", headers=bearer(admin)).json] == ["100% real_name"]
    assert [u["name"] for u in client.get("/api/v1/users?q=l_n", headers=bearer(admin)).json] == ["100% real_name"]


@pytest.mark.parametrize(
    "query, field",
    [
        ("page_size=1000", "page_size"),
        ("page=0", "page"),
        ("page=x", "page"),
        ("sort=name", "sort"),
        ("q=" + "q" * 201, "q"),
        ("q=%00", "q"),
    ],
    ids=["page-size", "page-zero", "page-type", "unknown", "q-huge", "q-nul"],
)
def test_users_list_bad_query_is_422(client, admin, query, field):
    body = problem(client.get(f"/api/v1/users?{query}", headers=bearer(admin)), 422)
    assert error_fields(body) == {field: f"#/{field}"}


def test_users_search_with_hostile_q_finds_nothing_and_breaks_nothing(client, admin):
    for q in (SQL, HTML, "%", "\\", "' OR '1'='1"):
        r = client.get("/api/v1/users", query_string={"q": q}, headers=bearer(admin))
        assert r.status_code == 200
        assert r.json == []
    assert client.get("/api/v1/users", headers=bearer(admin)).json[0]["id"] == str(admin.id)


def test_users_are_for_platform_admins_only(client, org_admin):
    problem(client.get("/api/v1/users", headers=bearer(org_admin)), 403)
    problem(
        client.post("/api/v1/users", json={"email": "x@example.org", "name": "X"}, headers=bearer(org_admin)),
        403,
    )
    problem(client.get("/api/v1/users"), 401)


def test_create_user_without_password_emails_a_link(client, admin):
    r = client.post("/api/v1/users", json={"email": "staff@example.org", "name": "Staff"}, headers=bearer(admin))
    assert r.status_code == 201
    assert r.json["is_platform_admin"] is False
    token = _reset_token_from_mail("staff@example.org")
    assert (
        client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD}).status_code
        == 204
    )
    assert client.get("/api/v1/me", headers=token_for(client, "staff@example.org", NEW_PASSWORD)).status_code == 200
    dup = client.post("/api/v1/users", json={"email": "Staff@example.org", "name": "Again"}, headers=bearer(admin))
    problem(dup, 409)


def test_get_user(client, admin):
    user = UserFactory()
    assert client.get(f"/api/v1/users/{user.id}", headers=bearer(admin)).json["email"] == user.email
    assert client.get(f"/api/v1/users/{user.id}", headers=bearer(user)).status_code == 200
    problem(client.get(f"/api/v1/users/{admin.id}", headers=bearer(user)), 404)  # as an unknown id
    problem(client.get(f"/api/v1/users/{uuid.uuid4()}", headers=bearer(admin)), 404)
    problem(client.get("/api/v1/users/1", headers=bearer(admin)), 404)


def test_deactivating_a_user_signs_them_out(client, admin):
    user = UserFactory()
    their_token = token_for(client, user.email)
    r = client.patch(f"/api/v1/users/{user.id}", json={"is_active": False}, headers=bearer(admin))
    assert r.status_code == 200
    assert r.json["is_active"] is False
    problem(client.get("/api/v1/me", headers=their_token), 401)
    problem(client.post("/api/v1/auth/token", json={"email": user.email, "password": TEST_PASSWORD}), 401)


def test_update_user_refusals(client, admin):
    problem(client.patch(f"/api/v1/users/{admin.id}", json={"is_active": False}, headers=bearer(admin)), 409)
    body = problem(
        client.patch(f"/api/v1/users/{admin.id}", json={"email": "x@example.org"}, headers=bearer(admin)), 422
    )
    assert "email" in error_fields(body)
    body = problem(client.patch(f"/api/v1/users/{admin.id}", json={"is_active": "maybe"}, headers=bearer(admin)), 422)
    assert "is_active" in error_fields(body)
    problem(client.patch(f"/api/v1/users/{uuid.uuid4()}", json={"name": "Ghost"}, headers=bearer(admin)), 404)


# --- organisations -----------------------------------------------------------------------------------


def test_create_organisation(client, admin):
    payload = {
        "slug": "north-uni",
        "name": "North University",
        "kind": "university",
        "url": "https://north.example.edu",
        "email": "badges@north.example.edu",
        "description": "Line one\nLine two",
    }
    r = client.post("/api/v1/organisations", json=payload, headers=bearer(admin))
    assert r.status_code == 201
    assert {k: r.json[k] for k in payload} == payload
    assert r.json["version"] == 1
    assert r.headers["ETag"]
    # the creator is its first org admin
    members = client.get(f"/api/v1/organisations/{r.json['id']}/members", headers=bearer(admin))
    assert members.json == [
        {
            "user": {"id": str(admin.id), "email": admin.email, "name": admin.name},
            "roles": ["org_admin"],
            "unit_id": None,
            "unit_name": None,
            "job_role": None,
        }
    ]


def test_create_organisation_for_another_first_admin(client, admin):
    head = UserFactory()
    payload = {"slug": "delegated", "name": "Delegated", "admin_user_id": str(head.id)}
    r = client.post("/api/v1/organisations", json=payload, headers=bearer(admin))
    assert r.status_code == 201
    assert client.get(f"/api/v1/organisations/{r.json['id']}", headers=bearer(head)).status_code == 200
    for bad in (str(uuid.uuid4()), "not-a-uuid"):
        payload = {"slug": "ghostly", "name": "Ghost", "admin_user_id": bad}
        body = problem(client.post("/api/v1/organisations", json=payload, headers=bearer(admin)), 422)
        assert error_fields(body) == {"admin_user_id": "#/admin_user_id"}


def test_create_organisation_duplicate_slug_is_409(client, admin, org):
    body = problem(
        client.post("/api/v1/organisations", json={"slug": org.slug, "name": "Copy"}, headers=bearer(admin)),
        409,
    )
    assert error_fields(body) == {"slug": "#/slug"}


def test_create_organisation_is_for_platform_admins_when_self_service_is_off(client, org_admin, app, monkeypatch):
    monkeypatch.setitem(app.config, "ALLOW_ORGANISATION_SIGNUP", False)
    problem(
        client.post("/api/v1/organisations", json={"slug": "mine", "name": "Mine"}, headers=bearer(org_admin)),
        403,
    )


def test_create_organisation_names_every_bad_field(client, admin):
    payload = {
        "slug": "Not A Slug!",
        "name": 123,
        "kind": "castle",
        "email": "nope",
        "url": "javascript:alert(1)",
        "colour": "red",
    }
    body = problem(client.post("/api/v1/organisations", json=payload, headers=bearer(admin)), 422)
    assert error_fields(body) == {
        "slug": "#/slug",
        "name": "#/name",
        "kind": "#/kind",
        "email": "#/email",
        "url": "#/url",
        "colour": "#/colour",
    }
    assert body["type"].endswith("/problems/validation-error")
    body = problem(client.post("/api/v1/organisations", json={"kind": "district"}, headers=bearer(admin)), 422)
    assert set(error_fields(body)) == {"name"}  # the slug may be left out: it is made from the name


@pytest.mark.parametrize(
    "name",
    ["Line\nbreak", "nul\x00byte", "escape\x1b[2J", "x" * 10_000, ""],
    ids=["newline", "nul", "escape", "huge", "empty"],
)
def test_organisation_bad_name_is_422(client, admin, name):
    body = problem(client.post("/api/v1/organisations", json={"slug": "ok", "name": name}, headers=bearer(admin)), 422)
    assert error_fields(body) == {"name": "#/name"}


@pytest.mark.parametrize("slug", ["-leading", "UPPER", "a" * 65, "sp ace", "ünï", "a/b", ""])
def test_organisation_bad_slug_is_422(client, admin, slug):
    body = problem(client.post("/api/v1/organisations", json={"slug": slug, "name": "N"}, headers=bearer(admin)), 422)
    assert error_fields(body) == {"slug": "#/slug"}


@pytest.mark.parametrize("name", [SQL, HTML, "Robert'); DELETE FROM organisations;--", "%_\\"])
def test_organisation_metacharacters_are_stored_and_returned_verbatim(client, admin, name):
    created = client.post(
        "/api/v1/organisations",
        json={"slug": "meta", "name": name, "description": HTML},
        headers=bearer(admin),
    )
    assert created.status_code == 201
    assert created.mimetype == "application/json"
    assert created.json["name"] == name
    fetched = client.get(f"/api/v1/organisations/{created.json['id']}", headers=bearer(admin))
    assert fetched.json["name"] == name
    assert fetched.json["description"] == HTML
    found = client.get("/api/v1/organisations", query_string={"q": name}, headers=bearer(admin))
    assert found.status_code == 200
    assert [o["name"] for o in found.json] == [name]


def test_organisations_list_is_tenant_scoped_paged_and_filtered(client, admin, org, org_admin):
    OrganisationFactory(name="Lakeside College", slug="lakeside", kind="university")
    OrganisationFactory(name="Hill Agency", slug="hill", kind="state_agency")
    mine = client.get("/api/v1/organisations", headers=bearer(org_admin))
    assert [o["slug"] for o in mine.json] == ["riverside"]
    assert pagination(mine)["total"] == 1

    everything = client.get("/api/v1/organisations?page_size=2", headers=bearer(admin))
    assert pagination(everything)["total"] == 3
    assert [o["name"] for o in everything.json] == ["Hill Agency", "Lakeside College"]
    by_kind = client.get("/api/v1/organisations?kind=university", headers=bearer(admin))
    assert [o["slug"] for o in by_kind.json] == ["lakeside"]
    by_q = client.get("/api/v1/organisations?q=SIDE", headers=bearer(admin))
    assert [o["slug"] for o in by_q.json] == ["lakeside", "riverside"]
    assert pagination(by_q)["total"] == 2


@pytest.mark.parametrize(
    "query, field",
    [("kind=castle", "kind"), ("page_size=1000", "page_size"), ("page=0", "page"), ("name=x", "name")],
)
def test_organisations_list_bad_query_is_422(client, admin, query, field):
    body = problem(client.get(f"/api/v1/organisations?{query}", headers=bearer(admin)), 422)
    assert error_fields(body) == {field: f"#/{field}"}


def test_get_organisation(client, org, org_admin):
    r = client.get(f"/api/v1/organisations/{org.id}", headers=bearer(org_admin))
    assert r.status_code == 200
    assert r.json["slug"] == "riverside"
    assert r.headers["ETag"]


def test_get_organisation_of_another_tenant_is_403(client, org, org_admin):
    other = OrganisationFactory()
    problem(client.get(f"/api/v1/organisations/{other.id}", headers=bearer(org_admin)), 403)
    problem(client.get(f"/api/v1/organisations/{org.id}", headers=bearer(UserFactory())), 403)


def test_get_organisation_unknown_or_malformed_id_is_404(client, org_admin):
    problem(client.get(f"/api/v1/organisations/{uuid.uuid4()}", headers=bearer(org_admin)), 404)
    problem(client.get("/api/v1/organisations/1%20OR%201=1", headers=bearer(org_admin)), 404)
    problem(client.get("/api/v1/organisations/riverside", headers=bearer(org_admin)), 404)


def test_unknown_route_and_wrong_method(client, org, org_admin):
    body = problem(client.get("/api/v1/no-such-thing", headers=bearer(org_admin)), 404)
    assert body["type"].endswith("/problems/not-found")
    body = problem(client.delete(f"/api/v1/organisations/{org.id}", headers=bearer(org_admin)), 405)
    assert body["type"].endswith("/problems/method-not-allowed")


def test_update_organisation_with_if_match(client, org, org_admin):
    headers = bearer(org_admin)
    etag = client.get(f"/api/v1/organisations/{org.id}", headers=headers).headers["ETag"]

    r = client.patch(
        f"/api/v1/organisations/{org.id}",
        json={"name": "Riverside USD"},
        headers={**headers, "If-Match": etag},
    )
    assert r.status_code == 200
    assert r.json["name"] == "Riverside USD"
    new_etag = r.headers["ETag"]
    assert new_etag != etag
    assert client.get(f"/api/v1/organisations/{org.id}", headers=headers).headers["ETag"] == new_etag

    stale = client.patch(
        f"/api/v1/organisations/{org.id}", json={"name": "Lost update"}, headers={**headers, "If-Match": etag}
    )
    body = problem(stale, 412)
    assert body["type"].endswith("/problems/precondition-failed")
    assert client.get(f"/api/v1/organisations/{org.id}", headers=headers).json["name"] == "Riverside USD"

    again = client.patch(
        f"/api/v1/organisations/{org.id}",
        json={"kind": "nonprofit"},
        headers={**headers, "If-Match": new_etag},
    )
    assert again.status_code == 200


def test_update_organisation_if_match_naming_another_resource_is_412(client, org, org_admin):
    other = OrganisationFactory()
    foreign = f'W/"organisation-{other.id}-v1"'
    for tag in (foreign, '"garbage"'):
        r = client.patch(
            f"/api/v1/organisations/{org.id}",
            json={"name": "X"},
            headers={**bearer(org_admin), "If-Match": tag},
        )
        problem(r, 412)


def test_update_organisation_without_if_match_or_with_star(client, org, org_admin):
    headers = bearer(org_admin)
    assert client.patch(f"/api/v1/organisations/{org.id}", json={"name": "A"}, headers=headers).status_code == 200
    r = client.patch(f"/api/v1/organisations/{org.id}", json={"name": "B"}, headers={**headers, "If-Match": "*"})
    assert r.status_code == 200


def test_update_organisation_needs_org_admin(client, org):
    author = member(org, Role.AUTHOR)
    earner = UserFactory()
    body = problem(
        client.patch(f"/api/v1/organisations/{org.id}", json={"name": "Mine now"}, headers=bearer(author)),
        403,
    )
    assert body["type"].endswith("/problems/forbidden")
    problem(
        client.patch(f"/api/v1/organisations/{org.id}", json={"name": "Mine now"}, headers=bearer(earner)),
        403,
    )
    problem(client.patch(f"/api/v1/organisations/{org.id}", json={"name": "Mine now"}), 401)


def test_update_organisation_duplicate_slug_is_409(client, org, org_admin):
    OrganisationFactory(slug="taken")
    body = problem(
        client.patch(f"/api/v1/organisations/{org.id}", json={"slug": "taken"}, headers=bearer(org_admin)),
        409,
    )
    assert error_fields(body) == {"slug": "#/slug"}


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"name": 123}, "name"),
        ({"slug": "No Good"}, "slug"),
        ({"id": str(uuid.uuid4())}, "id"),
        ({"version": 7}, "version"),
        ({"description": "d" * 5001}, "description"),
    ],
    ids=["name-type", "slug", "id", "version", "description-huge"],
)
def test_update_organisation_bad_input_is_422(client, org, org_admin, payload, field):
    body = problem(client.patch(f"/api/v1/organisations/{org.id}", json=payload, headers=bearer(org_admin)), 422)
    assert error_fields(body) == {field: f"#/{field}"}


@pytest.mark.parametrize("body", [[{"name": "x"}], "name"], ids=["array", "string"])
def test_update_organisation_body_not_an_object_is_422(client, org, org_admin, body):
    problem(client.patch(f"/api/v1/organisations/{org.id}", json=body, headers=bearer(org_admin)), 422)


def test_update_organisation_form_body_is_415(client, org, org_admin):
    r = client.patch(f"/api/v1/organisations/{org.id}", data={"name": "Form"}, headers=bearer(org_admin))
    problem(r, 415)


# --- members -----------------------------------------------------------------------------------------


def test_members_list_filters_by_role_and_q(client, org, org_admin):
    member(org, Role.AUTHOR, name="Ann Author")
    member(org, Role.ASSESSOR, Role.AUTHOR, name="Asa Assessor")
    member(OrganisationFactory(), Role.AUTHOR, name="Outside Author")
    url = f"/api/v1/organisations/{org.id}/members"
    everyone = client.get(url, headers=bearer(org_admin))
    assert pagination(everyone)["total"] == 3
    authors = client.get(f"{url}?role=author", headers=bearer(org_admin))
    assert [(m["user"]["name"], m["roles"]) for m in authors.json] == [
        ("Ann Author", ["author"]),
        ("Asa Assessor", ["assessor", "author"]),
    ]
    asa = client.get(f"{url}?q=asa", headers=bearer(org_admin))
    assert [m["user"]["name"] for m in asa.json] == ["Asa Assessor"]
    problem(client.get(f"{url}?role=emperor", headers=bearer(org_admin)), 422)
    problem(client.get(f"{url}?team=x", headers=bearer(org_admin)), 422)


def test_members_are_for_org_admins(client, org):
    author = member(org, Role.AUTHOR)
    problem(client.get(f"/api/v1/organisations/{org.id}/members", headers=bearer(author)), 403)
    problem(client.get(f"/api/v1/organisations/{uuid.uuid4()}/members", headers=bearer(author)), 404)


def test_set_and_remove_member_roles(client, org, org_admin):
    author = member(org, Role.AUTHOR)
    url = f"/api/v1/organisations/{org.id}/members/{author.id}"
    r = client.put(url, json={"roles": ["assessor", "author"]}, headers=bearer(org_admin))
    assert r.status_code == 200
    assert r.json["roles"] == ["assessor", "author"]
    assert client.delete(url, headers=bearer(org_admin)).status_code == 204
    listed = client.get(f"/api/v1/organisations/{org.id}/members", headers=bearer(org_admin))
    assert [m["user"]["id"] for m in listed.json] == [str(org_admin.id)]
    problem(client.put(url, json={"roles": ["author"]}, headers=bearer(org_admin)), 404)


def test_set_member_roles_refusals(client, org, org_admin):
    url = f"/api/v1/organisations/{org.id}/members/{org_admin.id}"
    body = problem(client.put(url, json={"roles": ["author"]}, headers=bearer(org_admin)), 409)
    assert "org admin" in body["detail"]
    body = problem(client.put(url, json={"roles": ["org_admin", "emperor"]}, headers=bearer(org_admin)), 422)
    assert error_fields(body) == {"roles.1": "#/roles/1"}
    body = problem(client.put(url, json={"roles": "org_admin"}, headers=bearer(org_admin)), 422)
    assert "roles" in error_fields(body)
    problem(client.put(url, json={}, headers=bearer(org_admin)), 422)
    problem(
        client.put(
            f"/api/v1/organisations/{org.id}/members/{uuid.uuid4()}",
            json={"roles": []},
            headers=bearer(org_admin),
        ),
        404,
    )


# --- invitations -------------------------------------------------------------------------------------


def test_invitations_list_and_revoke(client, org, org_admin):
    first = _invite(client, org, org_admin, "one@example.org", ["author"])
    _invite(client, org, org_admin, "two@example.org", ["assessor"])
    listed = client.get(f"/api/v1/organisations/{org.id}/invitations", headers=bearer(org_admin))
    assert pagination(listed)["total"] == 2
    assert {i["email"] for i in listed.json} == {"one@example.org", "two@example.org"}
    assert all("accept_url" not in i for i in listed.json)

    url = f"/api/v1/organisations/{org.id}/invitations/{first['id']}"
    r = client.delete(url, headers=bearer(org_admin))
    assert r.status_code == 200
    assert r.json["state"] == "revoked"
    problem(client.delete(url, headers=bearer(org_admin)), 409)
    token = first["accept_url"].rsplit("/", 1)[1]
    accept = client.post(
        "/api/v1/auth/invitations/accept", json={"token": token, "name": "O", "password": NEW_PASSWORD}
    )
    problem(accept, 422)


def test_invitation_of_another_organisation_is_404(client, org, org_admin):
    elsewhere = InvitationFactory(organisation=OrganisationFactory())
    problem(
        client.delete(f"/api/v1/organisations/{org.id}/invitations/{elsewhere.id}", headers=bearer(org_admin)),
        404,
    )
    problem(
        client.delete(f"/api/v1/organisations/{org.id}/invitations/{uuid.uuid4()}", headers=bearer(org_admin)),
        404,
    )
    problem(client.delete(f"/api/v1/organisations/{org.id}/invitations/xyz", headers=bearer(org_admin)), 404)


def test_invitations_need_org_admin_of_that_organisation(client, org, org_admin):
    other = OrganisationFactory()
    author = member(org, Role.AUTHOR)
    payload = {"email": "x@example.org", "roles": ["author"]}
    problem(
        client.post(f"/api/v1/organisations/{other.id}/invitations", json=payload, headers=bearer(org_admin)),
        403,
    )
    problem(client.post(f"/api/v1/organisations/{org.id}/invitations", json=payload, headers=bearer(author)), 403)
    problem(client.get(f"/api/v1/organisations/{org.id}/invitations", headers=bearer(author)), 403)
    assert mail.sent == []


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"email": "x@example.org", "roles": []}, "roles"),
        ({"email": "x@example.org", "roles": ["king"]}, "roles.0"),
        ({"email": "not an email", "roles": ["author"]}, "email"),
        ({"email": "x@example.org"}, "roles"),
        ({"email": "x@example.org", "roles": ["author"], "message": "hi"}, "message"),
    ],
    ids=["no-roles", "bad-role", "bad-email", "missing-roles", "unknown"],
)
def test_invite_bad_input_is_422(client, org, org_admin, payload, field):
    body = problem(
        client.post(f"/api/v1/organisations/{org.id}/invitations", json=payload, headers=bearer(org_admin)),
        422,
    )
    assert field in error_fields(body)


def test_inviting_someone_who_already_holds_the_roles_is_409(client, org, org_admin):
    author = member(org, Role.AUTHOR)
    payload = {"email": author.email, "roles": ["author"]}
    problem(
        client.post(f"/api/v1/organisations/{org.id}/invitations", json=payload, headers=bearer(org_admin)),
        409,
    )


def test_invitations_list_bad_query_is_422(client, org, org_admin):
    url = f"/api/v1/organisations/{org.id}/invitations"
    problem(client.get(f"{url}?state=pending", headers=bearer(org_admin)), 422)
    problem(client.get(f"{url}?page_size=101", headers=bearer(org_admin)), 422)


# --- audit log ---------------------------------------------------------------------------------------


def test_organisation_audit_log(client, org, org_admin):
    headers = bearer(org_admin)
    client.patch(f"/api/v1/organisations/{org.id}", json={"name": "Renamed"}, headers=headers)
    _invite(client, org, org_admin, "a@example.org", ["author"])
    r = client.get(f"/api/v1/organisations/{org.id}/audit-events", headers=headers)
    assert r.status_code == 200
    assert [e["action"] for e in r.json] == ["invitation.created", "organisation.updated"]
    assert r.json[1]["before"]["name"] == "Riverside District"
    assert r.json[1]["after"]["name"] == "Renamed"
    assert r.json[1]["actor_id"] == str(org_admin.id)
    filtered = client.get(f"/api/v1/organisations/{org.id}/audit-events?action=organisation.updated", headers=headers)
    assert [e["action"] for e in filtered.json] == ["organisation.updated"]
    assert pagination(filtered)["total"] == 1


@pytest.mark.parametrize(
    "query, field",
    [
        ("actor_id=nope", "actor_id"),
        ("since=yesterday", "since"),
        ("action=a%00b", "action"),
        ("who=me", "who"),
    ],
)
def test_audit_bad_query_is_422(client, org, org_admin, query, field):
    body = problem(client.get(f"/api/v1/organisations/{org.id}/audit-events?{query}", headers=bearer(org_admin)), 422)
    assert error_fields(body) == {field: f"#/{field}"}


def test_audit_access(client, admin, org, org_admin):
    author = member(org, Role.AUTHOR)
    problem(client.get(f"/api/v1/organisations/{org.id}/audit-events", headers=bearer(author)), 403)
    problem(client.get("/api/v1/audit-events", headers=bearer(org_admin)), 403)
    client.patch(f"/api/v1/organisations/{org.id}", json={"name": "Renamed"}, headers=bearer(org_admin))
    everything = client.get("/api/v1/audit-events", headers=bearer(admin))
    assert everything.status_code == 200
    assert "organisation.updated" in [e["action"] for e in everything.json]


# --- failed requests change nothing ------------------------------------------------------------------


def test_a_refused_request_writes_nothing(client, org, org_admin):
    headers = bearer(org_admin)
    before = client.get(f"/api/v1/organisations/{org.id}", headers=headers).json
    problem(
        client.patch(f"/api/v1/organisations/{org.id}", json={"name": "Half", "slug": "BAD"}, headers=headers),
        422,
    )
    problem(
        client.put(f"/api/v1/organisations/{org.id}/members/{org_admin.id}", json={"roles": []}, headers=headers),
        409,
    )
    after = client.get(f"/api/v1/organisations/{org.id}", headers=headers).json
    assert after == before
    events = client.get(f"/api/v1/organisations/{org.id}/audit-events", headers=headers).json
    assert events == []


# --- OpenAPI, docs, health ---------------------------------------------------------------------------


def test_openapi_document(client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    spec = r.json
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] and spec["info"]["version"]
    for path in (
        "/api/v1/auth/token",
        "/api/v1/auth/register",
        "/api/v1/auth/password-reset",
        "/api/v1/auth/invitations/accept",
        "/api/v1/me",
        "/api/v1/me/tokens",
        "/api/v1/users",
        "/api/v1/organisations",
        "/api/v1/organisations/{organisation_id}",
        "/api/v1/organisations/{organisation_id}/invitations",
        "/api/v1/audit-events",
    ):
        assert path in spec["paths"], path
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    assert spec["security"] == [{"bearerAuth": []}]
    token = spec["paths"]["/api/v1/auth/token"]["post"]
    assert token["security"] == []  # signing in needs no token
    assert {"200", "401", "422", "429"} <= set(token["responses"])


def test_openapi_document_validates(client):
    """Generated clients and contract testers refuse a document that breaks the OpenAPI 3.0 schema."""
    spec = client.get("/api/v1/openapi.json").json
    validate(spec, cls=OpenAPIV30SpecValidator)  # raises, naming the first invalid place


def test_openapi_documents_every_error_as_the_problem_document_we_send(client, admin):
    spec = client.get("/api/v1/openapi.json").json
    problem_schema = spec["components"]["schemas"]["Problem"]
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            for code, response in operation.get("responses", {}).items() if isinstance(operation, dict) else ():
                if code == "default" or int(code) >= 400:
                    assert list(response["content"]) == ["application/problem+json"], (method, path, code)
    for answer in (
        client.get("/api/v1/organisations/" + str(uuid.uuid4()), headers=bearer(admin)),  # 404
        client.post("/api/v1/auth/token", json={"email": 3}),  # 422 naming the field
        client.get("/api/v1/me"),  # 401
    ):
        assert answer.mimetype == "application/problem+json"
        jsonschema.validate(answer.json, problem_schema)
        assert set(answer.json) <= set(problem_schema["properties"])


def test_openapi_validation_catches_an_openapi_2_form_parameter(client):
    spec = client.get("/api/v1/openapi.json").json
    post = spec["paths"]["/api/v1/standards/frameworks"]["post"]
    post.setdefault("parameters", []).append({"in": "formData", "name": "note", "schema": {"type": "string"}})
    with pytest.raises(OpenAPIValidationError):
        validate(spec, cls=OpenAPIV30SpecValidator)


def test_api_docs_page_uses_only_local_assets(client):
    r = client.get("/api/v1/docs")
    assert r.status_code == 200
    assert r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assets = re.findall(r"""(?:src|href)="([^"]+)\"""", html)
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets)
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200, asset
        assert served.get_data()
    assert "/api/v1/openapi.json" in html
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in r.headers["Content-Security-Policy"]


def test_api_docs_asset_outside_the_bundle_is_404(client):
    assert client.get("/api/v1/docs/assets/../../../../etc/passwd").status_code == 404
    assert client.get("/api/v1/docs/assets/%2e%2e/__init__.py").status_code == 404


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json == {"status": "ok"}


def test_readyz(client):
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json == {"status": "ready", "checks": {"database": "ok", "migrations": "ok"}}


def test_api_responses_carry_security_headers(client):
    for r in (client.get("/api/v1/me", headers=bearer(UserFactory())), client.get("/api/v1/me")):
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
        assert r.headers["Referrer-Policy"]
