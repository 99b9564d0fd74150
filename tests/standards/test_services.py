"""Standards rules: CASE import (bundled files, re-import, obsolete items, refusals), authorisation, reading,
search and alignment URLs."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import func, select

from core.cli import console_operator
from core.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from core.models import AuditEvent, Role
from standards import frameworks, imports
from standards.models import Framework, StandardAssociation, StandardItem
from tests.factories import FrameworkFactory, OrganisationFactory, StandardItemFactory, UserFactory, member
from tests.standards.packages import DOC_ID, as_bytes, association, package

BUNDLED = {path.name: path for path in imports.bundled_files()}


@pytest.fixture
def admin():
    return UserFactory(is_platform_admin=True)


def counts(session):
    return tuple(
        session.scalar(select(func.count()).select_from(model))
        for model in (Framework, StandardItem, StandardAssociation, AuditEvent)
    )


def items_by_identifier(session, framework_id):
    return {
        item.case_identifier: item
        for item in session.scalars(select(StandardItem).where(StandardItem.framework_id == framework_id))
    }


def refused(admin, data) -> list[dict[str, str]]:
    """Import ``data`` expecting a refusal; the errors it names."""
    with pytest.raises(ValidationFailed) as caught:
        imports.import_package(actor=admin, data=data)
    assert caught.value.errors, caught.value.detail
    return caught.value.errors


def pointers(errors):
    return [e["pointer"] for e in errors]


# --- the bundled packages ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_every_bundled_file_imports_with_its_whole_tree(session, admin, name):
    raw = json.loads(BUNDLED[name].read_bytes())
    report = imports.import_package(actor=admin, data=BUNDLED[name].read_bytes(), source_note="bundled")

    framework = frameworks.get_framework(framework_id=report.framework_id)
    assert report.created and framework.case_identifier == raw["CFDocument"]["identifier"]
    assert framework.title == raw["CFDocument"]["title"]
    assert framework.item_count == report.items == len(raw["CFItems"])
    tree_links = sum(1 for a in raw["CFAssociations"] if a["associationType"] == "isChildOf")
    assert framework.association_count == len(raw["CFAssociations"]) - tree_links
    items = items_by_identifier(session, framework.id)
    assert set(items) == {i["identifier"] for i in raw["CFItems"]}
    # Every item hangs in the tree: depth and path agree with the parent chain.
    for item in items.values():
        parent = session.get(StandardItem, item.parent_id) if item.parent_id else None
        assert item.depth == (parent.depth + 1 if parent else 0)
        assert item.path.startswith(parent.path if parent else "")
    for raw_item in raw["CFItems"]:
        item = items[raw_item["identifier"]]
        assert item.full_statement == raw_item["fullStatement"].strip()
        assert item.human_coding_scheme == (raw_item.get("humanCodingScheme") or None)
        assert item.uri == raw_item["uri"]


def test_pre_1_0_draft_shapes_are_understood(session, admin):
    report = imports.import_package(
        actor=admin, data=BUNDLED["ccss-math-opensalt-sample-2016.case-draft.json"].read_bytes()
    )
    framework = frameworks.get_framework(framework_id=report.framework_id)
    assert framework.case_identifier == "http://purl.org/ASN/resources/D10003FB"  # an ASN URL, not a UUID
    assert framework.subject == ["Math"]  # a string in the draft
    assert framework.creator == "National Governors Association Center for Best Practices"
    items = items_by_identifier(session, framework.id)
    cluster = items["http://purl.org/ASN/resources/S1143409"]
    assert cluster.full_statement == "Counting and Cardinality"
    assert cluster.item_type == "Domain"  # from CFItemTypeURI
    assert cluster.education_level == ["KG"]  # educationalLevel, a string in the draft
    assert report.items == 703 and framework.association_count == 0
    roots = frameworks.tree(framework_id=framework.id)
    assert [node.item.full_statement for node in roots[:2]] == [
        "Standards for Mathematical Practice",
        "Counting and Cardinality",
    ]
    assert [child.item.human_coding_scheme for child in roots[0].children[:3]] == [
        "CCSS.Math.Practice.MP1",
        "CCSS.Math.Practice.MP2",
        "CCSS.Math.Practice.MP3",
    ]


def test_non_tree_associations_are_kept_including_ends_outside_the_package(session, admin):
    report = imports.import_package(
        actor=admin, data=BUNDLED["opensalt-what-standards-could-be.case.json"].read_bytes()
    )
    rows = session.scalars(
        select(StandardAssociation).where(StandardAssociation.framework_id == report.framework_id)
    ).all()
    kinds = sorted(a.association_type for a in rows)
    assert kinds.count("exactMatchOf") == 16 and kinds.count("precedes") == 3
    assert kinds.count("exemplar") == 2 and kinds.count("isRelatedTo") == 2
    outside = [a for a in rows if a.destination_item_id is None]
    assert outside and all(a.destination_identifier and a.destination_uri for a in outside)
    inside = [a for a in rows if a.association_type == "precedes" and a.destination_item_id is not None]
    assert len(inside) == 2 and all(a.origin_item_id for a in inside)


def test_educator_frameworks_keep_their_rights_notice(session, admin):
    report = imports.import_package(
        actor=admin, data=BUNDLED["nbpts-five-core-propositions.compiled.case.json"].read_bytes()
    )
    framework = frameworks.get_framework(framework_id=report.framework_id)
    assert "National Board for Professional Teaching Standards" in framework.notes
    assert framework.adoption_status == "Compiled (unofficial)"
    assert framework.official_source_url.startswith("https://")


def test_load_bundled_is_idempotent_and_credits_sources(session, admin):
    first = imports.load_bundled(actor=admin)
    assert len(first) == len(BUNDLED) and all(r.created for r in first)
    before = counts(session)
    second = imports.load_bundled(actor=admin)
    assert all(r.unchanged for r in second)
    assert counts(session) == before  # no writes, not even audit events
    intasc = session.scalar(select(Framework).where(Framework.title.like("InTASC%")))
    assert "SOURCES.md" in intasc.source_note or "CCSSO" in intasc.source_note
    assert "(c) 2011 CCSSO" in intasc.source_note


# --- re-import ---------------------------------------------------------------------------------------


def test_reimport_updates_in_place_and_keeps_item_ids(session, admin):
    first = imports.import_package(actor=admin, data=package(), source_note="v1")
    ids = {k: v.id for k, v in items_by_identifier(session, first.framework_id).items()}

    v2 = package()
    v2["CFDocument"]["title"] = "Test Framework, revised"
    v2["CFItems"][1]["fullStatement"] = "Cite strong and thorough textual evidence"
    second = imports.import_package(actor=admin, data=v2, source_note="v2")

    assert second.framework_id == first.framework_id and not second.created
    assert (second.items_added, second.items_updated, second.items_obsoleted) == (0, 1, 0)
    items = items_by_identifier(session, first.framework_id)
    assert {k: v.id for k, v in items.items()} == ids
    assert items["a1"].full_statement == "Cite strong and thorough textual evidence"
    framework = frameworks.get_framework(framework_id=first.framework_id)
    assert framework.title == "Test Framework, revised" and framework.source_note == "v2"
    assert session.scalar(select(func.count()).select_from(Framework)) == 1


def test_removed_items_become_obsolete_and_revive_when_they_return(session, admin):
    first = imports.import_package(actor=admin, data=package())
    kept = items_by_identifier(session, first.framework_id)

    smaller = package([("a", "T.1", "Read closely", None), ("b", "T.2", "Write arguments", None)])
    report = imports.import_package(actor=admin, data=smaller)
    assert report.items_obsoleted == 2 and report.items == 2
    items = items_by_identifier(session, first.framework_id)
    assert items["a1"].obsolete_at is not None and items["a2"].obsolete_at is not None
    assert items["a"].obsolete_at is None
    framework = frameworks.get_framework(framework_id=first.framework_id)
    assert (framework.item_count, framework.obsolete_item_count) == (2, 2)
    # Obsolete items still resolve (alignments keep working) but leave the tree and the search.
    assert frameworks.get_item(item_id=kept["a1"].id).is_obsolete
    assert [n.item.case_identifier for n in frameworks.tree(framework_id=framework.id)] == ["a", "b"]
    assert frameworks.search_items(q="T.1.a", page=1, page_size=10).total == 0
    assert frameworks.search_items(q="T.1.a", include_obsolete=True, page=1, page_size=10).total == 1

    again = imports.import_package(actor=admin, data=package())
    assert again.items_revived == 2 and again.items_obsoleted == 0
    items = items_by_identifier(session, first.framework_id)
    assert items["a1"].id == kept["a1"].id and items["a1"].obsolete_at is None
    assert frameworks.get_framework(framework_id=first.framework_id).obsolete_item_count == 0


def test_reimport_moves_items_and_adds_new_ones(session, admin):
    first = imports.import_package(actor=admin, data=package())
    moved = package(
        [
            ("b", "T.2", "Write arguments", None),
            ("a", "T.1", "Read closely", None),
            ("a1", "T.1.a", "Cite textual evidence", "b"),
            ("a2", "T.1.b", "Draw logical inferences", "a"),
            ("c", "T.3", "A new standard", "a"),
        ]
    )
    report = imports.import_package(actor=admin, data=moved)
    assert report.items_added == 1
    items = items_by_identifier(session, first.framework_id)
    assert items["a1"].parent_id == items["b"].id
    roots = frameworks.tree(framework_id=first.framework_id)
    assert [n.item.case_identifier for n in roots] == ["b", "a"]
    assert [n.item.case_identifier for n in roots[1].children] == ["a2", "c"]


def test_the_same_package_twice_changes_nothing(session, admin):
    imports.import_package(actor=admin, data=as_bytes(package()))
    before = counts(session)
    report = imports.import_package(actor=admin, data=as_bytes(package()))
    assert report.unchanged and not report.created
    assert counts(session) == before


def test_every_import_is_audited_with_counts(session, admin):
    first = imports.import_package(actor=admin, data=package())
    imports.import_package(actor=admin, data=package([("a", "T.1", "Read closely", None)]))
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.object_id == str(first.framework_id)).order_by(AuditEvent.occurred_at)
    ).all()
    assert [e.action for e in events] == ["framework.imported", "framework.reimported"]
    assert events[0].before is None and events[0].after["item_count"] == 4
    assert events[1].before["item_count"] == 4
    assert events[1].after["item_count"] == 1 and events[1].after["items_obsoleted"] == 3
    assert "CFItems" not in json.dumps(events[1].after)  # counts, not the package
    assert events[0].actor_id == admin.id


# --- the tree ----------------------------------------------------------------------------------------


def test_tree_follows_sequence_numbers_then_package_order(session, admin):
    data = package(
        [
            ("x", "X", "Third by number", None),
            ("y", "Y", "First by number", None),
            ("z", "Z", "No number: after the numbered ones", None),
        ]
    )
    data["CFAssociations"][0]["sequenceNumber"] = 3
    data["CFAssociations"][1]["sequenceNumber"] = 1
    del data["CFAssociations"][2]["sequenceNumber"]
    report = imports.import_package(actor=admin, data=data)
    roots = frameworks.tree(framework_id=report.framework_id)
    assert [n.item.case_identifier for n in roots] == ["y", "x", "z"]
    assert [n.item.position for n in roots] == [0, 1, 2]


def test_an_item_with_two_parents_hangs_under_the_first_and_keeps_the_other_link(session, admin):
    data = package(extra=[association("second-parent", "isChildOf", "a1", "b", sequenceNumber=9)])
    report = imports.import_package(actor=admin, data=data)
    items = items_by_identifier(session, report.framework_id)
    assert items["a1"].parent_id == items["a"].id
    link = session.scalar(select(StandardAssociation).where(StandardAssociation.case_identifier == "second-parent"))
    assert link.association_type == "isChildOf" and link.destination_item_id == items["b"].id


def test_a_package_without_any_isChildOf_is_flat_with_a_warning(session, admin):
    data = package()
    data["CFAssociations"] = []
    report = imports.import_package(actor=admin, data=data)
    assert report.warnings and "top level" in report.warnings[0]
    assert len(frameworks.tree(framework_id=report.framework_id)) == 4


def test_item_detail_has_parent_chain_children_and_associations(session, admin):
    other = imports.import_package(
        actor=admin,
        data=package([("elsewhere", "E.1", "An item of another framework", None)], doc_id="other-doc"),
    )
    data = package(
        extra=[
            association("m1", "exactMatchOf", "a1", "elsewhere"),
            association("m2", "precedes", "a", "b"),
            association("m3", "isRelatedTo", "a1", "https://external.example.org/thing"),
        ]
    )
    report = imports.import_package(actor=admin, data=data)
    items = items_by_identifier(session, report.framework_id)

    detail = frameworks.item_detail(item_id=items["a1"].id)
    assert [a.case_identifier for a in detail.ancestors] == ["a"]
    assert detail.framework.id == report.framework_id
    by_type = {a.association_type: a for a in detail.associations}
    assert by_type["exactMatchOf"].item.framework_id == other.framework_id  # resolved across frameworks
    assert by_type["isRelatedTo"].item is None and by_type["isRelatedTo"].direction == "outgoing"

    parent = frameworks.item_detail(item_id=items["a"].id)
    assert [c.case_identifier for c in parent.children] == ["a1", "a2"]
    target = frameworks.item_detail(item_id=items["b"].id)
    assert [(a.association_type, a.direction, a.item.case_identifier) for a in target.associations] == [
        ("precedes", "incoming", "a")
    ]


# --- refusals: each names its place, and nothing is written -------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"CFDocument": {"identifier": "x"', "not valid JSON"),
        (b"\xff\xfe\x00garbage", "not valid JSON"),
        (b'{"CFDocument": {"identifier": NaN}}', "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
        (b"", "not valid JSON"),
    ],
)
def test_bad_json_is_refused_clearly(session, admin, raw, message):
    errors = refused(admin, raw)
    assert pointers(errors) == ["#"]
    assert message in errors[0]["detail"]


def test_a_document_that_is_not_an_object_is_refused(session, admin):
    assert pointers(refused(admin, b"[1, 2]")) == ["#"]


def test_missing_cfdocument_and_identifiers_are_named(session, admin):
    assert pointers(refused(admin, {"CFItems": []})) == ["#/CFDocument"]
    data = package()
    del data["CFDocument"]["identifier"]
    assert "#/CFDocument/identifier" in pointers(refused(admin, data))
    data = package()
    data["CFItems"][2]["identifier"] = "  "
    assert "#/CFItems/2/identifier" in pointers(refused(admin, data))
    data = package()
    del data["CFAssociations"][3]["identifier"]
    assert pointers(refused(admin, data)) == ["#/CFAssociations/3/identifier"]
    data = package()
    del data["CFAssociations"][0]["originNodeURI"]
    assert "#/CFAssociations/0/originNodeURI" in pointers(refused(admin, data))


def test_duplicate_identifiers_are_refused(session, admin):
    data = package()
    data["CFItems"][3]["identifier"] = "a1"
    errors = refused(admin, data)
    assert errors[0]["pointer"] == "#/CFItems/3/identifier"
    assert "#/CFItems/1" in errors[0]["detail"]

    data = package()
    data["CFItems"][0]["identifier"] = DOC_ID
    assert "#/CFItems/0/identifier" in pointers(refused(admin, data))

    data = package()
    data["CFAssociations"][2]["identifier"] = "assoc-a"
    assert "#/CFAssociations/2/identifier" in pointers(refused(admin, data))


def test_cycles_in_isChildOf_are_refused(session, admin):
    data = package(
        [
            ("a", "T.1", "One", "c"),
            ("b", "T.2", "Two", "a"),
            ("c", "T.3", "Three", "b"),
            ("d", "T.4", "Fine", None),
        ]
    )
    errors = refused(admin, data)
    assert any(e["pointer"].startswith("#/CFAssociations/") and "Cycle" in e["detail"] for e in errors)

    data = package([("a", "T.1", "Its own parent", "a")])
    assert pointers(refused(admin, data)) == ["#/CFAssociations/0/destinationNodeURI/identifier"]


def test_a_second_parent_link_closing_a_cycle_is_refused(session, admin):
    data = package(extra=[association("loop", "isChildOf", "a", "a1")])
    errors = refused(admin, data)
    assert any("Cycle" in e["detail"] for e in errors)


def test_dangling_isChildOf_targets_are_refused(session, admin):
    data = package()
    data["CFAssociations"][1]["destinationNodeURI"] = {"identifier": "nowhere", "uri": "urn:test:nowhere"}
    errors = refused(admin, data)
    assert errors[0]["pointer"] == "#/CFAssociations/1/destinationNodeURI/identifier"
    assert "nowhere" in errors[0]["detail"]

    data = package()
    data["CFAssociations"][0]["originNodeURI"] = {"identifier": "ghost"}
    assert "#/CFAssociations/0/originNodeURI/identifier" in pointers(refused(admin, data))


def test_items_outside_the_tree_and_broken_chains_are_refused(session, admin):
    data = package()
    del data["CFAssociations"][0]  # "a" loses its link to the document; a1 and a2 hang from it
    errors = refused(admin, data)
    assert set(pointers(errors)) == {"#/CFItems/0", "#/CFItems/1", "#/CFItems/2"}
    assert any("broken" in e["detail"] for e in errors)


@pytest.mark.parametrize(
    ("mutate", "pointer"),
    [
        (lambda d: d["CFItems"][1].update(fullStatement={"not": "text"}), "#/CFItems/1/fullStatement"),
        (lambda d: d["CFItems"][0].update(humanCodingScheme="T\x00.1"), "#/CFItems/0/humanCodingScheme"),
        (lambda d: d.update(CFItems={"a": 1}), "#/CFItems"),
        (lambda d: d["CFItems"].append("text"), "#/CFItems/4"),
        (lambda d: d["CFAssociations"][0].update(sequenceNumber="first"), "#/CFAssociations/0/sequenceNumber"),
        (lambda d: d["CFItems"][0].update(identifier="x" * 600), "#/CFItems/0/identifier"),
    ],
)
def test_malformed_values_are_named(session, admin, mutate, pointer):
    data = package()
    mutate(data)
    assert pointer in pointers(refused(admin, data))


def test_a_refused_import_writes_nothing(session, admin):
    before = counts(session)
    data = package()
    data["CFItems"][3]["identifier"] = "a1"
    refused(admin, data)
    assert counts(session) == before

    report = imports.import_package(actor=admin, data=package())
    before = counts(session)
    broken = package([("a", "T.1", "New text", "a")])
    refused(admin, broken)
    assert counts(session) == before
    assert items_by_identifier(session, report.framework_id)["a"].full_statement.startswith("Read closely")


def test_refusal_lists_are_bounded(session, admin):
    data = package([(f"i{n}", None, "x", "missing") for n in range(300)])
    with pytest.raises(ValidationFailed) as caught:
        imports.import_package(actor=admin, data=data)
    assert len(caught.value.errors) == 100
    assert "more" in caught.value.detail


# --- who may import ----------------------------------------------------------------------------------


def test_org_admins_import_for_their_organisation_and_reimport_what_it_owns(session):
    org, other = OrganisationFactory(), OrganisationFactory()
    admin_here = member(org, Role.ORG_ADMIN)
    admin_there = member(other, Role.ORG_ADMIN)

    report = imports.import_package(actor=admin_here, data=package(), organisation_id=org.id)
    framework = frameworks.get_framework(framework_id=report.framework_id)
    assert framework.imported_by_organisation_id == org.id
    event = session.scalar(select(AuditEvent).where(AuditEvent.object_id == str(framework.id)))
    assert event.organisation_id == org.id

    second = imports.import_package(actor=admin_here, data=package([("a", "T.1", "Read", None)]))
    assert not second.created
    with pytest.raises(Forbidden):
        imports.import_package(actor=admin_there, data=package())
    with pytest.raises(Forbidden):
        imports.import_package(actor=admin_there, data=package(), organisation_id=other.id)


def test_who_may_not_import(session, admin):
    org = OrganisationFactory()
    author = member(org, Role.AUTHOR)
    org_admin = member(org, Role.ORG_ADMIN)
    with pytest.raises(Unauthorized):
        imports.import_package(actor=None, data=package())
    with pytest.raises(Forbidden):
        imports.import_package(actor=author, data=package(), organisation_id=org.id)
    with pytest.raises(Forbidden):
        imports.import_package(actor=UserFactory(), data=package())
    with pytest.raises(Forbidden):  # another organisation's name
        imports.import_package(actor=org_admin, data=package(), organisation_id=OrganisationFactory().id)
    with pytest.raises(ValidationFailed) as caught:  # a new framework needs an owner
        imports.import_package(actor=org_admin, data=package())
    assert caught.value.errors[0]["field"] == "organisation_id"
    # Platform-wide frameworks (the bundled ones) are re-imported by platform admins only.
    imports.import_package(actor=admin, data=package())
    with pytest.raises(Forbidden):
        imports.import_package(actor=org_admin, data=package([("a", "T.1", "Hijack", None)]))
    with pytest.raises(Conflict):
        imports.import_package(actor=admin, data=package([("a", "T.1", "Move", None)]), organisation_id=org.id)
    with pytest.raises(ValidationFailed):
        imports.import_package(actor=admin, data=package(doc_id="new-one"), organisation_id=uuid.uuid4())


def test_console_operator_imports_and_is_audited_without_a_user(session):
    report = imports.import_package(actor=console_operator(), data=package())
    event = session.scalar(select(AuditEvent).where(AuditEvent.object_id == str(report.framework_id)))
    assert event.actor_id is None and event.action == "framework.imported"


# --- reading -----------------------------------------------------------------------------------------


def test_unknown_ids_are_not_found(session):
    with pytest.raises(NotFound):
        frameworks.get_framework(framework_id=uuid.uuid4())
    with pytest.raises(NotFound):
        frameworks.get_item(item_id=uuid.uuid4())
    with pytest.raises(NotFound):
        frameworks.tree(framework_id=uuid.uuid4())


def test_get_items_returns_the_known_ones_by_id(session):
    one, two = StandardItemFactory(), StandardItemFactory()
    found = frameworks.get_items(ids=[one.id, uuid.uuid4(), two.id, one.id])
    assert found == {one.id: one, two.id: two}
    assert frameworks.get_items(ids=[]) == {}


def test_list_frameworks_filters_and_escapes(session):
    FrameworkFactory(title="Alpha 100% literacy")
    FrameworkFactory(title="Beta numeracy", publisher="Some_Body")
    FrameworkFactory(title="Gamma")
    page = frameworks.list_frameworks(page=1, page_size=10)
    assert [f.title for f in page.items] == ["Alpha 100% literacy", "Beta numeracy", "Gamma"]
    assert [f.title for f in frameworks.list_frameworks(q="100%", page=1, page_size=10).items] == [
        "Alpha 100% literacy"
    ]
    assert frameworks.list_frameworks(q="%", page=1, page_size=10).total == 1
    assert [f.title for f in frameworks.list_frameworks(q="e_b", page=1, page_size=10).items] == ["Beta numeracy"]
    assert frameworks.list_frameworks(q="nothing", page=1, page_size=10).total == 0


# --- search ------------------------------------------------------------------------------------------


@pytest.fixture
def searchable(session, admin):
    educator = [
        imports.import_package(actor=admin, data=path.read_bytes()) for path in imports.bundled_files("educator")
    ]
    math = imports.import_package(actor=admin, data=BUNDLED["opensalt-what-standards-could-be.case.json"].read_bytes())
    return {"educator": educator, "math": math}


def codes(page):
    return [item.human_coding_scheme for item in page.items]


def test_search_by_exact_code_puts_it_first(searchable):
    page = frameworks.search_items(q="InTASC.1", page=1, page_size=20)
    assert codes(page)[0] == "InTASC.1"
    assert "InTASC.10" in codes(page)  # a code containing the query matches too


def test_search_by_part_of_a_code(searchable):
    page = frameworks.search_items(q="6.RP.A.3", page=1, page_size=20)
    assert set(codes(page)) == {
        "CCSS.Math.Content.6.RP.A.3",
        "CCSS.Math.Content.6.RP.A.3a",
        "CCSS.Math.Content.6.RP.A.3b",
        "CCSS.Math.Content.6.RP.A.3c",
        "CCSS.Math.Content.6.RP.A.3d",
    }
    assert codes(page)[0] == "CCSS.Math.Content.6.RP.A.3"


def test_search_by_words_in_statements(searchable):
    page = frameworks.search_items(q="ratio reasoning", page=1, page_size=20)
    assert "CCSS.Math.Content.6.RP.A" in codes(page)
    assert all("ratio" in item.search_text and "reasoning" in item.search_text for item in page.items)
    assert "PSEL.3" in codes(frameworks.search_items(q="Equity", page=1, page_size=20))


def test_search_in_one_framework_and_pagination(searchable):
    intasc = next(r for r in searchable["educator"] if r.title.startswith("InTASC"))
    page = frameworks.search_items(q="InTASC", framework_id=intasc.framework_id, page=1, page_size=4)
    assert page.total == 10 and len(page.items) == 4
    second = frameworks.search_items(q="InTASC", framework_id=intasc.framework_id, page=3, page_size=4)
    assert len(second.items) == 2
    assert frameworks.search_items(q="ratio", framework_id=intasc.framework_id, page=1, page_size=4).total == 0


def test_search_without_words_lists_a_framework_in_tree_order(searchable):
    iste = next(r for r in searchable["educator"] if r.title.startswith("ISTE"))
    page = frameworks.search_items(framework_id=iste.framework_id, page=1, page_size=5)
    assert codes(page) == ["ISTE.2.1", "ISTE.2.1.a", "ISTE.2.1.b", "ISTE.2.1.c", "ISTE.2.2"]


@pytest.mark.parametrize("q", ["%", "_", "\\", "%_%", "!!&|:*", "<script>alert(1)</script>"])
def test_search_takes_metacharacters_literally(searchable, session, q):
    assert frameworks.search_items(q=q, page=1, page_size=20).total == 0


@pytest.mark.parametrize("q", ["' OR 1=1 --", "'; DROP TABLE standard_items; --", "1) OR (1=1"])
def test_search_is_safe_from_sql_injection(searchable, session, q):
    everything = session.scalar(select(func.count()).select_from(StandardItem))
    assert frameworks.search_items(q=q, page=1, page_size=20).total < everything
    assert session.scalar(select(func.count()).select_from(StandardItem)) == everything


def test_words_match_the_start_of_words(searchable):
    assert "InTASC.10" not in codes(frameworks.search_items(q="ratio", page=1, page_size=50))  # "collaboration"
    assert "CCSS.Math.Content.6.RP.A.1" in codes(frameworks.search_items(q="ratio", page=1, page_size=50))


def test_search_matches_literal_percent_and_underscore(session):
    hit = StandardItemFactory(human_coding_scheme="RATE_50%", full_statement="Fifty percent")
    StandardItemFactory(human_coding_scheme="RATEX50Y", full_statement="Not a match")
    assert [i.id for i in frameworks.search_items(q="_50%", page=1, page_size=10).items] == [hit.id]


@pytest.mark.postgres
def test_postgresql_search_stems_words(searchable):
    page = frameworks.search_items(q="ratios reasoned", page=1, page_size=20)
    assert "CCSS.Math.Content.6.RP.A" in codes(page)  # "ratio concepts and use ratio reasoning"


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("q", "index"), [("ratio reasoning", "ix_standard_items_search"), ("6.RP.A", "ix_standard_items_code_trgm")]
)
def test_postgresql_search_uses_its_indexes(searchable, session, monkeypatch, q, index):
    """EXPLAIN the statement search_items builds (captured on its way to paginate)."""
    from sqlalchemy import text
    from sqlalchemy.dialects import postgresql

    from core.db import db

    session.execute(text("SET LOCAL enable_seqscan = off"))
    captured = []

    def capture(stmt, **kwargs):
        captured.append(stmt)
        raise LookupError

    monkeypatch.setattr(frameworks, "paginate", capture)
    with pytest.raises(LookupError):
        frameworks.search_items(q=q, page=1, page_size=20)
    sql = str(captured[0].compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    plan = "\n".join(row[0] for row in db.session.execute(text("EXPLAIN " + sql)))
    assert index in plan


# --- alignment URLs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "own"),
    [
        ("https://case.example.org/uri/abc", True),
        ("http://opensalt.example.com/uri/http://purl.org/ASN/resources/S1", True),
        ("urn:uuid:4c58f3e8-27d3-5a80-9fd2-dcf3a3c14989", False),
        ("javascript:alert(1)", False),
        ("http://localhost/x", False),
        ("https:///no-host", False),
        ("https://exa mple.org/x", False),
        ("ftp://files.example.org/x", False),
        ("", False),
        (None, False),
    ],
)
def test_alignment_url_is_the_items_own_http_uri_or_our_page(app, session, uri, own):
    item = StandardItemFactory(uri=uri)
    expected = uri if own else f"{app.config['BASE_URL']}/standards/items/{item.id}"
    assert frameworks.alignment_url(item) == expected


def test_compiled_educator_items_align_to_our_pages(app, session, admin):
    report = imports.import_package(actor=admin, data=BUNDLED["psel-2015.compiled.case.json"].read_bytes())
    item = frameworks.search_items(q="PSEL.1", framework_id=report.framework_id, page=1, page_size=1).items[0]
    assert item.uri.startswith("urn:uuid:")
    assert frameworks.alignment_url(item) == f"http://localhost/standards/items/{item.id}"


# --- progress ----------------------------------------------------------------------------------------


def test_progress_reports_items_written(session, admin):
    calls = []
    imports.import_package(actor=admin, data=package(), progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (4, 4)


def test_draft_node_identifiers_and_uri_only_links_are_understood(session, admin):
    data = package()
    plain = data["CFAssociations"][1]  # a1 isChildOf a, in the pre-1.0 draft's shape
    plain["originNodeIdentifier"] = plain.pop("originNodeURI")["identifier"]
    plain["destinationNodeIdentifier"] = plain.pop("destinationNodeURI")["identifier"]
    mismatch = data["CFAssociations"][2]  # a2: the plain identifier disagrees with the object's
    mismatch["originNodeIdentifier"] = "something-else"
    by_uri = data["CFAssociations"][3]  # b: the destination named by the document's URI only
    by_uri["destinationNodeURI"] = data["CFDocument"]["uri"]
    report = imports.import_package(actor=admin, data=data)
    items = items_by_identifier(session, report.framework_id)
    assert items["a1"].parent_id == items["a"].id and items["a2"].parent_id == items["a"].id
    assert items["b"].parent_id is None
    assert any("originNodeIdentifier" in w for w in report.warnings)
