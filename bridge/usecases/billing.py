"""Usage billing: a service's rated calls turned into money in WHMCS, each call exactly once.

Three ways money moves, each in ONE transaction with the ledger rows that justify it (a crash at
any statement rolls all of it back, and the next run does the whole of it again):

- :func:`bill_service_usage` (autobill): the service's calls not billed yet that started before
  its next due date, grouped by the billing period each started in, rated with the period's free
  minutes (less what earlier runs gave), become one billable item per invoice line;
- :func:`take_realtime_usage` (real-time billing): the same calls up to now, their cost deducted
  in whole cents off the client's credit, one credit-ledger row per service per run, with the
  sub-cent rest carried per service and period, so the cents taken always equal the rounded sum
  of the 6-decimal costs (:mod:`bridge.store.ledger` keeps both totals);
- :func:`rerate_period`: a billed period rated again with today's plan; the difference from what
  was posted becomes one billable item (more) or one credit (less), and a second run posts
  nothing.

A call is in the ledger once per service (its unique key), whatever its status: unanswered,
excluded and free calls are recorded too, so no run rates them again. Lines worth 0.00 are not
posted (DESIGN.md §6) but are reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection

from bridge.errors import InvalidRequest, NotConfigured
from bridge.rating import CallType, RatedCall, RatingResult, explain_call, rate_calls
from bridge.rating.groups import (
    SPECIAL_TITLE,
    USAGE_TITLE,
    InvoiceLine,
    InvoiceSection,
    group_calls_with_members,
)
from bridge.rating.money import round_total
from bridge.store.ledger import (
    BilledCall,
    Posting,
    StoredCall,
    add_posting,
    free_seconds_used,
    iter_billed_calls,
    iter_unbilled_calls,
    list_postings,
    lock_realtime_total,
    record_billed_calls,
    rerecord_billed_call,
    save_realtime_total,
    sum_amounts,
)
from bridge.usecases.usage import RatePlans, ServicePlan
from bridge.whmcs.clients import get_client
from bridge.whmcs.currencies import Currency
from bridge.whmcs.cycles import BillingPeriod, period_containing
from bridge.whmcs.money import BillableItem, InvoiceAction, add_billable_item, move_credit
from bridge.whmcs.services import Service

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class BilledLine:
    """One invoice line of a period: its text, its amount, and whether it was posted."""

    text: str
    amount: Decimal
    posted: bool


@dataclass(frozen=True, slots=True)
class PeriodBill:
    """What one job did with one service's calls of one billing period."""

    service_id: int
    client_id: int
    currency: str
    period: BillingPeriod
    calls: int
    amount: Decimal
    lines: tuple[BilledLine, ...] = ()
    traces: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _RatedPeriod:
    period: BillingPeriod
    result: RatingResult
    cdr_ids: dict[int, int]  # id(Cdr) -> stored call id

    def stored_id(self, call: RatedCall) -> int:
        return self.cdr_ids[id(call.cdr)]


def bill_service_usage(
    conn: Connection,
    service: Service,
    *,
    plans: RatePlans,
    zone: ZoneInfo,
    today: date,
    now: datetime,
    invoice_action: InvoiceAction,
    debug: bool = False,
) -> list[PeriodBill]:
    """Post the service's unbilled calls before its next due date as billable items (autobill)."""
    plan = plans.plan_for(conn, service.product)
    due = _next_due(service)
    client = get_client(conn, service.client_id)
    bills = []
    for rated in _rate_unbilled(conn, service, plan, zone=zone, before=midnight(due, zone)):
        lines: list[BilledLine] = []
        posting_of: dict[int, int] = {}
        for line, members in group_calls_with_members(rated.result.calls):
            text = _line_text(service, rated.period, line, client.currency)
            if line.amount == ZERO:
                lines.append(BilledLine(text, ZERO, posted=False))
                continue
            item_id = add_billable_item(
                conn,
                BillableItem(
                    client_id=client.id,
                    description=text,
                    amount=line.amount,
                    due_date=today,
                    invoice_action=invoice_action,
                ),
            )
            posting = add_posting(
                conn,
                Posting(
                    job="autobill",
                    service_id=service.id,
                    client_id=client.id,
                    currency_id=client.currency.id,
                    period_start=rated.period.start,
                    period_end=rated.period.end,
                    amount=line.amount,
                    calls=len(members),
                    whmcs_table="tblbillableitems",
                    whmcs_id=item_id,
                    description=text,
                ),
                now=now,
            )
            for call in members:
                posting_of[rated.stored_id(call)] = posting
            lines.append(BilledLine(text, line.amount, posted=True))
        ledger = [
            _ledger_row(service, rated, call, "autobill", posting_of.get(rated.stored_id(call)))
            for call in rated.result.calls
        ]
        record_billed_calls(conn, ledger, now=now)
        bills.append(
            PeriodBill(
                service_id=service.id,
                client_id=client.id,
                currency=client.currency.code,
                period=rated.period,
                calls=len(rated.result.calls),
                amount=sum((line.amount for line in lines if line.posted), ZERO),
                lines=tuple(lines),
                traces=_traces(rated, plan, client.currency) if debug else (),
            )
        )
    return bills


