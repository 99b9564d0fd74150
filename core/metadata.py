"""Identifying metadata removed from evidence files, so a blind assessor's copy does not name its earner.

A PDF's document information and XMP packet, an image's EXIF (GPS position, camera owner, artist), IPTC and XMP,
and an Office document's properties (``docProps/core.xml``, ``app.xml``, ``custom.xml``) routinely carry the
author's name, e-mail, school and where a photo was taken. ``clean(path, media_type)`` writes a copy without
them next to ``path`` and says what it removed; the original is never changed (the earner keeps it).

The cleaners are a small registry by media type, each done with a maintained library (pikepdf for PDF, Pillow
for images) or, for Office files, by rewriting the property parts of the zip. A type without a cleaner is
``unsupported`` (its bytes may still hold metadata: audio tags, video atoms), and a file a cleaner cannot read
is ``failed``; both are shown to the earner before they submit.
"""

from __future__ import annotations

import enum
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

# Text has nowhere to hide metadata; what it says is the earner's to check.
_PLAIN = frozenset({"text/plain", "text/csv"})
# Decompressed size an Office file may reach while it is rewritten (a zip bomb is refused, not inflated).
MAX_UNPACKED = 512 * 1024 * 1024


class CleanStatus(enum.StrEnum):
    CLEANED = "cleaned"  # a copy without metadata was written (``removed`` says what went)
    NONE_FOUND = "none_found"  # the file held none of the metadata we look for; the copy is the original
    UNSUPPORTED = "unsupported"  # no cleaner for this type: the assessor sees the original
    FAILED = "failed"  # the cleaner could not read the file: the assessor sees the original


@dataclass
class Cleaned:
    status: CleanStatus
    path: Path | None = None  # the cleaned copy (CLEANED only); the caller stores and deletes it
    removed: list[str] = field(default_factory=list)
    problem: str = ""


Cleaner = Callable[[Path, Path], list[str]]  # (original, copy to write) → what was removed
_cleaners: dict[str, Cleaner] = {}


class CannotClean(Exception):
    """The file could not be read or rewritten by its cleaner."""


def cleaner(*media_types: str) -> Callable[[Cleaner], Cleaner]:
    def register(fn: Cleaner) -> Cleaner:
        for media_type in media_types:
            _cleaners[media_type] = fn
        return fn

    return register


def clean(path: Path, media_type: str) -> Cleaned:
    """A copy of the file at ``path`` without identifying metadata, and what was removed."""
    if media_type in _PLAIN:
        return Cleaned(CleanStatus.NONE_FOUND)
    fn = _cleaners.get(media_type)
    if fn is None:
        return Cleaned(CleanStatus.UNSUPPORTED, problem="Hidden details in this kind of file cannot be removed.")
    target = path.with_name(path.name + ".clean")
    try:
        removed = fn(path, target)
    except CannotClean as exc:
        target.unlink(missing_ok=True)
        return Cleaned(CleanStatus.FAILED, problem=str(exc))
    except Exception:  # a damaged file can make any library raise anything; it must not stop the upload
        target.unlink(missing_ok=True)
        return Cleaned(CleanStatus.FAILED, problem="The file could not be read to remove its hidden details.")
    if not removed:
        target.unlink(missing_ok=True)
        return Cleaned(CleanStatus.NONE_FOUND)
    return Cleaned(CleanStatus.CLEANED, path=target, removed=removed)


# --- PDF ------------------------------------------------------------------------------------------------

_PDF_INFO_NAMES = {
    "/Author": "author",
    "/Creator": "creating application",
    "/Producer": "producing application",
    "/Title": "title",
    "/Subject": "subject",
    "/Keywords": "keywords",
}


@cleaner("application/pdf")
def _clean_pdf(original: Path, target: Path) -> list[str]:
    import pikepdf

    try:
        pdf = pikepdf.open(original)
    except pikepdf.PasswordError as exc:
        raise CannotClean("The PDF is password-protected, so its hidden details cannot be removed.") from exc
    except pikepdf.PdfError as exc:
        raise CannotClean("The PDF could not be read to remove its hidden details.") from exc
    removed: list[str] = []
    with pdf:
        info = pdf.trailer.get("/Info")
        if info is not None:
            removed += sorted({_PDF_INFO_NAMES.get(str(key), "document information") for key in info.keys()})  # noqa: SIM118
            del pdf.trailer["/Info"]
        if "/Metadata" in pdf.Root:
            removed.append("XMP metadata")
            del pdf.Root["/Metadata"]
        for page in pdf.pages:  # pages and images can carry their own XMP and application data
            for owner in (page.obj, *(image for _, image in page.get_images().items())):
                for key in ("/Metadata", "/PieceInfo"):
                    if key in owner:
                        del owner[key]
                        if "XMP metadata of a page or image" not in removed:
                            removed.append("XMP metadata of a page or image")
        if removed:
            # A fresh save (not incremental), so the old information dictionary is not left in the file's history.
            pdf.save(target, fix_metadata_version=False, deterministic_id=True)
    return removed


