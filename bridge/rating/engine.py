"""The rating engine: CDRs of one service and billing period in, rated calls out.

:func:`rate_calls` applies DESIGN §5 to each CDR, in this order, and stops at the first step that
decides:

1. ``billsec == 0`` → ``unanswered`` (shown, not billed);
2. a suppress filter matches → ``suppressed`` (neither billed nor shown);
3. Special Number Billing on → the first matching rule bills the call (``SpecialRate``, bypassing
   every exclude list), and no match → ``no_special_match`` (not billed, not shown);
4. an exclude filter matches → ``excluded`` (shown, not billed);
5. a ``local`` call → ``local``; an inbound call with inbound billing off →
   ``inbound_not_billed``;
6. the number is normalised (:mod:`bridge.rating.numbers`);
7. rate lookup: outbound uses the longest custom-rate prefix, else the tariff's; inbound uses the
   inbound tariff, else the flat inbound rate; nothing → ``no_rate`` (shown, not billed, and a
   revenue leak to report). Only tariff rates get the markup;
8. billed seconds from the increment (package, else tariff row as ``inc/inc``, else 60/60);
9. free minutes cover billed seconds of standard calls in start-time order, possibly partly;
10. cost = rate x chargeable seconds / 60 + connection fee, at 6 decimals.

Worked example (NANP package, 10% markup, outbound increment 60/6): ``876 555 0100`` for 95 s
normalises to ``18765550100``, matches the ``1876`` row at 0.25/min over the ``1`` row, is
charged 0.275/min for 96 s: ``0.275 x 96 / 60 = 0.440000``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from functools import cache, partial
from operator import attrgetter
from typing import cast

from bridge.rating.filters import make_screen
from bridge.rating.models import (
    DEFAULT_INCREMENT,
    CallType,
    Cdr,
    CustomRate,
    Direction,
    Increment,
    RatedCall,
    RateEntry,
    RateRow,
    RateSource,
    RatingResult,
    Status,
    require_whole_number,
)
from bridge.rating.money import ZERO, Price, mark_up, markup_factor
from bridge.rating.numbers import make_written_normaliser
from bridge.rating.plan import Package, RatePlan
from bridge.rating.prefixes import PrefixIndex
from bridge.rating.special import BillingMode, SpecialRule
from bridge.rating.tariffs import Tariff

Lookup = Callable[[str], RateEntry | None]
_Fields = tuple[Cdr, Status, CallType, str, RateEntry | None, int, int, Decimal, str | None]

# A NamedTuple's own __new__ is a Python function; building the tuple directly skips that frame,
# a tenth of the per-call budget. Only _unbilled and _billed below build results with it, and the
# field tuple is typed, so mypy still checks every field.
_new_call = cast(Callable[[_Fields], RatedCall], partial(tuple.__new__, RatedCall))

_INBOUND = Direction.INBOUND
_LOCAL = Direction.LOCAL
_STANDARD = CallType.STANDARD
_SPECIAL = CallType.SPECIAL_RATE
_BILLED = Status.BILLED
_UNANSWERED = Status.UNANSWERED
_SUPPRESSED = Status.SUPPRESSED
_NO_SPECIAL_MATCH = Status.NO_SPECIAL_MATCH
_EXCLUDED = Status.EXCLUDED
_LOCAL_STATUS = Status.LOCAL
_INBOUND_NOT_BILLED = Status.INBOUND_NOT_BILLED
_NO_RATE = Status.NO_RATE


def rate_calls(cdrs: Iterable[Cdr], plan: RatePlan, *, free_seconds_used: int = 0) -> RatingResult:
    """Rate the CDRs of one service and billing period against ``plan`` (DESIGN §5, steps 1-10).

    The result lists the calls in start order (CDRs that started together keep their given
    order). ``free_seconds_used`` is the part of this period's free-minute allowance already
    spent by earlier batches (real-time billing rates a period in several runs).
    """
    require_whole_number(free_seconds_used, "free seconds used", minimum=0)
    rate_one = make_rater(plan)
    allowance = plan.package.free_minutes * 60
    # Timsort makes this one pass when the PBX already delivered the CDRs in start order.
    calls = list(map(rate_one, sorted(cdrs, key=_start_of)))
    used = _allocate_free_seconds(calls, allowance, free_seconds_used)
    return RatingResult(tuple(calls), allowance, used)


_start_of = attrgetter("start")


def iter_rated_calls(
    cdrs: Iterable[Cdr], plan: RatePlan, *, free_seconds_used: int = 0
) -> Iterator[RatedCall]:
    """Rate CDRs that come in start order one at a time, giving out free minutes as they pass.

    The calls equal those :func:`rate_calls` returns for the same CDRs, but only one is held at a
    time, so a month of calls can be streamed (the client area's CSV export) in constant memory.
    """
    require_whole_number(free_seconds_used, "free seconds used", minimum=0)
    rate_one = make_rater(plan)
    remaining = plan.package.free_minutes * 60 - free_seconds_used
    for cdr in cdrs:
        call = rate_one(cdr)
        if remaining > 0 and call.status is _BILLED and call.calltype is _STANDARD:
            call = _with_free_seconds(call, min(call.billed_seconds, remaining))
            remaining -= call.free_seconds
        yield call


def _unbilled(
    cdr: Cdr, status: Status, number: str, matched_filter: str | None = None
) -> RatedCall:
    """Return a call that rating decided not to bill (unanswered, filtered, local, no rate...)."""
    return _new_call((cdr, status, _STANDARD, number, None, 0, 0, ZERO, matched_filter))


def _billed(cdr: Cdr, calltype: CallType, number: str, entry: RateEntry) -> RatedCall:
    """Return a call billed at ``entry``: its increment-rounded seconds and their cost."""
    billed = entry.increment.bill(cdr.billsec)
    return _new_call(
        (cdr, _BILLED, calltype, number, entry, billed, 0, entry.price.cost(billed), None)
    )


def _allocate_free_seconds(calls: list[RatedCall], allowance: int, used: int) -> int:
    """Give free seconds to billed standard calls (in start order); return the seconds now used."""
    remaining = allowance - used
    if remaining <= 0:
        return used
    for i, call in enumerate(calls):
        if call.status is not _BILLED or call.calltype is not _STANDARD:
            continue
        free = min(call.billed_seconds, remaining)
        calls[i] = _with_free_seconds(call, free)
        remaining -= free
        if remaining == 0:
            break
    return allowance - remaining


def _with_free_seconds(call: RatedCall, free: int) -> RatedCall:
    """Return a billed call with ``free`` of its billed seconds taken from the allowance."""
    entry = call.entry
    assert entry is not None  # billed calls always carry their rate
    return call._replace(free_seconds=free, cost=entry.price.cost(call.billed_seconds - free))


def make_rater(plan: RatePlan) -> Callable[[Cdr], RatedCall]:
    """Return a function rating one CDR against ``plan``, before free minutes (steps 1-8, 10).

    Everything that depends only on the plan (filters, rule order, normaliser, lookups) is
    prepared here once, so the returned function does only per-call work.
    """
    package = plan.package
    normalise = make_written_normaliser(package)
    screen = make_screen(plan.suppress, plan.exclude)
    special = plan.special if plan.special.enabled else None
    special_entries = _special_entries(plan) if special is not None else {}
    outbound = _outbound_lookup(package, plan.tariff)
    inbound = _inbound_lookup(package, plan.inbound_tariff)
    bill_inbound = package.bill_inbound

    def rate(cdr: Cdr) -> RatedCall:
        """Rate one CDR (free minutes are given out afterwards, over the whole batch)."""
        direction = cdr.direction
        is_inbound = direction is _INBOUND
        raw = cdr.caller_destination if is_inbound else cdr.destination_number
        # Steps 1-5 and special rules see the number as the PBX wrote it (no + or spaces); only
        # calls that reach step 6 pay for normalisation. Most numbers are bare digits already.
        as_written = raw if raw.isdigit() else raw.replace("+", "").replace(" ", "")
        if cdr.billsec == 0:
            return _unbilled(cdr, _UNANSWERED, as_written)
        # Suppress and exclude lists are checked in one pass; the exclude verdict is used only
        # after special rules, which bypass it.
        hit = screen(as_written, direction) if screen is not None else None
        if hit is not None and hit[0] is _SUPPRESSED:
            return _unbilled(cdr, _SUPPRESSED, as_written, hit[1])
        if special is not None:
            rule = special.first_match(as_written, direction)
            if rule is None:
                return _unbilled(cdr, _NO_SPECIAL_MATCH, as_written)
            return _billed(cdr, _SPECIAL, as_written, special_entries[rule.id, is_inbound])
        if hit is not None:
            return _unbilled(cdr, _EXCLUDED, as_written, hit[1])
        if direction is _LOCAL:
            return _unbilled(cdr, _LOCAL_STATUS, as_written)
        if is_inbound and not bill_inbound:
            return _unbilled(cdr, _INBOUND_NOT_BILLED, as_written)
        number = normalise(raw, as_written)
        found = inbound(number) if is_inbound else outbound(number)
        if found is None:
            return _unbilled(cdr, _NO_RATE, number)
        return _billed(cdr, _STANDARD, number, found)

    return rate


def _tariff_lookup(
    tariff: Tariff,
    package: Package,
    *,
    inbound: bool,
    source: RateSource,
    custom: PrefixIndex[RateEntry] | None = None,
) -> Lookup:
    """Return a longest-prefix lookup over ``tariff`` that prices each matched row once.

    ``custom`` rates, when given, are probed first: any custom prefix of the number wins over
    every tariff prefix, however long.
    """
    longest_row = tariff.index.longest
    longest_custom = custom.longest if custom is not None else _no_rate
    factor = markup_factor(package.markup_percent)
    own = package.increment_for(inbound)
    own_source = f"package {'inbound' if inbound else 'outbound'}"
    # Filled lazily: a batch usually touches a few hundred of a deck's 50,000 rows, so pricing
    # every row up front would cost more than the batch itself.
    entries: dict[str, RateEntry] = {}

    def price(row: RateRow) -> RateEntry:
        """Return the entry for a tariff row under this package's markup and increments."""
        return RateEntry(
            source=source,
            prefix=row.prefix,
            description=row.description,
            price=Price(mark_up(row.rate, factor), row.connection_fee),
            increment=own or _row_increment(row.increment),
            increment_source=own_source if own is not None else "tariff row",
            base_rate=row.rate,
            markup_percent=package.markup_percent,
        )

    def lookup(number: str) -> RateEntry | None:
        """Return the priced entry for the longest custom or tariff prefix of ``number``."""
        found = longest_custom(number)
        if found is not None:
            return found
        row = longest_row(number)
        if row is None:
            return None
        entry = entries.get(row.prefix)
        if entry is None:
            entry = entries[row.prefix] = price(row)
        return entry

    return lookup


@cache
def _row_increment(seconds: int) -> Increment:
    """Return a tariff row's single increment as ``inc/inc`` (shared: decks use a handful)."""
    return Increment(seconds, seconds)


def _outbound_lookup(package: Package, tariff: Tariff | None) -> Lookup:
    """Return the outbound lookup: longest custom-rate prefix first, else the tariff's."""
    custom = PrefixIndex(
        (c.prefix, _custom_entry(c, package, tariff)) for c in package.custom_rates
    )
    if tariff is not None:
        return _tariff_lookup(
            tariff, package, inbound=False, source=RateSource.TARIFF, custom=custom or None
        )
    return custom.longest if custom else _no_rate


def _custom_entry(custom: CustomRate, package: Package, tariff: Tariff | None) -> RateEntry:
    """Return the entry for a custom rate: no markup, the tariff's name for the destination."""
    own = package.outbound_increment
    if own is not None:
        increment, increment_source = own, "package outbound"
    elif custom.increment is not None:
        increment, increment_source = custom.increment, "custom rate"
    else:
        increment, increment_source = DEFAULT_INCREMENT, "default"
    description = custom.description
    if not description:
        row = tariff.lookup(custom.prefix) if tariff is not None else None
        description = row.description if row is not None else f"Custom rate {custom.prefix}"
    return RateEntry(
        source=RateSource.CUSTOM,
        prefix=custom.prefix,
        description=description,
        price=Price(custom.rate),
        increment=increment,
        increment_source=increment_source,
        base_rate=custom.rate,
    )


def _inbound_lookup(package: Package, tariff: Tariff | None) -> Lookup:
    """Return the inbound lookup: the inbound tariff when linked, else the flat inbound rate."""
    if tariff is not None:
        return _tariff_lookup(tariff, package, inbound=True, source=RateSource.INBOUND_TARIFF)
    if package.inbound_rate is None:
        return _no_rate
    own = package.inbound_increment
    flat = RateEntry(
        source=RateSource.INBOUND_FLAT,
        prefix="",
        description="Inbound calls",
        price=Price(package.inbound_rate),
        increment=own or DEFAULT_INCREMENT,
        increment_source="package inbound" if own is not None else "default",
        base_rate=package.inbound_rate,
    )
    return lambda _number: flat


def _no_rate(_number: str) -> RateEntry | None:
    """Find no rate: the plan has nothing to price this direction with."""
    return None


def _special_entries(plan: RatePlan) -> dict[tuple[int, bool], RateEntry]:
    """Return a priced entry per enabled rule and direction, keyed ``(rule id, inbound)``."""
    entries: dict[tuple[int, bool], RateEntry] = {}
    for direction in (Direction.OUTBOUND, Direction.INBOUND):
        inbound = direction is Direction.INBOUND
        own = plan.package.increment_for(inbound)
        for rule in plan.special.rules_for(direction):
            entries[rule.id, inbound] = _special_entry(rule, own, inbound)
    return entries


def _special_entry(rule: SpecialRule, own: Increment | None, inbound: bool) -> RateEntry:
    """Return a rule as an entry: flat → fee only, per-minute → rate only, hybrid → both."""
    per_minute = rule.per_minute if rule.mode is not BillingMode.FLAT_PER_CALL else ZERO
    flat = rule.flat if rule.mode is not BillingMode.PER_MINUTE else ZERO
    return RateEntry(
        source=RateSource.SPECIAL,
        prefix=rule.display_pattern,
        description=rule.name or rule.display_pattern,
        price=Price(per_minute, flat),
        increment=own or DEFAULT_INCREMENT,
        increment_source=(
            f"package {'inbound' if inbound else 'outbound'}" if own is not None else "default"
        ),
        base_rate=per_minute,
        rule=rule,
    )
