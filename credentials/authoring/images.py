"""Badge images: checking uploads (PNG as is, SVG sanitised) and drawing a default.

An SVG is a program as much as a picture (scripts, external loads, event handlers); we keep only
the drawing elements and attributes listed here and rebuild the document from them.
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
import uuid
import xml.etree.ElementTree as ET
from functools import lru_cache
from html import escape
from typing import NamedTuple

from core import audit
from core.authz import authorize
from core.db import db
from core.errors import ValidationFailed
from core.models import User
from credentials.authoring.models import CredentialImage, CredentialVersion, VersionState
from credentials.authoring.publication import require_state
from credentials.authoring.versions import PUBLIC_STATES, get_version

MAX_IMAGE_BYTES = 512 * 1024
MAX_PIXELS = 2048
# Badge drawings nest a few groups deep; far deeper nesting is an attack on the recursive copy below.
MAX_SVG_DEPTH = 64
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"

_ELEMENTS = {
    "svg", "g", "defs", "title", "desc", "path", "rect", "circle", "ellipse", "line", "polyline", "polygon",
    "text", "tspan", "linearGradient", "radialGradient", "stop", "clipPath", "mask", "symbol", "use", "pattern",
}  # fmt: skip
_ATTRIBUTES = {
    "id", "class", "d", "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry", "width", "height",
    "viewBox", "points", "fill", "fill-opacity", "fill-rule", "stroke", "stroke-width", "stroke-opacity",
    "stroke-linecap", "stroke-linejoin", "stroke-dasharray", "opacity", "transform", "offset", "stop-color",
    "stop-opacity", "gradientUnits", "gradientTransform", "font-family", "font-size", "font-weight",
    "text-anchor", "dominant-baseline", "clip-path", "mask", "preserveAspectRatio", "version", "fx", "fy",
    "patternUnits", "letter-spacing", "href",
}  # fmt: skip
_LOCAL_REF = re.compile(r"^#[A-Za-z_][\w.-]*$")
_URL_IN_VALUE = re.compile(r"url\(\s*(?!['\"]?#)", re.IGNORECASE)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_badge_image(data: bytes) -> tuple[str, bytes]:
    """(media type, bytes to store) for an acceptable PNG or SVG; ValidationFailed naming the problem."""
    if not data:
        raise ValidationFailed.field("file", "The file is empty.")
    if len(data) > MAX_IMAGE_BYTES:
        raise ValidationFailed.field("file", f"Badge images may be at most {MAX_IMAGE_BYTES // 1024} KiB.")
    if data.startswith(PNG_SIGNATURE):
        return "image/png", _check_png(data)
    head = data[:1024].lstrip().lower()
    if head.startswith((b"<?xml", b"<svg", b"<!--", b"<!doctype")):
        return "image/svg+xml", sanitise_svg(data)
    raise ValidationFailed.field("file", "Upload a PNG or an SVG image.")


def _check_png(data: bytes) -> bytes:
    if len(data) < 33 or data[12:16] != b"IHDR":
        raise ValidationFailed.field("file", "The PNG is damaged (no header).")
    width, height = struct.unpack(">II", data[16:24])
    if not (0 < width <= MAX_PIXELS and 0 < height <= MAX_PIXELS):
        raise ValidationFailed.field("file", f"PNG images may be at most {MAX_PIXELS}x{MAX_PIXELS} pixels.")
    if not data.rstrip(b"\x00").endswith(b"IEND\xaeB`\x82"):
        raise ValidationFailed.field("file", "The PNG is truncated.")
    return data


def sanitise_svg(data: bytes) -> bytes:
    """A rebuilt SVG holding only safe drawing elements and attributes, or ValidationFailed."""
    lowered = data.lower()
    if b"<!doctype" in lowered or b"<!entity" in lowered:
        raise ValidationFailed.field("file", "SVG files with a DOCTYPE or entities are not accepted.")
    try:
        root = ET.fromstring(data)  # noqa: S314
    except ET.ParseError as exc:
        raise ValidationFailed.field("file", f"The SVG is not well-formed XML ({exc}).") from None
    if _local(root.tag) != "svg":
        raise ValidationFailed.field("file", "The file's root element is not <svg>.")
    clean = _copy(root)
    if clean is None:  # an <svg> of another namespace
        raise ValidationFailed.field("file", "The file's root element is not an SVG <svg>.")
    clean.set("xmlns", SVG_NS)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(clean, encoding="utf-8", xml_declaration=False)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _copy(element: ET.Element, depth: int = 0) -> ET.Element | None:
    if depth > MAX_SVG_DEPTH:
        raise ValidationFailed.field("file", f"The SVG nests elements more than {MAX_SVG_DEPTH} deep.")
    name = _local(element.tag)
    if name not in _ELEMENTS or (
        isinstance(element.tag, str) and element.tag.startswith("{") and not element.tag.startswith("{" + SVG_NS)
    ):
        return None
    out = ET.Element(name)
    for key, value in element.attrib.items():
        attr = _local(key)
        if key.startswith("{") and not key.startswith(("{" + XLINK_NS, "{" + SVG_NS)):
            continue
        if attr not in _ATTRIBUTES or _URL_IN_VALUE.search(value):
            continue
        if attr == "href" and not _LOCAL_REF.match(value.strip()):
            continue
        out.set(attr, value)
    out.text = element.text if name in {"text", "tspan", "title", "desc"} else None
    for child in element:
        copied = _copy(child, depth + 1)
        if copied is not None:
            # Text after a <tspan> belongs to the enclosing <text>; elsewhere stray text is dropped.
            copied.tail = child.tail if name == "text" else None
            out.append(copied)
    return out


_PALETTE = ("#0b5cad", "#1e6b34", "#7a3e9d", "#a4461a", "#00667a", "#8a1c4a", "#4b5a12", "#2f4b7c")


def _default_badge_design(title: str, seed: str) -> tuple[str, str]:
    """The colour (stable per ``seed``) and the initials of the generated default badge."""
    colour = _PALETTE[int(hashlib.sha256(seed.encode()).hexdigest(), 16) % len(_PALETTE)]
    words = [w for w in re.split(r"\W+", title) if w]
    return colour, "".join(w[0] for w in words[:3]).upper() or "MC"


def default_badge_svg(title: str, *, seed: str) -> bytes:
    """A plain hexagonal badge with the title's initials, coloured by ``seed`` (stable per credential)."""
    colour, initials = _default_badge_design(title, seed)
    label = escape(title[:60])
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="{SVG_NS}" width="400" height="400" viewBox="0 0 400 400" role="img" aria-label="{label}">'
        f"<title>{label}</title>"
        f'<polygon points="200,12 363,106 363,294 200,388 37,294 37,106" fill="{colour}"/>'
        f'<polygon points="200,40 339,120 339,280 200,360 61,280 61,120" fill="none" stroke="#ffffff" '
        f'stroke-width="6" opacity="0.8"/>'
        f'<text x="200" y="228" font-family="sans-serif" font-size="96" font-weight="700" fill="#ffffff" '
        f'text-anchor="middle">{escape(initials)}</text></svg>'
    ).encode()


