"""The one JSON-LD document loader and RDF canonicalisation (RDFC-1.0) for Data Integrity proofs.

Every context a badge may name is bundled in ``badges/contexts/`` (sources and hashes in its SOURCES.md); the
loader never touches the network, so signing and verifying work offline and cannot be steered to fetch
attacker-chosen URLs. An unknown context URL is an error, which makes a proof over it unverifiable rather than
silently different.

Two canonicalisation paths give the same bytes (tests prove it on the 1EdTech vector and on our shapes):
``canonical_nquads_pyld`` is plain PyLD end to end, the reference; ``canonical_nquads`` is the fast path used
for signing and verifying:

1. JSON-LD → RDF by PyLD, with two caches: the processed remote contexts (the loader's ``"tag": "static"``), and
   the result of *applying* a context to an active context (``_MemoProcessor``). The OB 3.0 context scopes a
   context to every type (``Achievement``, ``Profile``, ``Alignment``, …) without propagation, so plain PyLD
   re-processes it for every node of every credential — about three quarters of its time. PyLD identifies an
   active context by its ``_uuid`` and never changes one after giving it that id; the memo relies on the same.
2. RDFC-1.0 canonical labelling and N-Quads by pyoxigraph (native code), instead of PyLD's pure-Python URDNA2015.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import OrderedDict
from functools import cache
from pathlib import Path
from typing import Any

import pyoxigraph
from pyld import jsonld
from pyld.context_resolver import ContextResolver
from pyld.jsonld import JsonLdError, JsonLdProcessor

CONTEXTS_DIR = Path(__file__).resolve().parent / "contexts"

# URL → bundled file. Both spellings of the W3C URLs are what documents in the wild use.
CONTEXT_FILES: dict[str, str] = {
    "https://www.w3.org/ns/credentials/v2": "credentials-v2.jsonld",
    "https://www.w3.org/2018/credentials/v1": "credentials-v1.jsonld",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json": "context-3.0.3.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json": "context-3.0.2.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json": "extensions.json",
    # VCDM 1.1 era OB context (3.0.1 cannot be combined with credentials/v2: protected-term redefinition)
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json": "context-3.0.1.json",
    "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json": "clr-context-2.0.1.json",
    # The unversioned 2022 draft OB context (VCDM 1.1 era credentials, 1EdTech's validator test vectors)
    "https://purl.imsglobal.org/spec/ob/v3p0/context.json": "context-2022.json",
    # The proof vocabularies third-party credentials name beside the OB context (Ed25519Signature2020,
    # and DataIntegrityProof before credentials/v2 defined it)
    "https://w3id.org/security/suites/ed25519-2020/v1": "ed25519-signature-2020-v1.jsonld",
    "https://w3id.org/security/data-integrity/v1": "data-integrity-v1.jsonld",
    "https://w3id.org/security/suites/ed25519-2018/v1": "ed25519-signature-2018-v1.jsonld",
    # StatusList2021Entry / StatusList2021Credential (Bitstring Status List's predecessor)
    "https://w3id.org/vc/status-list/2021/v1": "vc-status-list-v1.jsonld",
    # Bitstring Status List terms for VCDM 1.1 credentials (credentials/v2 defines them itself)
    "https://www.w3.org/ns/credentials/status/v1": "vc-bitstring-status-list-v1.jsonld",
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


class _BoundedCache(OrderedDict):  # type: ignore[type-arg]
    """The mapping PyLD's ContextResolver keeps processed contexts in (it uses ``get`` and ``[]=``), bounded:
    verified documents may carry embedded contexts, and those must not grow memory without limit."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size
        self.lock = threading.Lock()

    def get(self, key: Any, default: Any = None) -> Any:
        with self.lock:
            return super().get(key, default)

    def __setitem__(self, key: Any, value: Any) -> None:
        with self.lock:
            super().__setitem__(key, value)
            if len(self) > self.size:
                self.popitem(last=False)


# Our own cache of processed contexts, so other PyLD users in the process (tests run openbadgeslib) cannot
# place their documents under our URLs.
_SHARED_CACHE = _BoundedCache(512)


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


_MEMO_SIZE = 4096
_memo: OrderedDict[tuple[Any, ...], tuple[Any, Any]] = OrderedDict()
_memo_lock = threading.Lock()