def take_realtime_usage(
    conn: Connection,
    service: Service,
    *,
    plans: RatePlans,
    zone: ZoneInfo,
    today: date,
    now: datetime,
    debug: bool = False,
) -> list[PeriodBill]:
    """Deduct the cost of the service's unbilled calls from the client's credit (real-time)."""
    plan = plans.plan_for(conn, service.product)
    client = get_client(conn, service.client_id)
    periods = _rate_unbilled(conn, service, plan, zone=zone, before=now)
    moves: list[tuple[_RatedPeriod, Decimal]] = []
    for rated in periods:
        cost_so_far, taken = lock_realtime_total(conn, service.id, rated.period.start)
        cost = cost_so_far + sum((call.cost for call in rated.result.calls), ZERO)
        target = round_total(cost)
        save_realtime_total(conn, service.id, rated.period.start, cost=cost, taken=target, now=now)
        moves.append((rated, target - taken))
    total = sum((move for _rated, move in moves), ZERO)
    calls = sum(len(rated.result.calls) for rated in periods)
    description = _credit_text(service, periods, calls)
    credit_id = None
    if total != ZERO:
        credit_id = move_credit(conn, client.id, -total, description, on=today).ledger_id
    bills = []
    for rated, move in moves:
        posting = None
        if move != ZERO:
            posting = add_posting(
                conn,
                Posting(
                    job="realtime",
                    service_id=service.id,
                    client_id=client.id,
                    currency_id=client.currency.id,
                    period_start=rated.period.start,
                    period_end=rated.period.end,
                    amount=move,
                    calls=len(rated.result.calls),
                    whmcs_table="tblcredit",
                    whmcs_id=credit_id,
                    description=description,
                ),
                now=now,
            )
        record_billed_calls(
            conn,
            [
                _ledger_row(service, rated, call, "realtime", posting if call.cost else None)
                for call in rated.result.calls
            ],
            now=now,
        )
        bills.append(
            PeriodBill(
                service_id=service.id,
                client_id=client.id,
                currency=client.currency.code,
                period=rated.period,
                calls=len(rated.result.calls),
                amount=move,
                traces=_traces(rated, plan, client.currency) if debug else (),
            )
        )
    return bills


@dataclass(frozen=True, slots=True)
class Rerate:
    """What re-rating a billed period found and posted."""

    bill: PeriodBill
    previously: Decimal
    now_worth: Decimal
    difference: Decimal
    changed_calls: int


def rerate_period(
    conn: Connection,
    service: Service,
    period: BillingPeriod,
    *,
    plans: RatePlans,
    today: date,
    now: datetime,
    invoice_action: InvoiceAction,
    debug: bool = False,
) -> Rerate:
    """Rate a billed period again and post the difference from what was posted, once."""
    plan = plans.plan_for(conn, service.product)
    client = get_client(conn, service.client_id)
    billed = list(iter_billed_calls(conn, service.id, period.start))
    if not billed:
        raise InvalidRequest(
            f"Service #{service.id} has no billed calls in the period starting {period.start}; "
            "there is nothing to re-rate (autobill bills it when it is due)."
        )
    period = BillingPeriod(billed[0][1].period_start, billed[0][1].period_end)
    stored = [stored for stored, _row in billed]
    rated = _rate(stored, period, plan, free_seconds_used=0)
    before = {row.cdr_id: row for _stored, row in billed}
    if plan.realtime_billing:
        worth = round_total(sum((call.cost for call in rated.result.calls), ZERO))
    else:
        worth = sum(
            (line.amount for line, _m in group_calls_with_members(rated.result.calls)), ZERO
        )
    postings = list_postings(conn, service.id, period.start)
    previously = sum_amounts(posting for _id, posting in postings)
    difference = worth - previously
    changed = 0
    for call in rated.result.calls:
        old = before[rated.stored_id(call)]
        new = _ledger_row(service, rated, call, "rerate", old.posting_id)
        if (new.status, new.billed_seconds, new.free_seconds, new.cost) != (
            old.status,
            old.billed_seconds,
            old.free_seconds,
            old.cost,
        ):
            changed += 1
            rerecord_billed_call(conn, new, now=now)
    lines: tuple[BilledLine, ...] = ()
    if difference != ZERO:
        text = _rerate_text(service, period, previously, worth, client.currency, postings)
        whmcs_table, whmcs_id = _post_difference(
            conn, client.id, difference, text, today, invoice_action
        )
        add_posting(
            conn,
            Posting(
                job="rerate",
                service_id=service.id,
                client_id=client.id,
                currency_id=client.currency.id,
                period_start=period.start,
                period_end=period.end,
                amount=difference,
                calls=changed,
                whmcs_table=whmcs_table,
                whmcs_id=whmcs_id,
                description=text,
                adjusts_posting_id=postings[0][0] if postings else None,
            ),
            now=now,
        )
        lines = (BilledLine(text, difference, posted=True),)
    bill = PeriodBill(
        service_id=service.id,
        client_id=client.id,
        currency=client.currency.code,
        period=period,
        calls=len(rated.result.calls),
        amount=difference,
        lines=lines,
        traces=_traces(rated, plan, client.currency) if debug else (),
    )
    return Rerate(bill, previously, worth, difference, changed)


