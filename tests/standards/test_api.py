"""The standards API over HTTP: wiring, status codes, problem documents and hostile input."""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from core.models import Role
from standards import imports
from standards.models import Framework, StandardItem
from tests.conftest import bearer, problem
from tests.factories import OrganisationFactory, UserFactory, member
from tests.standards.packages import as_bytes, package

PROBLEM = "application/problem+json"
BASE = "/api/v1/standards"


def upload(client, user, data: bytes, *, filename="framework.json", **form: Any):
    return client.post(
        f"{BASE}/frameworks",
        data={"file": (io.BytesIO(data), filename), **form},
        content_type="multipart/form-data",
        headers=bearer(user) if user else {},
    )


@pytest.fixture
def org():
    return OrganisationFactory()


@pytest.fixture
def org_admin(org):
    return member(org, Role.ORG_ADMIN)


@pytest.fixture
def loaded(session):
    admin = UserFactory(is_platform_admin=True)
    return imports.load_bundled(actor=admin)


def by_title(reports, prefix):
    return next(r for r in reports if r.title.startswith(prefix))


# --- reading (public) --------------------------------------------------------------------------------


def test_list_frameworks_is_public_paginated_and_filtered(client, loaded):
    r = client.get(f"{BASE}/frameworks?page_size=2")
    assert r.status_code == 200
    assert len(r.json) == 2
    assert json.loads(r.headers["X-Pagination"])["total"] == len(loaded)
    r = client.get(f"{BASE}/frameworks?q=iste")
    assert [f["title"] for f in r.json] == ["ISTE Standards for Educators"]
    framework = r.json[0]
    assert framework["url"] == f"http://localhost/standards/frameworks/{framework['id']}"
    assert "ISTE" in framework["notes"] and framework["item_count"] == 13


def test_get_framework_and_tree(client, loaded):
    intasc = by_title(loaded, "InTASC")
    r = client.get(f"{BASE}/frameworks/{intasc.framework_id}")
    assert r.status_code == 200 and r.json["case_identifier"] == intasc.case_identifier
    tree = client.get(f"{BASE}/frameworks/{intasc.framework_id}/tree").json
    assert [n["full_statement"] for n in tree] == [
        "The Learner and Learning",
        "Content Knowledge",
        "Instructional Practice",
        "Professional Responsibility",
    ]
    assert [c["human_coding_scheme"] for c in tree[0]["children"]] == ["InTASC.1", "InTASC.2", "InTASC.3"]


def test_search_items_with_pagination_header(client, loaded):
    r = client.get(f"{BASE}/items", query_string={"q": "InTASC", "page_size": 3})
    assert r.status_code == 200 and len(r.json) == 3
    assert json.loads(r.headers["X-Pagination"])["total"] == 10
    item = client.get(f"{BASE}/items", query_string={"q": "InTASC.7"}).json[0]
    assert item["human_coding_scheme"] == "InTASC.7"
    assert item["alignment_url"] == item["url"] == f"http://localhost/standards/items/{item['id']}"


@pytest.mark.parametrize(
    "q", ["%", "_%_", "'; DROP TABLE standard_items; --", "<script>alert(1)</script>", "\\", '"unclosed']
)
def test_search_metacharacters_are_harmless(client, session, loaded, q):
    everything = session.scalar(select(func.count()).select_from(StandardItem))
    r = client.get(f"{BASE}/items", query_string={"q": q})
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert "<script>" not in r.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(StandardItem)) == everything


def test_search_arguments_are_checked(client, loaded):
    problem(client.get(f"{BASE}/items", query_string={"q": "x" * 201}), 422)
    problem(client.get(f"{BASE}/items", query_string={"framework_id": "not-a-uuid"}), 422)
    problem(client.get(f"{BASE}/items", query_string={"qq": "typo"}), 422)


def test_get_item_with_parent_chain_children_and_associations(client, loaded):
    math = by_title(loaded, "What Standards")
    found = client.get(f"{BASE}/items", query_string={"q": "6.RP.A.1", "framework_id": str(math.framework_id)})
    item_id = found.json[0]["id"]
    r = client.get(f"{BASE}/items/{item_id}")
    assert r.status_code == 200
    body = r.json
    assert body["human_coding_scheme"] == "CCSS.Math.Content.6.RP.A.1"
    assert [a["human_coding_scheme"] for a in body["ancestors"]] == ["CCSS.Math.Content.6.RP.A"]
    assert body["framework"]["id"] == str(math.framework_id)
    assert body["alignment_url"] == body["uri"]  # an http(s) URI of its own
    kinds = {(a["association_type"], a["direction"]) for a in body["associations"]}
    assert kinds == {("exactMatchOf", "outgoing"), ("precedes", "outgoing")}
    assert body["obsolete"] is False and body["obsolete_at"] is None


