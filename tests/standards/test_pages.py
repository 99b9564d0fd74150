"""Public framework and item pages: HTML for people, JSON for machines, stable URLs, obsolete items shown."""

from __future__ import annotations

import io
import json
import uuid

import pytest
from sqlalchemy import select

from standards import imports
from standards.models import StandardItem
from tests.factories import UserFactory
from tests.standards.packages import package

JSON = {"Accept": "application/json"}
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture
def admin(session):
    return UserFactory(is_platform_admin=True)


@pytest.fixture
def loaded(admin):
    return {r.title: r for r in imports.load_bundled(actor=admin)}


def item_with_code(session, code, framework_id=None):
    stmt = select(StandardItem).where(StandardItem.human_coding_scheme == code)
    if framework_id:
        stmt = stmt.where(StandardItem.framework_id == framework_id)
    return session.scalar(stmt)


def test_standards_index_lists_frameworks_with_a_search_box(client, loaded):
    r = client.get("/standards", headers=BROWSER)
    assert r.status_code == 200 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    for title in loaded:
        assert title.replace("&", "&amp;") in html
    assert 'type="search"' in html and 'name="q"' in html


def test_standards_index_search_finds_items_and_escapes_the_query(client, loaded):
    html = client.get("/standards", query_string={"q": "PSEL.3"}).get_data(as_text=True)
    assert "Equity and Cultural Responsiveness" in html
    html = client.get("/standards", query_string={"q": "<script>alert(1)</script>"}).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert client.get("/standards", query_string={"q": "%", "page": "-3"}).status_code == 200


def test_framework_page_shows_source_rights_and_the_tree_in_order(client, loaded):
    intasc = loaded["InTASC Model Core Teaching Standards (2011)"]
    r = client.get(f"/standards/frameworks/{intasc.framework_id}", headers=BROWSER)
    assert r.status_code == 200 and "Accept" in r.headers["Vary"]
    html = r.get_data(as_text=True)
    assert "Source and rights" in html and "(c) 2011 CCSSO" in html
    assert 'href="http://sydneyredigan.com/teaching/capstone-conversation/intasc-standards/"' in html
    assert "standards/data/educator/intasc-2011.compiled.case.json" in html  # where our copy comes from
    positions = [html.index(code + "</span>") for code in ("InTASC.1", "InTASC.2", "InTASC.3", "InTASC.4")]
    assert positions == sorted(positions)
    assert html.index("The Learner and Learning") < html.index("InTASC.1</span>")


def test_framework_page_searches_within_the_framework(client, loaded):
    iste = loaded["ISTE Standards for Educators"]
    html = client.get(f"/standards/frameworks/{iste.framework_id}", query_string={"q": "ISTE.2.2"}).get_data(
        as_text=True
    )
    assert "ISTE.2.2.a" in html and "ISTE.2.1.a" not in html


def test_framework_json_for_machines(client, loaded):
    psel = loaded["Professional Standards for Educational Leaders (PSEL) 2015"]
    for r in (
        client.get(f"/standards/frameworks/{psel.framework_id}", headers=JSON),
        client.get(f"/standards/frameworks/{psel.framework_id}.json"),
    ):
        assert r.status_code == 200 and r.mimetype == "application/json"
        assert r.json["case_identifier"] == psel.case_identifier
        assert [n["human_coding_scheme"] for n in r.json["tree"]][:2] == ["PSEL.1", "PSEL.2"]


def test_item_page_shows_code_statement_parent_chain_children_and_associations(client, session, loaded):
    math = loaded["What Standards Could Be"]
    cluster = item_with_code(session, "CCSS.Math.Content.6.RP.A.3", math.framework_id)
    html = client.get(f"/standards/items/{cluster.id}", headers=BROWSER).get_data(as_text=True)
    assert "CCSS.Math.Content.6.RP.A.3" in html and cluster.full_statement in html
    assert "What Standards Could Be" in html  # the framework, first of the parent chain
    assert "CCSS.Math.Content.6.RP.A</span>" in html  # the parent
    assert "CCSS.Math.Content.6.RP.A.3a" in html  # a child
    assert "precedes" in html and "exactMatchOf" in html
    assert f'href="{cluster.uri}"' in html  # cite as its own URI


def test_item_json_for_machines(client, session, loaded):
    item = item_with_code(session, "NBPTS.P3")
    for r in (
        client.get(f"/standards/items/{item.id}", headers=JSON),
        client.get(f"/standards/items/{item.id}.json"),
    ):
        assert r.status_code == 200 and r.mimetype == "application/json"
        assert r.json["human_coding_scheme"] == "NBPTS.P3"
        assert r.json["alignment_url"] == f"http://localhost/standards/items/{item.id}"  # urn:uuid URI
        assert r.json["framework"]["title"] == "NBPTS Five Core Propositions"


