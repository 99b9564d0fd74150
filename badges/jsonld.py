"""The one JSON-LD document loader and RDF canonicalisation (RDFC-1.0) for Data Integrity proofs.

Every context a badge may name is bundled in ``badges/contexts/`` (sources and hashes in its SOURCES.md); the
loader never touches the network, so signing and verifying work offline and cannot be steered to fetch
attacker-chosen URLs. An unknown context URL is an error, which makes a proof over it unverifiable rather than
silently different.

Two canonicalisation paths give the same bytes (tests prove it on the 1EdTech vector and on our shapes):
``canonical_nquads_pyld`` is plain PyLD end to end, the reference; ``canonical_nquads`` is the fast path used
for signing and verifying: PyLD's JSON-LD → RDF step with processed contexts cached in a private resolver, then
pyoxigraph's RDFC-1.0 implementation (native code) for the canonical labelling and serialisation.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pyoxigraph
from pyld import jsonld
from pyld.context_resolver import ContextResolver
from pyld.jsonld import JsonLdError

CONTEXTS_DIR = Path(__file__).resolve().parent / "contexts"

# URL → bundled file. Both spellings of the W3C URLs are what documents in the wild use.
CONTEXT_FILES: dict[str, str] = {
    "https://www.w3.org/ns/credentials/v2": "credentials-v2.jsonld",
    "https://www.w3.org/2018/credentials/v1": "credentials-v1.jsonld",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json": "context-3.0.3.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json": "context-3.0.2.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json": "extensions.json",
}

CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"
CREDENTIALS_V1 = "https://www.w3.org/2018/credentials/v1"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_EXTENSIONS = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"


class ContextError(ValueError):
    """A document names a context we do not bundle, or cannot be processed as JSON-LD."""


@cache
def _context_document(url: str) -> dict[str, Any]:
    return json.loads((CONTEXTS_DIR / CONTEXT_FILES[url]).read_text(encoding="utf-8"))


def document_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """PyLD document loader that serves bundled contexts only and never fetches.

    ``"tag": "static"`` tells PyLD the document never changes, so it keeps the processed context.
    """
    key = url.split("#", 1)[0]
    if key.endswith("/") and key.rstrip("/") in CONTEXT_FILES:
        key = key.rstrip("/")
    if key not in CONTEXT_FILES:
        raise JsonLdError(
            f"context {url!r} is not bundled; remote contexts are never fetched",
            "jsonld.LoadDocumentError",
            code="loading document failed",
        )
    return {"contextUrl": None, "documentUrl": key, "document": _context_document(key), "tag": "static"}


# Our own cache of processed contexts (PyLD's resolver wants a mapping with get/[]=), so other PyLD users in the
# process (tests run openbadgeslib) cannot place their documents under our URLs. Unbounded: the set is fixed.
_SHARED_CACHE: dict[str, Any] = {}


def _options() -> dict[str, Any]:
    return {
        "algorithm": "URDNA2015",
        "format": "application/n-quads",
        "documentLoader": document_loader,
        "contextResolver": ContextResolver(_SHARED_CACHE, document_loader),
        # Relative IRIs stay relative (and are dropped) instead of resolving against PyLD's made-up base
        # http://example.org/base/, which no other processor would reproduce (NOTES §9.4).
        "base": None,
        "safe": False,
    }


def canonical_nquads_pyld(document: dict[str, Any]) -> str:
    """RDFC-1.0 canonical N-Quads of a JSON-LD document computed by PyLD alone (the reference path)."""
    try:
        return jsonld.normalize(document, _options())
    except JsonLdError as exc:
        raise ContextError(_reason(exc)) from exc


def _to_dataset(document: dict[str, Any]) -> dict[str, Any]:
    options = _options()
    options.pop("format")
    options["produceGeneralizedRdf"] = False
    options["extractAllScripts"] = True
    options["processingMode"] = "json-ld-1.1"
    try:
        return jsonld.JsonLdProcessor().to_rdf(document, options)
    except JsonLdError as exc:
        raise ContextError(_reason(exc)) from exc


def _term(node: dict[str, Any]) -> Any:
    kind = node["type"]
    if kind == "IRI":
        return pyoxigraph.NamedNode(node["value"])
    if kind == "blank node":
        return pyoxigraph.BlankNode(node["value"][2:])
    language = node.get("language")
    if language:
        return pyoxigraph.Literal(node["value"], language=language)
    return pyoxigraph.Literal(node["value"], datatype=pyoxigraph.NamedNode(node["datatype"]))


def canonical_nquads(document: dict[str, Any]) -> str:
    """RDFC-1.0 canonical N-Quads of a JSON-LD document, byte-identical to ``canonical_nquads_pyld``."""
    dataset = _to_dataset(document)
    quads = []
    for graph_name, triples in dataset.items():
        graph = pyoxigraph.DefaultGraph() if graph_name == "@default" else _graph_name(graph_name)
        for triple in triples:
            quads.append(
                pyoxigraph.Quad(_term(triple["subject"]), _term(triple["predicate"]), _term(triple["object"]), graph)
            )
    rdf = pyoxigraph.Dataset(quads)
    rdf.canonicalize(pyoxigraph.CanonicalizationAlgorithm.RDFC_1_0)
    lines = sorted(f"{quad} .\n" for quad in rdf)
    return "".join(lines)


def _graph_name(name: str) -> Any:
    return pyoxigraph.BlankNode(name[2:]) if name.startswith("_:") else pyoxigraph.NamedNode(name)


def _reason(exc: JsonLdError) -> str:
    cause = exc
    while getattr(cause, "cause", None) is not None or cause.__cause__ is not None:
        nxt = getattr(cause, "cause", None) or cause.__cause__
        if not isinstance(nxt, Exception):
            break
        cause = nxt
    return str(cause).split("\n", 1)[0]
