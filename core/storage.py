"""Evidence file storage: one interface, two backends (a local directory or an S3 bucket), chosen by STORAGE_URL.

Files are content-addressed: the key is the SHA-256 of the bytes, so the same file uploaded twice (or copied
into a next attempt) is stored once and never rewritten. An upload is streamed to a staging file while it is
hashed, measured and cut off at its size limit, so memory stays flat whatever the file size; the type is then
sniffed from the staged bytes (never from the name or the client's Content-Type) and only then are the bytes
kept. Rows that point at files are written after the bytes are safe; the reverse failure (bytes kept, row
never committed) leaves an orphan that ``flask storage gc`` removes once it is older than a grace period.

Downloads are always attachments with ``nosniff`` and a sandboxing CSP: the local backend streams the bytes,
the S3 backend redirects to a short-lived presigned URL that makes S3 send the same headers.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import re
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, Protocol
from urllib.parse import quote, urlsplit

import click
from flask import Flask, Response, current_app, redirect, send_file
from flask.cli import AppGroup

from core import clock
from core.errors import ServiceError, ValidationFailed

CHUNK = 1024 * 1024
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
DOWNLOAD_CSP = "default-src 'none'; sandbox"


class StorageUnavailable(ServiceError):
    """The store could not take or give the bytes; nothing was recorded."""

    status, type_slug, title = 503, "storage-unavailable", "File storage is unavailable"


class FileTooLarge(ServiceError):
    status, type_slug, title = 413, "payload-too-large", "File too large"


# --- content sniffing ----------------------------------------------------------------------------------

EXECUTABLE = "application/x-executable"
HTML = "text/html"
SVG = "image/svg+xml"
ZIP = "application/zip"
UNKNOWN = "application/octet-stream"
# Types we recognise only to refuse them with a clear message: they can run code in a browser or on a machine.
DANGEROUS = {EXECUTABLE: "an executable program", HTML: "an HTML page", SVG: "an SVG image (it can hold scripts)"}

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"ID3", "audio/mpeg"),
    (b"MZ", EXECUTABLE),  # Windows PE
    (b"\x7fELF", EXECUTABLE),
    (b"\xfe\xed\xfa\xce", EXECUTABLE),  # Mach-O, both endiannesses, 32/64-bit, and universal binaries
    (b"\xfe\xed\xfa\xcf", EXECUTABLE),
    (b"\xce\xfa\xed\xfe", EXECUTABLE),
    (b"\xcf\xfa\xed\xfe", EXECUTABLE),
    (b"\xca\xfe\xba\xbe", EXECUTABLE),
    (b"#!", EXECUTABLE),  # a script with an interpreter line
)
_OOXML = {
    b"wordprocessingml.document.main": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    b"spreadsheetml.sheet.main": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    b"presentationml.presentation.main": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
_MARKUP = re.compile(rb"^\s*(<!doctype\s+html|<html|<head|<body|<script|<svg|<\?xml|<iframe|<!--)", re.IGNORECASE)


def sniff(path: Path) -> str:
    """The media type of the file at ``path`` judged from its bytes alone (``UNKNOWN`` when unsure)."""
    with path.open("rb") as f:
        head = f.read(4096)
    for magic, media_type in _MAGIC:
        if head.startswith(magic):
            return media_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        return "video/quicktime" if head[8:12] == b"qt  " else "video/mp4"
    if len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return "audio/mpeg"  # an MPEG audio frame without an ID3 tag
    if head.startswith(b"PK\x03\x04"):
        return _sniff_zip(path)
    if _MARKUP.match(head.removeprefix(codecs.BOM_UTF8)):
        return SVG if b"<svg" in head.lower() else HTML
    return "text/plain" if _is_text(path) else UNKNOWN


def _sniff_zip(path: Path) -> str:
    """Office Open XML documents are zip files that name their main part in ``[Content_Types].xml``."""
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo("[Content_Types].xml")
            if info.file_size > 1024 * 1024:  # a real one is a few KB; refuse to inflate a bomb
                return ZIP
            types = archive.read(info)
    except (KeyError, zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError):
        return ZIP
    for marker, media_type in _OOXML.items():
        if marker in types:
            return media_type
    return ZIP


def _is_text(path: Path) -> bool:
    """UTF-8 throughout (checked incrementally), with no NUL and no other C0 control but tab, LF, CR, FF."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    allowed = {9, 10, 12, 13}
    bad = bytes(b for b in range(32) if b not in allowed) + b"\x7f"
    try:
        with path.open("rb") as f:
            while chunk := f.read(CHUNK):
                if any(b in chunk for b in bad):
                    return False
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


# --- filenames -----------------------------------------------------------------------------------------

MAX_FILENAME = 200


