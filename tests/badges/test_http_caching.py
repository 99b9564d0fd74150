"""HTTP caching of the public badge URLs: strong ETags, 304 on If-None-Match, Cache-Control per resource, the
baked image kept once made, and a revoked badge never shown as valid past its max-age."""

from __future__ import annotations

from typing import Any

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
