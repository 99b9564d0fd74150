"""Standards frameworks imported from 1EdTech CASE packages, their items and non-tree associations.

A ``Framework`` is one CFDocument, a ``StandardItem`` one CFItem. The ``isChildOf`` tree lives on the items
(``parent_id``, ``position`` among siblings, ``depth`` and a sortable ``path``); every other association
(``exactMatchOf``, ``precedes``, extra parents …) is a ``StandardAssociation`` row. Items are never deleted:
other domains align to their primary keys, so an item that leaves its framework is only marked obsolete.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import IdMixin, JSONType, TimestampMixin, db

# Width of one level of ``StandardItem.path``: a zero-padded sibling position. Digits only, so the order is
# the same under every collation (PostgreSQL's locale collations ignore punctuation).
PATH_STEP = 6
MAX_SIBLINGS = 10**PATH_STEP

# The text-search configuration of the PostgreSQL full-text index. Written as a literal (not a bound
# parameter) so that the planner matches queries to the index expression.
TS_CONFIG = sa.literal_column("'english'::regconfig")


_NOT_A_WORD = re.compile(r"[\W_]+")


def search_words(text: str) -> list[str]:
    """Lower-cased words: runs of letters and digits (punctuation separates them)."""
    return _NOT_A_WORD.sub(" ", text.lower()).split()


def search_text(*parts: str | None) -> str:
    """What an item is searched by: the words of its code and statements, lower-cased, each after a space
    (so that ``LIKE '% word%'`` finds the start of any word)."""
    return "".join(" " + word for word in search_words(" ".join(p for p in parts if p)))


class Framework(IdMixin, TimestampMixin, db.Model):
    """One standards framework (a CASE CFDocument), identified by its CASE identifier."""

    __tablename__ = "frameworks"

    case_identifier: Mapped[str] = mapped_column(sa.String(512), unique=True)
    uri: Mapped[str | None] = mapped_column(sa.Text)
    title: Mapped[str] = mapped_column(sa.Text)
    creator: Mapped[str | None] = mapped_column(sa.Text)
    publisher: Mapped[str | None] = mapped_column(sa.Text)
    description: Mapped[str | None] = mapped_column(sa.Text)
    version: Mapped[str | None] = mapped_column(sa.Text)
    language: Mapped[str | None] = mapped_column(sa.String(64))
    adoption_status: Mapped[str | None] = mapped_column(sa.Text)
    subject: Mapped[list[str]] = mapped_column(JSONType, default=list)
    official_source_url: Mapped[str | None] = mapped_column(sa.Text)
    notes: Mapped[str | None] = mapped_column(sa.Text)
    # Rights: the CFDocument's licence (its title or text) and where it is published.
    rights: Mapped[str | None] = mapped_column(sa.Text)
    licence_uri: Mapped[str | None] = mapped_column(sa.Text)
    # Where this copy came from (a file name, an upload, the bundled data and its SOURCES.md entry).
    source_note: Mapped[str] = mapped_column(sa.Text, default="")
    # The owning organisation for frameworks an org admin imported; NULL for platform-wide ones.
    imported_by_organisation_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    last_change: Mapped[datetime | None]
    last_imported_at: Mapped[datetime | None]
    # SHA-256 of the last imported package, so that importing the same file again changes nothing.
    package_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    item_count: Mapped[int] = mapped_column(default=0)
    obsolete_item_count: Mapped[int] = mapped_column(default=0)
    association_count: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<Framework {self.title!r}>"


class StandardItem(IdMixin, TimestampMixin, db.Model):
    """One standard (a CASE CFItem) in the tree of its framework."""

    __tablename__ = "standard_items"
    __table_args__ = (
        sa.UniqueConstraint("framework_id", "case_identifier"),
        sa.Index("ix_standard_items_framework_path", "framework_id", "path"),
        # Full-text search on PostgreSQL only (created by migration 0002 there); SQLite searches with LIKE.
        sa.Index(
            "ix_standard_items_search",
            sa.func.to_tsvector(TS_CONFIG, sa.text("search_text")),
            postgresql_using="gin",
        ).ddl_if(dialect="postgresql"),
        # Code search ("6.RP.A" anywhere in a code) through trigrams, also PostgreSQL only (pg_trgm).
        sa.Index(
            "ix_standard_items_code_trgm",
            sa.func.lower(sa.text("human_coding_scheme")),
            postgresql_using="gin",
            postgresql_ops={"lower_1": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
    )

    framework_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("frameworks.id", ondelete="CASCADE"))
    case_identifier: Mapped[str] = mapped_column(sa.String(512))
    uri: Mapped[str | None] = mapped_column(sa.Text)
    human_coding_scheme: Mapped[str | None] = mapped_column(sa.Text)
    full_statement: Mapped[str] = mapped_column(sa.Text, default="")
    abbreviated_statement: Mapped[str | None] = mapped_column(sa.Text)
    item_type: Mapped[str | None] = mapped_column(sa.Text)
    list_enumeration: Mapped[str | None] = mapped_column(sa.Text)
    notes: Mapped[str | None] = mapped_column(sa.Text)
    education_level: Mapped[list[str]] = mapped_column(JSONType, default=list)
    language: Mapped[str | None] = mapped_column(sa.String(64))
    last_change: Mapped[datetime | None]
    # The tree: NULL parent means a top-level item (a child of the CFDocument).
    parent_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("standard_items.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    depth: Mapped[int] = mapped_column(default=0)
    path: Mapped[str] = mapped_column(sa.Text, default="")
    obsolete_at: Mapped[datetime | None]
    search_text: Mapped[str] = mapped_column(sa.Text, default="")

    framework: Mapped[Framework] = relationship()
    parent: Mapped[StandardItem | None] = relationship(remote_side="StandardItem.id")

    @property
    def is_obsolete(self) -> bool:
        return self.obsolete_at is not None

    @property
    def label(self) -> str:
        """Code and short statement, as people cite a standard."""
        statement = self.abbreviated_statement or self.full_statement
        return f"{self.human_coding_scheme} {statement}" if self.human_coding_scheme else statement

    def __repr__(self) -> str:
        return f"<StandardItem {self.human_coding_scheme or self.case_identifier}>"


class StandardAssociation(IdMixin, db.Model):
    """A CASE association other than an item's tree parent; either end may lie outside the package."""

    __tablename__ = "standard_associations"
    __table_args__ = (sa.UniqueConstraint("framework_id", "case_identifier"),)

    framework_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("frameworks.id", ondelete="CASCADE"))
    case_identifier: Mapped[str] = mapped_column(sa.String(512))
    uri: Mapped[str | None] = mapped_column(sa.Text)
    association_type: Mapped[str] = mapped_column(sa.String(128))
    sequence_number: Mapped[int | None]
    origin_identifier: Mapped[str] = mapped_column(sa.Text)
    origin_uri: Mapped[str | None] = mapped_column(sa.Text)
    origin_title: Mapped[str | None] = mapped_column(sa.Text)
    origin_item_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("standard_items.id"), index=True)
    destination_identifier: Mapped[str] = mapped_column(sa.Text)
    destination_uri: Mapped[str | None] = mapped_column(sa.Text)
    destination_title: Mapped[str | None] = mapped_column(sa.Text)
    destination_item_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("standard_items.id"), index=True)
    last_change: Mapped[datetime | None]

    origin_item: Mapped[StandardItem | None] = relationship(foreign_keys=[origin_item_id])
    destination_item: Mapped[StandardItem | None] = relationship(foreign_keys=[destination_item_id])


def search_vector(column: Any = None) -> Any:
    """The tsvector expression of the PostgreSQL full-text index (migration 0002) — queries must match it."""
    return sa.func.to_tsvector(TS_CONFIG, StandardItem.search_text if column is None else column)