def _context_key(local_ctx: Any) -> tuple[Any, ...]:
    if isinstance(local_ctx, str):
        return ("url", local_ctx)
    if isinstance(local_ctx, list) and all(isinstance(item, str) for item in local_ctx):
        return ("urls", *local_ctx)
    # An embedded (scoped) context: the same object each time, as it lives in the active context's term
    # definitions. The memo keeps a reference to it, so its id cannot be reused while the entry exists.
    return ("object", id(local_ctx))


class _MemoProcessor(JsonLdProcessor):
    """PyLD's processor, remembering the active context that applying a local context produces."""

    def _process_context(  # type: ignore[override]
        self,
        active_ctx: Any,
        local_ctx: Any,
        options: dict[str, Any],
        override_protected: bool = False,
        propagate: bool = True,
        validate_scoped: bool = True,
        cycles: Any = None,
    ) -> Any:
        uid = active_ctx.get("_uuid") if hasattr(active_ctx, "get") else None
        embedded = not isinstance(local_ctx, str) and not (
            isinstance(local_ctx, list) and all(isinstance(item, str) for item in local_ctx)
        )
        # An embedded context is remembered by identity, which is sound only for the contexts inside our bundled
        # documents (never changed); one from the caller's document could be edited between two calls.
        if uid is None or cycles or (embedded and not options.get("bundled_contexts_only")):
            return super()._process_context(
                active_ctx, local_ctx, options, override_protected, propagate, validate_scoped, cycles
            )
        key = (uid, _context_key(local_ctx), override_protected, propagate, validate_scoped)
        with _memo_lock:
            hit = _memo.get(key)
            if hit is not None:
                _memo.move_to_end(key)
                return hit[0]
        result = super()._process_context(
            active_ctx, local_ctx, options, override_protected, propagate, validate_scoped, cycles
        )
        with _memo_lock:
            _memo[key] = (result, local_ctx)
            if len(_memo) > _MEMO_SIZE:
                _memo.popitem(last=False)
        return result


def _bundled_urls(context: Any) -> bool:
    urls = context if isinstance(context, list) else [context]
    return all(isinstance(url, str) and url in CONTEXT_FILES for url in urls)


def _bundled_contexts_only(document: Any) -> bool:
    """Whether the document names bundled contexts only, by URL, and embeds no context object anywhere. A nested
    ``@context`` naming bundled contexts by URL (each credential inside a CLR 2.0 transcript) is as safe as the
    top one: only the caller's own context objects could change between two calls."""
    top = document.get("@context") if isinstance(document, dict) else None
    if not _bundled_urls(top):
        return False
    stack = [value for key, value in document.items() if key != "@context"]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "@context" in item and not _bundled_urls(item["@context"]):
                return False
            stack.extend(value for key, value in item.items() if key != "@context")
        elif isinstance(item, list):
            stack.extend(item)
    return True


def _to_dataset(document: dict[str, Any]) -> dict[str, Any]:
    options = _options()
    options.pop("format")
    options["produceGeneralizedRdf"] = False
    options["extractAllScripts"] = True
    options["processingMode"] = "json-ld-1.1"
    options["bundled_contexts_only"] = _bundled_contexts_only(document)
    try:
        return _MemoProcessor().to_rdf(document, options)
    except JsonLdError as exc:
        raise ContextError(_reason(exc)) from exc


# Characters whose escaping differs between PyLD and pyoxigraph's N-Quads writers (PyLD writes them raw); a
# literal holding one goes the plain PyLD way, so the bytes stay PyLD's.
_ESCAPING_DIFFERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class _Unsupported(Exception):
    """The fast path cannot promise PyLD's bytes for this document; use plain PyLD."""


def _term(node: dict[str, Any]) -> Any:
    kind = node["type"]
    if kind == "IRI":
        return pyoxigraph.NamedNode(node["value"])
    if kind == "blank node":
        return pyoxigraph.BlankNode(node["value"][2:])
    return _literal(node["value"], node.get("language"), node.get("datatype"))


def _literal(value: str, language: str | None, datatype: str | None) -> Any:
    if _ESCAPING_DIFFERS.search(value):
        raise _Unsupported
    if language:
        return pyoxigraph.Literal(value, language=language)
    return pyoxigraph.Literal(value, datatype=pyoxigraph.NamedNode(datatype or XSD_STRING))


