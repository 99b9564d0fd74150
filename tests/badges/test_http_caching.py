"""HTTP caching of the public badge URLs: strong ETags, 304 on If-None-Match, Cache-Control per resource, the
baked image kept once made, and a revoked badge never shown as valid past its max-age."""

from __future__ import annotations

from typing import Any

import jwt
import pytest

from badges import revocation
from badges.models import Badge, BakedImage
from core.db import db
from tests.badges.issued import admin_of, award, passed_submission


@pytest.fixture
def badge(session: Any) -> Badge:
    return award(passed_submission())


@pytest.mark.parametrize(
    ("suffix", "cache"),
    [
        ("", "no-cache"),
        (".json", "public, max-age=300"),
        (".jwt", "public, max-age=300"),
        (".png", "public, max-age=300"),
        (".svg", "public, max-age=300"),
    ],
)
def test_badge_urls_have_a_strong_etag_and_answer_304(client: Any, badge: Badge, suffix: str, cache: str) -> None:
    first = client.get(f"/badges/{badge.id}{suffix}")
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert first.headers["Cache-Control"] == cache
    again = client.get(f"/badges/{badge.id}{suffix}", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    other = client.get(f"/badges/{badge.id}{suffix}", headers={"If-None-Match": '"not-it"'})
    assert other.status_code == 200 and other.data == first.data


def test_status_lists_keys_and_did_documents_are_cached_a_minute(client: Any, badge: Badge) -> None:
    for path in (
        f"/status-lists/{badge.status_list_id}",
        "/.well-known/jwks.json",
        f"/issuers/{badge.organisation_id}/did.json",
        jwt.get_unverified_header(badge.jwt)["kid"].removeprefix("http://localhost"),
    ):
        response = client.get(path)
        assert response.headers["Cache-Control"] == "public, max-age=60", path
        assert client.get(path, headers={"If-None-Match": response.headers["ETag"]}).status_code == 304


def test_the_baked_png_is_kept_and_served_identically(client: Any, badge: Badge) -> None:
    first = client.get(f"/badges/{badge.id}.png")
    row = db.session.get(BakedImage, (badge.id, "png"))
    assert row is not None and row.data == first.data
    assert first.headers["ETag"] == f'"{row.sha256}"'
    assert client.get(f"/badges/{badge.id}.png").data == first.data


def test_a_revoked_badge_is_not_served_stale_past_max_age(client: Any, badge: Badge) -> None:
    page = client.get(f"/badges/{badge.id}")
    status = client.get(f"/status-lists/{badge.status_list_id}")
    revocation.revoke(actor=admin_of(badge), badge_id=badge.id, reason="Evidence was not the earner's own")
    # The page says no-cache: the next revalidation gets the new page, not a 304.
    again = client.get(f"/badges/{badge.id}", headers={"If-None-Match": page.headers["ETag"]})
    assert again.status_code == 200 and "REVOKED" in again.get_data(as_text=True)
    # The status list (which is what carries revocation for the JSON, JWT and images) changes within 60 s.
    fresh = client.get(f"/status-lists/{badge.status_list_id}", headers={"If-None-Match": status.headers["ETag"]})
    assert fresh.status_code == 200 and fresh.data != status.data


def test_downloads_are_kept_in_memory_byte_for_byte(client: Any, badge: Badge) -> None:
    from badges.views import DownloadMemo

    first = {suffix: client.get(f"/badges/{badge.id}{suffix}") for suffix in (".json", ".jwt", ".png", ".svg")}
    memo = client.application.extensions["badge_downloads"]  # the app (and so its memo) outlives this test
    assert isinstance(memo, DownloadMemo)
    kept = {kind: memo._items[(badge.id, kind)] for kind in ("json", "jwt", "png", "svg")}
    assert all(kept[suffix[1:]][0] == r.data for suffix, r in first.items())
    size = memo.size
    by_accept = client.get(f"/badges/{badge.id}", headers={"Accept": "application/vc+ld+json"})
    assert by_accept.data == first[".json"].data and by_accept.headers["ETag"] == first[".json"].headers["ETag"]
    assert by_accept.headers["Cache-Control"] == "public, max-age=0, must-revalidate"
    jwt_by_accept = client.get(f"/badges/{badge.id}", headers={"Accept": "application/vc+jwt"})
    assert jwt_by_accept.data == first[".jwt"].data == badge.jwt.encode()
    for suffix, response in first.items():
        again = client.get(f"/badges/{badge.id}{suffix}")
        assert again.data == response.data and again.headers["ETag"] == response.headers["ETag"]
    assert memo.size == size  # hits add nothing


def test_an_unknown_badge_is_404_and_not_kept(client: Any, badge: Badge) -> None:
    import uuid

    missing = uuid.uuid4()
    for suffix in (".json", ".jwt", ".png"):
        assert client.get(f"/badges/{missing}{suffix}").status_code == 404
    memo = client.application.extensions.get("badge_downloads")
    assert memo is None or not any(key[0] == missing for key in memo._items)


def test_the_download_memo_keeps_within_its_budget() -> None:
    import uuid

    from badges.views import DownloadMemo

    memo = DownloadMemo(budget=100)
    ids = [uuid.uuid4() for _ in range(4)]
    for i in ids:
        assert memo.get(i, "json", lambda: (b"x" * 40, "e")) == (b"x" * 40, "e")
    assert memo.size == 80 and set(memo._items) == {(ids[2], "json"), (ids[3], "json")}
    memo.get(ids[2], "json", lambda: (b"never called", ""))  # a hit: ids[2] becomes the most recent
    memo.get(ids[0], "json", lambda: (b"y" * 40, "f"))
    assert set(memo._items) == {(ids[2], "json"), (ids[0], "json")}
    memo.get(ids[1], "png", lambda: (b"z" * 101, "g"))  # larger than the whole budget: served, not kept
    assert (ids[1], "png") not in memo._items and memo.size == 80
