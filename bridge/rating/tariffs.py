"""A tariff: a named rate deck with its longest-prefix index, built once.

Build one with :meth:`Tariff.from_rows` from any iterable of :class:`RateRow` (a CSV reader, a
database cursor). A row repeated exactly is kept once; the same prefix with a different rate,
increment, fee or description is refused, because which one wins would otherwise depend on file
order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from bridge.rating.errors import DuplicatePrefixError
from bridge.rating.models import RateRow
from bridge.rating.prefixes import PrefixIndex


# eq=False: two tariffs are the same tariff only if they are the same object; comparing or hashing
# 50,000 rows by value would be slow and is never what a caller means.
@dataclass(frozen=True, slots=True, eq=False)
class Tariff:
    """An immutable rate deck: rows in file order plus a longest-prefix index over them."""

    name: str
    rows: tuple[RateRow, ...] = field(repr=False)
    index: PrefixIndex[RateRow] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        by_prefix: dict[str, RateRow] = {}
        for row in self.rows:
            seen = by_prefix.setdefault(row.prefix, row)
            if seen is not row and seen != row:
                raise DuplicatePrefixError(
                    f"tariff {self.name!r}: prefix {row.prefix} appears twice with different "
                    f"values ({seen.description} {seen.rate}/{seen.increment}s vs "
                    f"{row.description} {row.rate}/{row.increment}s)"
                )
        if len(by_prefix) != len(self.rows):
            object.__setattr__(self, "rows", tuple(by_prefix.values()))
        object.__setattr__(self, "index", PrefixIndex(by_prefix.items()))

    @classmethod
    def from_rows(cls, name: str, rows: Iterable[RateRow]) -> Tariff:
        """Return a tariff over ``rows``; a prefix given twice with different values is refused."""
        return cls(name, tuple(rows))

    def lookup(self, number: str) -> RateRow | None:
        """Return the row with the longest prefix of ``number``, or None when none matches."""
        return self.index.longest(number)

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[RateRow]:
        return iter(self.rows)
