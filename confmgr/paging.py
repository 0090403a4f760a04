"""One page of a long list, as the lists' pagination (templates/_pagination.html) reads it."""
from __future__ import annotations

from dataclasses import dataclass, field
from math import ceil
from typing import Any, Generic, TypeVar

from confmgr.text import whole_number

T = TypeVar("T")


def page_number(args) -> int:
    """The ``page`` asked for in a query string: 1 unless a whole number of nine digits or
    fewer, so no offset can overflow a database integer."""
    return max(1, whole_number(args.get("page", "")) or 1)


@dataclass
class Page(Generic[T]):
    items: list[T]
    total: int
    #: The list's query: its ``page`` and ``per_page``, and ``args()`` for links to others.
    query: Any
    pages: int = field(init=False)

    def __post_init__(self):
        self.pages = max(1, ceil(self.total / self.query.per_page))
