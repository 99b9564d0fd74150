"""The name check: does an evidence file's text name its earner?

Blind review hides the earner from the assessor, and the metadata cleaner (``core.metadata``) removes what a
file says about itself; but a lesson plan headed "Elin Jones, Room 12" still names her in its text. When a PDF or
Word document is uploaded, its text (what the assessor will read) is searched for the earner's name and e-mail
address, and where they appear is pointed out to the earner beside the file, so they can remove it and upload
the file again. It is a pointer, not a gate: the earner decides.

PDF text comes from PDFium in the same capped child process that renders previews; a .docx is read as the zip
of XML parts it is (body, headers, footers, footnotes, comments), with defusedxml and a size cap. A file that
cannot be read is not checked (nothing is claimed about it).
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from pathlib import Path

from defusedxml import DefusedXmlException, ElementTree

from credentials.portfolios import previews

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF = "application/pdf"
MAX_DOCX_TEXT_BYTES = 32 * 1024 * 1024  # unpacked XML read from one document
_DOCX_PARTS = re.compile(r"word/(document|header\d*|footer\d*|footnotes|endnotes|comments)\.xml")
_W_TEXT = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}t"
_W_PARAGRAPH = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}p"


def _fold(text: str) -> str:
    """Lower case, accents kept apart from letters and dropped, every run of spaces one space."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", plain).strip()


def _docx_texts(path: Path) -> list[str]:
    """The text of each part of a .docx that a reader sees (body first), or [] when it cannot be read."""
    texts: list[str] = []
    budget = MAX_DOCX_TEXT_BYTES
    try:
        with zipfile.ZipFile(path) as document:
            names = sorted(
                (i for i in document.infolist() if _DOCX_PARTS.fullmatch(i.filename)),
                key=lambda i: (i.filename != "word/document.xml", i.filename),
            )
            for info in names:
                budget -= info.file_size
                if budget < 0:
                    break
                root = ElementTree.fromstring(document.read(info))
                paragraphs = ("".join(t.text or "" for t in p.iter(_W_TEXT)) for p in root.iter(_W_PARAGRAPH))
                texts.append("\n".join(paragraphs))
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, RuntimeError, ElementTree.ParseError):
        return []
    except DefusedXmlException:  # entity tricks (billion laughs, external entities): refused, not checked
        return []
    return texts


def texts_of(path: Path, media_type: str) -> tuple[str, list[str]] | None:
    """("page" or "part", the texts) for a PDF or .docx, None for other types or a file that cannot be read."""
    if media_type == PDF:
        try:
            return "page", previews.page_texts(path.read_bytes())
        except previews.PreviewFailed:
            return None
    if media_type == DOCX:
        texts = _docx_texts(path)
        return ("part", texts) if texts else None
    return None


def _needles(name: str | None, email: str | None) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if email and "@" in email:
        found.append(("your e-mail address", _fold(email)))
    words = _fold(name or "").split()
    if len(words) >= 2:
        found.append((f"your name “{name}”", " ".join(words)))
        found.append((f"your name “{name}”", f"{words[-1]}, {' '.join(words[:-1])}"))  # "Jones, Elin"
    elif len(words) == 1 and len(words[0]) >= 4:
        found.append((f"your name “{name}”", words[0]))
    return found


def _contains(haystack: str, needle: str) -> bool:
    """``needle`` as whole words (so "Ann" is not found in "Annual")."""
    return re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", haystack) is not None


def find_identity(path: Path, media_type: str, *, name: str | None, email: str | None) -> list[str] | None:
    """Where the earner's name or e-mail appears in the file's text, as phrases for the earner ("your name
    “Elin Jones” (page 2)"); [] when nowhere; None when the file's type has no text we read, or it is unreadable."""
    read = texts_of(path, media_type)
    if read is None:
        return None
    unit, texts = read
    folded = [_fold(t) for t in texts]
    hits: dict[str, list[int]] = {}
    for label, needle in _needles(name, email):
        for number, text in enumerate(folded, start=1):
            if _contains(text, needle) and number not in hits.setdefault(label, []):
                hits[label].append(number)
    result = []
    for label, numbers in hits.items():
        if not numbers:
            continue
        if unit == "page":
            where = f"page{'s' if len(numbers) > 1 else ''} {', '.join(map(str, numbers[:10]))}"
            if len(numbers) > 10:
                where += " and more"
        else:
            where = "in the document" if numbers == [1] else "in its headers, footers or notes"
        result.append(f"{label} ({where})")
    return result