def test_unknown_ids_are_404_problems(client, loaded):
    for path in (
        f"/frameworks/{uuid.uuid4()}",
        f"/frameworks/{uuid.uuid4()}/tree",
        f"/items/{uuid.uuid4()}",
    ):
        problem(client.get(BASE + path), 404)
    problem(client.get(f"{BASE}/items/not-a-uuid"), 404)


# --- import ------------------------------------------------------------------------------------------


def test_org_admin_imports_then_reimports(client, session, org, org_admin):
    r = upload(client, org_admin, as_bytes(package()), organisation_id=str(org.id))
    assert r.status_code == 201, r.json
    report = r.json
    assert report["created"] is True and report["items"] == 4
    framework = session.get(Framework, uuid.UUID(report["framework_id"]))
    assert framework.imported_by_organisation_id == org.id
    assert "framework.json" in framework.source_note

    smaller = package([("a", "T.1", "Read closely", None)])
    r = upload(client, org_admin, as_bytes(smaller))
    assert r.status_code == 200, r.json
    assert r.json["created"] is False and r.json["items_obsoleted"] == 3
    r = upload(client, org_admin, as_bytes(smaller))
    assert r.status_code == 200 and r.json["unchanged"] is True


def test_import_refuses_malformed_packages_naming_the_place(client, session, org, org_admin):
    data = package()
    data["CFItems"][2]["identifier"] = "a"
    body = problem(upload(client, org_admin, as_bytes(data), organisation_id=str(org.id)), 422)
    assert body["errors"][0]["pointer"] == "#/CFItems/2/identifier"
    assert "#/CFItems/2/identifier" in body["detail"]

    body = problem(upload(client, org_admin, b'{"CFDocument": ', organisation_id=str(org.id)), 422)
    assert "not valid JSON" in body["detail"] and body["errors"][0]["pointer"] == "#"
    assert session.scalar(select(func.count()).select_from(Framework)) == 0


def test_import_wrong_content_type_is_415(client, org_admin):
    r = client.post(f"{BASE}/frameworks", json=package(), headers=bearer(org_admin))
    problem(r, 415)


def test_import_over_the_size_limit_is_413(client, app, org, org_admin, monkeypatch):
    monkeypatch.setitem(app.config, "STANDARDS_MAX_UPLOAD", 1000)
    problem(upload(client, org_admin, b" " * 5000 + as_bytes(package()), organisation_id=str(org.id)), 413)
    monkeypatch.setitem(app.config, "STANDARDS_MAX_UPLOAD", 10_000)
    assert upload(client, org_admin, as_bytes(package()), organisation_id=str(org.id)).status_code == 201


def test_imports_may_exceed_the_general_body_limit(client, app, org, org_admin, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1000)
    data = package()
    data["CFDocument"]["description"] = "x" * 5000
    assert upload(client, org_admin, as_bytes(data), organisation_id=str(org.id)).status_code == 201


def test_import_needs_an_org_admin(client, org):
    problem(upload(client, None, as_bytes(package())), 401)
    author = member(org, Role.AUTHOR)
    problem(upload(client, author, as_bytes(package()), organisation_id=str(org.id)), 403)
    outsider = UserFactory()
    problem(upload(client, outsider, as_bytes(package()), organisation_id=str(org.id)), 403)
    other_admin = member(OrganisationFactory(), Role.ORG_ADMIN)
    problem(upload(client, other_admin, as_bytes(package()), organisation_id=str(org.id)), 403)


def test_import_form_is_checked(client, org, org_admin):
    body = problem(
        client.post(
            f"{BASE}/frameworks",
            data={"organisation_id": str(org.id)},
            content_type="multipart/form-data",
            headers=bearer(org_admin),
        ),
        422,
    )
    assert "file" in json.dumps(body["errors"])
    problem(upload(client, org_admin, as_bytes(package()), organisation_id="nope"), 422)
    problem(upload(client, org_admin, as_bytes(package()), organisation_id=str(org.id), extra="x"), 422)
    body = problem(upload(client, org_admin, as_bytes(package())), 422)  # a new framework needs an owner
    assert body["errors"][0]["field"] == "organisation_id"


def test_openapi_documents_the_standards_api(client):
    spec = client.get("/api/v1/openapi.json").json
    assert {"/api/v1/standards/frameworks", "/api/v1/standards/items/{item_id}"} <= set(spec["paths"])
    post = spec["paths"]["/api/v1/standards/frameworks"]["post"]
    assert "multipart/form-data" in post["requestBody"]["content"]