def _graph_name(name: str) -> Any:
    return pyoxigraph.DefaultGraph() if name == "@default" else _term({"type": _node_kind(name), "value": name})


def _node_kind(name: str) -> str:
    return "blank node" if name.startswith("_:") else "IRI"


def _serialise(quads: Any) -> str:
    rdf = pyoxigraph.Dataset(quads)
    rdf.canonicalize(pyoxigraph.CanonicalizationAlgorithm.RDFC_1_0)
    text = pyoxigraph.serialize(rdf, format=pyoxigraph.RdfFormat.N_QUADS).decode()
    return "".join(sorted(text.splitlines(keepends=True)))


def _serialise_text(nquads: str) -> str:
    """Canonical form of an N-Quads text (parsed by pyoxigraph: strict, so a bad IRI raises ValueError)."""
    try:
        return _serialise(pyoxigraph.parse(nquads, format=pyoxigraph.RdfFormat.N_QUADS))
    except SyntaxError as exc:
        raise _Unsupported from exc


def _dataset_quads(dataset: dict[str, Any]) -> list[Any]:
    quads = []
    for graph_name, triples in dataset.items():
        graph = _graph_name(graph_name)
        for triple in triples:
            quads.append(
                pyoxigraph.Quad(_term(triple["subject"]), _term(triple["predicate"]), _term(triple["object"]), graph)
            )
    return quads


def canonical_nquads(document: dict[str, Any]) -> str:
    """RDFC-1.0 canonical N-Quads of a JSON-LD document, byte-identical to ``canonical_nquads_pyld``.

    ContextError also when the document has more than ``MAX_TWIN_BLANK_NODES`` blank nodes that look alike:
    RDFC-1.0 tells those apart by trying their permutations, which a hostile document can make endless.
    """
    try:
        found = _templates.lookup(document)
        if found is not None:
            template, leaves = found
            return template.canonical(leaves)
        dataset = _to_dataset(document)
        _refuse_twins(dataset)
        return _serialise(_dataset_quads(dataset))
    except (_Unsupported, ValueError) as exc:  # ValueError: pyoxigraph refused a term PyLD writes anyway
        if isinstance(exc, ContextError):
            raise
        _refuse_twins(_to_dataset(document))
        return canonical_nquads_pyld(document)


MAX_TWIN_BLANK_NODES = 6


def _refuse_twins(dataset: dict[str, Any]) -> None:
    """ContextError when too many blank nodes share a first-degree hash (see ``canonical_nquads``)."""
    related: dict[str, list[tuple[str, ...]]] = {}
    for graph_name, triples in dataset.items():
        for triple in triples:
            nodes = (
                triple["subject"],
                triple["predicate"],
                triple["object"],
                {"type": _node_kind(graph_name), "value": graph_name},
            )
            blanks = {node["value"] for node in nodes if node["type"] == "blank node"}
            literal = (triple["object"].get("datatype", ""), triple["object"].get("language", ""))
            for blank in blanks:
                seen_as = (
                    ("a" if n["value"] == blank else "z") if n["type"] == "blank node" else n["value"] for n in nodes
                )
                related.setdefault(blank, []).append((*seen_as, *literal))
    _check_twins(tuple(sorted(quads)) for quads in related.values())


def _check_twins(signatures: Any) -> None:
    counts: dict[Any, int] = {}
    for signature in signatures:
        counts[signature] = counts.get(signature, 0) + 1
        if counts[signature] > MAX_TWIN_BLANK_NODES:
            raise ContextError(
                f"more than {MAX_TWIN_BLANK_NODES} indistinguishable blank nodes: too costly to canonicalise"
            )


# -- shape templates ----------------------------------------------------------------------------------------------
#
# The credentials we issue differ in their values, not their shape. For a shape seen twice, the JSON-LD → RDF
# conversion is done once by PyLD on a copy whose string values are replaced by numbered placeholders; the
# quads it yields become a template whose placeholders later documents of that shape fill in directly. Two
# placeholder spellings classify each value: an absolute IRI placeholder shows where a value becomes an IRI or
# a literal; a relative one shows whether that IRI came from ``@id`` (relative → dropped) or ``@vocab``
# coercion (→ expanded), and vocabulary-coerced values stay part of the shape. The first document of each
# template is also converted by PyLD and compared; a template that disagrees is never used. Anything unusual
# (an embedded ``@context``, an IRI value that is not plainly absolute, a literal PyLD escapes differently)
# takes the PyLD path.

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_SLOT_A = "urn:x-microcred-slot:"
_SLOT_B = "xmicrocredslot"
# Schemes no bundled context defines as a prefix, so such a value is never re-expanded as a compact IRI.
_PLAIN_IRI = re.compile(r"^(?:https?|urn|did|mailto|data):[^\x00-\x20<>\"{}|\\^`\x7f]*$")
_STRUCTURAL_KEYS = frozenset({"type", "@type", "@language", "@direction", "@vocab", "@base", "@version"})


