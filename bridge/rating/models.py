"""The values the rating engine reads and returns.

Inputs (:class:`Cdr`, :class:`RateRow`, :class:`CustomRate`, :class:`Increment`) are frozen,
slotted dataclasses that validate themselves on construction, so a bad value fails where it is
built — at import or save time — and never halfway through a billing run. Money is ``Decimal``.

Outputs are :class:`RatedCall` (one per CDR) inside a :class:`RatingResult`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, NamedTuple

from bridge.rating.errors import InvalidRatingInput
from bridge.rating.money import ZERO, Price, format_rate, parse_amount, total_of

if TYPE_CHECKING:
    from bridge.rating.special import SpecialRule


class Direction(StrEnum):
    """Which way a call went, as FusionPBX writes ``direction``."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"
    LOCAL = "local"


class Status(StrEnum):
    """What rating decided for one CDR (DESIGN §5)."""

    BILLED = "billed"
    UNANSWERED = "unanswered"
    SUPPRESSED = "suppressed"
    EXCLUDED = "excluded"
    INBOUND_NOT_BILLED = "inbound_not_billed"
    NO_RATE = "no_rate"
    NO_SPECIAL_MATCH = "no_special_match"
    LOCAL = "local"

    @property
    def shown(self) -> bool:
        """Whether the client area lists a call with this status."""
        return self not in _HIDDEN_STATUSES


_HIDDEN_STATUSES = frozenset({Status.SUPPRESSED, Status.NO_SPECIAL_MATCH})


class CallType(StrEnum):
    """The ``calltype`` WHMCS reports show: tariff-rated or Special Number Billing."""

    STANDARD = "Standard"
    SPECIAL_RATE = "SpecialRate"


class RateSource(StrEnum):
    """Where a billed call's rate came from."""

    CUSTOM = "custom"
    TARIFF = "tariff"
    INBOUND_TARIFF = "inbound_tariff"
    INBOUND_FLAT = "inbound_flat"
    SPECIAL = "special"


