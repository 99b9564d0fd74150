"""The storage contract, run against both backends: a local directory and S3 over HTTP (moto's server)."""

from __future__ import annotations

import hashlib
import io
import urllib.request
import uuid
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from core import clock, storage
from core.errors import ValidationFailed
from tests.conftest import S3_TEST_SETTINGS

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> storage.Backend:
    if request.param == "local":
        return storage.LocalBackend(tmp_path / "files")
    endpoint = request.getfixturevalue("s3_server")
    bucket = request.getfixturevalue("s3_bucket")
    config = {"S3_ENDPOINT_URL": endpoint, **S3_TEST_SETTINGS}
    return storage.S3Backend(bucket, f"test-{uuid.uuid4().hex}", config, staging_dir=tmp_path / "staging")


def _keep(store: storage.Backend, data: bytes, max_size: int = 10_000_000) -> storage.Upload:
    with storage.receive(io.BytesIO(data), max_size=max_size, store=store) as upload:
        storage.keep(upload, store)
    return upload


def test_stored_by_sha256_and_read_back(store: storage.Backend) -> None:
    upload = _keep(store, PNG)
    assert upload.sha256 == hashlib.sha256(PNG).hexdigest()
    assert upload.size == len(PNG) and upload.media_type == "image/png"
    assert store.exists(upload.sha256)
    with store.open(upload.sha256) as f:  # type: ignore[attr-defined]
        assert f.read() == PNG
    assert [digest for digest, _ in store.list()] == [upload.sha256]
    assert not upload.path.exists(), "the staging file is gone"


def test_same_bytes_twice_are_one_object(store: storage.Backend) -> None:
    _keep(store, PNG)
    _keep(store, PNG)
    assert len(list(store.list())) == 1


def test_delete(store: storage.Backend) -> None:
    upload = _keep(store, PNG)
    store.delete(upload.sha256)
    assert not store.exists(upload.sha256)
    store.delete(upload.sha256)  # deleting twice is harmless


def test_too_large_is_refused_while_streaming_and_leaves_nothing(store: storage.Backend) -> None:
    with pytest.raises(storage.FileTooLarge):
        _keep(store, b"x" * 5000, max_size=4096)
    assert list(store.list()) == []
    assert not list(store.staging_dir.glob("upload-*"))


def test_empty_file_is_refused(store: storage.Backend) -> None:
    with pytest.raises(ValidationFailed, match="empty"):
        _keep(store, b"")
    assert list(store.list()) == []


def test_gc_removes_only_old_unreferenced_files(store: storage.Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    kept, orphan = _keep(store, PNG), _keep(store, b"orphan text")
    monkeypatch.setattr(storage, "_referrers", [])
    storage.register_referrer(lambda digests: {d for d in digests if d == kept.sha256})
    assert storage.collect_garbage(grace=timedelta(hours=1), store=store) == [], "young files survive"
    with clock.shifted(timedelta(hours=2)):
        assert storage.collect_garbage(grace=timedelta(hours=1), store=store, dry_run=True) == [orphan.sha256]
        assert store.exists(orphan.sha256)
        assert storage.collect_garbage(grace=timedelta(hours=1), store=store) == [orphan.sha256]
    assert store.exists(kept.sha256) and not store.exists(orphan.sha256)


def test_local_download_is_an_attachment_that_never_renders(app: Any, tmp_path: Path) -> None:
    store = storage.LocalBackend(tmp_path / "files")
    upload = _keep(store, PNG)
    with app.test_request_context():
        response = storage.download(upload.sha256, filename="plan ü.png", media_type="image/png", store=store)
        response.direct_passthrough = False
        assert response.get_data() == PNG
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"plan _.png\"; filename*=UTF-8''plan%20%C3%BC.png"
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]


def test_s3_download_redirects_to_a_presigned_attachment(app: Any, s3_server: str, s3_bucket: str) -> None:
    store = storage.S3Backend(s3_bucket, "dl", {"S3_ENDPOINT_URL": s3_server, **S3_TEST_SETTINGS})
    upload = _keep(store, PNG)
    with app.test_request_context():
        response = storage.download(upload.sha256, filename="plan.png", media_type="image/png", store=store)
    assert response.status_code == 302
    with urllib.request.urlopen(response.headers["Location"]) as fetched:  # noqa: S310 (our local server)
        assert fetched.read() == PNG
        assert fetched.headers["Content-Disposition"].startswith("attachment;")
        assert fetched.headers["Content-Type"] == "image/png"


def test_s3_failure_is_a_503_and_keeps_nothing(tmp_path: Path) -> None:
    store = storage.S3Backend(
        "no-such-bucket",
        "",
        {"S3_ENDPOINT_URL": "http://127.0.0.1:9", **S3_TEST_SETTINGS, "S3_PRESIGN_TTL": 1},
        staging_dir=tmp_path / "staging",
    )
    with pytest.raises(storage.StorageUnavailable):
        _keep(store, PNG)
    assert not list(store.staging_dir.glob("upload-*"))


