"""Small CASE packages built in code, for tests."""

from __future__ import annotations

import copy
import json
from typing import Any

DOC_ID = "11111111-1111-4111-8111-111111111111"


def package(
    items: list[tuple[str, str | None, str, str | None]] | None = None,
    *,
    doc_id: str = DOC_ID,
    title: str = "Test Framework",
    extra: list[dict[str, Any]] | None = None,
    sequence: bool = True,
) -> dict[str, Any]:
    """A CFPackage: ``items`` are (identifier, code, statement, parent identifier or None for the document).

    Each item gets one isChildOf association, numbered in list order among its siblings when ``sequence``.
    """
    items = (
        items
        if items is not None
        else [
            ("a", "T.1", "Read closely to determine what the text says", None),
            ("a1", "T.1.a", "Cite textual evidence", "a"),
            ("a2", "T.1.b", "Draw logical inferences", "a"),
            ("b", "T.2", "Write arguments to support claims", None),
        ]
    )
    counters: dict[str | None, int] = {}
    associations = []
    for identifier, _, _, parent in items:
        counters[parent] = counters.get(parent, 0) + 1
        association: dict[str, Any] = {
            "identifier": f"assoc-{identifier}",
            "associationType": "isChildOf",
            "originNodeURI": {"identifier": identifier, "uri": f"urn:test:{identifier}", "title": identifier},
            "destinationNodeURI": {"identifier": parent or doc_id, "uri": f"urn:test:{parent or doc_id}"},
        }
        if sequence:
            association["sequenceNumber"] = counters[parent]
        associations.append(association)
    return {
        "CFDocument": {
            "identifier": doc_id,
            "uri": f"https://case.example.org/uri/{doc_id}",
            "title": title,
            "creator": "Test Standards Board",
            "notes": "Test rights notice: (c) the Board.",
            "subject": ["Reading"],
        },
        "CFItems": [
            {
                "identifier": identifier,
                "uri": f"https://case.example.org/uri/{identifier}",
                "humanCodingScheme": code,
                "fullStatement": statement,
                "CFItemType": "Standard",
                "educationLevel": ["09", "10"],
                "language": "en",
            }
            for identifier, code, statement, _ in items
        ],
        "CFAssociations": associations + (extra or []),
    }


def association(identifier: str, kind: str, origin: str, destination: str, **extra: Any) -> dict[str, Any]:
    return {
        "identifier": identifier,
        "associationType": kind,
        "originNodeURI": {"identifier": origin, "uri": f"urn:test:{origin}", "title": origin},
        "destinationNodeURI": {"identifier": destination, "uri": f"urn:test:{destination}", "title": destination},
        **extra,
    }


def as_bytes(data: dict[str, Any]) -> bytes:
    return json.dumps(data).encode()


def changed(data: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(data)
