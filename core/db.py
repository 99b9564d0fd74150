"""Database plumbing: the declarative base, portable column types and the transaction boundary.

Services only ``flush()``; the edge (one HTTP request or one CLI command) commits once or rolls back,
so a multi-step operation is all-or-nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry

from core import clock

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned timezone-aware (SQLite keeps no zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use core.clock.now()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = sa.JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    registry = registry(
        metadata=sa.MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime(), dict[str, Any]: JSONType, uuid.UUID: sa.Uuid()},
    )


db = SQLAlchemy(model_class=Base)


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection: Any, connection_record: Any) -> None:
    """Make SQLite behave: foreign keys on, WAL, and transactions that SQLAlchemy (not pysqlite) begins."""
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(conn: sa.Connection) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN")


@contextmanager
def unit_of_work() -> Iterator[None]:
    """Commit once when the block succeeds, roll back everything when it raises (CLI commands, jobs)."""
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    run_after_commit()


_after_commit_hooks: list[Callable[[], object]] = []


def after_commit(hook: Callable[[], object]) -> Callable[[], object]:
    """Run ``hook`` at every transaction boundary (request or ``unit_of_work``) once its commit succeeded.

    How work that must follow a commit (the outbox's inline delivery) reaches the boundary without this module
    importing it: ``core.mail`` registers itself here, so imports run one way (mail → models → db).
    """
    _after_commit_hooks.append(hook)
    return hook


def run_after_commit() -> None:
    """Called by the boundaries after a successful commit."""
    for hook in _after_commit_hooks:
        hook()


def like_pattern(text: str) -> str:
    """A LIKE pattern (use with ``escape="\\"``) matching ``text`` anywhere, lower-cased, with its %, _
    and \\ taken literally."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    items: list[T]
    total: int


# Bounds on every list: beyond them an offset overflows the database's 64-bit integers (a 500), and nobody
# pages through ten thousand pages by hand; the API answers 422, web pages clamp (``clamp_page``).
MAX_PAGE = 10_000
MAX_PAGE_SIZE = 500


class PageOutOfRange(ValueError):
    """A page number or size outside the bounds; the edge answers 422 naming ``field``."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def clamp_page(page: int | None) -> int:
    """A page number a web page asked for, brought within 1‥MAX_PAGE (a hostile ``?page=`` is not an error)."""
    return min(max(page or 1, 1), MAX_PAGE)


def paginate(stmt: sa.Select[Any], *, page: int, page_size: int) -> Page[Any]:
    """Run ``stmt`` for one page and count all its rows; ``PageOutOfRange`` outside the bounds."""
    if not 1 <= page <= MAX_PAGE:
        raise PageOutOfRange("page", f"Must be between 1 and {MAX_PAGE}.")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise PageOutOfRange("page_size", f"Must be between 1 and {MAX_PAGE_SIZE}.")
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())) or 0
    items = list(db.session.scalars(stmt.limit(page_size).offset((page - 1) * page_size)))
    return Page(items=items, total=total)


def empty_postgresql_schema(url: str) -> None:
    """Drop everything in a PostgreSQL database's ``public`` schema, so the migrations start from nothing.

    For the test suite and the benchmarks, which each own their database; a SQLite URL is left alone (they
    use a fresh file). Destructive by design: never point it at data you keep.
    """
    if not url.startswith("postgresql"):
        return
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