# --- images ---------------------------------------------------------------------------------------------

_EXIF_GPS, _EXIF_ORIENTATION = 0x8825, 0x0112


@cleaner("image/jpeg", "image/png", "image/webp", "image/gif")
def _clean_image(original: Path, target: Path) -> list[str]:
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        image = Image.open(original)
        image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise CannotClean("The image could not be read to remove its hidden details.") from exc
    if getattr(image, "n_frames", 1) > 1:
        raise CannotClean("Hidden details cannot be removed from an animated image.")
    exif = image.getexif()
    removed = []
    if exif.get_ifd(_EXIF_GPS) or _EXIF_GPS in exif:
        removed.append("GPS position")
    if any(key != _EXIF_ORIENTATION for key in exif if key != _EXIF_GPS):
        removed.append("EXIF (camera, owner, dates)")
    info_names = {
        "xmp": "XMP metadata",
        "XML:com.adobe.xmp": "XMP metadata",
        "photoshop": "IPTC metadata",
        "comment": "comment",
    }
    for key, label in info_names.items():
        if image.info.get(key) and label not in removed:
            removed.append(label)
    text_chunks = [key for key in getattr(image, "text", {}) if key not in info_names]
    if text_chunks:
        removed.append("text fields (" + ", ".join(sorted(text_chunks)[:5]) + ")")
    if not removed and exif.get(_EXIF_ORIENTATION, 1) == 1:
        return []
    # Turned upright first, so dropping the orientation tag does not leave the photo on its side.
    upright = ImageOps.exif_transpose(image)
    icc = image.info.get("icc_profile")
    kept: dict[str, object] = {"icc_profile": icc} if icc else {}
    upright.info = {}
    fmt = image.format or "PNG"
    if fmt == "JPEG":
        kept.update(quality=95, subsampling="keep" if upright is image else 0)
        if upright.mode not in {"RGB", "L", "CMYK"}:
            upright = upright.convert("RGB")
    elif fmt == "WEBP":
        kept.update(lossless=image.info.get("lossless", False), quality=95)
    if fmt == "GIF" and "transparency" in image.info:
        kept["transparency"] = image.info["transparency"]
    upright.save(target, format=fmt, **kept)
    return removed or ["orientation (the image was turned upright)"]


# --- Office Open XML (docx, xlsx, pptx) ----------------------------------------------------------------

_EMPTY_PARTS = {
    "docProps/core.xml": (
        "document properties (author, last modified by, title)",
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"'
        b' xmlns:dc="http://purl.org/dc/elements/1.1/"/>',
    ),
    "docProps/app.xml": (
        "application properties (company, manager)",
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"/>',
    ),
    "docProps/custom.xml": (
        "custom properties",
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"/>',
    ),
}


@cleaner(
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
)
def _clean_office(original: Path, target: Path) -> list[str]:
    """The property parts replaced by empty ones (their relationships stay valid); every other part as it was."""
    try:
        with zipfile.ZipFile(original) as source:
            infos = source.infolist()
            if sum(info.file_size for info in infos) > MAX_UNPACKED:
                raise CannotClean("The document unpacks to more than we can check.")
            present = {info.filename for info in infos} & set(_EMPTY_PARTS)
            if not present:
                return []
            with zipfile.ZipFile(target, "w") as copy:
                for info in infos:
                    replacement = _EMPTY_PARTS.get(info.filename)
                    member = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
                    member.compress_type = info.compress_type
                    member.external_attr = info.external_attr
                    if replacement is not None:
                        copy.writestr(member, replacement[1])
                        continue
                    with source.open(info) as part, copy.open(member, "w") as out:
                        shutil.copyfileobj(part, out, 1024 * 1024)
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError, NotImplementedError) as exc:
        raise CannotClean("The document could not be read to remove its properties.") from exc
    return [_EMPTY_PARTS[name][0] for name in sorted(present)]