def clean_filename(name: str | None) -> str:
    """A name safe to show and to put in Content-Disposition; refuses (422) a name that tries to be a path.

    Browsers send a bare name; one with separators, ``..`` or control characters was made by hand to attack.
    Over-long names are shortened, keeping the extension.
    """
    raw = unicodedata.normalize("NFC", name or "")
    if "/" in raw or "\\" in raw or raw.strip() in {".", ".."}:
        raise ValidationFailed.field("file", "The file name must be a plain name, not a path.")
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co", "Zl", "Zp"} for ch in raw):
        raise ValidationFailed.field("file", "The file name contains control characters.")
    cleaned = " ".join(raw.split()).lstrip(".") or "file"
    if len(cleaned) > MAX_FILENAME:
        stem, dot, ext = cleaned.rpartition(".")
        ext = ext if dot and len(ext) <= 10 else ""
        cleaned = (stem if ext else cleaned)[: MAX_FILENAME - len(ext) - 1].rstrip() + ("." + ext if ext else "")
    return cleaned


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback name and the exact name in RFC 5987 form."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;%' else "_" for ch in filename) or "file"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


# --- backends ------------------------------------------------------------------------------------------


class Backend(Protocol):
    """What a store must do; keys are SHA-256 hex digests."""

    staging_dir: Path

    def put(self, path: Path, sha256: str) -> None: ...
    def exists(self, sha256: str) -> bool: ...
    def open(self, sha256: str) -> IO[bytes]: ...
    def delete(self, sha256: str) -> None: ...
    def list(self) -> Iterator[tuple[str, datetime]]: ...
    def download_url(self, sha256: str, filename: str, media_type: str) -> str | None: ...


class LocalBackend:
    """Files under a directory, fanned out as ``ab/cd/<sha256>``; staging lives inside it so a move is a rename."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.staging_dir = root / ".incoming"

    def _path(self, sha256: str) -> Path:
        if not SHA256_RE.match(sha256):
            raise ValueError("not a SHA-256 key")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, path: Path, sha256: str) -> None:
        target = self._path(sha256)
        try:
            if target.exists():
                os.utime(target)  # refreshed, so gc's grace period protects it while its row commits
                path.unlink()
                return
            target.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(path, 0o640)
            os.replace(path, target)
        except OSError as exc:
            raise StorageUnavailable("The file could not be stored; try again.") from exc

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).is_file()

    def open(self, sha256: str) -> IO[bytes]:
        try:
            return self._path(sha256).open("rb")
        except OSError as exc:
            raise StorageUnavailable("The file could not be read.") from exc

    def delete(self, sha256: str) -> None:
        with suppress(FileNotFoundError):
            self._path(sha256).unlink()

    def list(self) -> Iterator[tuple[str, datetime]]:
        if not self.root.is_dir():
            return
        for path in self.root.glob("??/??/*"):
            if SHA256_RE.match(path.name):
                yield path.name, datetime.fromtimestamp(path.stat().st_mtime, UTC)

    def download_url(self, sha256: str, filename: str, media_type: str) -> str | None:
        return None  # the app streams the bytes itself


class S3Backend:
    """Objects ``<prefix>sha256/<digest>`` in one bucket of any S3-compatible store, through boto3."""

    def __init__(self, bucket: str, prefix: str, config: dict[str, Any], staging_dir: Path | None = None) -> None:
        import boto3
        from boto3.s3.transfer import TransferConfig
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = (prefix.strip("/") + "/" if prefix.strip("/") else "") + "sha256/"
        self.ttl = config["S3_PRESIGN_TTL"]
        self.staging_dir = staging_dir or Path(tempfile.gettempdir()) / "microcred-incoming"
        self.client = boto3.session.Session().client(
            "s3",
            endpoint_url=config["S3_ENDPOINT_URL"] or None,
            region_name=config["S3_REGION"] or None,
            aws_access_key_id=config["S3_ACCESS_KEY_ID"] or None,
            aws_secret_access_key=config["S3_SECRET_ACCESS_KEY"] or None,
            config=Config(signature_version="s3v4", retries={"max_attempts": 3, "mode": "standard"}),
        )
        # Parts of 8 MB, four at a time: a 200 MB upload holds ~32 MB of buffers, not the whole file.
        self.transfer = TransferConfig(multipart_threshold=8 * CHUNK, multipart_chunksize=8 * CHUNK, max_concurrency=4)

    def _key(self, sha256: str) -> str:
        if not SHA256_RE.match(sha256):
            raise ValueError("not a SHA-256 key")
        return self.prefix + sha256

    def put(self, path: Path, sha256: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            # Uploading again even when the object exists refreshes its LastModified, which gc's grace reads.
            self.client.upload_file(
                str(path),
                self.bucket,
                self._key(sha256),
                ExtraArgs={"ContentType": UNKNOWN},
                Config=self.transfer,
            )
        except (BotoCoreError, ClientError, OSError) as exc:
            raise StorageUnavailable("The file could not be stored; try again.") from exc
        finally:
            with suppress(FileNotFoundError):
                path.unlink()

    def exists(self, sha256: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(sha256))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise StorageUnavailable("The file store could not be reached.") from exc
        return True

    def open(self, sha256: str) -> IO[bytes]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(sha256))["Body"]  # type: ignore[no-any-return]
        except (BotoCoreError, ClientError) as exc:
            raise StorageUnavailable("The file could not be read.") from exc

    def delete(self, sha256: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(sha256))
        except (BotoCoreError, ClientError) as exc:
            raise StorageUnavailable("The file could not be deleted; try again.") from exc

    def list(self) -> Iterator[tuple[str, datetime]]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for item in page.get("Contents", []):
                digest = item["Key"].removeprefix(self.prefix)
                if SHA256_RE.match(digest):
                    yield digest, item["LastModified"]

    def download_url(self, sha256: str, filename: str, media_type: str) -> str | None:
        return str(
            self.client.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self.bucket,
                    "Key": self._key(sha256),
                    "ResponseContentDisposition": content_disposition(filename),
                    "ResponseContentType": media_type,
                },
                ExpiresIn=self.ttl,
            )
        )


def backend_from_config(config: dict[str, Any]) -> Backend:
    url = urlsplit(config["STORAGE_URL"])
    if url.scheme == "s3":
        return S3Backend(url.netloc, url.path, config)
    return LocalBackend(Path(url.path))


def backend() -> Backend:
    """The current app's store (built once per app, on first use)."""
    store = current_app.extensions.get("storage")
    if store is None:
        store = current_app.extensions["storage"] = backend_from_config(current_app.config)
    return store  # type: ignore[no-any-return]