def _post_difference(
    conn: Connection,
    client_id: int,
    difference: Decimal,
    text: str,
    today: date,
    invoice_action: InvoiceAction,
) -> tuple[str, int]:
    if difference > ZERO:
        item = BillableItem(client_id, text, difference, today, invoice_action)
        return "tblbillableitems", add_billable_item(conn, item)
    return "tblcredit", move_credit(conn, client_id, -difference, text, on=today).ledger_id


def _rate_unbilled(
    conn: Connection, service: Service, plan: ServicePlan, *, zone: ZoneInfo, before: datetime
) -> list[_RatedPeriod]:
    """Rate the service's unbilled calls before ``before``, period by period."""
    due = _next_due(service)
    by_period: dict[BillingPeriod, list[StoredCall]] = {}
    periods: dict[date, BillingPeriod] = {}  # a service's calls fall on a few dozen days
    for stored in iter_unbilled_calls(conn, service.id, before=before):
        day = stored.call.start.astimezone(zone).date()
        period = periods.get(day)
        if period is None:
            found = period_containing(day, due, service.billing_cycle)
            if found is None:
                raise NotConfigured(_no_period(service))
            period = periods[day] = found
        by_period.setdefault(period, []).append(stored)
    return [
        _rate(calls, period, plan, free_seconds_used(conn, service.id, period.start))
        for period, calls in sorted(by_period.items(), key=lambda item: item[0].start)
    ]


def _rate(
    calls: Sequence[StoredCall], period: BillingPeriod, plan: ServicePlan, free_seconds_used: int
) -> _RatedPeriod:
    cdrs = [stored.call for stored in calls]
    result = rate_calls(cdrs, plan.plan, free_seconds_used=free_seconds_used)
    return _RatedPeriod(period, result, {id(stored.call): stored.id for stored in calls})


def _next_due(service: Service) -> date:
    if service.next_due_date is None:
        raise NotConfigured(_no_period(service))
    return service.next_due_date


def _no_period(service: Service) -> str:
    return (
        f"Service #{service.id} has no next due date or a billing cycle without a period "
        f"({service.billing_cycle or 'none'}); its usage cannot be billed until it has one."
    )


def midnight(day: date, zone: ZoneInfo) -> datetime:
    """Return the first instant of ``day`` in ``zone``."""
    return datetime.combine(day, time(), tzinfo=zone)


def _ledger_row(
    service: Service, rated: _RatedPeriod, call: RatedCall, job: str, posting_id: int | None
) -> BilledCall:
    return BilledCall(
        cdr_id=rated.stored_id(call),
        service_id=service.id,
        client_id=service.client_id,
        period_start=rated.period.start,
        period_end=rated.period.end,
        job=job,
        status=call.status.value,
        calltype=call.calltype.value,
        billed_seconds=call.billed_seconds,
        free_seconds=call.free_seconds,
        cost=call.cost,
        posting_id=posting_id,
    )


def service_label(service: Service) -> str:
    """Return how invoice lines name a service: its product and its Domain field."""
    return f"{service.product.name} ({service.domain})" if service.domain else service.product.name


def _line_text(
    service: Service, period: BillingPeriod, line: InvoiceLine, currency: Currency
) -> str:
    """Return a billable item's text: the service, then the line as the invoice wording has it."""
    title = SPECIAL_TITLE if line.calltype is CallType.SPECIAL_RATE else USAGE_TITLE
    heading = InvoiceSection(title, period.start, period.end, (line,)).heading
    amount = line.text(currency_prefix=currency.prefix, currency_suffix=currency.suffix)
    return f"{service_label(service)}\n{heading}: {amount}"


def _credit_text(service: Service, periods: Sequence[_RatedPeriod], calls: int) -> str:
    if periods:
        first, last = periods[0].period, periods[-1].period
        span = f" ({first.start:%d/%m/%Y} to {last.end:%d/%m/%Y})"
    else:
        span = ""
    return f"VoIP usage, {service_label(service)}: {calls} call(s){span}"


def _rerate_text(
    service: Service,
    period: BillingPeriod,
    previously: Decimal,
    worth: Decimal,
    currency: Currency,
    postings: Sequence[tuple[int, Posting]],
) -> str:
    original = ", ".join(
        f"{posting.whmcs_table} #{posting.whmcs_id}"
        for _id, posting in postings
        if posting.whmcs_id
    )
    return (
        f"{service_label(service)}\nRe-rated usage ({period.start:%d/%m/%Y} to "
        f"{period.end:%d/%m/%Y}): billed {currency.format_amount(previously)}, now "
        f"{currency.format_amount(worth)} after a rate correction"
        + (f" (adjusts {original})" if original else "")
    )


def _traces(rated: _RatedPeriod, plan: ServicePlan, currency: Currency) -> tuple[str, ...]:
    return tuple(
        explain_call(
            call, plan.plan, currency_prefix=currency.prefix, currency_suffix=currency.suffix
        )
        for call in rated.result.calls
    )
