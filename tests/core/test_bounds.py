"""Every list is bounded: hostile ``page``/``page_size``/``q`` values on every paginated route (found from the
URL map, so a new list is walked without anyone remembering to add it) get a 422 problem document on the API
and a clamped page on the web, never a 500."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask

from core.db import MAX_PAGE
from core.models import Role
from tests.conftest import bearer, problem
from tests.core.test_web import BROWSER, sign_in
from tests.factories import FrameworkFactory, OrganisationFactory, UserFactory, member

OVERFLOWING = ["99999999999999999999", str(MAX_PAGE + 1), "9" * 400]
NOT_A_PAGE = ["0", "-1", "abc", "1e9", "1.5", ""]


def _view_method(app: Flask, endpoint: str, method: str) -> Any:
    view = app.view_functions[endpoint]
    view_class = getattr(view, "view_class", None)
    return getattr(view_class, method, None) if view_class else view


def _query_fields(target: Any) -> set[str]:
    """Query arguments an API view declares (flask-smorest keeps them in ``_apidoc``)."""
    names: set[str] = set()
    for argument in getattr(target, "_apidoc", {}).get("arguments", {}).get("parameters", []):
        if argument.get("in") == "query":
            schema = argument["schema"]
            names |= set((schema() if isinstance(schema, type) else schema).fields)
    return names


def paged_api_routes(app: Flask) -> list[str]:
    """Every GET under /api/v1 that takes ``page`` (flask-smorest pagination or its own query schema)."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or "GET" not in rule.methods:
            continue
        target = _view_method(app, rule.endpoint, "get")
        apidoc = getattr(target, "_apidoc", {})
        if "pagination" in apidoc or "page" in _query_fields(target):
            routes.append(rule.rule)
    return routes


def page_routes(app: Flask) -> list[str]:
    """Every GET web page (not the API, not static files)."""
    return [
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and not rule.rule.startswith("/api/") and "static" not in rule.endpoint
    ]


def fill(rule: str, values: dict[str, str]) -> str:
    """The rule's URL with each ``<converter:name>`` replaced by ``values[name]`` (a random id otherwise)."""
    import re

    def value(match: re.Match[str]) -> str:
        name = match.group(2)
        if match.group(1) == "any":
            return match.group(0).split("(")[1].split(",")[0].strip()
        return values.get(name, str(uuid.uuid4()))

    return re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", value, rule)


@pytest.fixture
def world() -> dict[str, Any]:
    organisation = OrganisationFactory()
    admin = member(organisation, Role.ORG_ADMIN, Role.AUTHOR, Role.ASSESSOR)
    admin.is_platform_admin = True
    framework = FrameworkFactory()
    return {"admin": admin, "values": {"organisation_id": str(organisation.id), "framework_id": str(framework.id)}}


def test_the_walk_finds_the_lists(app: Flask) -> None:
    routes = paged_api_routes(app)
    for expected in (
        "/api/v1/catalogue",
        "/api/v1/submissions",
        "/api/v1/standards/items",
        "/api/v1/me/badges",
        "/api/v1/organisations/<uuid:organisation_id>/members",
        "/api/v1/audit-events",
        "/api/v1/organisations/<uuid:organisation_id>/review-queue",
    ):
        assert expected in routes
    assert len(routes) >= 15


@pytest.mark.parametrize("value", OVERFLOWING + NOT_A_PAGE)
def test_every_api_list_refuses_a_hostile_page(app: Flask, client: Any, world: dict[str, Any], value: str) -> None:
    headers = bearer(world["admin"])
    for rule in paged_api_routes(app):
        url = fill(rule, world["values"])
        r = client.get(url, query_string={"page": value}, headers=headers)
        body = problem(r, 422)
        assert [e["field"] for e in body.get("errors", [])] == ["page"], (url, body)
        r = client.get(url, query_string={"page_size": value}, headers=headers)
        assert [e["field"] for e in problem(r, 422).get("errors", [])] == ["page_size"], url


def test_every_api_list_answers_its_last_page(app: Flask, client: Any, world: dict[str, Any]) -> None:
    headers = bearer(world["admin"])
    for rule in paged_api_routes(app):
        r = client.get(fill(rule, world["values"]), query_string={"page": MAX_PAGE}, headers=headers)
        assert r.status_code == 200, (rule, r.get_data(as_text=True))


def test_the_public_catalogue_refuses_an_overflowing_page_without_signing_in(client: Any) -> None:
    body = problem(client.get("/api/v1/catalogue?page=99999999999999999999"), 422)
    assert body["errors"][0]["field"] == "page"
    assert str(MAX_PAGE) in body["errors"][0]["detail"]


@pytest.mark.parametrize("value", OVERFLOWING + NOT_A_PAGE)
def test_no_web_page_fails_on_hostile_paging(app: Flask, client: Any, world: dict[str, Any], value: str) -> None:
    sign_in(client, world["admin"].email)
    hostile = {"page": value, "page_size": value, "q": "x" * 5000, "state": value}
    for rule in page_routes(app):
        url = fill(rule, world["values"])
        r = client.get(url, query_string=hostile, headers=BROWSER)
        assert r.status_code < 500, (url, r.status_code)


def test_web_lists_clamp_an_overflowing_page(client: Any, world: dict[str, Any]) -> None:
    sign_in(client, world["admin"].email)
    organisation_id = world["values"]["organisation_id"]
    for url in ("/catalogue/", "/standards", f"/organisations/{organisation_id}/badges"):
        r = client.get(url, query_string={"page": OVERFLOWING[0], "q": "x"}, headers=BROWSER)
        assert r.status_code == 200, url


def test_long_search_text_is_refused_on_the_api(client: Any) -> None:
    user = UserFactory()
    for url in ("/api/v1/catalogue", "/api/v1/standards/items", "/api/v1/standards/frameworks"):
        r = client.get(url, query_string={"q": "x" * 201}, headers=bearer(user))
        assert problem(r, 422)["errors"][0]["field"] == "q", url