# --- sniffing ---------------------------------------------------------------------------------------


def _ooxml(main: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", f'<Types><Override ContentType="application/{main}+xml"/></Types>')
        archive.writestr("word/document.xml", "<doc/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "media_type"),
    [
        (b"%PDF-1.7\n...", "application/pdf"),
        (PNG, "image/png"),
        (b"\xff\xd8\xff\xe0JFIF", "image/jpeg"),
        (b"GIF89a....", "image/gif"),
        (b"RIFF\0\0\0\0WEBPVP8 ", "image/webp"),
        (b"\0\0\0\x18ftypmp42\0\0\0\0", "video/mp4"),
        (b"\0\0\0\x14ftypqt  \0\0\0\0", "video/quicktime"),
        (b"ID3\x04\0\0\0\0\0\0", "audio/mpeg"),
        (
            _ooxml("vnd.openxmlformats-officedocument.wordprocessingml.document.main"),
            storage._OOXML[b"wordprocessingml.document.main"],
        ),
        (
            _ooxml("vnd.openxmlformats-officedocument.spreadsheetml.sheet.main"),
            storage._OOXML[b"spreadsheetml.sheet.main"],
        ),
        (_ooxml("something-else"), storage.ZIP),
        ("Plain words, café.\n".encode(), "text/plain"),
        (b"a,b\n1,2\n", "text/plain"),
        (b"MZ\x90\0PE", storage.EXECUTABLE),
        (b"\x7fELF\x02\x01", storage.EXECUTABLE),
        (b"#!/bin/sh\nrm -rf /", storage.EXECUTABLE),
        (b"  <!DOCTYPE html><p>hi", storage.HTML),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script/></svg>', storage.SVG),
        (b"text with a \0 NUL", storage.UNKNOWN),
        (b"\xc3\x28 invalid UTF-8", storage.UNKNOWN),
    ],
)
def test_sniffing_judges_content_not_names(tmp_path: Path, data: bytes, media_type: str) -> None:
    path = tmp_path / "upload.png"
    path.write_bytes(data)
    assert storage.sniff(path) == media_type


def test_a_png_header_on_an_executable_is_not_a_png(tmp_path: Path) -> None:
    path = tmp_path / "x.png"
    path.write_bytes(b"MZ" + PNG)
    assert storage.sniff(path) == storage.EXECUTABLE


# --- filenames --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../../etc/passwd", "..\\..\\boot.ini", "/etc/passwd", "..", "a\x00b.txt", "a\nb"])
def test_hostile_filenames_are_refused(name: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        storage.clean_filename(name)
    assert caught.value.errors[0]["pointer"] == "#/file"


def test_filenames_are_tidied_and_shortened_keeping_the_extension() -> None:
    assert storage.clean_filename("  .hidden   plan.pdf ") == "hidden plan.pdf"
    assert storage.clean_filename(None) == "file"
    long = storage.clean_filename("x" * 500 + ".docx")
    assert len(long) == storage.MAX_FILENAME and long.endswith(".docx")


def test_multipart_parts_are_staged_once_while_parsing(store: storage.Backend) -> None:
    from werkzeug.formparser import FormDataParser

    created: list[storage.StagedFile] = []
    parser = FormDataParser(stream_factory=storage.staging_stream_factory(store, 10_000, created), silent=False)
    body = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n' + PNG + b"\r\n--b--\r\n"
    _, _, files = parser.parse(io.BytesIO(body), "multipart/form-data", len(body), {"boundary": "b"})
    staged = files["file"].stream
    assert created == [staged] and staged.size == len(PNG)
    with storage.receive(staged, max_size=10_000, store=store) as upload:
        assert upload.path == staged.path, "no second copy"
        assert upload.sha256 == hashlib.sha256(PNG).hexdigest()
        storage.keep(upload, store)
    assert store.exists(upload.sha256) and not staged.path.exists()


def test_a_staged_part_over_the_limit_is_cut_off_while_parsing(store: storage.Backend) -> None:
    from werkzeug.formparser import FormDataParser

    created: list[storage.StagedFile] = []
    parser = FormDataParser(stream_factory=storage.staging_stream_factory(store, 50, created), silent=False)
    body = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n' + PNG + b"\r\n--b--\r\n"
    with pytest.raises(storage.FileTooLarge):
        parser.parse(io.BytesIO(body), "multipart/form-data", len(body), {"boundary": "b"})
    for staged in created:
        staged.close()
    assert not list(store.staging_dir.glob("upload-*"))


def test_gc_command_is_documented_and_runs(app: Any) -> None:
    result = app.test_cli_runner().invoke(args=["storage", "gc", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "unreferenced" in result.output
    assert "storage gc" in (Path(__file__).parents[2] / "docs" / "evidence.md").read_text()