def test_obsolete_items_are_shown_as_obsolete_never_404(client, session, admin):
    report = imports.import_package(actor=admin, data=package())
    gone = session.scalar(select(StandardItem).where(StandardItem.case_identifier == "a2"))
    imports.import_package(actor=admin, data=package([("a", "T.1", "Read closely", None)]))
    r = client.get(f"/standards/items/{gone.id}", headers=BROWSER)
    assert r.status_code == 200
    assert "obsolete" in r.get_data(as_text=True)
    assert client.get(f"/standards/items/{gone.id}.json").json["obsolete"] is True
    html = client.get(f"/standards/frameworks/{report.framework_id}").get_data(as_text=True)
    assert "T.1.b" not in html  # not in the current tree
    assert "3 obsolete" in html


def test_unknown_ids_are_404_in_the_format_asked_for(client):
    missing = uuid.uuid4()
    r = client.get(f"/standards/items/{missing}", headers=BROWSER)
    assert r.status_code == 404 and r.mimetype == "text/html"
    r = client.get(f"/standards/items/{missing}", headers=JSON)
    assert r.status_code == 404 and r.mimetype == "application/problem+json"
    r = client.get(f"/standards/frameworks/{missing}.json")
    assert r.status_code == 404 and r.mimetype == "application/problem+json"
    assert client.get("/standards/items/not-a-uuid").status_code == 404


def test_package_text_cannot_inject_markup_or_links(client, session, admin):
    data = package([("a", "<b>X</b>", "<script>alert(1)</script>", None)])
    data["CFDocument"]["officialSourceURL"] = "javascript:alert(1)"
    data["CFDocument"]["notes"] = "<img src=x onerror=alert(1)>"
    report = imports.import_package(actor=admin, data=data)
    html = client.get(f"/standards/frameworks/{report.framework_id}").get_data(as_text=True)
    assert "<script>alert(1)" not in html and "<img src=x" not in html and "<b>X</b>" not in html
    assert 'href="javascript:' not in html
    item = session.scalar(select(StandardItem).where(StandardItem.framework_id == report.framework_id))
    html = client.get(f"/standards/items/{item.id}").get_data(as_text=True)
    assert "<script>alert(1)" not in html


def test_pages_have_stable_urls_in_the_json(client, session, loaded):
    item = item_with_code(session, "ISTE.2.1")
    body = client.get(f"/standards/items/{item.id}.json").get_data(as_text=True)
    assert json.loads(body)["url"] == f"http://localhost/standards/items/{item.id}"


# --- the import page ----------------------------------------------------------------------------------


def _import_page(client, user):
    from tests.core.test_web import page, sign_in

    sign_in(client, user.email)
    r, token = page(client, "/standards/import")
    return r, token


def test_the_import_page_asks_visitors_to_sign_in_and_refuses_non_admins(client, session):
    r = client.get("/standards/import", headers=BROWSER)
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    from tests.core.test_web import sign_in

    sign_in(client, UserFactory().email)
    r = client.get("/standards/import", headers=BROWSER)
    assert r.status_code == 403 and "Only organisation admins" in r.get_data(as_text=True)


def test_an_org_admin_imports_a_case_file_on_the_page(client, session):
    from core.models import Role
    from tests.factories import OrganisationFactory, member

    org = OrganisationFactory(name="Harbour District")
    admin = member(org, Role.ORG_ADMIN)
    _r, token = _import_page(client, admin)
    data = {
        "csrf_token": token,
        "action": "upload",
        "organisation_id": str(org.id),
        "file": (io.BytesIO(json.dumps(package()).encode()), "framework.json"),
    }
    r = client.post("/standards/import", data=data, headers=BROWSER, content_type="multipart/form-data")
    assert r.status_code == 302 and "/standards/frameworks/" in r.headers["Location"]
    html = client.get(r.headers["Location"], headers=BROWSER).get_data(as_text=True)
    assert "Imported “Test Framework”" in html and "T.1.a" in html

    bad = {**data, "file": (io.BytesIO(b'{"CFDocument": 3}'), "broken.json")}
    r = client.post("/standards/import", data=bad, headers=BROWSER, content_type="multipart/form-data")
    assert r.status_code == 422 and "was not imported" in r.get_data(as_text=True)
    foreign = {**data, "organisation_id": str(OrganisationFactory().id), "file": (io.BytesIO(b"{}"), "x.json")}
    r = client.post("/standards/import", data=foreign, headers=BROWSER, content_type="multipart/form-data")
    assert r.status_code == 422 and "Choose one of the organisations listed" in r.get_data(as_text=True)
    r = client.post("/standards/import", data={"csrf_token": token, "action": "upload"}, headers=BROWSER)
    assert r.status_code == 422 and "Choose a CASE package" in r.get_data(as_text=True)


def test_a_platform_admin_loads_the_bundled_frameworks_from_the_page(client, admin):
    html = client.get("/standards", headers=BROWSER).get_data(as_text=True)
    assert "No framework has been imported yet" in html and "flask standards" not in html
    _r, token = _import_page(client, admin)
    r = client.post("/standards/import", data={"csrf_token": token, "action": "bundled"}, headers=BROWSER)
    assert r.status_code == 302
    html = client.get("/standards", headers=BROWSER).get_data(as_text=True)
    assert "InTASC" in html and "Imported" in html