def require_whole_number(value: object, name: str, *, minimum: int) -> int:
    """Return ``value`` if it is an int (not a bool) of at least ``minimum``, else raise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRatingInput(f"{name} must be a whole number, not {value!r}")
    if value < minimum:
        raise InvalidRatingInput(f"{name} must be at least {minimum}, not {value}")
    return value


def require_rate(value: Decimal | str | int, name: str) -> Decimal:
    """Return ``value`` as a non-negative Decimal, refusing floats and junk."""
    amount = parse_amount(value, name=name)
    if amount < 0:
        raise InvalidRatingInput(f"{name} must not be negative, not {amount}")
    return amount


@dataclass(frozen=True, slots=True)
class Increment:
    """A billing increment ``init/inc``: the first block of seconds, then blocks of ``inc``.

    ``Increment(30, 7).bill(31) == 37``: 31 s is past the 30 s first block, and the 1 s left over
    is rounded up to one 7 s block.
    """

    init: int
    inc: int

    def __post_init__(self) -> None:
        require_whole_number(self.init, "increment init", minimum=0)
        require_whole_number(self.inc, "increment inc", minimum=1)

    @classmethod
    def parse(cls, text: str) -> Increment:
        """Return the increment written as ``"init/inc"`` (``"60/6"``) or one number (``"6"``)."""
        parts = text.strip().split("/")
        if len(parts) > 2 or not all(p.strip().isascii() and p.strip().isdigit() for p in parts):
            raise InvalidRatingInput(f"increment {text!r} is not 'init/inc' in whole seconds")
        numbers = [int(p) for p in parts]
        return cls(numbers[0], numbers[-1])

    def bill(self, billsec: int) -> int:
        """Return the seconds billed for a call that lasted ``billsec`` answered seconds."""
        if billsec <= self.init:
            return self.init
        return self.init + -(-(billsec - self.init) // self.inc) * self.inc

    def __str__(self) -> str:
        return f"{self.init}/{self.inc}"


DEFAULT_INCREMENT = Increment(60, 60)


@dataclass(frozen=True, slots=True)
class Cdr:
    """One call detail record as the PBX reported it; ``start`` is an aware UTC instant."""

    uuid: str
    direction: Direction
    caller_number: str
    caller_destination: str
    destination_number: str
    start: datetime
    billsec: int

    def __post_init__(self) -> None:
        billsec = self.billsec
        if (
            type(self.direction) is Direction
            and self.start.tzinfo is not None
            and type(billsec) is int
            and billsec >= 0
        ):
            return  # the usual call, checked in one test: a CDR export builds a million of them
        # Importers may pass FusionPBX's plain strings; store the enum so `is` checks work.
        given: object = self.direction
        if not isinstance(given, Direction):
            try:
                object.__setattr__(self, "direction", Direction(str(given)))
            except ValueError:
                raise InvalidRatingInput(
                    f"CDR {self.uuid}: direction {given!r} is not inbound, outbound or local"
                ) from None
        if self.start.tzinfo is None:
            raise InvalidRatingInput(f"CDR {self.uuid}: start time has no time zone")
        require_whole_number(self.billsec, f"CDR {self.uuid}: billsec", minimum=0)

    @property
    def rated_number(self) -> str:
        """Return the number rating looks at: the DID dialled for inbound, else the destination."""
        if self.direction is Direction.INBOUND:
            return self.caller_destination
        return self.destination_number


def _require_prefix(prefix: object, owner: str) -> str:
    """Return ``prefix`` if it is a non-empty string of ASCII digits, else raise."""
    if not isinstance(prefix, str) or not (prefix.isascii() and prefix.isdigit()):
        raise InvalidRatingInput(f"{owner} prefix {prefix!r} must be digits only")
    return prefix


@dataclass(frozen=True, slots=True)
class RateRow:
    """One row of a tariff: a prefix and its per-minute rate.

    ``increment`` is the row's billing block in seconds, used as ``inc/inc`` when the package sets
    no increment of its own. The fields after ``connection_fee`` are carried for CSV export and are
    not used by rating.
    """

    prefix: str
    description: str
    rate: Decimal
    increment: int
    connection_fee: Decimal = ZERO
    short_description: str = ""
    last_rate_change: date | None = None
    old_rate: Decimal | None = None
    rate_premium: Decimal | None = None

    def __post_init__(self) -> None:
        prefix, rate, increment, fee = self.prefix, self.rate, self.increment, self.connection_fee
        # The usual row (a digit string, non-negative Decimals, an int) passes in one test; a
        # million-row card builds a million of them. Anything else gets the full checks.
        if (
            type(prefix) is str
            and prefix.isdigit()
            and prefix.isascii()
            and type(rate) is Decimal
            and type(fee) is Decimal
            and type(increment) is int
            and increment >= 1
            and rate.is_finite()
            and fee.is_finite()
            and rate >= 0
            and fee >= 0
        ):
            return
        _require_prefix(prefix, "tariff row")
        object.__setattr__(self, "rate", require_rate(rate, f"rate of {prefix}"))
        require_whole_number(increment, f"increment of {prefix}", minimum=1)
        object.__setattr__(self, "connection_fee", require_rate(fee, f"connection fee of {prefix}"))


@dataclass(frozen=True, slots=True)
class CustomRate:
    """A package's own per-minute rate for a prefix; used as is, without the package markup."""

    prefix: str
    rate: Decimal
    description: str = ""
    increment: Increment | None = None

    def __post_init__(self) -> None:
        _require_prefix(self.prefix, "custom rate")
        object.__setattr__(self, "rate", require_rate(self.rate, f"custom rate {self.prefix}"))


# RateEntry and RatedCall are NamedTuples rather than frozen dataclasses on purpose: a batch
# builds one RatedCall per CDR and up to one RateEntry per deck row, and a frozen dataclass's
# __init__ (an object.__setattr__ per field) measured 3-6x slower, 2-3 µs of a ~3 µs budget.
# Tuples are just as immutable. Both are built only by the engine.
class RateEntry(NamedTuple):
    """Everything needed to price calls that matched one rate: built once per rate and plan.

    ``price`` holds the per-minute rate charged (after markup for tariff rates) and the per-call
    fee; ``base_rate`` and ``markup_percent`` are kept for the explanation. Special rules become
    entries too: flat mode is a fee with rate 0, per-minute a rate with no fee, hybrid both.
    """

    source: RateSource
    prefix: str
    description: str
    price: Price
    increment: Increment
    increment_source: str
    base_rate: Decimal = ZERO
    markup_percent: Decimal = ZERO
    rule: SpecialRule | None = None

    @property
    def rate(self) -> Decimal:
        """Return the per-minute rate charged."""
        return self.price.rate

    @property
    def connection_fee(self) -> Decimal:
        """Return the fee added once per call."""
        return self.price.fee


