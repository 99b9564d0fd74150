"""`flask standards import` and `flask standards load-bundled`."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from standards import imports
from standards.models import Framework
from tests.factories import OrganisationFactory
from tests.standards.packages import package


def test_import_files_then_reimport_in_place(app, session, tmp_path):
    path = tmp_path / "framework.json"
    path.write_text(json.dumps(package()))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["standards", "import", str(path), "--note", "From the publisher"])
    assert result.exit_code == 0, result.output
    assert "Test Framework: imported (4 items" in result.output
    framework = session.scalar(select(Framework))
    assert framework.source_note == "From the publisher" and framework.imported_by_organisation_id is None

    path.write_text(json.dumps(package([("a", "T.1", "Read closely", None)])))
    result = runner.invoke(args=["standards", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "updated" in result.output and "3 now obsolete" in result.output


def test_import_for_an_organisation(app, session, tmp_path):
    org = OrganisationFactory(slug="north")
    path = tmp_path / "framework.json"
    path.write_text(json.dumps(package()))
    result = app.test_cli_runner().invoke(args=["standards", "import", str(path), "--org", "north"])
    assert result.exit_code == 0, result.output
    assert session.scalar(select(Framework)).imported_by_organisation_id == org.id
    result = app.test_cli_runner().invoke(args=["standards", "import", str(path), "--org", "nowhere"])
    assert result.exit_code == 2 and "no organisation" in result.output


def test_a_refused_file_names_its_faults_and_the_others_still_import(app, session, tmp_path):
    bad = tmp_path / "bad.json"
    data = package()
    data["CFItems"][2]["identifier"] = "a"
    data["CFAssociations"][0]["destinationNodeURI"]["identifier"] = "nowhere"
    bad.write_text(json.dumps(data))
    good = tmp_path / "good.json"
    good.write_text(json.dumps(package(doc_id="another")))
    result = app.test_cli_runner().invoke(args=["standards", "import", str(bad), str(good)])
    assert result.exit_code == 2
    assert "#/CFItems/2/identifier" in result.output and "#/CFAssociations/0/destinationNodeURI" in result.output
    assert "1 of 2 files refused" in result.output
    assert [f.case_identifier for f in session.scalars(select(Framework))] == ["another"]


def test_load_bundled_loads_every_file_once(app, session):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["standards", "load-bundled"])
    assert result.exit_code == 0, result.output
    assert session.scalar(select(func.count()).select_from(Framework)) == len(imports.bundled_files())
    again = runner.invoke(args=["standards", "load-bundled", "--only", "educator"])
    assert again.exit_code == 0 and again.output.count("unchanged") == 4


def test_demo_loads_the_educator_frameworks(app, session):
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    titles = set(session.scalars(select(Framework.title)))
    assert {"ISTE Standards for Educators", "NBPTS Five Core Propositions"} <= titles
