"""Suppress and exclude-from-billing filters.

A filter is a comma-separated list of patterns, matched against the number as the PBX wrote it
(``+`` and spaces removed). A pattern matches the *whole* number: digits match themselves, ``x``
(or ``X``) matches exactly one digit, ``*`` and ``#`` are literal, so ``1800xxxxxxx`` matches any
eleven-digit 1800 number, ``*xx`` any two-digit feature code and ``911`` only 911. Two keywords
match by direction instead of number: ``[local]`` every local call, ``[inbound]`` every inbound
call.

The patterns compile into one regular expression, an alternation with a group per pattern, so a
number is checked against the whole list in a single C-level ``fullmatch``; the group that
matched names the pattern for the trace. Patterns are fixed-length, so matching is linear.
:func:`make_screen` goes one step further for batches and checks a suppress list and an exclude
list in that one pass, suppress first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from bridge.rating.errors import InvalidPatternError
from bridge.rating.models import Direction, Status

LOCAL_KEYWORD = "[local]"
INBOUND_KEYWORD = "[inbound]"
_PATTERN_CHARS = frozenset("0123456789x*#")
# Stands in for the pattern alternation when both lists hold only keywords; the screen never
# calls it then (no pattern length to match), it only keeps the screen's one code path.
_NOTHING = re.compile("(?!)")


def _pattern_of(found: re.Match[str], numbered: tuple[str, ...]) -> str:
    """Return the pattern whose group made the match (each alternative is one group)."""
    assert found.lastindex is not None  # every alternative is a group, so one took part
    return numbered[found.lastindex - 1]


def _clean_pattern(raw: str) -> str:
    """Return one pattern in canonical form (no ``+`` or spaces, lower-case ``x``), or raise."""
    pattern = raw.replace("+", "").replace(" ", "").replace("X", "x")
    if pattern.lower() in (LOCAL_KEYWORD, INBOUND_KEYWORD):
        return pattern.lower()
    bad = sorted(set(pattern) - _PATTERN_CHARS)
    if bad:
        raise InvalidPatternError(
            f"filter pattern {raw.strip()!r} may hold only digits, x, * and # "
            f"(or be [local] or [inbound]); it has {''.join(bad)!r}"
        )
    return pattern


@dataclass(frozen=True, slots=True)
class FilterSet:
    """A compiled, immutable list of filter patterns; empty by default (matches nothing)."""

    patterns: tuple[str, ...] = ()
    _inbound: bool = field(init=False, repr=False, compare=False)
    _local: bool = field(init=False, repr=False, compare=False)
    _numbered: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _regex: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        cleaned = tuple(dict.fromkeys(_clean_pattern(p) for p in self.patterns if p.strip()))
        numbered = tuple(p for p in cleaned if p not in (LOCAL_KEYWORD, INBOUND_KEYWORD))
        alternatives = "|".join(
            "(" + "".join("[0-9]" if c == "x" else re.escape(c) for c in p) + ")" for p in numbered
        )
        object.__setattr__(self, "patterns", cleaned)
        object.__setattr__(self, "_inbound", INBOUND_KEYWORD in cleaned)
        object.__setattr__(self, "_local", LOCAL_KEYWORD in cleaned)
        object.__setattr__(self, "_numbered", numbered)
        object.__setattr__(self, "_regex", re.compile(alternatives) if numbered else None)

    @classmethod
    def parse(cls, text: str) -> FilterSet:
        """Return the filter written as a comma-separated list, e.g. ``"1800xxxxxxx, *xx, 911"``."""
        return cls(tuple(text.split(",")))

    def union(self, *others: FilterSet) -> FilterSet:
        """Return a filter matching whatever this one or any of ``others`` matches."""
        patterns: Iterable[str] = self.patterns + tuple(p for o in others for p in o.patterns)
        return FilterSet(tuple(patterns))

    def match(self, number: str, direction: Direction) -> str | None:
        """Return the pattern that matches this call, or None; ``number`` has no ``+`` or spaces."""
        if self._inbound and direction is Direction.INBOUND:
            return INBOUND_KEYWORD
        if self._local and direction is Direction.LOCAL:
            return LOCAL_KEYWORD
        found = self._regex.fullmatch(number) if self._regex is not None else None
        return None if found is None else _pattern_of(found, self._numbered)

    def _keyword_directions(self) -> frozenset[Direction]:
        """Return the directions this filter matches by keyword, whatever the number."""
        return frozenset(
            d
            for d, on in ((Direction.INBOUND, self._inbound), (Direction.LOCAL, self._local))
            if on
        )

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def __str__(self) -> str:
        return ",".join(self.patterns)


Screen = Callable[[str, Direction], tuple[Status, str] | None]


def make_screen(suppress: FilterSet, exclude: FilterSet) -> Screen | None:
    """Return a function checking suppress then exclude in one pass, or None if both are empty.

    It returns ``(Status.SUPPRESSED, pattern)``, ``(Status.EXCLUDED, pattern)`` or None. A call
    matching both lists is suppressed: suppress keywords are checked first, and suppress patterns
    come first in the combined alternation, whose first full match wins.
    """
    if not suppress and not exclude:
        return None
    suppress_directions = suppress._keyword_directions()
    exclude_directions = exclude._keyword_directions()
    both = FilterSet(suppress._numbered + exclude._numbered)
    fullmatch = (both._regex or _NOTHING).fullmatch
    outcomes = tuple(
        (Status.SUPPRESSED if p in suppress._numbered else Status.EXCLUDED, p)
        for p in both._numbered
    )
    suppressed = {d: (Status.SUPPRESSED, _keyword(d)) for d in suppress_directions}
    excluded = {d: (Status.EXCLUDED, _keyword(d)) for d in exclude_directions}
    # Patterns match whole numbers, so a number of another length cannot match any of them.
    sizes = frozenset(len(p) for p in both._numbered)

    def screen(number: str, direction: Direction) -> tuple[Status, str] | None:
        """Return the list and pattern that decide the call, or None."""
        if direction in suppressed:
            return suppressed[direction]
        found = fullmatch(number) if len(number) in sizes else None
        if found is not None:
            assert found.lastindex is not None  # every alternative is a group
            outcome = outcomes[found.lastindex - 1]
            # Within the exclude list, a keyword is reported before a pattern, as match() does.
            if outcome[0] is Status.SUPPRESSED or direction not in excluded:
                return outcome
        return excluded.get(direction)

    return screen


def _keyword(direction: Direction) -> str:
    """Return the keyword that matches calls going ``direction``."""
    return INBOUND_KEYWORD if direction is Direction.INBOUND else LOCAL_KEYWORD
