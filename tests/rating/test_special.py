"""Tests of Special Number Billing rules: validation, ordering and matching."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bridge.rating import (
    BillingMode,
    Direction,
    InvalidPatternError,
    InvalidRatingInput,
    PatternTimeoutError,
    PatternType,
    RuleDirection,
    SpecialBilling,
    SpecialRule,
    compile_rule_regex,
    order_rules,
)
from bridge.rating.special import MATCH_TIMEOUT_SECONDS

PREFIX = PatternType.PREFIX
REGEX = PatternType.REGEX
FLAT = BillingMode.FLAT_PER_CALL


def rule(
    rule_id: int,
    pattern: str,
    *,
    pattern_type: PatternType = PREFIX,
    direction: RuleDirection = RuleDirection.OUTBOUND,
    priority: int = 10,
    enabled: bool = True,
) -> SpecialRule:
    """Return a flat 0.35 rule with the given pattern, direction and priority."""
    return SpecialRule(
        rule_id,
        pattern,
        pattern_type,
        direction,
        FLAT,
        flat=Decimal("0.35"),
        priority=priority,
        enabled=enabled,
    )


class TestMatching:
    """Prefix patterns match the start of the number; regex patterns the whole number."""

    @pytest.mark.parametrize(
        ("pattern", "pattern_type", "number", "matches"),
        [
            ("1300", PREFIX, "1300123456", True),
            ("1300*", PREFIX, "1300123456", True),
            ("+61 1300", PREFIX, "611300123456", True),
            ("1300", PREFIX, "61300123456", False),
            # A regex must match the whole number, not just its start ...
            (r"13\d{4}", REGEX, "131234", True),
            (r"13\d{4}", REGEX, "1312345", False),
            (r"13\d{4}", REGEX, "9131234", False),
            # ... which also means a prefix-style regex needs its own tail.
            (r"1300", REGEX, "1300123456", False),
            (r"1300\d*", REGEX, "1300123456", True),
            (r"(1800|1300)\d{6}", REGEX, "1800123456", True),
        ],
    )
    def test_prefix_versus_regex_full_match(
        self, pattern: str, pattern_type: PatternType, number: str, matches: bool
    ) -> None:
        """Prefix rules test the start of the number and regex rules must match all of it."""
        assert rule(1, pattern, pattern_type=pattern_type).matches(number) is matches

    def test_prefix_with_and_without_star_are_the_same_rule(self) -> None:
        """``1300`` and ``1300*`` match the same numbers and display as ``1300*``."""
        bare, starred = rule(1, "1300"), rule(2, "1300*")
        assert bare.match_text == starred.match_text == "1300"
        assert bare.display_pattern == starred.display_pattern == "1300*"

    @pytest.mark.parametrize(
        ("rule_direction", "call_direction", "covered"),
        [
            (RuleDirection.OUTBOUND, Direction.OUTBOUND, True),
            (RuleDirection.OUTBOUND, Direction.INBOUND, False),
            (RuleDirection.INBOUND, Direction.INBOUND, True),
            (RuleDirection.INBOUND, Direction.OUTBOUND, False),
            (RuleDirection.BOTH, Direction.INBOUND, True),
            (RuleDirection.BOTH, Direction.OUTBOUND, True),
            (RuleDirection.BOTH, Direction.LOCAL, False),
        ],
    )
    def test_direction_selects_the_rules_checked(
        self, rule_direction: RuleDirection, call_direction: Direction, covered: bool
    ) -> None:
        """Rules apply to their own direction, ``both`` to inbound and outbound, none to local."""
        billing = SpecialBilling(True, (rule(1, "13", direction=rule_direction),))
        assert (billing.first_match("131234", call_direction) is not None) is covered

    def test_regex_timeout_raises_a_rating_error(self) -> None:
        """A regex that runs past its time limit while rating stops the run with a clear error."""

        class SlowRegex:
            """Stands in for a compiled regex that always times out."""

            def fullmatch(self, string: str, *, timeout: float | None = None) -> object | None:
                """Raise what the regex module raises on a timeout."""
                assert timeout == MATCH_TIMEOUT_SECONDS
                raise TimeoutError("regex timed out")

        slow = rule(7, r"13\d+", pattern_type=REGEX)
        object.__setattr__(slow, "_regex", SlowRegex())
        with pytest.raises(PatternTimeoutError, match=r"rule 7 regex '13\\\\d\+' timed out"):
            slow.matches("131234")


class TestOrdering:
    """Enabled rules by priority descending, then longer pattern, then rule id."""

    def test_priority_then_length_then_id(self) -> None:
        """Higher priority first; on a tie the longer pattern; on a tie the lower id."""
        rules = [
            rule(5, "13", priority=10),
            rule(4, "1300", priority=10),
            rule(3, "1800", priority=20),
            rule(2, "1900", priority=10),
            rule(1, "13", priority=5),
        ]
        assert [r.id for r in order_rules(rules)] == [3, 2, 4, 5, 1]

    def test_first_match_in_order_wins(self) -> None:
        """With 1800 (20), 1300 (15) and 13 (10), a 1300 number is billed by the 1300 rule."""
        billing = SpecialBilling(
            True,
            (
                rule(3, "13", priority=10),
                rule(1, "1800", priority=20),
                rule(2, "1300", priority=15),
            ),
        )
        matched = billing.first_match("1300123456", Direction.OUTBOUND)
        assert matched is not None
        assert matched.id == 2
        checked = [(r.id, hit) for r, hit in billing.checks("1300123456", Direction.OUTBOUND)]
        assert checked == [(1, False), (2, True)]

    def test_longer_pattern_wins_at_equal_priority(self) -> None:
        """At the same priority, 1300 is checked before 13 whatever their ids."""
        billing = SpecialBilling(True, (rule(1, "13"), rule(2, "1300")))
        matched = billing.first_match("1300123456", Direction.OUTBOUND)
        assert matched is not None
        assert matched.id == 2

    def test_disabled_rules_are_never_checked(self) -> None:
        """A disabled rule neither matches nor appears among the rules checked."""
        billing = SpecialBilling(True, (rule(1, "1300", enabled=False), rule(2, "13", priority=1)))
        matched = billing.first_match("1300123456", Direction.OUTBOUND)
        assert matched is not None
        assert matched.id == 2
        assert [r.id for r in billing.rules_for(Direction.OUTBOUND)] == [2]

    def test_duplicate_rule_ids_are_refused(self) -> None:
        """Rule ids break ties, so two rules may not share one."""
        with pytest.raises(InvalidRatingInput, match=r"repeated: \[1\]"):
            SpecialBilling(True, (rule(1, "13"), rule(1, "1300")))


class TestValidation:
    """Rules are checked when saved: bad regexes and catastrophic ones are refused."""

    @pytest.mark.parametrize(
        ("pattern", "message"),
        [
            ("13(00", "does not compile"),
            ("[13", "does not compile"),
            ("", "needs a pattern"),
            ("1" * 201, "the limit is 200"),
            (r"(\d+)+", "repeats a group that itself repeats"),
            (r"(1*)*2", "repeats a group that itself repeats"),
            (r"(?:13\d?)+", "repeats a group that itself repeats"),
            (r"((13)+0)*", "repeats a group that itself repeats"),
            (r"(\d{2,})+", "repeats a group that itself repeats"),
            # {,3} is {0,3} to the regex module, so it repeats as much as {0,3} does.
            (r"(\d{,3})+", "repeats a group that itself repeats"),
            (r"(1{,})*2", "repeats a group that itself repeats"),
            # The inner group varies, so the outer one does too.
            (r"((\d?)1)+", "repeats a group that itself repeats"),
            # No nesting, yet exponential in `regex` on a near-miss: caught by the probe numbers.
            (r"(\d|\d\d)+", "took over"),
        ],
    )
    def test_bad_regex_is_refused_with_a_reason(self, pattern: str, message: str) -> None:
        """A regex that does not compile or may backtrack without bound is refused."""
        with pytest.raises(InvalidPatternError, match=message):
            compile_rule_regex(pattern)

    @pytest.mark.parametrize(
        ("pattern", "number"),
        [
            (r"13\d{4}", "131234"),
            (r"(1300|1800)\d{6}", "1800123456"),
            (r"(\d{3}){2}", "123456"),
            (r"(13)?00\d+", "13001"),
            (r"[(+]?61\d+", "6129"),
            (r"\(\d+\)", "(12)"),
            (r"1{2,3}", "111"),
            (r"(?P<area>\d{3})\d+", "2125"),
            # Brackets, parentheses and + inside a class (after ] or ^]) are literal characters.
            (r"[](\d+)+]\d", "12"),
            (r"[^](\d+)+]\d", "*1"),
            # A lazy suffix on a fixed count is not an optional atom.
            (r"(61\d{3}?)+", "61123"),
            # A brace that is not a count is literal text.
            (r"(1{x})+", "1{x}1{x}"),
            # So is a brace with other digits than 0-9 (the regex module reads it as text).
            (r"1{1,²}", "1{1,²}"),
            (r"(1{1,٣})+", "1{1,٣}"),
        ],
    )
    def test_ordinary_regexes_are_accepted(self, pattern: str, number: str) -> None:
        """Regexes without nested repetition are kept and match their intended numbers."""
        assert rule(1, pattern, pattern_type=REGEX).matches(number)

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("pattern_type", "glob", "pattern_type 'glob' is not one of prefix, regex"),
            ("direction", "local", "direction 'local' is not one of inbound, outbound, both"),
            ("mode", "per_second", "mode 'per_second' is not one of"),
            ("flat", Decimal("-1"), "must not be negative"),
            ("per_minute", 0.05, "not float"),
            ("priority", "high", "priority must be a whole number"),
            ("pattern", "**", "has no digits"),
        ],
    )
    def test_bad_fields_are_refused(self, field: str, value: object, message: str) -> None:
        """Every field is checked when the rule is built, with a message naming it."""
        fields: dict[str, object] = {
            "id": 1,
            "pattern": "1300",
            "pattern_type": "prefix",
            "direction": "outbound",
            "mode": "flat_per_call",
            field: value,
        }
        with pytest.raises(InvalidRatingInput, match=message):
            SpecialRule(**fields)  # type: ignore[arg-type]

    def test_plain_strings_become_enums(self) -> None:
        """A rule read from TOML or the database may use plain strings for its choices."""
        built = SpecialRule(1, "1300", "prefix", "both", "hybrid")  # type: ignore[arg-type]
        assert built.pattern_type is PatternType.PREFIX
        assert built.direction is RuleDirection.BOTH
        assert built.mode is BillingMode.HYBRID
