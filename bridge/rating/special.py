"""Special Number Billing: per-product rules that bill matching calls instead of the tariff.

A rule has a pattern, a pattern type, a direction, a billing mode and amounts. Rules are checked
against the number as the PBX wrote it (``+`` and spaces removed):

- ``prefix`` patterns match the start of the number; a trailing ``*`` is decoration, so ``1300``
  and ``1300*`` are the same rule;
- ``regex`` patterns must match the whole number, and each match is time-bounded.

Only enabled rules of the call's direction (or ``both``) are checked, highest priority first, then
the longer pattern, then the lower rule id; the first match wins. Billing modes: ``flat_per_call``
charges the flat amount, ``per_minute`` the per-minute rate on billed minutes, ``hybrid`` both.

Regexes are vetted when a rule is built (that is, when the admin saves it): a pattern that does not
compile, or that nests repetition such as ``(\\d+)+``, or that takes measurable time on a probe
number, is refused with :class:`InvalidPatternError` and a message saying why.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

import regex  # type: ignore[import-untyped, unused-ignore]

from bridge.rating.errors import InvalidPatternError, InvalidRatingInput, PatternTimeoutError
from bridge.rating.models import Direction, require_rate, require_whole_number
from bridge.rating.money import ZERO

MATCH_TIMEOUT_SECONDS = 0.05
MAX_PATTERN_LENGTH = 200
# Numbers are at most ~20 characters; probes three times that long make exponential backtracking
# show up as a timeout long before a real number could trigger it.
_PROBE_LENGTH = 64
_PROBE_TIMEOUT_SECONDS = 0.1


class PatternType(StrEnum):
    """How a rule's pattern is matched."""

    PREFIX = "prefix"
    REGEX = "regex"


