"""Every link a person of each role sees, followed: no 4xx/5xx, no raw JSON error page, no sideways scrolling at
390 px, axe clean. The demo data (``flask demo``) gives each role real pages to find: Pat (platform admin),
Olivia (org admin), Ana (author), Sam (assessor), Erin (earner) and a visitor who is not signed in.

The walk starts at the home page and follows same-origin links breadth first. Links with the same shape (ids
replaced by ``{id}``) are followed at most twice, so the walk covers every kind of page without visiting every
badge. Downloads (``download`` links, CSV/JSON/PNG/SVG/JWT/PDF/ZIP) and documents for machines (a key's JWK, a
DID document) are fetched and their status checked, not rendered; an error answered as problem+json is a
failure wherever it appears. Forms are not submitted here: the journey tests fill them.

This file sorts last among the browser tests on purpose: loading the demo into the shared server adds an
organisation, which tests that count catalogue entries must not see.
"""

from __future__ import annotations

import re
from collections import deque
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest

from core.demo import demo_password
from tests.browser.conftest import axe_check, login, overflow_at_phone_width

ROLES = ("visitor", "earner", "author", "assessor", "orgadmin", "admin")
PER_SHAPE = 2
MAX_PAGES = 70
DOWNLOAD = re.compile(r"\.(csv|json|jsonld|png|svg|jwt|pdf|zip|txt)$|/pages/\d+\.png$")
SKIP = re.compile(r"^/(logout|api/v1/(?!docs))|^/static/|/static/")
ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|(?<=/)\d+(?=/|$)|S-[0-9A-Z]+")


@pytest.fixture(scope="module")
def demo(live_server: Any) -> None:
    result = live_server.app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output


def _shape(path: str) -> str:
    return ID.sub("{id}", path)


def _links(page: Any) -> list[tuple[str, bool]]:
    return page.evaluate(
        """() => [...document.querySelectorAll('a[href]')].map(a => [a.href, a.hasAttribute('download')])"""
    )


@pytest.mark.parametrize("role", ROLES)
def test_every_link_of_each_role_leads_to_a_good_page(page: Any, live_server: Any, demo: None, role: str) -> None:
    if role != "visitor":
        login(page, f"{role}@demo.example", demo_password(role))
    origin = urlsplit(live_server.url).netloc
    queue: deque[tuple[str, str]] = deque([("/", "start")])
    seen_urls: set[str] = set()
    shapes: dict[str, int] = {}
    problems: list[str] = []
    rendered = 0
    axed: set[str] = set()
    while queue and rendered < MAX_PAGES:
        path, came_from = queue.popleft()
        if path in seen_urls:
            continue
        seen_urls.add(path)
        response = page.request.get(path, max_redirects=5)
        kind = response.headers.get("content-type", "")
        if response.status >= 400:
            problems.append(f"{path} (linked from {came_from}) answers {response.status}")
            continue
        if "problem+json" in kind:
            problems.append(f"{path} (linked from {came_from}) is a raw JSON error")
            continue
        if "text/html" not in kind:  # a document for machines (a key as JWK, a DID document, a credential)
            continue
        page.goto(path)
        rendered += 1
        wide = overflow_at_phone_width(page)
        if wide:
            problems.append(f"{path} scrolls sideways at 390 px: {wide}")
        landed = _shape(urlsplit(page.url).path)
        # axe once per kind of page; the API docs are the third-party Swagger UI, for developers (not checked).
        if landed not in axed and not landed.startswith("/api/"):
            axed.add(landed)
            try:
                axe_check(page)
            except pytest.fail.Exception as failure:
                problems.append(str(failure))
        for href, is_download in _links(page):
            url, _ = urldefrag(urljoin(page.url, href))
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or parts.netloc != origin:
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if SKIP.search(parts.path) or target in seen_urls:
                continue
            if is_download or DOWNLOAD.search(parts.path):
                fetched = page.request.get(target)
                seen_urls.add(target)
                if fetched.status >= 400:
                    problems.append(f"download {target} (on {path}) answers {fetched.status}")
                continue
            shape = _shape(parts.path)
            if shapes.get(shape, 0) >= PER_SHAPE:
                continue
            shapes[shape] = shapes.get(shape, 0) + 1
            queue.append((target, path))
    assert rendered >= 5, f"the walk found only {rendered} pages for {role}"
    assert not problems, f"{role}: " + "\n".join(problems)