@lru_cache(maxsize=256)
def default_badge_png(title: str, *, seed: str) -> bytes:
    """The same default badge drawn as a PNG, so every badge has a baked ``.png`` (we never rasterise SVG,
    which would need a full renderer; an SVG-only badge gets this design in its PNG form). Drawn once per
    (title, seed) and process: drawing and optimising the PNG costs ~60 ms, far more than baking it."""
    from PIL import Image, ImageDraw, ImageFont

    colour, initials = _default_badge_design(title, seed)
    image = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.polygon([(200, 12), (363, 106), (363, 294), (200, 388), (37, 294), (37, 106)], fill=colour)
    draw.polygon([(200, 40), (339, 120), (339, 280), (200, 360), (61, 280), (61, 120)], outline="#ffffff", width=6)
    font = ImageFont.load_default(size=96)
    draw.text((200, 200), initials, fill="#ffffff", font=font, anchor="mm")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


# --- the badge image of a version ----------------------------------------------------------------------


def set_image(*, actor: User, version_id: uuid.UUID, data: bytes) -> CredentialVersion:
    """Use an uploaded PNG or SVG (sanitised) as the badge image of a draft."""
    version = get_version(actor=actor, version_id=version_id)
    authorize(actor, "credential.edit", version)
    require_state(version, VersionState.DRAFT)
    media_type, clean = check_badge_image(data)
    image_id = digest(clean)
    # Through the relationship, so that ``version.image`` is right even if it was read before.
    version.image = db.session.get(CredentialImage, image_id) or CredentialImage(
        id=image_id, media_type=media_type, data=clean
    )
    db.session.flush()
    audit.record(
        actor=actor,
        action="credential.image_set",
        obj=version,
        organisation_id=version.organisation_id,
        after={"image": image_id, "media_type": media_type},
    )
    return version


def remove_image(*, actor: User, version_id: uuid.UUID) -> CredentialVersion:
    version = get_version(actor=actor, version_id=version_id)
    authorize(actor, "credential.edit", version)
    require_state(version, VersionState.DRAFT)
    version.image = None
    db.session.flush()
    audit.record(actor=actor, action="credential.image_removed", obj=version, organisation_id=version.organisation_id)
    return version


class BadgeImage(NamedTuple):
    data: bytes
    media_type: str
    public: bool  # the version is published or retired: anyone may see it (a draft's is for the team)


def image_of(*, actor: User | None, version_id: uuid.UUID) -> BadgeImage:
    """The badge image: the uploaded one, or a generated default."""
    version = get_version(actor=actor, version_id=version_id)
    public = version.state in PUBLIC_STATES
    if version.image is not None:
        return BadgeImage(version.image.data, version.image.media_type, public)
    return BadgeImage(default_badge_svg(version.title, seed=str(version.micro_credential_id)), "image/svg+xml", public)
