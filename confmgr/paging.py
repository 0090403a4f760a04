"""One page of a long list, as the lists' pagination (templates/_pagination.html) reads it."""
from __future__ import annotations

from dataclasses import dataclass, field
from math import ceil
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    items: list[T]
    total: int
    #: The list's query: its ``page`` and ``per_page``, and ``args()`` for links to others.
    query: Any
    pages: int = field(init=False)

    def __post_init__(self):
        self.pages = max(1, ceil(self.total / self.query.per_page))
