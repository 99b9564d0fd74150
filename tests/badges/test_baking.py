"""Baked PNG and SVG: 1EdTech's samples read back, our baking round-trips, hostile images are refused."""

from __future__ import annotations

import struct
import zlib

import pytest
from openbadgeslib import baking as obl_baking

from badges.baking import BakingError, bake_png, bake_svg, extract_png, extract_svg
from tests.badges.samples import data


def _png() -> bytes:
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00\x00")

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_reads_1edtech_baked_samples() -> None:
    png_text = extract_png(data("simple-jwt.png"))
    svg_text = extract_svg(data("simple-jwt.svg").decode())
    assert png_text and png_text.count(".") == 2
    assert svg_text and svg_text.count(".") == 2


def test_png_round_trip_replaces_and_places_before_iend() -> None:
    baked = bake_png(_png(), "first")
    rebaked = bake_png(baked, "eyJ.second.sig")
    assert extract_png(rebaked) == "eyJ.second.sig"
    assert rebaked.count(b"openbadgecredential") == 1
    assert rebaked.endswith(b"IEND\xaeB`\x82")
    assert rebaked.index(b"iTXt") < rebaked.index(b"IEND")
    # uncompressed, empty language tag and translated keyword
    assert b"openbadgecredential\x00\x00\x00\x00\x00eyJ.second.sig" in rebaked
    assert extract_png(_png()) is None


def test_openbadgeslib_reads_our_png_and_svg() -> None:
    token = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln"
    baked = bake_png(_png(), token)
    assert obl_baking.extract_png(baked, keyword=b"openbadgecredential") == token
    svg = bake_svg('<svg xmlns="http://www.w3.org/2000/svg"><circle r="1"/></svg>', jws=token)
    assert obl_baking.extract_svg(svg.encode(), element="openbadges:credential") == token
    json_svg = bake_svg('<svg xmlns="http://www.w3.org/2000/svg"/>', credential_json='{"a": 1}')
    assert obl_baking.extract_svg(json_svg.encode(), element="openbadges:credential", text_fallback=True) == '{"a": 1}'


@pytest.mark.parametrize(
    "png",
    [
        b"",
        b"GIF89a",
        _png()[:-3],  # truncated
        _png()[:20] + b"\xff" + _png()[21:],  # IHDR CRC broken
        _png() + b"trailing",
        b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 0xFFFFFFF0) + b"IHDR",
    ],
    ids=["empty", "gif", "truncated", "bad-crc", "trailing", "huge-length"],
)
def test_malformed_pngs_are_refused(png: bytes) -> None:
    with pytest.raises(BakingError):
        extract_png(png)
    with pytest.raises(BakingError):
        bake_png(png, "x")


def test_svg_round_trip_jws_and_json() -> None:
    source = '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10"><rect width="1"/></svg>'
    jws_svg = bake_svg(source, jws="aaa.bbb.ccc")
    assert 'xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"' in jws_svg
    assert extract_svg(jws_svg) == "aaa.bbb.ccc"
    json_svg = bake_svg(jws_svg, credential_json='{"name": "a ]]> b"}')
    assert extract_svg(json_svg) == '{"name": "a ]]> b"}'
    assert json_svg.count("<openbadges:credential") == 1
    assert '<rect width="1"/>' in json_svg
    assert extract_svg(bake_svg('<svg xmlns="http://www.w3.org/2000/svg"/>', jws="a.b.c")) == "a.b.c"
    assert extract_svg(source) is None


def test_bake_svg_needs_exactly_one_payload_and_a_real_jws() -> None:
    svg = '<svg xmlns="http://www.w3.org/2000/svg"/>'
    with pytest.raises(BakingError):
        bake_svg(svg)
    with pytest.raises(BakingError):
        bake_svg(svg, jws="a.b.c", credential_json="{}")
    with pytest.raises(BakingError):
        bake_svg(svg, jws='a.b.c" onload="alert(1)')


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE svg [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0">
<openbadges:credential>&lol3;</openbadges:credential></svg>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0">
<openbadges:credential>&xxe;</openbadges:credential></svg>"""


@pytest.mark.parametrize(
    "svg",
    [BILLION_LAUGHS, EXTERNAL_ENTITY, "<svg", "not xml", "<html/>", ""],
    ids=["billion-laughs", "xxe", "unclosed", "text", "not-svg", "empty"],
)
def test_hostile_or_malformed_svgs_are_refused(svg: str) -> None:
    with pytest.raises(BakingError):
        extract_svg(svg)
    with pytest.raises(BakingError):
        bake_svg(svg, jws="a.b.c")
