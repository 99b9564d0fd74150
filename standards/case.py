"""Reading 1EdTech CASE packages (CFPackage JSON) into plain data, checking them fully before anything is written.

Tolerant of the shapes found in real exports: CASE 1.0 and 1.1 packages, OpenSALT's 1.0-era exports
(``CFDocumentURI`` as a string, ``educationalLevel`` as a string) and the 2016 pre-1.0 draft (identifiers that
are ASN URLs rather than UUIDs, ``originNodeIdentifier`` beside ``originNodeURI``, ``subject`` as a string).
Strict about what would corrupt the tree: a package that is not JSON, lacks identifiers, repeats them, has
``isChildOf`` cycles or targets that are neither an item nor the document, or items whose parent chain never
reaches the document is refused with errors naming each place as a JSON pointer (``#/CFItems/12/identifier``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from core.errors import ValidationFailed, field_error
from standards.models import MAX_SIBLINGS, PATH_STEP, search_text

MAX_IDENTIFIER_LENGTH = 512
MAX_ERRORS = 100
CHILD_OF = "isChildOf"
# CASE 1.1 association types, so that a differently-cased spelling is stored the standard way.
ASSOCIATION_TYPES = {
    t.lower(): t
    for t in (
        "isChildOf",
        "isPeerOf",
        "isPartOf",
        "exactMatchOf",
        "precedes",
        "isRelatedTo",
        "replacedBy",
        "exemplar",
        "hasSkillLevel",
        "isTranslationOf",
    )
}


@dataclass(slots=True)
class Item:
    """One CFItem, with its place in the tree once ``Package`` has worked it out."""

    index: int
    identifier: str
    uri: str | None
    human_coding_scheme: str | None
    full_statement: str
    abbreviated_statement: str | None
    item_type: str | None
    list_enumeration: str | None
    notes: str | None
    education_level: list[str]
    language: str | None
    last_change: datetime | None
    parent: str | None = None  # identifier of the tree parent; None for a child of the document
    position: int = 0
    depth: int = 0
    path: str = ""

    def fields(self) -> dict[str, Any]:
        """The StandardItem column values this item sets (all but ids)."""
        return {
            "uri": self.uri,
            "human_coding_scheme": self.human_coding_scheme,
            "full_statement": self.full_statement,
            "abbreviated_statement": self.abbreviated_statement,
            "item_type": self.item_type,
            "list_enumeration": self.list_enumeration,
            "notes": self.notes,
            "education_level": self.education_level,
            "language": self.language,
            "last_change": self.last_change,
            "position": self.position,
            "depth": self.depth,
            "path": self.path,
            "search_text": search_text(self.human_coding_scheme, self.abbreviated_statement, self.full_statement),
        }


@dataclass(slots=True)
class Node:
    """One end of an association: an identifier, perhaps with a URI and a title."""

    identifier: str
    uri: str | None
    title: str | None


@dataclass(slots=True)
class Association:
    index: int
    identifier: str
    uri: str | None
    association_type: str
    sequence_number: int | None
    origin: Node
    destination: Node
    last_change: datetime | None


@dataclass
class Package:
    """A checked CFPackage: the document's fields, its items in tree order and the non-tree associations."""

    identifier: str
    document: dict[str, Any]
    items: list[Item]
    associations: list[Association]
    sha256: str
    warnings: list[str] = field(default_factory=list)


class _Errors:
    """Collects errors (each naming its place) and warnings; stops collecting after MAX_ERRORS."""

    def __init__(self) -> None:
        self.errors: list[dict[str, str]] = []
        self.dropped = 0
        self.warnings: list[str] = []

    def add(self, place: tuple[Any, ...], message: str) -> None:
        if len(self.errors) >= MAX_ERRORS:
            self.dropped += 1
            return
        self.errors.append(field_error(".".join(str(p) for p in place), message))

    def raise_if_any(self) -> None:
        if not self.errors:
            return
        first = self.errors[0]
        more = len(self.errors) - 1 + self.dropped
        detail = f"The CASE package is malformed: {first['pointer']}: {first['detail']}"
        if more:
            detail += f" (and {more} more)"
        raise ValidationFailed(detail, errors=self.errors)