class _Slot:
    __slots__ = ("n",)

    def __init__(self, n: int) -> None:
        self.n = n


def _skeleton(value: Any, key: str | None, leaves: list[str], keep: frozenset[int], top: bool = False) -> Any:
    """The shape of a document: strings become slots (numbered in walk order) unless structural."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k == "@context" and not top:
                raise _Unsupported
            out[k] = v if k == "@context" else _skeleton(v, k, leaves, keep)
        return out
    if isinstance(value, list):
        return [_skeleton(item, key, leaves, keep) for item in value]
    if isinstance(value, str) and key not in _STRUCTURAL_KEYS:
        n = len(leaves)
        leaves.append(value)
        return value if n in keep else _Slot(n)
    return value


def _fill_skeleton(shape: Any, spell: Any) -> Any:
    if isinstance(shape, dict):
        return {k: v if k == "@context" else _fill_skeleton(v, spell) for k, v in shape.items()}
    if isinstance(shape, list):
        return [_fill_skeleton(item, spell) for item in shape]
    if isinstance(shape, _Slot):
        return spell(shape.n)
    return shape


def _walk(value: Any, key: str | None, tokens: list[str], leaves: list[str], top: bool = False) -> None:
    """One pass over a document: its shape as tokens, its slot values in the same order as ``_skeleton``."""
    if isinstance(value, dict):
        tokens.append("{")
        for k, v in value.items():
            tokens.append(k)
            if k == "@context":
                if not top:
                    raise _Unsupported
                tokens.append(json.dumps(v))
            else:
                _walk(v, k, tokens, leaves)
        tokens.append("}")
    elif isinstance(value, list):
        tokens.append("[")
        for item in value:
            _walk(item, key, tokens, leaves)
        tokens.append("]")
    elif isinstance(value, str):
        if key in _STRUCTURAL_KEYS:
            tokens.append("=" + value)
        else:
            tokens.append("\x00")
            leaves.append(value)
    else:
        tokens.append(json.dumps(value))


def _escape(value: str) -> str:
    """PyLD's N-Quads escaping (pyld.nquads.escape), which RDFC-1.0 output uses."""
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r").replace('"', '\\"')
    )


def _bnode_token(label: str) -> str:
    # NUL never occurs in a filled line: literals holding control characters and IRIs holding them are refused.
    return "\x00" + label + "\x00"


class _Template:
    """A shape's N-Quads lines as one format string: ``{n}`` is slot n (escaped, or a checked IRI) and blank
    nodes are NUL-delimited tokens, so that ``canonical`` can label them the RDFC-1.0 way."""

    def __init__(
        self, text: str, line_tokens: list[tuple[str, ...]], iri_slots: frozenset[int], literal_slots: frozenset[int]
    ) -> None:
        self.text = text
        self.line_tokens = line_tokens
        self.iri_slots = iri_slots
        self.literal_slots = literal_slots
        self.bnode_lines: dict[str, list[int]] = {}
        for index, tokens in enumerate(line_tokens):
            for token in set(tokens):
                self.bnode_lines.setdefault(token, []).append(index)

    def fill(self, leaves: list[str]) -> list[str]:
        """The document's N-Quads lines (no newline), blank nodes still as tokens."""
        values: list[str] = list(leaves)
        for n in self.iri_slots:
            if not _PLAIN_IRI.match(values[n]):
                raise _Unsupported
        for n in self.literal_slots:
            if _ESCAPING_DIFFERS.search(values[n]):
                raise _Unsupported
            values[n] = _escape(values[n])
        return self.text.format(*values).split("\n")[:-1]

    def canonical(self, leaves: list[str]) -> str:
        """RDFC-1.0 canonical N-Quads when every blank node's first-degree hash is unique (the usual case for
        our credentials); otherwise the lines go to pyoxigraph's full algorithm."""
        lines = self.fill(leaves)
        hashes = {}
        for token, indexes in self.bnode_lines.items():
            seen = set()  # the same quad twice (values that coincide) is one quad of the dataset
            related = []  # but different quads may serialise alike once other blank nodes read _:z
            for index in indexes:
                line = lines[index]
                if line in seen:
                    continue
                seen.add(line)
                for other in self.line_tokens[index]:
                    line = line.replace(other, "_:a" if other == token else "_:z")
                related.append(line + "\n")
            hashes[token] = hashlib.sha256("".join(sorted(related)).encode()).hexdigest()
        if len(set(hashes.values())) != len(hashes):
            _check_twins(hashes.values())
            plain = {token: "_:" + token.strip("\x00") for token in hashes}
            return _serialise_text("".join(_relabel(lines, self.line_tokens, plain)))
        order = sorted(hashes, key=hashes.__getitem__)
        labels = {token: f"_:c14n{i}" for i, token in enumerate(order)}
        return "".join(sorted(set(_relabel(lines, self.line_tokens, labels))))


