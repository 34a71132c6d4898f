"""Tests of the longest-prefix index and of tariffs built on it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.rating import DuplicatePrefixError, PrefixIndex, RateRow, Tariff
from tests.rating.builders import NANP_DECK, make_row, make_tariff

digits = st.text(alphabet="0123456789", min_size=1, max_size=12)


def _brute_force_longest(prefixes: set[str], number: str) -> str | None:
    """Return the longest prefix of ``number`` among ``prefixes`` by scanning all of them."""
    matches = [p for p in prefixes if number.startswith(p)]
    return max(matches, key=len) if matches else None


class TestPrefixIndex:
    """Longest-prefix match without scanning the deck."""

    @pytest.mark.parametrize(
        ("number", "expected"),
        [
            # Caribbean: 1876 must win over the NANP catch-all 1.
            ("18765550100", "Jamaica"),
            ("12125550100", "USA/Canada"),
            ("12045550199", "Canada - Manitoba"),
            ("442079460018", "United Kingdom - London"),
            ("441614960000", "United Kingdom"),
            ("1", "USA/Canada"),
            ("99912345", None),
            ("", None),
        ],
    )
    def test_longest_prefix_wins(self, number: str, expected: str | None) -> None:
        """The row with the longest matching prefix is returned, or None when none matches."""
        row = make_tariff().lookup(number)
        assert (row.description if row is not None else None) == expected

    @given(prefixes=st.sets(digits, max_size=60), numbers=st.lists(digits, max_size=30))
    def test_agrees_with_a_brute_force_scan(self, prefixes: set[str], numbers: list[str]) -> None:
        """For any deck and number, the index returns what scanning every prefix would."""
        index = PrefixIndex((p, p) for p in prefixes)
        for number in numbers:
            assert index.longest(number) == _brute_force_longest(prefixes, number)

    @given(prefixes=st.sets(digits, min_size=1, max_size=60), data=st.data())
    def test_numbers_extending_a_prefix_always_match(
        self, prefixes: set[str], data: st.DataObject
    ) -> None:
        """A number built by extending a deck prefix matches it or a longer deck prefix."""
        prefix = data.draw(st.sampled_from(sorted(prefixes)))
        number = prefix + data.draw(st.text(alphabet="0123456789", max_size=8))
        found = PrefixIndex((p, p) for p in prefixes).longest(number)
        assert found is not None
        assert number.startswith(found)
        assert len(found) >= len(prefix)

    def test_lengths_are_distinct_and_longest_first(self) -> None:
        """The index probes only the prefix lengths the deck has, longest first."""
        index = PrefixIndex([("1", 1), ("1876", 2), ("44", 3), ("4420", 4)])
        assert index.lengths == (4, 2, 1)
        assert len(index) == 4
        assert "1876" in index
        assert sorted(index) == ["1", "1876", "44", "4420"]

    def test_empty_prefix_is_refused(self) -> None:
        """An empty prefix would match every number, so the index refuses it."""
        with pytest.raises(ValueError, match="empty prefix"):
            PrefixIndex([("", "everything")])


class TestTariff:
    """A tariff keeps its rows and refuses conflicting duplicates."""

    def test_exact_duplicate_rows_are_kept_once(self) -> None:
        """A row repeated verbatim (a re-exported file) is harmless and kept once."""
        tariff = Tariff.from_rows("t", [*NANP_DECK, NANP_DECK[0]])
        assert len(tariff) == len(NANP_DECK)
        assert list(tariff) == list(NANP_DECK)

    def test_conflicting_duplicate_prefix_is_refused(self) -> None:
        """The same prefix with two different rates is refused, naming the prefix."""
        with pytest.raises(DuplicatePrefixError, match="prefix 44 appears twice"):
            Tariff.from_rows("t", [make_row("44", "0.02"), make_row("44", "0.03")])

    def test_equality_is_identity(self) -> None:
        """Two tariffs are equal only when they are the same object (no 50,000-row compares)."""
        rows = [RateRow("44", "UK", Decimal("0.02"), 60)]
        assert Tariff.from_rows("t", rows) != Tariff.from_rows("t", rows)

    def test_repr_does_not_dump_the_rows(self) -> None:
        """A tariff's repr names it without printing every row."""
        assert repr(make_tariff()) == "Tariff(name='Test_Outbound')"