class RatedCall(NamedTuple):
    """One CDR after rating: its status, the number rated, the rate used, seconds and cost.

    ``number`` is the normalised number for calls that reached the rate lookup (standard
    ``billed`` and ``no_rate``); calls decided earlier, special-rate calls included, carry the
    number as the PBX wrote it with ``+`` and spaces removed, which is what decided them.
    ``cost`` is at 6 decimals and is zero unless the status is ``billed``. ``billed_seconds`` is
    the increment-rounded duration; ``free_seconds`` of it came out of the free-minute allowance.
    ``matched_filter`` names the suppress or exclude pattern that decided a filtered call.
    """

    cdr: Cdr
    status: Status
    calltype: CallType
    number: str
    entry: RateEntry | None
    billed_seconds: int
    free_seconds: int
    cost: Decimal
    matched_filter: str | None = None

    @property
    def uuid(self) -> str:
        """Return the CDR's uuid, the key that makes billing happen once."""
        return self.cdr.uuid

    @property
    def prefix(self) -> str | None:
        """Return the matched tariff or custom prefix, or the special rule's pattern."""
        return None if self.entry is None else self.entry.prefix

    @property
    def description(self) -> str:
        """Return the destination description used to group the call on an invoice."""
        return "" if self.entry is None else self.entry.description

    @property
    def rate(self) -> Decimal | None:
        """Return the per-minute rate charged, after markup where markup applies."""
        return None if self.entry is None else self.entry.rate

    @property
    def rule(self) -> SpecialRule | None:
        """Return the special rule that billed the call, if one did."""
        return None if self.entry is None else self.entry.rule

    @property
    def reason(self) -> str:
        """Return one line saying which rule decided this call, e.g. ``exclude filter 911``."""
        entry = self.entry
        if entry is not None and entry.rule is not None:
            rule = entry.rule
            return f"special rule {rule.id} {rule.display_pattern} ({rule.mode})"
        if entry is not None:
            where = f"{entry.source} prefix {entry.prefix}" if entry.prefix else str(entry.source)
            return f"{where} ({entry.description}) at {format_rate(entry.rate)}/min"
        return _REASONS[self.status].format(call=self)


_REASONS = {
    Status.UNANSWERED: "billsec is 0: unanswered calls are not billed",
    Status.SUPPRESSED: "suppress filter {call.matched_filter}: neither billed nor shown",
    Status.NO_SPECIAL_MATCH: "no special rule matches: not billed, not shown",
    Status.EXCLUDED: "exclude filter {call.matched_filter}: shown, not billed",
    Status.LOCAL: "local calls are never billed",
    Status.INBOUND_NOT_BILLED: "inbound billing is off for this package",
    Status.NO_RATE: "no rate for {call.number}: not billed (revenue leak, check the tariff)",
    Status.BILLED: "billed",
}


@dataclass(frozen=True, slots=True)
class RatingResult:
    """The rated calls of one service and billing period, in start order, with free-minute use."""

    calls: tuple[RatedCall, ...]
    free_seconds_allowance: int = 0
    free_seconds_used: int = 0

    def billed(self) -> tuple[RatedCall, ...]:
        """Return the calls that carry a charge (status ``billed``, possibly zero when free)."""
        return tuple(c for c in self.calls if c.status is Status.BILLED)

    def shown(self) -> tuple[RatedCall, ...]:
        """Return the calls the client area lists (everything but suppressed and unmatched)."""
        return tuple(c for c in self.calls if c.status.shown)

    def total(self) -> Decimal:
        """Return the sum of all call costs rounded once to 2 decimals (a credit movement)."""
        return total_of(c.cost for c in self.calls)

    def by_status(self) -> Mapping[Status, int]:
        """Return how many calls ended in each status (absent statuses count 0)."""
        counts = Counter(c.status for c in self.calls)
        return {status: counts.get(status, 0) for status in Status}