def package_digest(data: bytes | str | dict[str, Any]) -> str:
    """SHA-256 of a package as given (a dict is hashed as canonical JSON)."""
    if isinstance(data, dict):
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def parse_package(data: bytes | str | dict[str, Any], *, digest: str | None = None) -> Package:
    """Check a CFPackage completely and return it in tree order; raise ValidationFailed naming every fault."""
    digest = digest or package_digest(data)
    if isinstance(data, dict):
        return _Reader(data, digest).read()
    return _Reader(_load_json(data.encode() if isinstance(data, str) else data), digest).read()


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _load_json(raw: bytes) -> Any:
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        message = f"The file is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}."
    except UnicodeDecodeError:
        message = "The file is not valid JSON: it is not UTF-8 text."
    except RecursionError:
        message = "The file is not valid JSON: it is nested too deeply."
    except ValueError as exc:  # a NaN, or an integer literal longer than Python converts
        message = f"The file is not valid JSON: {exc}."
    raise ValidationFailed(message, errors=[field_error("", message)])


class _Reader:
    def __init__(self, package: Any, digest: str) -> None:
        self.package = package
        self.digest = digest
        self.out = _Errors()

    # --- scalar helpers: each checks one value and names its place when it is wrong ---------------------

    def text(self, obj: dict[str, Any], key: str, place: tuple[Any, ...]) -> str | None:
        value = obj.get(key)
        if type(value) is str and value.isascii() and "\x00" not in value:  # the common case, kept fast
            return value.strip() or None
        return self.value_text(value, (*place, key))

    def value_text(self, value: Any, place: tuple[Any, ...]) -> str | None:
        """A trimmed string (numbers are taken as their text), None when absent or blank."""
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.out.add(place, "Must be a string.")
            return None
        value = str(value)
        if "\x00" in value:
            self.out.add(place, "Must not contain NUL characters.")
            return None
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            self.out.add(place, "Must not contain unpaired surrogate escapes.")
            return None
        return value.strip() or None

    def identifier(self, obj: dict[str, Any], key: str, place: tuple[Any, ...]) -> str | None:
        value = obj.get(key)
        if not isinstance(value, str) or not value.strip():
            self.out.add((*place, key), "An identifier (a non-empty string) is required.")
            return None
        text = self.text(obj, key, place)
        if text is not None and len(text) > MAX_IDENTIFIER_LENGTH:
            self.out.add((*place, key), f"Longer than {MAX_IDENTIFIER_LENGTH} characters.")
            return None
        return text

    def uri(self, obj: dict[str, Any], key: str, place: tuple[Any, ...]) -> str | None:
        """A URI given as a string or as a CASE LinkURI object ``{"uri": …}``."""
        value = obj.get(key)
        if isinstance(value, dict):
            return self.text(value, "uri", (*place, key))
        return self.text(obj, key, place)

    def strings(self, obj: dict[str, Any], key: str, place: tuple[Any, ...]) -> list[str]:
        """A list of strings given as a list, or as one string that may hold comma-separated values."""
        value = obj.get(key)
        if isinstance(value, list):
            out = []
            for i, element in enumerate(value):
                text = self.value_text(element, (*place, key, i))
                if text:
                    out.append(text)
            return out
        text = self.text(obj, key, place)
        return [part.strip() for part in text.split(",") if part.strip()] if text else []

    def moment(self, obj: dict[str, Any], key: str, place: tuple[Any, ...]) -> datetime | None:
        text = self.text(obj, key, place)
        if not text:
            return None
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            self.out.warnings.append(f"{_pointer((*place, key))}: not an ISO 8601 date-time; ignored.")
            return None
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

    def sequence(self, obj: dict[str, Any], place: tuple[Any, ...]) -> int | None:
        value = obj.get("sequenceNumber")
        if value is None or value == "":
            return None
        try:
            number = int(value) if not isinstance(value, bool) else None
        except (TypeError, ValueError):
            number = None
        if number is None or abs(number) > 2**31 - 1:
            self.out.add((*place, "sequenceNumber"), "Must be a whole number.")
            return None
        return number

    def array(self, key: str) -> list[Any]:
        value = self.package.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.out.add((key,), "Must be an array.")
            return []
        return value

    # --- the package ------------------------------------------------------------------------------------

    def read(self) -> Package:
        if not isinstance(self.package, dict):
            self.out.add((), "A CASE package must be a JSON object with CFDocument, CFItems and CFAssociations.")
            self.out.raise_if_any()
        document = self.package.get("CFDocument")
        if not isinstance(document, dict):
            self.out.add(("CFDocument",), "A CFDocument object is required.")
            self.out.raise_if_any()
        doc_id = self.identifier(document, "identifier", ("CFDocument",))
        doc_fields = self.document_fields(document)
        items = self.items(doc_id)
        associations, tree_edges = self.associations(doc_id, document, items)
        self.out.raise_if_any()
        assert doc_id is not None
        if not tree_edges and items:
            self.out.warnings.append("No isChildOf associations: every item is placed at the top level.")
        extra = self.tree(doc_id, items, tree_edges)
        self.out.raise_if_any()
        ordered = sorted(items.values(), key=lambda it: it.path)
        return Package(
            identifier=doc_id,
            document=doc_fields,
            items=ordered,
            associations=associations + extra,
            sha256=self.digest,
            warnings=self.out.warnings,
        )

    def document_fields(self, document: dict[str, Any]) -> dict[str, Any]:
        place = ("CFDocument",)
        title = self.text(document, "title", place)
        if not title:
            self.out.warnings.append("#/CFDocument/title is missing; the identifier stands in for it.")
        subject = self.strings(document, "subject", place)
        licence = document.get("licenseURI")
        rights = None
        if isinstance(licence, dict):
            licence_id = licence.get("identifier")
            rights = self._licence_text(licence_id) or self.text(licence, "title", (*place, "licenseURI"))
        return {
            "uri": self.uri(document, "uri", place),
            "title": title or str(document.get("identifier") or ""),
            "creator": self.text(document, "creator", place),
            "publisher": self.text(document, "publisher", place),
            "description": self.text(document, "description", place),
            "version": self.text(document, "version", place),
            "language": (self.text(document, "language", place) or "")[:64] or None,
            "adoption_status": self.text(document, "adoptionStatus", place),
            "subject": subject,
            "official_source_url": self.text(document, "officialSourceURL", place),
            "notes": self.text(document, "notes", place),
            "rights": rights,
            "licence_uri": self.uri(document, "licenseURI", place),
            "last_change": self.moment(document, "lastChangeDateTime", place),
        }

    def _licence_text(self, licence_id: Any) -> str | None:
        definitions = self.package.get("CFDefinitions")
        licences = definitions.get("CFLicenses") if isinstance(definitions, dict) else None
        for licence in licences if isinstance(licences, list) else []:
            if isinstance(licence, dict) and licence.get("identifier") == licence_id:
                text = licence.get("licenseText") or licence.get("title")
                return str(text).strip() if text else None
        return None

    def item_types(self) -> dict[str, str]:
        definitions = self.package.get("CFDefinitions")
        types = definitions.get("CFItemTypes") if isinstance(definitions, dict) else None
        out = {}
        for entry in types if isinstance(types, list) else []:
            if isinstance(entry, dict) and isinstance(entry.get("identifier"), str):
                title = entry.get("title") or entry.get("typeCode")
                if isinstance(title, str) and title.strip():
                    out[entry["identifier"]] = title.strip()
        return out

    def items(self, doc_id: str | None) -> dict[str, Item]:
        types = self.item_types()
        items: dict[str, Item] = {}
        first_seen: dict[str, int] = {}
        for index, raw in enumerate(self.array("CFItems")):
            place = ("CFItems", index)
            if not isinstance(raw, dict):
                self.out.add(place, "Each CFItem must be an object.")
                continue
            identifier = self.identifier(raw, "identifier", place)
            if identifier is None:
                continue
            if identifier == doc_id:
                self.out.add((*place, "identifier"), "Duplicates the CFDocument identifier.")
                continue
            if identifier in first_seen:
                self.out.add(
                    (*place, "identifier"),
                    f"Duplicate identifier {identifier!r}, first used at #/CFItems/{first_seen[identifier]}.",
                )
                continue
            first_seen[identifier] = index
            items[identifier] = self.item(raw, index, identifier, types)
        return items

    def item(self, raw: dict[str, Any], index: int, identifier: str, types: dict[str, str]) -> Item:
        place = ("CFItems", index)
        code = self.text(raw, "humanCodingScheme", place)
        full = self.text(raw, "fullStatement", place)
        abbreviated = self.text(raw, "abbreviatedStatement", place)
        if not full:
            self.out.warnings.append(f"#/CFItems/{index}/fullStatement is missing.")
        item_type = self.text(raw, "CFItemType", place)
        type_link = raw.get("CFItemTypeURI")
        if not item_type and isinstance(type_link, dict):
            item_type = types.get(str(type_link.get("identifier"))) or self.text(
                type_link, "title", (*place, "CFItemTypeURI")
            )
        level_key = "educationLevel" if "educationLevel" in raw else "educationalLevel"
        return Item(
            index=index,
            identifier=identifier,
            uri=self.uri(raw, "uri", place),
            human_coding_scheme=code,
            full_statement=full or abbreviated or code or "",
            abbreviated_statement=abbreviated,
            item_type=item_type,
            list_enumeration=self.text(raw, "listEnumeration", place),
            notes=self.text(raw, "notes", place),
            education_level=self.strings(raw, level_key, place),
            language=(self.text(raw, "language", place) or "")[:64] or None,
            last_change=self.moment(raw, "lastChangeDateTime", place),
        )

    def node(self, raw: dict[str, Any], end: str, place: tuple[Any, ...]) -> tuple[Node | None, tuple[Any, ...]]:
        """One end (``origin`` or ``destination``) of an association, and the place its identifier is at."""
        link_key, id_key = f"{end}NodeURI", f"{end}NodeIdentifier"
        link = raw.get(link_key)
        if isinstance(link, dict) and link.get("identifier") not in (None, ""):
            identifier = self.identifier(link, "identifier", (*place, link_key))
            node_place: tuple[Any, ...] = (*place, link_key, "identifier")
            plain = raw.get(id_key)
            if identifier and isinstance(plain, str) and plain.strip() and plain.strip() != identifier:
                self.out.warnings.append(
                    f"{_pointer((*place, id_key))} differs from {_pointer(node_place)}; the latter is used."
                )
            uri = self.text(link, "uri", (*place, link_key))
            title = self.text(link, "title", (*place, link_key))
        elif raw.get(id_key) not in (None, ""):
            identifier = self.identifier(raw, id_key, place)
            node_place = (*place, id_key)
            uri = self.text(raw, link_key, place) if isinstance(link, str) else None
            title = None
        elif isinstance(link, str) and link.strip():  # a bare URI stands for the node
            identifier = self.identifier(raw, link_key, place)
            node_place = (*place, link_key)
            uri, title = identifier, None
        else:
            self.out.add((*place, link_key), f"The {end} node is required (an object with an identifier).")
            return None, (*place, link_key)
        if identifier is None:
            return None, node_place
        return Node(identifier=identifier, uri=uri, title=title), node_place

    def associations(
        self, doc_id: str | None, document: dict[str, Any], items: dict[str, Item]
    ) -> tuple[list[Association], list[tuple[Association, tuple[Any, ...]]]]:
        """Non-tree associations, and the isChildOf ones with the place of their destination."""
        doc_uri = self.uri(document, "uri", ("CFDocument",))
        by_uri = {item.uri: key for key, item in items.items() if item.uri}
        others: list[Association] = []
        tree_edges: list[tuple[Association, tuple[Any, ...]]] = []
        first_seen: dict[str, int] = {}
        for index, raw in enumerate(self.array("CFAssociations")):
            place = ("CFAssociations", index)
            if not isinstance(raw, dict):
                self.out.add(place, "Each CFAssociation must be an object.")
                continue
            identifier = self.identifier(raw, "identifier", place)
            kind = self.text(raw, "associationType", place)
            if not kind:
                self.out.add((*place, "associationType"), "An association type is required.")
            origin, origin_place = self.node(raw, "origin", place)
            destination, destination_place = self.node(raw, "destination", place)
            if identifier is None or not kind or origin is None or destination is None:
                continue
            if identifier in first_seen:
                self.out.add(
                    (*place, "identifier"),
                    f"Duplicate identifier {identifier!r}, first used at #/CFAssociations/{first_seen[identifier]}.",
                )
                continue
            first_seen[identifier] = index
            kind = ASSOCIATION_TYPES.get(kind.lower(), kind)[:128]
            association = Association(
                index=index,
                identifier=identifier,
                uri=self.uri(raw, "uri", place),
                association_type=kind,
                sequence_number=self.sequence(raw, place),
                origin=origin,
                destination=destination,
                last_change=self.moment(raw, "lastChangeDateTime", place),
            )
            if kind != CHILD_OF:
                others.append(association)
                continue
            # Tree edges join items of this package (matched by identifier, else by URI) to each other or
            # to the document; anything else would leave a hole in the tree.
            origin_key = _resolve(origin, items, by_uri)
            if origin_key is None:
                self.out.add(
                    origin_place,
                    f"isChildOf origin {origin.identifier!r} is not an item of this package.",
                )
                continue
            origin.identifier = origin_key
            destination_key = _resolve(destination, items, by_uri)
            if destination_key is None and (
                destination.identifier == doc_id or (doc_uri and destination.uri == doc_uri)
            ):
                destination_key = doc_id
            if destination_key is None:
                self.out.add(
                    destination_place,
                    f"Dangling isChildOf target {destination.identifier!r}: neither an item of this package "
                    "nor its CFDocument.",
                )
                continue
            if destination_key == origin_key:
                self.out.add(destination_place, f"Cycle: {origin_key!r} isChildOf itself.")
                continue
            destination.identifier = destination_key
            tree_edges.append((association, destination_place))
        return others, tree_edges

    def tree(
        self, doc_id: str, items: dict[str, Item], edges: list[tuple[Association, tuple[Any, ...]]]
    ) -> list[Association]:
        """Place every item; return the isChildOf associations beyond each item's first parent."""
        parents: dict[str, list[tuple[Association, tuple[Any, ...]]]] = {}
        for association, place in edges:
            parents.setdefault(association.origin.identifier, []).append((association, place))
        self._refuse_cycles(doc_id, parents)
        if self.out.errors:
            return []
        extra: list[Association] = []
        for key, candidates in parents.items():
            # An item with several parents (CASE allows it) hangs under the first by sequence and order;
            # the other isChildOf links are kept as associations.
            candidates.sort(key=lambda c: (c[0].sequence_number is None, c[0].sequence_number or 0, c[0].index))
            first = candidates[0][0].destination.identifier
            items[key].parent = None if first == doc_id else first
            extra.extend(association for association, _ in candidates[1:])
        if edges:
            self._refuse_unattached(items, parents)
            if self.out.errors:
                return []
        children: dict[str | None, list[Item]] = {}
        sequence: dict[str, int | None] = {key: candidates[0][0].sequence_number for key, candidates in parents.items()}
        for item in items.values():
            children.setdefault(item.parent, []).append(item)
        for siblings in children.values():
            # sequenceNumber first; items without one follow, in the package's own order.
            siblings.sort(
                key=lambda it: (sequence.get(it.identifier) is None, sequence.get(it.identifier) or 0, it.index)
            )
        stack: list[tuple[str | None, str, int]] = [(None, "", 0)]
        while stack:
            parent, prefix, depth = stack.pop()
            siblings = children.get(parent, [])
            if len(siblings) > MAX_SIBLINGS:
                self.out.add(("CFItems",), f"More than {MAX_SIBLINGS - 1} items share one parent.")
                return []
            for position, item in enumerate(siblings):
                item.position = position
                item.depth = depth
                item.path = f"{prefix}{position:0{PATH_STEP}d}"
                stack.append((item.identifier, item.path, depth + 1))
        return extra

    def _refuse_cycles(self, doc_id: str, parents: dict[str, list[tuple[Association, tuple[Any, ...]]]]) -> None:
        """Refuse any cycle in the isChildOf graph (over every parent link, not just the first)."""
        done: set[str] = set()
        for start in parents:
            if start in done:
                continue
            # Iterative depth-first search: the trail holds (node, remaining parent links).
            on_trail: dict[str, int] = {start: 0}
            trail = [(start, iter(parents.get(start, [])))]
            while trail:
                node, links = trail[-1]
                step = next(links, None)
                if step is None:
                    trail.pop()
                    on_trail.pop(node, None)
                    done.add(node)
                    continue
                association, place = step
                target = association.destination.identifier
                if target == doc_id or target in done:
                    continue
                if target in on_trail:
                    loop = [n for n, _ in trail[on_trail[target] :]] + [target]
                    self.out.add(place, "Cycle in isChildOf: " + " → ".join(repr(n) for n in loop) + ".")
                    continue
                on_trail[target] = len(trail)
                trail.append((target, iter(parents.get(target, []))))

    def _refuse_unattached(
        self, items: dict[str, Item], parents: dict[str, list[tuple[Association, tuple[Any, ...]]]]
    ) -> None:
        """Every item must reach the document through its parents."""
        unattached = {key for key in items if key not in parents}
        for key in unattached:
            self.out.add(
                ("CFItems", items[key].index),
                f"Item {key!r} has no isChildOf association: it is attached neither to the document nor to "
                "another item.",
            )
        reaches: dict[str, bool] = {}
        for key, item in items.items():
            chain = []
            node: str | None = key
            while node is not None and node not in reaches and node not in unattached:
                chain.append(node)
                node = items[node].parent
            ok = node is None or reaches.get(node, False)
            for visited in chain:
                reaches[visited] = ok
            if not ok and key not in unattached:
                self.out.add(
                    ("CFItems", item.index),
                    f"The parent chain of {key!r} is broken: it ends at {node!r}, which is not attached to "
                    "the document.",
                )


def _resolve(node: Node, items: dict[str, Item], by_uri: dict[str, str]) -> str | None:
    if node.identifier in items:
        return node.identifier
    if node.uri and node.uri in by_uri:
        return by_uri[node.uri]
    return None


def _pointer(place: tuple[Any, ...]) -> str:
    return field_error(".".join(str(p) for p in place), "")["pointer"]
