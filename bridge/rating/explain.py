"""Debug traces: why a call was billed (or not), in the documented autobill debug style.

A call billed by Special Number Billing, or dropped for matching no rule, is explained exactly as
the ictVoIP autobill debug prints it, with the billed seconds and cost added::

    === SPECIAL RATE CHECK ===
    Destination: 1300123456
    Checking pattern: 1800 (priority: 20) - NO MATCH
    Checking pattern: 1300 (priority: 15) - MATCH!
    Billing Mode: flat_per_call
    Flat Rate: $0.35
    Billed Seconds: 120 (increment 60/60, default)
    Cost: $0.350000
    ===========================

Every other call gets a ``=== RATE CHECK ===`` block in the same shape: the CDR, the number
before and after normalisation (with the E.164 verdict), the rule that decided it, the rate,
markup, increment, free seconds and cost.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from bridge.rating.models import CallType, Direction, RatedCall, RateSource, Status
from bridge.rating.money import format_rate
from bridge.rating.numbers import check_number, strip_number
from bridge.rating.plan import RatePlan
from bridge.rating.special import BillingMode, PatternType, SpecialRule

SPECIAL_HEADER = "=== SPECIAL RATE CHECK ==="
RATE_HEADER = "=== RATE CHECK ==="
FOOTER = "==========================="

_Money = Callable[[Decimal], str]
_CENT = Decimal("0.01")


def _exponent(amount: Decimal) -> int:
    """Return the power of ten of ``amount``'s last digit."""
    exponent = amount.as_tuple().exponent
    return exponent if isinstance(exponent, int) else 0


def explain_call(
    call: RatedCall,
    plan: RatePlan | None = None,
    *,
    currency_prefix: str = "$",
    currency_suffix: str = "",
) -> str:
    """Return the trace block of ``call``; with ``plan``, special rules checked are listed too."""
    lines = trace_lines(
        call, plan, currency_prefix=currency_prefix, currency_suffix=currency_suffix
    )
    return "\n".join(lines)


def trace_lines(
    call: RatedCall,
    plan: RatePlan | None = None,
    *,
    currency_prefix: str = "$",
    currency_suffix: str = "",
) -> tuple[str, ...]:
    """Return the trace of ``call`` line by line, header and footer included."""

    def money(amount: Decimal) -> str:
        """Return ``amount`` with the currency around it."""
        # Shows every digit the amount has, but at least cents and never an exponent: 0 and
        # 0E-8 (a zero kept at 8 places) -> 0.00, 0.005 stays 0.005.
        if not amount or _exponent(amount) > -2:
            amount = amount.quantize(_CENT)
        return f"{currency_prefix}{amount:f}{currency_suffix}"

    if call.calltype is CallType.SPECIAL_RATE or call.status is Status.NO_SPECIAL_MATCH:
        return (SPECIAL_HEADER, *_special_lines(call, plan, money), FOOTER)
    return (RATE_HEADER, *_standard_lines(call, plan, money), FOOTER)


def _pattern_text(rule: SpecialRule) -> str:
    """Return a rule's pattern as the debug output names it (``1300``, or the regex)."""
    return rule.match_text if rule.pattern_type is PatternType.PREFIX else rule.pattern


def _special_lines(call: RatedCall, plan: RatePlan | None, money: _Money) -> list[str]:
    """Return the body of a SPECIAL RATE CHECK block."""
    cdr = call.cdr
    as_written = strip_number(cdr.rated_number)
    label = "Caller Destination" if cdr.direction is Direction.INBOUND else "Destination"
    lines = [f"{label}: {as_written}"]
    if plan is not None:
        for checked, matched in plan.special.checks(as_written, cdr.direction):
            verdict = "MATCH!" if matched else "NO MATCH"
            lines.append(
                f"Checking pattern: {_pattern_text(checked)} (priority: {checked.priority}) "
                f"- {verdict}"
            )
    rule = call.rule
    if rule is None:
        lines.append("No pattern matched: not billed and hidden from the client area")
        return lines
    if plan is None:
        lines.append(f"Matched pattern: {_pattern_text(rule)} (priority: {rule.priority}) - MATCH!")
    lines.append(f"Billing Mode: {rule.mode}")
    if rule.mode is not BillingMode.PER_MINUTE:
        lines.append(f"Flat Rate: {money(rule.flat)}")
    if rule.mode is not BillingMode.FLAT_PER_CALL:
        lines.append(f"Per Minute Rate: {money(rule.per_minute)}")
    assert call.entry is not None  # a matched rule always carries its entry
    lines.append(
        f"Billed Seconds: {call.billed_seconds} "
        f"(increment {call.entry.increment}, {call.entry.increment_source})"
    )
    lines.append(f"Cost: {money(call.cost)}")
    return lines


def _standard_lines(call: RatedCall, plan: RatePlan | None, money: _Money) -> list[str]:
    """Return the body of a RATE CHECK block."""
    cdr = call.cdr
    started = cdr.start.strftime("%Y-%m-%d %H:%M:%S %Z")
    lines = [
        f"CDR: {cdr.uuid} ({cdr.direction}, {started}, billsec {cdr.billsec})",
        f"Number: {cdr.rated_number} -> {call.number}{_verdict(call, plan)}",
        f"Status: {call.status} ({call.calltype}): {call.reason}",
    ]
    entry = call.entry
    if entry is None:
        return lines
    if entry.source is RateSource.TARIFF or entry.source is RateSource.INBOUND_TARIFF:
        charged = format_rate(entry.rate)
        rate = f"{entry.base_rate}/min + {entry.markup_percent}% markup = {charged}/min"
    else:
        rate = f"{format_rate(entry.rate)}/min (no markup on {entry.source} rates)"
    where = f"{entry.source} prefix {entry.prefix}" if entry.prefix else str(entry.source)
    lines += [
        f"Rate: {where} ({entry.description}): {rate}",
        f"Increment: {entry.increment} ({entry.increment_source}): "
        f"{call.billed_seconds} billed seconds",
        f"Free Seconds: {call.free_seconds}",
        f"Connection Fee: {money(entry.connection_fee)}",
        f"Cost: {money(call.cost)}",
    ]
    return lines


def _verdict(call: RatedCall, plan: RatePlan | None) -> str:
    """Return the E.164 verdict on the normalised number, when the package is known."""
    if plan is None:
        return ""
    return f" (E.164: {check_number(call.number, plan.package.country_code)})"