class RuleDirection(StrEnum):
    """Which calls a rule applies to."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"
    BOTH = "both"

    def covers(self, direction: Direction) -> bool:
        """Whether a call going ``direction`` is checked against rules of this direction."""
        if direction is Direction.LOCAL:
            return False
        return self is RuleDirection.BOTH or self.value == direction.value


class BillingMode(StrEnum):
    """How a matching call is charged."""

    FLAT_PER_CALL = "flat_per_call"
    PER_MINUTE = "per_minute"
    HYBRID = "hybrid"


class CompiledRegex(Protocol):
    """The part of a compiled ``regex`` pattern the engine uses (the package ships no types)."""

    def fullmatch(self, string: str, *, timeout: float | None = None) -> object | None:
        """Return a match object when ``string`` matches the whole pattern, else None."""


_compile: Callable[[str], Any] = regex.compile
_regex_error: type[Exception] = regex.error


def _scan_class(pattern: str, start: int) -> int:
    """Return the index just past the character class opening at ``start``."""
    i = start + 1
    if i < len(pattern) and pattern[i] == "^":
        i += 1
    if i < len(pattern) and pattern[i] == "]":
        i += 1
    while i < len(pattern) and pattern[i] != "]":
        i += 2 if pattern[i] == "\\" else 1
    return i + 1


def _ascii_digits(text: str) -> bool:
    """Whether ``text`` is ASCII digits (``str.isdigit`` also takes ``²`` and ``٣``)."""
    return text.isascii() and text.isdigit()


def _scan_quantifier(pattern: str, start: int) -> tuple[int, bool, bool] | None:
    """Return ``(end, variable, unbounded)`` for a quantifier at ``start``, or None if none."""
    char = pattern[start]
    if char in "*+":
        end, variable, unbounded = start + 1, True, True
    elif char == "?":
        end, variable, unbounded = start + 1, True, False
    else:
        close = pattern.find("}", start)
        body = pattern[start + 1 : close] if close > start else ""
        low, comma, high = body.partition(",")
        # `regex` reads `{,n}` as `{0,n}` (and `{,}` as `*`); `{}`, `{x}` or `{²}` are text.
        if close < 0 or not (_ascii_digits(low) or (comma and not low)):
            return None
        if high and not _ascii_digits(high):
            return None
        end = close + 1
        unbounded = bool(comma) and high == ""
        variable = unbounded or (bool(comma) and int(high) != int(low or "0"))
    if end < len(pattern) and pattern[end] in "?+":
        end += 1  # lazy or possessive suffix
    return end, variable, unbounded


def _nests_repetition(pattern: str) -> bool:
    """Whether an unbounded quantifier applies to a group that itself repeats or is optional.

    ``(\\d+)+``, ``(a*)*`` and ``(?:x?)+`` have this shape; it is what makes backtracking
    exponential. Character classes and escapes are skipped so ``[(+]`` is not mistaken for one.
    """
    groups: list[bool] = []  # per open group: does it contain a variable quantifier?
    last_atom_varies = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i, last_atom_varies = i + 2, False
        elif char == "[":
            i, last_atom_varies = _scan_class(pattern, i), False
        elif char == "(":
            groups.append(False)
            i += 2 if pattern.startswith("(?", i) else 1
            last_atom_varies = False
        elif char == ")":
            inner = groups.pop() if groups else False
            if inner and groups:
                groups[-1] = True
            i, last_atom_varies = i + 1, inner
        elif char in "*+?{" and (quantifier := _scan_quantifier(pattern, i)) is not None:
            end, variable, unbounded = quantifier
            if unbounded and last_atom_varies:
                return True
            if variable and groups:
                groups[-1] = True
            i, last_atom_varies = end, False
        else:
            i, last_atom_varies = i + 1, False
    return False


def _probes() -> Iterator[str]:
    """Yield near-miss numbers that make a backtracking-prone pattern show itself."""
    for char in "0123456789*#":
        yield char * _PROBE_LENGTH
        yield char * _PROBE_LENGTH + "!"
    for pair in ("10", "12", "01"):
        yield pair * (_PROBE_LENGTH // 2) + "!"


def compile_rule_regex(pattern: str) -> CompiledRegex:
    """Return the compiled ``pattern`` after refusing malformed or catastrophic expressions."""
    if not pattern:
        raise InvalidPatternError("a regex rule needs a pattern")
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise InvalidPatternError(
            f"regex {pattern[:40]!r}… is {len(pattern)} characters; the limit is "
            f"{MAX_PATTERN_LENGTH}"
        )
    try:
        compiled: CompiledRegex = _compile(pattern)
    except _regex_error as exc:
        raise InvalidPatternError(f"regex {pattern!r} does not compile: {exc}") from None
    if _nests_repetition(pattern):
        raise InvalidPatternError(
            f"regex {pattern!r} repeats a group that itself repeats (like (\\d+)+), which can "
            "take exponential time; write it without the nested repetition"
        )
    for probe in _probes():
        try:
            compiled.fullmatch(probe, timeout=_PROBE_TIMEOUT_SECONDS)
        except TimeoutError:
            raise InvalidPatternError(
                f"regex {pattern!r} took over {_PROBE_TIMEOUT_SECONDS}s on the test number "
                f"{probe!r}; simplify it (avoid alternatives that can match the same digits)"
            ) from None
    return compiled


def _clean_prefix(pattern: str) -> str:
    """Return a prefix pattern without ``+``, spaces or trailing ``*``, or raise if empty."""
    prefix = pattern.replace("+", "").replace(" ", "").rstrip("*")
    if not prefix:
        raise InvalidPatternError(f"prefix pattern {pattern!r} has no digits to match")
    return prefix


@dataclass(frozen=True, slots=True)
class SpecialRule:
    """One Special Number Billing rule, validated on construction.

    ``SpecialRule(1, "1300*", PatternType.PREFIX, RuleDirection.OUTBOUND,
    BillingMode.FLAT_PER_CALL, flat=Decimal("0.35"))`` bills every outbound 1300 call 0.35.
    """

    id: int
    pattern: str
    pattern_type: PatternType
    direction: RuleDirection
    mode: BillingMode
    flat: Decimal = ZERO
    per_minute: Decimal = ZERO
    priority: int = 10
    name: str = ""
    enabled: bool = True
    match_text: str = field(init=False, repr=False, compare=False)
    _regex: CompiledRegex | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        require_whole_number(self.id, "rule id", minimum=0)
        if isinstance(self.priority, bool) or not isinstance(self.priority, int):
            raise InvalidRatingInput(f"rule {self.id}: priority must be a whole number")
        for name, enum in (
            ("pattern_type", PatternType),
            ("direction", RuleDirection),
            ("mode", BillingMode),
        ):
            value = getattr(self, name)
            try:
                object.__setattr__(self, name, enum(value))
            except ValueError:
                choices = ", ".join(m.value for m in enum)
                raise InvalidRatingInput(
                    f"rule {self.id}: {name} {value!r} is not one of {choices}"
                ) from None
        object.__setattr__(self, "flat", require_rate(self.flat, f"rule {self.id} flat"))
        per_minute = require_rate(self.per_minute, f"rule {self.id} per-minute rate")
        object.__setattr__(self, "per_minute", per_minute)
        if self.pattern_type is PatternType.PREFIX:
            object.__setattr__(self, "match_text", _clean_prefix(self.pattern))
            object.__setattr__(self, "_regex", None)
        else:
            object.__setattr__(self, "match_text", self.pattern)
            object.__setattr__(self, "_regex", compile_rule_regex(self.pattern))

    @property
    def display_pattern(self) -> str:
        """Return the pattern as invoices show it: ``1300*`` for prefixes, the regex as written."""
        if self.pattern_type is PatternType.PREFIX:
            return self.match_text + "*"
        return self.pattern

    @property
    def sort_key(self) -> tuple[int, int, int]:
        """Return the key that orders rules: priority descending, longer pattern, lower id."""
        return (-self.priority, -len(self.match_text), self.id)

    def matches(self, number: str) -> bool:
        """Whether ``number`` (``+`` and spaces removed) matches this rule's pattern."""
        if self._regex is None:
            return number.startswith(self.match_text)
        try:
            return self._regex.fullmatch(number, timeout=MATCH_TIMEOUT_SECONDS) is not None
        except TimeoutError:
            raise PatternTimeoutError(
                f"special rule {self.id} regex {self.pattern!r} timed out on {number!r}"
            ) from None


def order_rules(rules: Iterable[SpecialRule]) -> tuple[SpecialRule, ...]:
    """Return the enabled ``rules`` in the order they are checked."""
    return tuple(sorted((r for r in rules if r.enabled), key=lambda r: r.sort_key))


@dataclass(frozen=True, slots=True)
class SpecialBilling:
    """A product's Special Number Billing switch and its rules (checked in :func:`order_rules`)."""

    enabled: bool = False
    rules: tuple[SpecialRule, ...] = ()
    _by_direction: dict[Direction, tuple[SpecialRule, ...]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        ids = [r.id for r in self.rules]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise InvalidRatingInput(f"special rule ids must be unique; repeated: {duplicates}")
        ordered = order_rules(self.rules)
        object.__setattr__(
            self,
            "_by_direction",
            {d: tuple(r for r in ordered if r.direction.covers(d)) for d in Direction},
        )

    def rules_for(self, direction: Direction) -> tuple[SpecialRule, ...]:
        """Return the enabled rules a call going ``direction`` is checked against, in order."""
        return self._by_direction[direction]

    def first_match(self, number: str, direction: Direction) -> SpecialRule | None:
        """Return the first rule in check order that matches the call, or None."""
        for rule in self._by_direction[direction]:
            if rule.matches(number):
                return rule
        return None

    def checks(self, number: str, direction: Direction) -> Iterator[tuple[SpecialRule, bool]]:
        """Yield each rule checked for the call and whether it matched, stopping at a match."""
        for rule in self._by_direction[direction]:
            matched = rule.matches(number)
            yield rule, matched
            if matched:
                return
