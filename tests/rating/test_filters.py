"""Tests of suppress and exclude filter patterns."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.rating import Direction, FilterSet, InvalidPatternError, Status
from bridge.rating.filters import make_screen

OUT = Direction.OUTBOUND


class TestMatch:
    """A pattern matches the whole number; x is one digit; * and # are literal."""

    @pytest.mark.parametrize(
        ("patterns", "number", "expected"),
        [
            # x matches exactly one digit, and the pattern must cover the whole number.
            ("1800xxxxxxx", "18005550100", "1800xxxxxxx"),
            ("1800xxxxxxx", "1800555010", None),
            ("1800xxxxxxx", "180055501000", None),
            ("1800XXXXXXX", "18005550100", "1800xxxxxxx"),
            ("844xxxxxxx,1800xxxxxxx", "8445550100", "844xxxxxxx"),
            # Feature codes: * is literal and x needs digits.
            ("*xx", "*72", "*xx"),
            ("*xx", "*7", None),
            ("*xx", "*7#", None),
            ("*xx", "#72", None),
            ("#xx", "#72", "#xx"),
            # Exact numbers are whole-number matches, not prefixes.
            ("911,112,999,000", "911", "911"),
            ("911", "9115550100", None),
            # x in the middle of a pattern.
            ("1x00", "1300", "1x00"),
            ("1x00", "1301", None),
            ("1x00", "1*00", None),
            # Only ASCII digits satisfy x.
            ("9xx", "9٤٤", None),
            ("xxx", "123", "xxx"),
            ("", "911", None),
        ],
    )
    def test_number_patterns(self, patterns: str, number: str, expected: str | None) -> None:
        """Each pattern matches only the numbers its digits, x and literals describe."""
        assert FilterSet.parse(patterns).match(number, OUT) == expected

    @pytest.mark.parametrize(
        ("patterns", "direction", "expected"),
        [
            ("[local]", Direction.LOCAL, "[local]"),
            ("[local]", Direction.OUTBOUND, None),
            ("[local]", Direction.INBOUND, None),
            ("[inbound]", Direction.INBOUND, "[inbound]"),
            ("[inbound]", Direction.OUTBOUND, None),
            ("[INBOUND], [Local]", Direction.LOCAL, "[local]"),
        ],
    )
    def test_direction_keywords(
        self, patterns: str, direction: Direction, expected: str | None
    ) -> None:
        """[local] matches any local call and [inbound] any inbound call, whatever the number."""
        assert FilterSet.parse(patterns).match("5550100", direction) == expected

    def test_spaces_and_plus_in_patterns_are_ignored(self) -> None:
        """Patterns are written as loosely as numbers: + and spaces do not count."""
        assert FilterSet.parse(" +1 800 xxx xxxx ").match("18005550100", OUT) == "1800xxxxxxx"

    @pytest.mark.parametrize("pattern", ["1800-xxx", "abc", "1800*?", "[locals]"])
    def test_invalid_pattern_is_refused(self, pattern: str) -> None:
        """A pattern with characters other than digits, x, * and # is refused by name."""
        with pytest.raises(InvalidPatternError, match="may hold only digits"):
            FilterSet.parse(pattern)


class TestComposition:
    """Provider and package filters both apply."""

    def test_union_matches_either_list(self) -> None:
        """The union of two filters matches what either matches."""
        combined = FilterSet.parse("911").union(FilterSet.parse("*xx"))
        assert combined.match("911", OUT) == "911"
        assert combined.match("*72", OUT) == "*xx"
        assert combined.patterns == ("911", "*xx")

    def test_duplicates_are_dropped(self) -> None:
        """A pattern listed twice is kept once, in first-seen order."""
        assert FilterSet.parse("911, 911,112").patterns == ("911", "112")

    def test_empty_filters_need_no_screen(self) -> None:
        """An empty filter is falsy, and two empty lists need no per-call screening at all."""
        empty = FilterSet.parse(" , ")
        assert not empty
        assert make_screen(empty, FilterSet()) is None
        assert str(FilterSet.parse("911,*xx")) == "911,*xx"

    @given(
        patterns=st.lists(st.text(alphabet="0123456789xX*#", min_size=1, max_size=5), max_size=6),
        keywords=st.sets(st.sampled_from(["[local]", "[inbound]"])),
        number=st.text(alphabet="0123456789*#", max_size=6),
        direction=st.sampled_from(list(Direction)),
    )
    def test_agrees_with_matching_pattern_by_pattern(
        self, patterns: list[str], keywords: set[str], number: str, direction: Direction
    ) -> None:
        """A filter returns the first pattern that fits the number character by character."""
        filters = FilterSet((*patterns, *sorted(keywords)))
        keyword = f"[{direction}]"
        if keyword in keywords:
            expected: str | None = keyword
        else:
            expected = next((p.lower() for p in patterns if _fits(p.lower(), number)), None)
        assert filters.match(number, direction) == expected


