"""The name check: an earner's own name or e-mail in the text of an uploaded PDF or Word file is pointed out to
them beside the file (with the page), in the API and on the submission page; whole words only, accents and case
folded, "Surname, Given" found too; unreadable files and other types are simply not checked."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pikepdf
import pytest

from credentials.authoring.models import EvidenceKind
from credentials.portfolios import namecheck
from tests.assessors.test_services import World
from tests.conftest import bearer
from tests.core.test_web import BROWSER, sign_in, text
from tests.factories import RequirementFactory, member

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def pdf_with_text(*pages: str) -> bytes:
    pdf = pikepdf.new()
    font = pdf.make_indirect(
        pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica)
    )
    for words in pages:
        pdf.add_blank_page(page_size=(500, 200))
        page = pdf.pages[-1]
        page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
        page.Contents = pdf.make_stream(f"BT /F1 12 Tf 20 100 Td ({words}) Tj ET".encode("latin-1"))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def docx_with_text(body: str, header: str = "", doctype: str = "") -> bytes:
    def part(text: str, root: str) -> str:
        return f'{doctype}<w:{root} xmlns:w="{W}"><w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:{root}>'

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", part(body, "document"))
        if header:
            z.writestr("word/header1.xml", part(header, "hdr"))
    return out.getvalue()


def _file(tmp_path: Path, data: bytes, name: str) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_a_pdf_naming_the_earner_on_page_two(tmp_path: Path) -> None:
    path = _file(tmp_path, pdf_with_text("Unit plan: fractions", "Prepared by ELIN   Jones, Room 12"), "p.pdf")
    found = namecheck.find_identity(path, namecheck.PDF, name="Elin Jones", email="elin@school.example")
    assert found == ["your name “Elin Jones” (page 2)"]


def test_email_reversed_names_and_accents(tmp_path: Path) -> None:
    path = _file(tmp_path, pdf_with_text("Contact: Elin@School.example", "Author: Jones, Elin"), "p.pdf")
    found = namecheck.find_identity(path, namecheck.PDF, name="Élin Jones", email="elin@school.example")
    assert found == ["your e-mail address (page 1)", "your name “Élin Jones” (page 2)"]


def test_whole_words_only_and_nothing_found(tmp_path: Path) -> None:
    path = _file(tmp_path, pdf_with_text("Annual review by Annabel Leeson"), "p.pdf")
    assert namecheck.find_identity(path, namecheck.PDF, name="Ann Lee", email="ann@x.example") == []
    assert namecheck.find_identity(path, namecheck.PDF, name="Annabel Leeson", email=None) == [
        "your name “Annabel Leeson” (page 1)"
    ]


def test_a_docx_body_and_header(tmp_path: Path) -> None:
    body = _file(tmp_path, docx_with_text("Reflection by Elin Jones"), "a.docx")
    assert namecheck.find_identity(body, namecheck.DOCX, name="Elin Jones", email=None) == [
        "your name “Elin Jones” (in the document)"
    ]
    header = _file(tmp_path, docx_with_text("Reflection", header="elin@school.example"), "b.docx")
    assert namecheck.find_identity(header, namecheck.DOCX, name="Elin Jones", email="elin@school.example") == [
        "your e-mail address (in its headers, footers or notes)"
    ]


@pytest.mark.parametrize(
    ("data", "media_type"),
    [
        (b"%PDF-1.7 not really", namecheck.PDF),
        (b"PK\x03\x04 broken zip", namecheck.DOCX),
        (docx_with_text("&e;", doctype="<!DOCTYPE d [<!ENTITY e 'Elin Jones'>]>"), namecheck.DOCX),
        (b"Elin Jones", "text/plain"),
    ],
    ids=["corrupt-pdf", "corrupt-docx", "docx-entity", "other-type"],
)
def test_files_that_cannot_be_read_are_not_checked(tmp_path: Path, data: bytes, media_type: str) -> None:
    path = _file(tmp_path, data, "f")
    assert namecheck.find_identity(path, media_type, name="Elin Jones", email="elin@school.example") is None


@pytest.fixture
def world(session: Any) -> World:
    world = World(session)
    RequirementFactory(version=world.version, key="artefact", evidence_kind=EvidenceKind.FILE.value, max_files=5)
    session.refresh(world.version)
    return world


def test_the_earner_is_told_beside_the_file(client: Any, world: World) -> None:
    earner = member(world.org, name="Elin Jones", email="elin@school.example")
    started = client.post("/api/v1/submissions", json={"version_id": str(world.version.id)}, headers=bearer(earner))
    submission_id = started.json["id"]
    uploads = [
        (io.BytesIO(pdf_with_text("Plan", "Elin Jones, Room 12")), "plan.pdf"),
        (io.BytesIO(pdf_with_text("A plan with no names")), "clean.pdf"),
    ]
    response = client.post(
        f"/api/v1/submissions/{submission_id}/files",
        data={"requirement_key": "artefact", "file": uploads},
        headers=bearer(earner),
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    assert [f["identity_found"] for f in response.json] == [["your name “Elin Jones” (page 2)"], []]

    sign_in(client, earner.email)
    page = text(client.get(f"/portfolio/{submission_id}", headers=BROWSER))
    assert "This file names you:" in page and "(page 2)" in page
    assert page.count("This file names you:") == 1
