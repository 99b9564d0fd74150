"""Reading standards (public): frameworks and their items, the tree of a framework, an item with its
associations, search by code and words, and the public URLs alignments point at.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import func, or_, select

from core.db import Page, db, like_pattern, paginate
from core.errors import NotFound
from standards.imports import IN_CHUNK
from standards.models import TS_CONFIG, Framework, StandardAssociation, StandardItem, search_vector, search_words


def get_framework(*, framework_id: uuid.UUID) -> Framework:
    framework = db.session.get(Framework, framework_id)
    if framework is None:
        raise NotFound("No framework with this id.")
    return framework


def list_frameworks(*, page: int, page_size: int, q: str | None = None) -> Page[Framework]:
    """Frameworks by title; ``q`` matches title, creator, publisher or CASE identifier."""
    stmt = select(Framework)
    if q:
        pattern = like_pattern(q)
        stmt = stmt.where(
            or_(
                *(
                    func.lower(column).like(pattern, escape="\\")
                    for column in (Framework.title, Framework.creator, Framework.publisher, Framework.case_identifier)
                )
            )
        )
    return paginate(stmt.order_by(func.lower(Framework.title), Framework.id), page=page, page_size=page_size)


def get_item(*, item_id: uuid.UUID) -> StandardItem:
    """One item, obsolete or not."""
    item = db.session.get(StandardItem, item_id)
    if item is None:
        raise NotFound("No standard item with this id.")
    return item


def get_items(*, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, StandardItem]:
    """The items with these ids (obsolete ones too), by id; unknown ids are simply absent."""
    wanted = list(dict.fromkeys(ids))
    found: dict[uuid.UUID, StandardItem] = {}
    for start in range(0, len(wanted), IN_CHUNK):
        for item in db.session.scalars(
            select(StandardItem).where(StandardItem.id.in_(wanted[start : start + IN_CHUNK]))
        ):
            found[item.id] = item
    return found


@dataclass
class TreeNode:
    item: StandardItem
    children: list[TreeNode] = field(default_factory=list)


def tree(*, framework_id: uuid.UUID, include_obsolete: bool = False, max_depth: int | None = None) -> list[TreeNode]:
    """The framework's items as a tree in their order (top-level items first), to ``max_depth`` if given."""
    get_framework(framework_id=framework_id)
    stmt = select(StandardItem).where(StandardItem.framework_id == framework_id)
    if not include_obsolete:
        stmt = stmt.where(StandardItem.obsolete_at.is_(None))
    if max_depth is not None:
        stmt = stmt.where(StandardItem.depth <= max_depth)
    nodes = {item.id: TreeNode(item) for item in db.session.scalars(stmt.order_by(StandardItem.path))}
    roots: list[TreeNode] = []
    for node in nodes.values():  # in path order, so siblings keep their order
        parent = nodes.get(node.item.parent_id) if node.item.parent_id else None
        (parent.children if parent is not None else roots).append(node)
    return roots


@dataclass
class ItemDetail:
    """An item with what its page shows: framework, ancestors, children and associations both ways."""

    item: StandardItem
    framework: Framework
    ancestors: list[StandardItem]
    children: list[StandardItem]
    associations: list[AssociationView]

    def __getattr__(self, name: str) -> Any:
        # Everything else is the item's own (so a detail dumps and links like the item).
        if name.startswith("__") or name == "item":
            raise AttributeError(name)
        return getattr(self.item, name)


@dataclass
class AssociationView:
    """An association seen from one item: its type, direction and the other end (ours, if we have it)."""

    association_type: str
    direction: str  # "outgoing" (this item is the origin) or "incoming"
    identifier: str
    uri: str | None
    title: str | None
    item: StandardItem | None


def item_detail(*, item_id: uuid.UUID) -> ItemDetail:
    item = get_item(item_id=item_id)
    ancestors: list[StandardItem] = []
    parent_id = item.parent_id
    while parent_id is not None and len(ancestors) < 1000:  # a bound, should the data ever hold a loop
        parent = db.session.get(StandardItem, parent_id)
        if parent is None:
            break
        ancestors.append(parent)
        parent_id = parent.parent_id
    ancestors.reverse()
    children = list(
        db.session.scalars(select(StandardItem).where(StandardItem.parent_id == item.id).order_by(StandardItem.path))
    )
    return ItemDetail(
        item=item,
        framework=item.framework,
        ancestors=ancestors,
        children=children,
        associations=_associations_of(item),
    )


