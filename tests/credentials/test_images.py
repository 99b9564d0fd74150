"""Badge images: PNGs checked by content, SVGs rebuilt from safe drawing parts, a generated default."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
import zlib

import pytest
from sqlalchemy import func, select

from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.models import AuditEvent, Role
from credentials.authoring import images, versions
from credentials.authoring.models import CredentialImage
from tests.factories import (
    CredentialImageFactory,
    CredentialVersionFactory,
    OrganisationFactory,
    UserFactory,
    member,
    png_bytes,
)

SVG = "{http://www.w3.org/2000/svg}"

DRAWING = b"""<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="200" height="200"
     viewBox="0 0 200 200">
  <defs>
    <linearGradient id="g">
      <stop offset="0" stop-color="#0b5cad"/><stop offset="1" stop-color="#1e6b34"/>
    </linearGradient>
  </defs>
  <title>Close reading</title>
  <circle id="disc" cx="100" cy="100" r="90" fill="url(#g)" stroke="#fff" stroke-width="4"/>
  <path d="M60 100 L90 130 L140 70" fill="none" stroke="#fff" stroke-width="12"/>
  <use xlink:href="#disc" transform="scale(0.5)"/>
  <text x="100" y="190" text-anchor="middle" font-size="16">CR</text>
</svg>"""


def reject(data: bytes, message: str) -> None:
    with pytest.raises(ValidationFailed, match=message) as exc:
        images.check_badge_image(data)
    assert [e["field"] for e in exc.value.errors] == ["file"]


def sanitised(svg: bytes) -> ET.Element:
    media_type, clean = images.check_badge_image(svg)
    assert media_type == "image/svg+xml"
    return ET.fromstring(clean)  # noqa: S314 (our own output)


def names(root: ET.Element) -> set[str]:
    return {element.tag.removeprefix(SVG) for element in root.iter()}


def attributes(root: ET.Element) -> set[str]:
    return {key for element in root.iter() for key in element.attrib}


# --- PNG ---------------------------------------------------------------------------------------------


def test_a_real_png_is_kept_byte_for_byte():
    data = png_bytes(64, 64)
    assert images.check_badge_image(data) == ("image/png", data)
    assert images.check_badge_image(png_bytes(2048, 1))[0] == "image/png"


@pytest.mark.parametrize(
    "data",
    [
        b"MZ\x90\x00\x03\x00\x00\x00" + bytes(200),  # a Windows executable renamed badge.png
        b"\x7fELF\x02\x01\x01\x00" + bytes(200),  # a Linux one
        b"GIF89a" + bytes(40),
        b"%PDF-1.7\n",
        b"just some text",
    ],
    ids=["exe", "elf", "gif", "pdf", "text"],
)
def test_anything_but_png_or_svg_is_refused_whatever_it_is_called(data):
    reject(data, "PNG or an SVG")


def test_an_empty_file_is_refused():
    reject(b"", "empty")


def test_an_oversized_image_is_refused():
    data = png_bytes(16, 16)
    big = data[:-12] + bytes(images.MAX_IMAGE_BYTES) + data[-12:]
    reject(big, "512 KiB")


@pytest.mark.parametrize("size", [(2049, 1), (1, 3000), (0, 10)])
def test_a_png_beyond_2048_pixels_or_with_no_pixels_is_refused(size):
    reject(png_bytes(*size), "2048x2048")


def test_a_truncated_or_headless_png_is_refused():
    data = png_bytes(32, 32)
    reject(data[: len(data) // 2], "truncated")
    reject(data[:30], "damaged")
    reject(b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"JUNK" + bytes(40), "damaged")


def test_a_png_with_something_appended_is_refused():
    zip_tail = b"PK\x03\x04" + zlib.compress(b"<script>alert(1)</script>")
    reject(png_bytes(8, 8) + zip_tail, "truncated")


# --- SVG ---------------------------------------------------------------------------------------------


def test_the_sanitised_svg_keeps_the_drawing():
    root = sanitised(DRAWING)
    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox") == "0 0 200 200"
    assert {"linearGradient", "stop", "circle", "path", "use", "text", "title"} <= names(root)
    circle = root.find(f"{SVG}circle")
    assert circle is not None and circle.get("fill") == "url(#g)" and circle.get("r") == "90"
    use = root.find(f"{SVG}use")
    assert use is not None and use.get("href") == "#disc"  # local references survive
    text = root.find(f"{SVG}text")
    assert text is not None and text.text == "CR"


def test_scripts_are_removed():
    root = sanitised(
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script>'
        b'<g><script type="text/ecmascript"><![CDATA[fetch("/api/v1/users/me")]]></script><rect width="5"/></g>'
        b"</svg>"
    )
    assert "script" not in names(root)
    assert root.find(f"{SVG}g/{SVG}rect") is not None
    assert b"alert" not in ET.tostring(root) and b"fetch" not in ET.tostring(root)


def test_event_handlers_and_styles_are_removed():
    root = sanitised(
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
        b'<rect width="10" height="10" onclick="steal()" onmouseover="x()" style="fill:url(https://evil.example/a)"/>'
        b"<style>rect { background: url(https://evil.example/b) }</style>"
        b"</svg>"
    )
    assert not {a for a in attributes(root) if a.startswith("on")}
    assert "style" not in attributes(root) and "style" not in names(root)
    rect = root.find(f"{SVG}rect")
    assert rect is not None and rect.get("width") == "10"


def test_external_references_are_removed():
    root = sanitised(
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
        b'<image href="https://evil.example/track.png" width="1" height="1"/>'
        b'<use xlink:href="https://evil.example/sprite.svg#icon"/>'
        b'<use href="data:image/svg+xml;base64,PHN2Zy8+"/>'
        b'<a href="javascript:alert(1)"><circle r="4"/></a>'
        b'<rect width="4" height="4" fill="url(https://evil.example/paint)" stroke="URL( \'//evil.example\' )"/>'
        b'<g xml:base="https://evil.example/"><circle r="2"/></g>'
        b"</svg>"
    )
    assert "image" not in names(root) and "a" not in names(root)
    for use in root.iter(f"{SVG}use"):
        assert use.get("href") is None
    rect = root.find(f"{SVG}rect")
    assert rect is not None and rect.get("fill") is None and rect.get("stroke") is None
    assert b"evil" not in ET.tostring(root)


def test_foreign_content_is_removed():
    root = sanitised(
        b'<svg xmlns="http://www.w3.org/2000/svg">'
        b'<foreignObject width="100" height="100"><body xmlns="http://www.w3.org/1999/xhtml">'
        b'<iframe src="https://evil.example"></iframe></body></foreignObject>'
        b'<circle r="3"/><animate attributeName="href" to="javascript:alert(1)"/>'
        b'<set attributeName="onload" to="alert(1)"/></svg>'
    )
    assert names(root) == {"svg", "circle"}


@pytest.mark.parametrize(
    "svg",
    [
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><svg xmlns="http://www.w3.org/2000/svg"><text>&c;</text></svg>',
        b'<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg"><text>&xxe;</text></svg>',
        b'<!doctype svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">'
        b'<svg xmlns="http://www.w3.org/2000/svg"/>',
    ],
    ids=["billion-laughs", "external-entity", "doctype"],
)
def test_doctypes_and_entities_are_refused(svg):
    reject(svg, "DOCTYPE")


@pytest.mark.parametrize(
    ("svg", "message"),
    [
        (b"<svg xmlns='http://www.w3.org/2000/svg'><rect></svg>", "not well-formed"),
        (b"<svg><text>&undefined;</text></svg>", "not well-formed"),
        (b'<?xml version="1.0"?><html><body/></html>', "root element"),
        (b'<svg xmlns="http://evil.example/not-svg"><rect/></svg>', "root element"),
    ],
    ids=["broken", "unknown-entity", "html", "foreign-namespace"],
)
def test_svg_that_is_not_an_svg_drawing_is_refused(svg, message):
    reject(svg, message)


def test_absurdly_deep_svg_is_refused_not_crashed_on():
    depth = 5000
    reject(b'<svg xmlns="http://www.w3.org/2000/svg">' + b"<g>" * depth + b"</g>" * depth + b"</svg>", "nests")


# --- the default -------------------------------------------------------------------------------------


def test_the_default_badge_is_a_stable_svg_with_the_initials():
    first = images.default_badge_svg("Close Reading of Complex Texts", seed="one")
    root = ET.fromstring(first)  # noqa: S314 (our own output)
    assert root.tag == f"{SVG}svg"
    assert root.findtext(f"{SVG}text") == "CRO"
    assert root.findtext(f"{SVG}title") == "Close Reading of Complex Texts"
    assert images.default_badge_svg("Close Reading of Complex Texts", seed="one") == first
    hostile = images.default_badge_svg('"><script>alert(1)</script>', seed="two")
    assert b"<script>" not in hostile
    ET.fromstring(hostile)  # noqa: S314 (still well-formed)


# --- the service -------------------------------------------------------------------------------------


@pytest.fixture
def draft(session):
    return CredentialVersionFactory()


@pytest.fixture
def author(draft):
    return member(draft.organisation, Role.AUTHOR)


def test_a_draft_gets_an_uploaded_image_and_can_go_back_to_the_default(session, draft, author):
    data, media_type, public = images.image_of(actor=author, version_id=draft.id)
    assert media_type == "image/svg+xml" and b"<polygon" in data and public is False

    png = png_bytes(400, 400)
    images.set_image(actor=author, version_id=draft.id, data=png)
    assert images.image_of(actor=author, version_id=draft.id) == (png, "image/png", False)
    other = CredentialVersionFactory(organisation=draft.organisation)
    images.set_image(actor=author, version_id=other.id, data=png)
    assert session.scalar(select(func.count()).select_from(CredentialImage)) == 1  # stored once, by content
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "credential.image_set"))
    assert event.actor_id == author.id and event.after["media_type"] == "image/png"

    images.set_image(actor=author, version_id=draft.id, data=DRAWING)
    data, media_type, _ = images.image_of(actor=author, version_id=draft.id)
    assert media_type == "image/svg+xml" and b"circle" in data

    images.remove_image(actor=author, version_id=draft.id)
    assert b"<polygon" in images.image_of(actor=author, version_id=draft.id)[0]


def test_a_published_version_keeps_its_image(session, author, draft):
    image = CredentialImageFactory()
    published = CredentialVersionFactory(organisation=draft.organisation, published=True, image_id=image.id)
    with pytest.raises(Conflict):
        images.set_image(actor=author, version_id=published.id, data=png_bytes())
    with pytest.raises(Conflict):
        images.remove_image(actor=author, version_id=published.id)
    assert images.image_of(actor=None, version_id=published.id) == (image.data, "image/png", True)

    following = versions.new_version(actor=author, micro_credential_id=published.micro_credential_id)
    assert following.image_id == image.id  # version N+1 starts with N's image


def test_only_the_team_changes_images(session, draft):
    with pytest.raises(Forbidden):
        images.set_image(actor=member(draft.organisation, Role.ORG_ADMIN), version_id=draft.id, data=png_bytes())
    for outsider in (UserFactory(), member(OrganisationFactory(), Role.AUTHOR)):
        with pytest.raises(NotFound):
            images.set_image(actor=outsider, version_id=draft.id, data=png_bytes())
    assert draft.image_id is None


def test_a_refused_upload_changes_nothing(session, draft, author):
    with pytest.raises(ValidationFailed):
        images.set_image(actor=author, version_id=draft.id, data=b"MZ" + bytes(100))
    assert draft.image_id is None
    assert session.scalar(select(func.count()).select_from(CredentialImage)) == 0


def test_the_default_badge_also_comes_as_a_png_with_the_same_colour_and_initials() -> None:
    import io

    from PIL import Image

    png = images.default_badge_png("Close Reading of Complex Texts", seed="mc-1")
    assert images.check_badge_image(png)[0] == "image/png"
    drawn = Image.open(io.BytesIO(png)).convert("RGBA")
    assert drawn.size == (400, 400)
    svg = images.default_badge_svg("Close Reading of Complex Texts", seed="mc-1").decode()
    colour = svg.split('fill="', 1)[1][:7]
    assert drawn.getpixel((100, 200))[:3] == tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
    assert drawn.getpixel((5, 5))[3] == 0, "transparent outside the hexagon"
    assert images.default_badge_png("Close Reading of Complex Texts", seed="mc-1") == png, "stable"
    assert images.default_badge_png("Close Reading of Complex Texts", seed="other") != png
