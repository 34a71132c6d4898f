"""Longest-prefix match over a rate deck, without ever scanning the deck.

The index is a dict keyed by prefix plus the distinct prefix lengths in the deck, longest first.
A lookup slices the number at each of those lengths and probes the dict, so its cost depends on
how many lengths the deck uses (9 for a typical 50,000-row deck), not on how many rows it has.
This is the lookup every mature rater uses (CGRateS, A2Billing, MagnusBilling), done in memory
instead of one SQL query per call.

>>> index = PrefixIndex([("1", "NANP"), ("1876", "Jamaica")])
>>> index.longest("18765550100")
'Jamaica'
>>> index.longest("12125550100")
'NANP'
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

V = TypeVar("V")


class PrefixIndex(Generic[V]):
    """An immutable map from digit prefixes to values that answers longest-prefix queries."""

    __slots__ = ("_lengths", "_values")

    def __init__(self, items: Iterable[tuple[str, V]]) -> None:
        values: dict[str, V] = {}
        for prefix, value in items:
            if not prefix:
                raise ValueError("a prefix index cannot hold the empty prefix")
            values[prefix] = value
        self._values = values
        self._lengths = tuple(sorted({len(p) for p in values}, reverse=True))

    def longest(self, number: str) -> V | None:
        """Return the value of the longest prefix of ``number`` in the index, or None."""
        get = self._values.get
        size = len(number)
        for length in self._lengths:
            if length <= size:
                value = get(number[:length])
                if value is not None:
                    return value
        return None

    @property
    def lengths(self) -> tuple[int, ...]:
        """Return the distinct prefix lengths in the index, longest first."""
        return self._lengths

    def __contains__(self, prefix: object) -> bool:
        return prefix in self._values

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)