def _associations_of(item: StandardItem) -> list[AssociationView]:
    rows = db.session.scalars(
        select(StandardAssociation)
        .where(
            or_(
                StandardAssociation.origin_item_id == item.id,
                StandardAssociation.destination_item_id == item.id,
            )
        )
        .order_by(StandardAssociation.association_type, StandardAssociation.sequence_number)
    ).all()
    views = []
    for a in rows:
        outgoing = a.origin_item_id == item.id
        views.append(
            AssociationView(
                association_type=a.association_type,
                direction="outgoing" if outgoing else "incoming",
                identifier=a.destination_identifier if outgoing else a.origin_identifier,
                uri=a.destination_uri if outgoing else a.origin_uri,
                title=a.destination_title if outgoing else a.origin_title,
                item=a.destination_item if outgoing else a.origin_item,
            )
        )
    # Ends outside the package may be items of another framework imported since: find them by identifier.
    unresolved = {v.identifier for v in views if v.item is None}
    if unresolved:
        known = {
            other.case_identifier: other
            for other in db.session.scalars(
                select(StandardItem).where(StandardItem.case_identifier.in_(list(unresolved)[:IN_CHUNK]))
            )
        }
        for view in views:
            if view.item is None:
                view.item = known.get(view.identifier)
    return views


def search_items(
    *,
    q: str | None = None,
    framework_id: uuid.UUID | None = None,
    include_obsolete: bool = False,
    page: int,
    page_size: int,
) -> Page[StandardItem]:
    """Items matching every term of ``q``; best matches first. Without ``q``: the items in tree order.

    Terms are what the query has between spaces. One with a digit or a dot (``6.RP.A.1``, ``InTASC.1``) must
    appear in the code, case-insensitively; any other must be a word of the code or statements: by full-text
    search on PostgreSQL (English stemming: "ratios" finds "ratio"), by the start of a word on SQLite
    ("ratio" finds "ratios", not "collaboration"). An exact code comes first, then framework and tree order.
    """
    q = (q or "").strip()
    stmt = select(StandardItem)
    if framework_id is not None:
        stmt = stmt.where(StandardItem.framework_id == framework_id)
    if not include_obsolete:
        stmt = stmt.where(StandardItem.obsolete_at.is_(None))
    if not q:
        return paginate(stmt.order_by(StandardItem.framework_id, StandardItem.path), page=page, page_size=page_size)
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    raw_terms = q.split()[:16]
    code_terms = [term for term in raw_terms if _CODE_LIKE.search(term)]
    word_terms = [" ".join(words) for term in raw_terms if term not in code_terms and (words := search_words(term))]
    if not code_terms and not word_terms:
        return Page(items=[], total=0)  # nothing searchable in it (only punctuation)
    code = StandardItem.human_coding_scheme
    # SQLite's LIKE ignores ASCII case by itself; on PostgreSQL lower(code) is what the trigram index holds.
    searched_code = func.lower(code) if postgresql else code
    stmt = stmt.where(*(searched_code.like(like_pattern(term), escape="\\") for term in code_terms))
    if word_terms and postgresql:
        # Terms hold letters, digits and spaces only, so quoting them is safe: each becomes a phrase.
        tsquery = func.websearch_to_tsquery(TS_CONFIG, " ".join(f'"{term}"' for term in word_terms))
        stmt = stmt.where(search_vector().op("@@")(tsquery))
    elif word_terms:
        # search_text starts with a space, so " word" matches the start of any word.
        stmt = stmt.where(*(StandardItem.search_text.like(like_pattern(" " + t), escape="\\") for t in word_terms))
    # No relevance ranking: ts_rank() would recompute every hit's tsvector. Results come in tree order,
    # an exact code first.
    order = [(func.lower(code) == q.lower()).desc()] if code_terms else []
    return paginate(stmt.order_by(*order, StandardItem.framework_id, StandardItem.path), page=page, page_size=page_size)


_CODE_LIKE = re.compile(r"[\d.]")


def public_item_url(item: StandardItem) -> str:
    return f"{current_app.config['BASE_URL']}/standards/items/{item.id}"


def public_framework_url(framework: Framework) -> str:
    return f"{current_app.config['BASE_URL']}/standards/frameworks/{framework.id}"


def is_resolvable_url(uri: str | None) -> bool:
    """An absolute http(s) URL naming a public-looking host (not ``urn:``, not ``localhost``, no spaces)."""
    if not uri or any(ch.isspace() for ch in uri):
        return False
    try:
        parts = urlsplit(uri)
        host = parts.hostname
    except ValueError:
        return False
    return parts.scheme in {"http", "https"} and bool(host) and "." in (host or "") and host != "localhost"


def alignment_url(item: StandardItem) -> str:
    """The URL an Open Badges alignment should use: the item's own http(s) URI, else our public page."""
    return item.uri if is_resolvable_url(item.uri) else public_item_url(item)  # type: ignore[return-value]
