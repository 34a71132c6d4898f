"""Money arithmetic: the one place where amounts are rounded.

Two roundings exist, both ``ROUND_HALF_UP``:

- a call's cost is kept at 6 decimals (:func:`call_cost`);
- an invoice line or a credit movement is rounded once, to 2 decimals, on the *sum* of the call
  costs it covers (:func:`total_of`) — never per call, so 1,000 calls of 0.004 bill 4.00, not 0.00.

Worked example: 95 s to a 0.0345/min rate under 60/6 increments bills 96 s, so the cost is
``0.0345 x 96 / 60 = 0.0552`` exactly; with a 0.01 connection fee it is ``0.065200``.

Call costs are computed in integers by :class:`Price` (exact, and fast enough for a million calls a
run); other arithmetic runs under :data:`MONEY_CONTEXT`, whatever the caller's decimal context
says. Amounts are ``Decimal`` built from strings or ints, never floats.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import (
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from math import lcm

from bridge.rating.errors import InvalidRatingInput

# 50 significant digits keep markups and sums exact for any realistic amount; the traps turn an
# impossible value into an exception instead of a silently wrong one.
MONEY_CONTEXT = Context(
    prec=50, rounding=ROUND_HALF_UP, traps=[InvalidOperation, DivisionByZero, Overflow]
)
COST_QUANTUM = Decimal("0.000001")
TOTAL_QUANTUM = Decimal("0.01")
ZERO = Decimal(0)
_HUNDRED = Decimal(100)
_MILLION = 1_000_000
# Multiplying a whole number of millionths by 1E-6 is exact at any precision above its digits;
# the context converts the int itself, which saves building an intermediate Decimal.
_scale_micros = Context(prec=60, traps=[InvalidOperation, Overflow]).multiply


def parse_amount(value: str | int | Decimal, *, name: str = "amount") -> Decimal:
    """Return ``value`` as a finite Decimal, refusing floats, NaN, infinities and junk text."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise InvalidRatingInput(
            f"{name} must be a decimal string, an int or a Decimal, not {type(value).__name__}"
        )
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise InvalidRatingInput(f"{name} {value!r} is not a number") from None
    if not amount.is_finite():
        raise InvalidRatingInput(f"{name} {value!r} is not a finite number")
    return amount


def markup_factor(markup_percent: Decimal) -> Decimal:
    """Return the multiplier ``1 + markup/100`` that turns a tariff rate into the rate charged."""
    with localcontext(MONEY_CONTEXT):
        return 1 + markup_percent / _HUNDRED


def mark_up(rate: Decimal, factor: Decimal) -> Decimal:
    """Return ``rate x factor`` exactly (no rounding: the cost is rounded later, once)."""
    return MONEY_CONTEXT.multiply(rate, factor)


def apply_markup(rate: Decimal, markup_percent: Decimal) -> Decimal:
    """Return ``rate x (1 + markup/100)`` exactly, e.g. 0.25 at 10% → 0.275."""
    return mark_up(rate, markup_factor(markup_percent))


@dataclass(frozen=True, slots=True)
class Price:
    """A per-minute rate and a per-call fee, prepared to cost calls exactly and quickly.

    ``Price(Decimal("0.0345"), Decimal("0.01")).cost(96) == Decimal("0.065200")``. The cost is
    computed in integers: with ``rate = a/b`` and ``fee = c/d`` as exact fractions over a common
    denominator ``D``, the cost in millionths is ``(a(D/b)s + 60c(D/d)) 10^6 / 60D``, and adding
    half the divisor before the floor division rounds it half-up. No decimal context is
    involved, so no caller setting can change a cent.
    """

    rate: Decimal
    fee: Decimal = ZERO
    _per_second: int = field(init=False, repr=False, compare=False)
    _offset: int = field(init=False, repr=False, compare=False)
    _divisor: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.rate, Decimal) or not isinstance(self.fee, Decimal):
            raise InvalidRatingInput("a price needs Decimal rate and fee, never floats")
        try:
            # as_integer_ratio() refuses NaN and infinities; the sign check catches the rest.
            rate_num, rate_den = self.rate.as_integer_ratio()
            fee_num, fee_den = self.fee.as_integer_ratio()
        except (ValueError, OverflowError):
            raise InvalidRatingInput("a price needs a finite rate and fee") from None
        if rate_num < 0 or fee_num < 0:
            raise InvalidRatingInput("a price cannot be negative")
        common = lcm(rate_den, fee_den)
        divisor = 60 * common
        per_second = 2 * _MILLION * rate_num * (common // rate_den)
        offset = 2 * _MILLION * 60 * fee_num * (common // fee_den) + divisor
        object.__setattr__(self, "_per_second", per_second)
        object.__setattr__(self, "_offset", offset)
        object.__setattr__(self, "_divisor", 2 * divisor)

    def cost(self, seconds: int) -> Decimal:
        """Return ``rate x seconds / 60 + fee`` rounded half-up to 6 decimals."""
        micros = (self._per_second * seconds + self._offset) // self._divisor
        return _scale_micros(micros, COST_QUANTUM)


def call_cost(rate_per_minute: Decimal, seconds: int, fee: Decimal = ZERO) -> Decimal:
    """Return the cost of ``seconds`` at ``rate_per_minute`` plus ``fee``, at 6 decimals."""
    return Price(rate_per_minute, fee).cost(seconds)


def round_cost(amount: Decimal) -> Decimal:
    """Return ``amount`` rounded half-up to 6 decimals (the per-call precision)."""
    with localcontext(MONEY_CONTEXT):
        return amount.quantize(COST_QUANTUM, rounding=ROUND_HALF_UP)


def round_total(amount: Decimal) -> Decimal:
    """Return ``amount`` rounded half-up to 2 decimals (invoice-line and credit precision)."""
    with localcontext(MONEY_CONTEXT):
        return amount.quantize(TOTAL_QUANTUM, rounding=ROUND_HALF_UP)


def total_of(costs: Iterable[Decimal]) -> Decimal:
    """Return the exact sum of ``costs`` rounded once, half-up, to 2 decimals."""
    with localcontext(MONEY_CONTEXT):
        return sum(costs, ZERO).quantize(TOTAL_QUANTUM, rounding=ROUND_HALF_UP)


def format_rate(rate: Decimal) -> str:
    """Return a per-minute rate without trailing zeros or exponent: ``0.27500`` → ``0.275``."""
    return f"{rate.normalize(MONEY_CONTEXT):f}"


def format_amount(amount: Decimal, *, prefix: str = "", suffix: str = "") -> str:
    """Return a 2-decimal amount with the currency's WHMCS prefix and suffix, e.g. ``$1.40``."""
    return f"{prefix}{round_total(amount):f}{suffix}"
