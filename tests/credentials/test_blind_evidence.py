"""Blind review without metadata: a PDF whose Author is the earner, a JPEG whose EXIF holds their name, room and
GPS position, and a Word file whose properties name them reach the assessor without those details; the earner
keeps the original, sees "what the assessor will see", and is warned before submitting about a file that could
not be cleaned. The files are real ones, built here with pikepdf, Pillow and zipfile."""

from __future__ import annotations

import hashlib
import io
import tempfile
import uuid
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from PIL import Image

from core import clock, metadata, storage
from core.models import Role
from credentials.authoring.models import EvidenceKind
from credentials.portfolios.models import EvidenceFile, SubmissionState
from tests.assessors.test_services import World
from tests.conftest import bearer, problem
from tests.core.test_web import BROWSER, sign_in, text
from tests.factories import EvidenceFileFactory, OrganisationFactory, RequirementFactory, member

NAME, EMAIL, ROOM = "Ottoline Fairweather", "ottoline@riverside.example", "Room 14, Riverside Elementary"


def pdf_with_author() -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 100))
    pdf.docinfo["/Author"] = f"{NAME} <{EMAIL}>"
    pdf.docinfo["/Title"] = "Lesson plan"
    with pdf.open_metadata(set_pikepdf_as_editor=False) as xmp:
        xmp["dc:creator"] = [NAME]
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (40, 20), "white")
    image.paste((200, 0, 0), (0, 0, 20, 20))  # the left half red, to see which way it was turned
    exif = Image.Exif()
    exif[0x013B] = NAME  # Artist
    exif[0x010E] = ROOM  # ImageDescription
    exif[0x0112] = 6  # Orientation: turn 90° clockwise to show
    exif.get_ifd(0x8825).update({1: "N", 2: (51.0, 30.0, 12.5), 3: "W", 4: (0.0, 7.0, 40.0)})
    xmp = f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:creator>{NAME}</dc:creator></x:xmpmeta>'.encode()
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), xmp=xmp)
    return out.getvalue()


def docx_with_properties() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'wordprocessingml.document.main+xml"/></Types>',
        )
        z.writestr("word/document.xml", "<w:document><w:body><w:p>Lesson reflection</w:p></w:body></w:document>")
        z.writestr(
            "docProps/core.xml",
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"'
            f' xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>{NAME}</dc:creator>'
            f"<cp:lastModifiedBy>{EMAIL}</cp:lastModifiedBy></cp:coreProperties>",
        )
        z.writestr("docProps/app.xml", f"<Properties><Company>{ROOM}</Company></Properties>")
    return out.getvalue()


def readable(data: bytes) -> bytes:
    """The bytes as a reader of the file would see them (an Office file's parts unpacked)."""
    if data.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return b"".join(z.read(name) for name in z.namelist())
    return data


def names_the_earner(data: bytes) -> bool:
    return any(secret.encode() in readable(data) for secret in (NAME, "Ottoline", EMAIL, ROOM))


def assert_anonymous(data: bytes) -> None:
    assert not names_the_earner(data)


@pytest.fixture
def world(session: Any) -> World:
    world = World(session)
    RequirementFactory(version=world.version, key="artefact", evidence_kind=EvidenceKind.FILE.value, max_files=5)
    session.refresh(world.version)
    return world


