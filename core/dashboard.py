"""The signed-in user's Home page (``/home``): what is waiting for them, gathered from every domain.

Core knows no domain (they import it, never the reverse), so the page is a registry like the navigation:
each domain calls ``register_section(key, provider, order=N)`` from its ``init_app``. A provider takes the
signed-in ``User`` and returns a ``Section`` when the section applies to them (an assessor's reviews, an
author's drafts, …) or ``None`` when it does not. The page shows the sections that hold items, in ``order``;
when none does, it says so and lists each applicable section's ``next_step`` instead. Registering the same
key again replaces the provider, so building several apps in one process (the tests do) is harmless.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from core.models import User


@dataclass(frozen=True)
class Item:
    """One thing to do or see: always a link."""

    label: str
    url: str
    note: str = ""


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    items: list[Item] = field(default_factory=list)
    more: Item | None = None  # the full list, when the section shows only the first few
    next_step: Item | None = None  # what to do when nothing here is waiting (shown on an empty Home page)


Provider = Callable[[User], Section | None]


@dataclass(frozen=True)
class _Registered:
    provider: Provider
    order: int


_sections: dict[str, _Registered] = {}


def register_section(key: str, provider: Provider, *, order: int = 100) -> None:
    """Add (or replace) the Home page section ``key``; ``provider(user)`` builds it or returns None."""
    _sections[key] = _Registered(provider=provider, order=order)


def sections_for(user: User) -> list[Section]:
    """Every section that applies to ``user``, in order (those without items included, for their next step)."""
    built = []
    for _, registered in sorted(_sections.items(), key=lambda kv: (kv[1].order, kv[0])):
        section = registered.provider(user)
        if section is not None:
            built.append(section)
    return built
