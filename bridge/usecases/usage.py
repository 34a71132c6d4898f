"""A service's usage for a billing period: its stored calls rated with its product's plan.

Everything that bills or shows usage — the demo, autobill, real-time billing, re-rating and the
client area — asks here, so the invoice, the credit taken and the client's call list agree:

- which plan: the product's "VoIP Package" setting names a stored package (with its tariffs), and
  "Special Number Billing" adds the product's special rules (:class:`RatePlans`, which loads each
  package, tariff and rule set once per run, so 10,000 services on one tariff load it once);
- which calls: the service's stored a-legs that started in the period (midnight to midnight in
  WHMCS's timezone);
- free minutes already used in the period by earlier runs (real-time billing rates a period in
  several passes);
- the invoice sections the rated calls make, in the client's currency.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection

from bridge.calls import CollectedCdr
from bridge.errors import NotConfigured
from bridge.rating import (
    InvoiceSection,
    RatedCall,
    RatePlan,
    RatingResult,
    SpecialBilling,
    Tariff,
    invoice_sections,
    iter_rated_calls,
    rate_calls,
)
from bridge.rating.models import Cdr
from bridge.store.cdrs import iter_service_cdrs
from bridge.store.packages import StoredPackage, load_package, load_special_rules
from bridge.store.tariffs import get_tariff_version, load_tariff
from bridge.whmcs.clients import get_client
from bridge.whmcs.currencies import Currency
from bridge.whmcs.cycles import BillingPeriod
from bridge.whmcs.services import Product, Service


@dataclass(frozen=True, slots=True)
class ServicePlan:
    """The plan a product's services are rated with, and how its usage is billed."""

    package: str
    plan: RatePlan
    realtime_billing: bool


class SharedTariffs:
    """Loaded tariffs kept between requests, each checked against the database before use.

    A 50,000-row deck takes about a second to load, too long for every client-area page; its
    version (:func:`get_tariff_version`, one small query) tells whether the copy kept is still
    the stored one. Shared by the threads serving requests; two threads may both load a changed
    tariff, and the last one stored wins, which is harmless.
    """

    def __init__(self) -> None:
        self._kept: dict[str, tuple[tuple[int, int, int | None], Tariff]] = {}
        self._lock = threading.Lock()

    def get(self, conn: Connection, name: str) -> Tariff:
        """Return tariff ``name`` as stored now, loading it only when it changed."""
        version = get_tariff_version(conn, name)
        with self._lock:
            kept = self._kept.get(name)
        if kept is not None and kept[0] == version:
            return kept[1]
        tariff = load_tariff(conn, name)
        with self._lock:
            self._kept[name] = (version, tariff)
        return tariff


@dataclass
class RatePlans:
    """Rate plans for one run: each package, tariff and product's rules is loaded once.

    With ``shared`` tariffs come from a :class:`SharedTariffs` kept between runs (the client
    area's pages); packages and special rules, a few rows each, are always read afresh.
    """

    shared: SharedTariffs | None = None
    _packages: dict[str, StoredPackage] = field(default_factory=dict)
    _tariffs: dict[str, Tariff] = field(default_factory=dict)
    _plans: dict[tuple[str, int | None], ServicePlan] = field(default_factory=dict)

    def plan_for(self, conn: Connection, product: Product) -> ServicePlan:
        """Return the plan of ``product``, or raise :class:`NotConfigured` when it has none."""
        billing = product.billing
        if not billing.package:
            raise NotConfigured(
                f"Product #{product.id} ({product.name}) names no VoIP Package; set it in the "
                "product's Module Settings so its usage can be rated."
            )
        # Special rules belong to a product; plans without them are shared by every product.
        key = (billing.package, product.id if billing.special_number_billing else None)
        cached = self._plans.get(key)
        if cached is None:
            cached = self._plans[key] = self._load(conn, billing.package, key[1])
        return cached

    def _load(self, conn: Connection, name: str, special_product: int | None) -> ServicePlan:
        stored = self._packages.get(name)
        if stored is None:
            stored = self._packages[name] = load_package(conn, name)
        rules = load_special_rules(conn, special_product) if special_product is not None else ()
        plan = RatePlan(
            package=stored.package,
            tariff=self._tariff(conn, stored.tariff),
            inbound_tariff=self._tariff(conn, stored.inbound_tariff),
            special=SpecialBilling(enabled=special_product is not None, rules=rules),
        )
        return ServicePlan(name, plan, stored.realtime_billing)

    def _tariff(self, conn: Connection, name: str | None) -> Tariff | None:
        if name is None:
            return None
        tariff = self._tariffs.get(name)
        if tariff is None:
            load = load_tariff if self.shared is None else self.shared.get
            tariff = self._tariffs[name] = load(conn, name)
        return tariff


@dataclass(frozen=True, slots=True)
class ServiceUsage:
    """A service's rated calls for one billing period, with what they add to its invoice."""

    service: Service
    period: BillingPeriod
    plan: ServicePlan
    result: RatingResult
    currency: Currency

    @property
    def sections(self) -> tuple[InvoiceSection, ...]:
        """Return the invoice sections (special rates, then usage) of the period's calls."""
        return invoice_sections(
            self.result.calls, period_start=self.period.start, period_end=self.period.end
        )


def rate_service_usage(
    conn: Connection,
    service: Service,
    period: BillingPeriod,
    *,
    plans: RatePlans,
    zone: ZoneInfo,
    free_seconds_used: int = 0,
    only: Callable[[Cdr], bool] | None = None,
) -> ServiceUsage:
    """Rate the service's stored calls that started in ``period`` with its product's plan.

    ``only`` keeps the calls it accepts (real-time billing: those not billed yet);
    ``free_seconds_used`` is the part of the period's free minutes earlier runs spent.
    """
    plan = plans.plan_for(conn, service.product)
    start, end = period.bounds(zone)
    calls: Iterable[Cdr] = (
        record.call for record in iter_service_cdrs(conn, service.id, start, end)
    )
    if only is not None:
        calls = filter(only, calls)
    result = rate_calls(calls, plan.plan, free_seconds_used=free_seconds_used)
    currency = get_client(conn, service.client_id).currency
    return ServiceUsage(service, period, plan, result, currency)


def iter_service_calls(
    conn: Connection,
    service: Service,
    period: BillingPeriod,
    *,
    plans: RatePlans,
    zone: ZoneInfo,
    stream: bool = False,
) -> Iterator[tuple[CollectedCdr, RatedCall]]:
    """Yield each stored call of ``period`` beside its rating, one at a time, in start order.

    The rated calls equal :func:`rate_service_usage`'s (same plan, same free-minute order); the
    client area uses this to show what the PBX reported (caller name, disposition) beside the
    cost. With ``stream`` the rows are fetched in batches, for exports of any size.
    """
    plan = plans.plan_for(conn, service.product)
    start, end = period.bounds(zone)
    records = iter_service_cdrs(conn, service.id, start, end, stream=stream)
    # tee-free pairing: the rater pulls each record's call just after the record is read.
    pending: list[CollectedCdr] = []

    def calls() -> Iterator[Cdr]:
        for record in records:
            pending.append(record)
            yield record.call

    for rated in iter_rated_calls(calls(), plan.plan):
        yield pending.pop(), rated