def _fits(pattern: str, number: str) -> bool:
    """Whether ``pattern`` matches ``number`` whole: x is any ASCII digit, all else literal."""
    return len(pattern) == len(number) and all(
        p == n or (p == "x" and n in "0123456789") for p, n in zip(pattern, number, strict=True)
    )


class TestScreen:
    """Suppress and exclude lists checked together in one pass, suppress first."""

    @pytest.mark.parametrize(
        ("suppress", "exclude", "number", "direction", "expected"),
        [
            ("*xx", "911", "*72", OUT, (Status.SUPPRESSED, "*xx")),
            ("*xx", "911", "911", OUT, (Status.EXCLUDED, "911")),
            ("*xx", "911", "912", OUT, None),
            # A number on both lists is suppressed, whichever list is longer or first written.
            ("911", "9xx,911", "911", OUT, (Status.SUPPRESSED, "911")),
            ("9xx", "911", "911", OUT, (Status.SUPPRESSED, "9xx")),
            # A suppress keyword beats an exclude pattern; an exclude keyword loses to suppress.
            ("[inbound]", "911", "911", Direction.INBOUND, (Status.SUPPRESSED, "[inbound]")),
            ("911", "[inbound]", "911", Direction.INBOUND, (Status.SUPPRESSED, "911")),
            ("911", "[inbound]", "912", Direction.INBOUND, (Status.EXCLUDED, "[inbound]")),
            # Within the exclude list a keyword is named before a pattern, as match() does.
            ("", "9xx,[inbound]", "911", Direction.INBOUND, (Status.EXCLUDED, "[inbound]")),
            ("", "9xx,[inbound]", "911", OUT, (Status.EXCLUDED, "9xx")),
            ("", "[local]", "2113", Direction.LOCAL, (Status.EXCLUDED, "[local]")),
            ("[local]", "", "2113", Direction.LOCAL, (Status.SUPPRESSED, "[local]")),
            ("[local]", "", "2113", OUT, None),
            # Keyword-only lists: no number can match, only the direction decides.
            ("[local]", "[inbound]", "911", OUT, None),
            ("[local]", "[inbound]", "911", Direction.INBOUND, (Status.EXCLUDED, "[inbound]")),
        ],
    )
    def test_suppress_wins_over_exclude(
        self,
        suppress: str,
        exclude: str,
        number: str,
        direction: Direction,
        expected: tuple[Status, str] | None,
    ) -> None:
        """The screen returns the list and pattern that decide a call, suppress before exclude."""
        screen = make_screen(FilterSet.parse(suppress), FilterSet.parse(exclude))
        assert screen is not None
        assert screen(number, direction) == expected

    @given(
        suppress=st.lists(st.text(alphabet="0123456789x*", min_size=1, max_size=4), max_size=4),
        exclude=st.lists(st.text(alphabet="0123456789x*", min_size=1, max_size=4), max_size=4),
        keywords=st.sets(st.sampled_from(["s[local]", "s[inbound]", "e[local]", "e[inbound]"])),
        number=st.text(alphabet="0123456789*", max_size=4),
        direction=st.sampled_from(list(Direction)),
    )
    def test_screen_agrees_with_the_two_lists_checked_in_turn(
        self,
        suppress: list[str],
        exclude: list[str],
        keywords: set[str],
        number: str,
        direction: Direction,
    ) -> None:
        """One pass gives what checking suppress, then exclude, one list at a time gives."""
        suppress_set = FilterSet((*suppress, *(k[1:] for k in keywords if k[0] == "s")))
        exclude_set = FilterSet((*exclude, *(k[1:] for k in keywords if k[0] == "e")))
        expected: tuple[Status, str] | None = None
        if (hit := suppress_set.match(number, direction)) is not None:
            expected = (Status.SUPPRESSED, hit)
        elif (hit := exclude_set.match(number, direction)) is not None:
            expected = (Status.EXCLUDED, hit)
        screen = make_screen(suppress_set, exclude_set)
        assert (screen(number, direction) if screen is not None else None) == expected
