"""Baking a credential into a badge image and reading it back (OB 3.0 "Baked Badge", NOTES §8).

PNG: one uncompressed ``iTXt`` chunk with keyword ``openbadgecredential`` just before ``IEND``; the text is a
compact JWS or the credential JSON. SVG: ``xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"`` on the root
and one ``<openbadges:credential>`` as its first child, with the JWS in ``verify`` or the JSON in a CDATA body.

Images come from strangers (uploads to the verifier), so every parse is defensive: PNG chunk lengths and CRCs
are checked, SVG goes through defusedxml (no entity declarations, no external references).
"""

from __future__ import annotations

import re
import struct
import zlib
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
KEYWORD = b"openbadgecredential"
SVG_NAMESPACE = "https://purl.imsglobal.org/ob/v3p0"
_MAX_TEXT = 4 * 1024 * 1024  # a credential text larger than this is not a badge (also bounds decompression)


class BakingError(ValueError):
    """The image is not a well-formed PNG/SVG, or the credential cannot be placed in it."""


# -- PNG -------------------------------------------------------------------------------------------------------


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """Split a PNG into (type, data) chunks, checking structure and every CRC."""
    if not isinstance(data, bytes | bytearray) or not data.startswith(PNG_SIGNATURE):
        raise BakingError("not a PNG file (bad signature)")
    chunks = []
    offset = len(PNG_SIGNATURE)
    while True:
        if offset + 8 > len(data):
            raise BakingError("PNG is truncated (chunk header)")
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        end = offset + 8 + length + 4
        if length > 0x7FFFFFFF or end > len(data):
            raise BakingError(f"PNG chunk {kind!r} runs past the end of the file")
        body = bytes(data[offset + 8 : offset + 8 + length])
        (crc,) = struct.unpack(">I", data[end - 4 : end])
        if zlib.crc32(kind + body) != crc:
            raise BakingError(f"PNG chunk {kind!r} has a bad CRC")
        if not chunks and kind != b"IHDR":
            raise BakingError("PNG must start with an IHDR chunk")
        chunks.append((kind, body))
        offset = end
        if kind == b"IEND":
            break
    if offset != len(data):
        raise BakingError("PNG has data after IEND")
    return chunks


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _itxt_keyword(body: bytes) -> bytes:
    return body.split(b"\0", 1)[0]


def bake_png(png: bytes, text: str) -> bytes:
    """Return the PNG with ``text`` in its one ``openbadgecredential`` iTXt chunk (an older one is replaced)."""
    chunks = _png_chunks(png)
    # keyword \0, compression flag 0, method 0, empty language tag \0, empty translated keyword \0, UTF-8 text
    itxt = KEYWORD + b"\0\0\0\0\0" + text.encode("utf-8")
    out = [PNG_SIGNATURE]
    for kind, body in chunks:
        if kind == b"iTXt" and _itxt_keyword(body) == KEYWORD:
            continue
        if kind == b"IEND":
            out.append(_chunk(b"iTXt", itxt))
        out.append(_chunk(kind, body))
    return b"".join(out)


def extract_png(data: bytes) -> str | None:
    """The credential text of the first ``openbadgecredential`` iTXt chunk, or None if there is none."""
    for kind, body in _png_chunks(data):
        if kind != b"iTXt" or _itxt_keyword(body) != KEYWORD:
            continue
        rest = body[len(KEYWORD) + 1 :]
        if len(rest) < 2:
            raise BakingError("openbadgecredential iTXt chunk is truncated")
        compressed, _method, rest = rest[0], rest[1], rest[2:]
        parts = rest.split(b"\0", 2)
        if len(parts) != 3:
            raise BakingError("openbadgecredential iTXt chunk is malformed")
        text = parts[2]
        if compressed:
            # The spec forbids compression; read it anyway, bounded, to be liberal in what we accept.
            inflater = zlib.decompressobj()
            try:
                text = inflater.decompress(text, _MAX_TEXT)
            except zlib.error:
                raise BakingError("openbadgecredential iTXt chunk has corrupt compressed text") from None
            if inflater.unconsumed_tail:
                raise BakingError("openbadgecredential text is too large")
        try:
            return text.decode("utf-8")
        except UnicodeDecodeError:
            raise BakingError("openbadgecredential text is not UTF-8") from None
    return None