def _relabel(lines: list[str], line_tokens: list[tuple[str, ...]], labels: dict[str, str]) -> list[str]:
    out = []
    for line, tokens in zip(lines, line_tokens, strict=True):
        for token in tokens:
            line = line.replace(token, labels[token])
        out.append(line + "\n")
    return out


def _nquads_term(node: dict[str, Any], slot: int | None) -> str:
    value = "{" + str(slot) + "}" if slot is not None else node["value"].replace("{", "{{").replace("}", "}}")
    if node["type"] == "IRI":
        return f"<{value}>"
    if node["type"] == "blank node":
        return _bnode_token(node["value"][2:])
    if slot is None:
        if _ESCAPING_DIFFERS.search(node["value"]):
            raise _Unsupported
        value = _escape(node["value"]).replace("{", "{{").replace("}", "}}")
    if node.get("language"):
        return f'"{value}"@{node["language"]}'
    datatype = node.get("datatype") or XSD_STRING
    return f'"{value}"' if datatype == XSD_STRING else f'"{value}"^^<{datatype}>'


def _slot_of(text: str, prefix: str) -> int | None:
    if text.startswith(prefix) and text[len(prefix) :].isdigit():
        return int(text[len(prefix) :])
    return None


class _Templates:
    """Templates by shape; a shape gets one when seen a second time. Bounded, thread-safe."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self.lock = threading.Lock()
        self.seen: OrderedDict[str, int] = OrderedDict()
        self.keeps: dict[str, frozenset[int]] = {}
        self.templates: OrderedDict[str, _Template | None] = OrderedDict()

    def _remember(self, table: OrderedDict[str, Any], key: str, value: Any) -> None:
        table[key] = value
        table.move_to_end(key)
        while len(table) > self.size:
            table.popitem(last=False)

    def lookup(self, document: dict[str, Any]) -> tuple[_Template, list[str]] | None:
        """The template for the document's shape and the document's slot values, or None (use PyLD)."""
        context = document.get("@context")
        if not isinstance(context, list) or not all(isinstance(c, str) and c in CONTEXT_FILES for c in context):
            return None
        tokens: list[str] = []
        leaves: list[str] = []
        _walk(document, None, tokens, leaves, top=True)
        base_key = "\x1f".join(tokens)
        with self.lock:
            keep = self.keeps.get(base_key)
        if keep is None:
            with self.lock:
                count = self.seen.get(base_key, 0) + 1
                self._remember(self.seen, base_key, count)
            if count < 2:
                return None
            keep = self._classify(document)
            with self.lock:
                self.keeps[base_key] = keep
                if len(self.keeps) > self.size:
                    self.keeps.pop(next(iter(self.keeps)))
        key = base_key + "\x1e" + "\x1f".join(leaves[n] for n in sorted(keep)) if keep else base_key
        with self.lock:
            if key in self.templates:
                self.templates.move_to_end(key)
                template = self.templates[key]
                return (template, leaves) if template is not None else None
        template = self._build(document, _skeleton(document, None, [], keep, top=True), keep, leaves)
        with self.lock:
            self._remember(self.templates, key, template)
        return (template, leaves) if template is not None else None

    def _classify(self, document: dict[str, Any]) -> frozenset[int]:
        """Slots whose value must stay part of the shape (vocabulary-coerced, dropped or partly used)."""
        leaves: list[str] = []
        shape = _skeleton(document, None, leaves, frozenset(), top=True)
        as_iri = self._occurrences(_fill_skeleton(shape, lambda n: f"{_SLOT_A}{n}"), _SLOT_A)
        # Slots that name a node (subjects, and objects where a parent links to the node) are @id values.
        # Respell the other IRI objects relative while node ids stay absolute (a relative node id would drop
        # the node): @id coercion then drops the triple, @vocab coercion makes a vocabulary IRI of it.
        subjects = {n for n, kinds in as_iri.items() if "subject" in kinds and kinds <= {"subject", "object"}}
        objects = {n for n, kinds in as_iri.items() if kinds == {"object"}}
        spelled = _fill_skeleton(shape, lambda n: f"{_SLOT_B}{n}" if n in objects else f"{_SLOT_A}{n}")
        relative = self._occurrences(spelled, _SLOT_B)
        keep = set()
        for n in range(len(leaves)):
            kinds = as_iri.get(n, set())
            if kinds == {"literal"}:
                continue  # a plain literal: its value never changes the RDF around it
            if n in subjects:
                continue  # a node id: kept when plainly absolute (checked when filled)
            if n in objects and n not in relative:
                continue  # an @id-coerced IRI object
            keep.add(n)
        return frozenset(keep)

    @staticmethod
    def _occurrences(document: dict[str, Any], prefix: str) -> dict[int, set[str]]:
        found: dict[int, set[str]] = {}
        for graph_name, triples in _to_dataset(document).items():
            if prefix in graph_name:
                for part in re.findall(re.escape(prefix) + r"(\d+)", graph_name):
                    found.setdefault(int(part), set()).add("graph")
            for triple in triples:
                for position in ("subject", "predicate", "object"):
                    node = triple[position]
                    value = node["value"]
                    if prefix not in value:
                        continue
                    n = _slot_of(value, prefix)
                    if n is None:
                        for part in re.findall(re.escape(prefix) + r"(\d+)", value):
                            found.setdefault(int(part), set()).add("partial")
                    elif node["type"] == "literal":
                        found.setdefault(n, set()).add("literal")
                    else:
                        found.setdefault(n, set()).add(position)
        return found

    def _build(self, document: dict[str, Any], shape: Any, keep: frozenset[int], leaves: list[str]) -> _Template | None:
        try:
            dataset = _to_dataset(_fill_skeleton(shape, lambda n: f"{_SLOT_A}{n}"))
            iri_slots: set[int] = set()
            literal_slots: set[int] = set()
            lines = []

            def term(node: dict[str, Any]) -> str:
                n = _slot_of(node["value"], _SLOT_A)
                if n is not None:
                    if node["type"] == "IRI":
                        iri_slots.add(n)
                    elif node["type"] == "literal":
                        literal_slots.add(n)
                    else:
                        raise _Unsupported
                return _nquads_term(node, n)

            line_tokens: list[tuple[str, ...]] = []
            for graph_name, triples in dataset.items():
                graph_node = {"type": _node_kind(graph_name), "value": graph_name}
                graph = "" if graph_name == "@default" else " " + term(graph_node)
                for triple in triples:
                    nodes = (triple["subject"], triple["predicate"], triple["object"])
                    lines.append(" ".join(term(node) for node in nodes) + graph + " .\n")
                    if graph_name != "@default":
                        nodes = (*nodes, graph_node)
                    line_tokens.append(tuple(_bnode_token(n["value"][2:]) for n in nodes if n["type"] == "blank node"))
            if iri_slots & literal_slots:
                return None
            template = _Template("".join(lines), line_tokens, frozenset(iri_slots), frozenset(literal_slots))
            if template.canonical(leaves) != canonical_nquads_pyld(document):
                return None  # never trust a template that disagrees with PyLD
            return template
        except (_Unsupported, ValueError, ContextError):
            return None


_templates = _Templates()


def _reason(exc: JsonLdError) -> str:
    cause = exc
    while getattr(cause, "cause", None) is not None or cause.__cause__ is not None:
        nxt = getattr(cause, "cause", None) or cause.__cause__
        if not isinstance(nxt, Exception):
            break
        cause = nxt
    return str(cause).split("\n", 1)[0]