# --- receiving and keeping uploads ---------------------------------------------------------------------


@dataclass
class Upload:
    """A staged upload: hashed, measured and sniffed, not yet kept."""

    path: Path
    sha256: str
    size: int
    media_type: str
    kept: bool = False


class StagedFile:
    """Bytes being written to a staging file, hashed and counted as they arrive, cut off past ``max_size``.

    ``receive`` copies any stream into one. Werkzeug can also write a multipart file part straight into one
    (``staging_stream_factory``), so an upload's bytes hit the disk once instead of being spooled to a
    temporary file and copied again. Closing it removes the staging file unless its bytes were kept.
    """

    def __init__(self, store: Backend, max_size: int) -> None:
        store.staging_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=store.staging_dir, prefix="upload-")
        self.path = Path(name)
        self.file = os.fdopen(fd, "w+b")
        self.digest = hashlib.sha256()
        self.size = 0
        self.max_size = max_size

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.size > self.max_size:
            raise FileTooLarge(f"The file is larger than the limit of {self.max_size:,} bytes.", limit=self.max_size)
        self.digest.update(data)
        return self.file.write(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.file.seek(offset, whence)

    def read(self, size: int = -1) -> bytes:
        return self.file.read(size)

    def flush(self) -> None:
        self.file.flush()

    def close(self) -> None:
        self.file.close()
        with suppress(FileNotFoundError):  # gone already when its bytes were kept by a rename
            self.path.unlink()

    def finish(self, max_size: int) -> Upload:
        """Make the bytes durable and check them: the size limit (which may be tighter now), not empty, type."""
        self.file.flush()
        os.fsync(self.file.fileno())
        if self.size > max_size:
            raise FileTooLarge(f"The file is larger than the limit of {max_size:,} bytes.", limit=max_size)
        if self.size == 0:
            raise ValidationFailed.field("file", "The file is empty.")
        return Upload(path=self.path, sha256=self.digest.hexdigest(), size=self.size, media_type=sniff(self.path))


def staging_stream_factory(store: Backend, max_size: int, created: list[StagedFile]) -> Callable[..., StagedFile]:
    """A Werkzeug ``stream_factory`` writing file parts into staging files (appended to ``created``)."""

    def factory(**_: Any) -> StagedFile:
        staged = StagedFile(store, max_size)
        created.append(staged)
        return staged

    return factory


@contextmanager
def receive(stream: IO[bytes] | StagedFile, *, max_size: int, store: Backend | None = None) -> Iterator[Upload]:
    """Stage ``stream`` (hash, size, sniffed type); the staging file is gone when the block ends.

    Raises FileTooLarge as soon as ``max_size`` bytes are passed, and refuses empty files.
    Call ``keep(upload)`` inside the block to store the bytes. A ``StagedFile`` (a part Werkzeug already
    wrote to staging) is used as it is, without a copy.
    """
    staged = stream if isinstance(stream, StagedFile) else StagedFile(store or backend(), max_size)
    try:
        if staged is not stream:
            while chunk := stream.read(CHUNK):
                staged.write(chunk)
        yield staged.finish(max_size)
    finally:
        staged.close()


def keep(upload: Upload, store: Backend | None = None) -> None:
    """Store the staged bytes under their SHA-256 (StorageUnavailable if the store fails; nothing is kept)."""
    (store or backend()).put(upload.path, upload.sha256)
    upload.kept = True


def keep_path(path: Path, store: Backend | None = None) -> tuple[str, int]:
    """Store a file the app made itself (a cleaned copy) under its SHA-256; its digest and size."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    size = path.stat().st_size
    (store or backend()).put(path, digest.hexdigest())
    return digest.hexdigest(), size


# Raster images a browser can show without running anything in them (SVG, PDF and HTML are never shown inline).
INLINE_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


def download(
    sha256: str, *, filename: str, media_type: str, store: Backend | None = None, inline: bool = False
) -> Response:
    """A response that makes the browser save the file, never render it on our origin.

    ``inline`` (honoured for raster images only, so an ``<img>`` beside the rubric can show them) streams the
    bytes through the app with ``Content-Disposition: inline`` under the same sandboxing CSP: the image is
    drawn, and nothing in it can run or read the app's cookies.
    """
    store = store or backend()
    inline = inline and media_type in INLINE_IMAGE_TYPES
    url = None if inline else store.download_url(sha256, filename, media_type)
    if url is not None:
        response = redirect(url, 302)
    else:
        response = send_file(store.open(sha256), mimetype=media_type, as_attachment=not inline, download_name=filename)
        disposition = content_disposition(filename)
        if inline:
            disposition = disposition.replace("attachment", "inline", 1)
        response.headers["Content-Disposition"] = disposition
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = DOWNLOAD_CSP
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- garbage collection --------------------------------------------------------------------------------

# Each domain that stores files registers a function telling which of a batch of digests it still references.
Referrer = Callable[[list[str]], set[str]]
_referrers: list[Referrer] = []


def register_referrer(fn: Referrer) -> Referrer:
    if fn not in _referrers:
        _referrers.append(fn)
    return fn


def referenced(digests: list[str]) -> set[str]:
    """Which of ``digests`` some row still uses (every domain that stores files is asked)."""
    found: set[str] = set()
    for referrer in _referrers:
        found |= referrer(digests)
    return found


def _batches(items: Iterable[tuple[str, datetime]], size: int) -> Iterator[list[tuple[str, datetime]]]:
    batch: list[tuple[str, datetime]] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def collect_garbage(*, grace: timedelta, dry_run: bool = False, store: Backend | None = None) -> list[str]:
    """Delete stored files no row references and older than ``grace`` (so uploads in flight survive)."""
    store = store or backend()
    cutoff = clock.now() - grace
    removed: list[str] = []
    for batch in _batches(store.list(), 500):
        old = [digest for digest, modified in batch if modified < cutoff]
        if not old:
            continue
        in_use = referenced(old)
        for digest in old:
            if digest not in in_use:
                if not dry_run:
                    store.delete(digest)
                removed.append(digest)
    if store.staging_dir.is_dir() and not dry_run:  # staging files left by a killed process
        for path in store.staging_dir.glob("upload-*"):
            if datetime.fromtimestamp(path.stat().st_mtime, UTC) < cutoff:
                with suppress(FileNotFoundError):
                    path.unlink()
    return removed


def delete_unreferenced(digests: set[str]) -> int:
    """Delete the stored files of these digests that no remaining row uses (the same bytes uploaded by someone
    else stay): after rows were erased or evidence passed its retention period. How many were deleted."""
    if not digests:
        return 0
    batch = sorted(digests)
    in_use = referenced(batch)
    store = backend()
    gone = [d for d in batch if d not in in_use]
    for digest in gone:
        store.delete(digest)
    return len(gone)


storage_cli = AppGroup("storage", help="Evidence file storage.")


@storage_cli.command("gc")
@click.option("--grace", type=int, default=None, help="Keep files younger than this many seconds.")
@click.option("--dry-run", is_flag=True, help="List what would be removed, remove nothing.")
def gc_command(grace: int | None, dry_run: bool) -> None:
    """Remove stored files that no submission references (orphans of failed or rolled-back uploads)."""
    seconds = current_app.config["STORAGE_GC_GRACE"] if grace is None else grace
    removed = collect_garbage(grace=timedelta(seconds=seconds), dry_run=dry_run)
    for digest in removed:
        click.echo(digest)
    click.echo(f"{'Would remove' if dry_run else 'Removed'} {len(removed)} unreferenced file(s).", err=True)


def init_app(app: Flask) -> None:
    app.cli.add_command(storage_cli)