def _upload(client: Any, world: World, earner: Any, files: list[tuple[bytes, str]]) -> tuple[str, list[dict]]:
    started = client.post("/api/v1/submissions", json={"version_id": str(world.version.id)}, headers=bearer(earner))
    assert started.status_code == 201, started.get_data(as_text=True)
    submission_id = started.json["id"]
    response = client.post(
        f"/api/v1/submissions/{submission_id}/files",
        data={"requirement_key": "artefact", "file": [(io.BytesIO(data), name) for data, name in files]},
        headers=bearer(earner),
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return submission_id, response.json


def _submit_and_claim(session: Any, world: World, submission_id: str) -> None:
    from credentials.portfolios.models import Submission

    submission = session.get(Submission, uuid.UUID(submission_id))
    submission.state, submission.submitted_at = SubmissionState.SUBMITTED.value, clock.now() - timedelta(hours=1)
    session.flush()
    assert world.claim(world.assessor) is not None


def _as_assessor(client: Any, world: World, file_id: str) -> bytes:
    response = client.get(f"/api/v1/review-evidence/{file_id}", headers=bearer(world.assessor))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.data


def test_the_blind_assessor_gets_files_without_the_earners_metadata(client: Any, session: Any, world: World) -> None:
    earner = member(world.org, name=NAME, email=EMAIL)
    originals = [(pdf_with_author(), "plan.pdf"), (jpeg_with_exif(), "class.jpg"), (docx_with_properties(), "r.docx")]
    submission_id, files = _upload(client, world, earner, originals)
    assert [f["metadata_status"] for f in files] == ["cleaned", "cleaned", "cleaned"]
    assert "author" in files[0]["metadata_removed"] and "GPS position" in files[1]["metadata_removed"]
    _submit_and_claim(session, world, submission_id)

    pdf, jpeg, docx = (_as_assessor(client, world, f["id"]) for f in files)
    for data in (pdf, jpeg, docx):
        assert_anonymous(data)
    with pikepdf.open(io.BytesIO(pdf)) as cleaned:
        assert "/Info" not in cleaned.trailer and "/Metadata" not in cleaned.Root and len(cleaned.pages) == 1
    photo = Image.open(io.BytesIO(jpeg))
    assert not photo.getexif() and "xmp" not in photo.info
    assert photo.size == (20, 40)  # turned upright before the orientation tag went: red is now on top
    assert photo.getpixel((10, 5))[0] > 150 and photo.getpixel((10, 35))[1] > 150
    with zipfile.ZipFile(io.BytesIO(docx)) as z:
        assert z.read("word/document.xml") == b"<w:document><w:body><w:p>Lesson reflection</w:p></w:body></w:document>"
        assert b"creator" not in z.read("docProps/core.xml")

    # The earner keeps the original, and can fetch exactly what the assessor gets.
    for (data, _), f in zip(originals, files, strict=True):
        mine = client.get(f"/api/v1/submissions/{submission_id}/files/{f['id']}", headers=bearer(earner))
        assert mine.data == data and names_the_earner(data)
        theirs = client.get(
            f"/api/v1/submissions/{submission_id}/files/{f['id']}/assessor-copy", headers=bearer(earner)
        )
        assert theirs.status_code == 200 and theirs.data == _as_assessor(client, world, f["id"])
    stranger = client.get(
        f"/api/v1/submissions/{submission_id}/files/{files[0]['id']}/assessor-copy", headers=bearer(member(world.org))
    )
    problem(stranger, 404)


def test_the_blind_view_names_the_copy_not_the_original(client: Any, session: Any, world: World) -> None:
    earner = member(world.org, name=NAME, email=EMAIL)
    submission_id, files = _upload(client, world, earner, [(pdf_with_author(), "plan.pdf")])
    _submit_and_claim(session, world, submission_id)
    task = client.get("/api/v1/review-tasks/mine", headers=bearer(world.assessor)).json[0]
    view = client.get(f"/api/v1/review-tasks/{task['id']}", headers=bearer(world.assessor)).json
    shown = view["submission"]["files"][0]
    assert shown["sha256"] != files[0]["sha256"]  # the original's digest would let anyone match it to the earner
    assert shown["sha256"] == hashlib.sha256(_as_assessor(client, world, files[0]["id"])).hexdigest()


def test_a_file_that_cannot_be_cleaned_is_flagged_before_submit(client: Any, session: Any, world: World) -> None:
    earner = member(world.org, name=NAME, email=EMAIL)
    mp3 = b"ID3\x04\x00\x00\x00\x00\x00\x21TPE1\x00\x00\x00\x15\x00\x00\x03" + NAME.encode() + b"\xff\xfb" * 50
    broken_pdf = b"%PDF-1.4\nnot really a pdf " + NAME.encode()
    submission_id, files = _upload(client, world, earner, [(mp3, "talk.mp3"), (broken_pdf, "plan.pdf")])
    assert [f["metadata_status"] for f in files] == ["unsupported", "failed"]
    assert all(f["metadata_problem"] for f in files)

    sign_in(client, earner.email)
    page = text(client.get(f"/portfolio/{submission_id}", headers=BROWSER))
    warning = page.split('id="metadata-warning"', 1)[1].split("</div>", 1)[0]
    assert "talk.mp3" in warning and "plan.pdf" in warning and "What the assessor will see" in page


def test_a_clean_file_raises_no_flag(client: Any, session: Any, world: World) -> None:
    earner = member(world.org, name=NAME, email=EMAIL)
    submission_id, files = _upload(client, world, earner, [(jpeg_with_exif(), "class.jpg"), (b"plain notes", "n.txt")])
    assert [f["metadata_status"] for f in files] == ["cleaned", "none_found"]
    sign_in(client, earner.email)
    page = text(client.get(f"/portfolio/{submission_id}", headers=BROWSER))
    assert 'id="metadata-warning"' not in page
    assert "Assessors get a copy without its hidden details (removed: GPS position" in page


def test_a_file_stored_before_copies_were_made_is_cleaned_when_first_opened(
    client: Any, session: Any, world: World
) -> None:
    data = pdf_with_author()
    digest = hashlib.sha256(data).hexdigest()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "upload"
        path.write_bytes(data)
        storage.backend().put(path, digest)
    submission = world.submission(earner=member(world.org, name=NAME))
    file = EvidenceFileFactory(submission=submission, sha256=digest, size=len(data), media_type="application/pdf")
    assert file.metadata_status is None
    assert world.claim(world.assessor) is not None
    assert_anonymous(_as_assessor(client, world, str(file.id)))
    session.expire_all()
    assert session.get(EvidenceFile, file.id).metadata_status == "cleaned"


def test_garbage_collection_keeps_the_assessors_copies(client: Any, session: Any, world: World) -> None:
    earner = member(world.org, name=NAME, email=EMAIL)
    _, files = _upload(client, world, earner, [(pdf_with_author(), "plan.pdf")])
    row = session.get(EvidenceFile, uuid.UUID(files[0]["id"]))
    removed = storage.collect_garbage(grace=timedelta(seconds=-60))
    assert row.blind_sha256 not in removed and row.sha256 not in removed
    assert storage.backend().exists(row.blind_sha256)


def test_metadata_cleaning_refuses_what_it_cannot_read(tmp_path: Path) -> None:
    zip_bomb = tmp_path / "bomb.docx"
    with zipfile.ZipFile(zip_bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("docProps/core.xml", b"<x/>")
        z.writestr("word/document.xml", b"\0" * (metadata.MAX_UNPACKED + 1))
    media = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    result = metadata.clean(zip_bomb, media)
    assert result.status == metadata.CleanStatus.FAILED and result.path is None
    locked = tmp_path / "locked.pdf"
    with pikepdf.new() as pdf:
        pdf.add_blank_page()
        pdf.docinfo["/Author"] = NAME
        pdf.save(locked, encryption=pikepdf.Encryption(user="secret", owner="secret"))
    assert metadata.clean(locked, "application/pdf").status == metadata.CleanStatus.FAILED
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".clean")] == []


def test_an_assessor_of_another_organisation_cannot_open_the_copy(client: Any, session: Any, world: World) -> None:
    earner = member(world.org, name=NAME, email=EMAIL)
    submission_id, files = _upload(client, world, earner, [(pdf_with_author(), "plan.pdf")])
    _submit_and_claim(session, world, submission_id)
    outsider = member(OrganisationFactory(), Role.ASSESSOR)
    problem(client.get(f"/api/v1/review-evidence/{files[0]['id']}", headers=bearer(outsider)), 404)