# -- SVG -------------------------------------------------------------------------------------------------------


def _parse_svg(text: str) -> Element:
    if not isinstance(text, str):
        raise BakingError("SVG must be text")
    try:
        # A DOCTYPE naming the SVG 1.1 DTD is common (1EdTech's own samples); entity declarations are not allowed.
        root = SafeET.fromstring(text.encode("utf-8"), forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise BakingError(
            f"SVG refused: {type(exc).__name__} (entities and external references are not allowed)"
        ) from None
    except (ParseError, ValueError) as exc:
        raise BakingError(f"not well-formed XML: {exc}") from None
    if root.tag not in ("{http://www.w3.org/2000/svg}svg", "svg"):
        raise BakingError("the root element is not <svg>")
    return root


_START_TAG = re.compile(r"<svg(?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*\s*(/?)>")
_OLD_ELEMENT = re.compile(
    r"<(?P<p>[\w.-]+):credential\b(?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*\s*(?:/>|>.*?</(?P=p):credential\s*>)\s*",
    re.DOTALL,
)


def bake_svg(svg: str, *, jws: str | None = None, credential_json: str | None = None) -> str:
    """Return the SVG with one ``<openbadges:credential>`` right after the root start tag.

    Give either ``jws`` (put in ``verify``) or ``credential_json`` (put in a CDATA body). An existing
    credential element is replaced. The rest of the document is kept byte for byte.
    """
    if (jws is None) == (credential_json is None):
        raise BakingError("give exactly one of jws or credential_json")
    root = _parse_svg(svg)
    if next(root.iter(f"{{{SVG_NAMESPACE}}}credential"), None) is not None:
        # removed textually, so the rest of the document stays byte for byte
        svg = _remove_old_credential(svg)
    match = _START_TAG.search(svg)
    if match is None:
        raise BakingError("cannot find the <svg> start tag")
    start_tag = match.group(0)
    if "xmlns:openbadges=" not in start_tag:
        insert_at = len(start_tag) - (2 if match.group(1) else 1)
        start_tag = start_tag[:insert_at] + f' xmlns:openbadges="{SVG_NAMESPACE}"' + start_tag[insert_at:]
    if jws is not None:
        if not re.fullmatch(r"[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]+", jws):
            raise BakingError("jws is not a compact JWS")
        element = f'<openbadges:credential verify="{jws}"></openbadges:credential>'
    else:
        body = credential_json.replace("]]>", "]]]]><![CDATA[>")  # type: ignore[union-attr]
        element = f"<openbadges:credential><![CDATA[{body}]]></openbadges:credential>"
    if match.group(1):  # <svg .../> has no children: open it up
        start_tag = start_tag[:-2].rstrip() + ">"
        return svg[: match.start()] + start_tag + element + "</svg>" + svg[match.end() :]
    return svg[: match.start()] + start_tag + element + svg[match.end() :]


def _remove_old_credential(svg: str) -> str:
    result = _OLD_ELEMENT.sub("", svg, count=1)
    if result == svg:
        raise BakingError("the SVG's existing credential element cannot be replaced")
    return result


def extract_svg(text: str) -> str | None:
    """The credential text of the first ``<openbadges:credential>`` (its ``verify`` JWS or its body)."""
    root = _parse_svg(text)
    for element in root.iter(f"{{{SVG_NAMESPACE}}}credential"):
        verify = element.get("verify")
        if verify:
            return verify.strip()
        body = "".join(element.itertext()).strip()
        return body or None
    return None
