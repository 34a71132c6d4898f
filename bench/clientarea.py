"""Benchmark: the client area's page and CSV export beside the query under them, on MariaDB.

    python bench/clientarea.py [--calls 10000] [--csv-calls 100000] [--repeat 5]

Creates a scratch MariaDB database (``bench_clientarea_tmp``, dropped afterwards) with the WHMCS
fixture, the bridge's tables, a tariff and a metered package, and one client with two services:
one with ``--calls`` calls in its current month, one with ``--csv-calls``. Then, in one run and
in ``--repeat`` interleaved rounds (median and best printed), it times:

- the query: the month's calls fetched from the CDR store (``iter_service_cdrs``), and the same
  calls rated as the invoice rates them (``rate_service_usage``, the tariff kept loaded between
  runs as the pages keep it; ``--tariff-rows`` pads the tariff to a real deck's size);
- the first page and a page sorted by cost, as ``client-area`` builds them (access check, calls,
  summary, chart, HTML; the license check, a call to the license server, is left out);
- the CSV export of the month, streamed as ``client-area/export`` streams it;

and the peak Python memory (tracemalloc) while the CSV of ``--calls`` and of ``--csv-calls``
calls streams: constant memory means the two peaks are about equal.

Targets: the page adds <= 50% to the query; the first page in <= 300 ms; the CSV of 100,000
calls in constant memory.
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as day_time
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from bridge.calls import CollectedCdr
from bridge.clock import utc_now, whmcs_today
from bridge.db import EngineDatabase
from bridge.rating import Cdr, Direction
from bridge.rating.package_toml import parse_package_toml
from bridge.settings import Settings
from bridge.store.cdrs import iter_service_cdrs, store_cdrs
from bridge.store.migrate import upgrade_database
from bridge.store.packages import save_package
from bridge.store.tariffs import import_tariff
from bridge.usecases.call_export import stream_call_csv
from bridge.usecases.call_history import PageQuery, list_service_periods
from bridge.usecases.client_access import open_client_service
from bridge.usecases.usage import RatePlans, rate_service_usage
from bridge.web.client_links import whmcs_links
from bridge.web.client_pages import TARIFFS, PageRequest, render_page
from bridge.whmcs import seeding
from bridge.whmcs.cycles import add_months
from bridge.whmcs.schema import create_whmcs_schema
from bridge.whmcs.services import get_service

ZONE = ZoneInfo("UTC")
# The pages read the real clock, so the month is laid around today: due in three days.
NOW = utc_now()
TODAY = whmcs_today(NOW, ZONE)
DUE = TODAY + timedelta(days=3)
MONTH_START = add_months(DUE, -1)
RATE_CARD = """Description,Prefix,RateValue,Increment
USA/Canada,1,0.0100,6
Jamaica,1876,0.2100,60
United Kingdom,44,0.0250,60
United Kingdom Mobile,447,0.0800,60
"""
PACKAGE = """name = "Metered"
country_code = "1"
nanp_10_digit = true
markup_percent = "15"
free_minutes = 100
outbound_increment = "60/6"
bill_inbound = true
inbound_rate = "0.0050"
[filters]
exclude = "911"
"""
NUMBERS = ("4165550100", "8765550123", "011447700900123", "6135550188", "011441614960000")


def prepare(engine: Engine, counts: tuple[int, ...], tariff_rows: int = 0) -> tuple[int, list[int]]:
    """Load the fixture, the plan (its tariff padded to ``tariff_rows`` more rows) and one client
    with a service per entry of ``counts``."""
    with engine.begin() as conn:
        create_whmcs_schema(conn)
    upgrade_database(engine)
    with engine.begin() as conn:
        card = RATE_CARD.splitlines(keepends=True)
        card += [f"Zone {n},{9000000 + n},0.0100,60\n" for n in range(tariff_rows)]
        import_tariff(conn, "CA", card, source="bench", now=NOW)
        save_package(conn, parse_package_toml(PACKAGE).package, tariff="CA", now=NOW)
        currency = seeding.insert_currency(conn, code="CAD", prefix="$", suffix=" CAD")
        client = seeding.insert_client(conn, currency_id=currency, firstname="Bench")
        group = seeding.insert_product_group(conn, "VoIP")
        product = seeding.insert_product(
            conn, group_id=group, name="Metered line", module="fusionpbx",
            settings={"VoIP Package": "Metered"},
        )  # fmt: skip
        server = seeding.insert_server(
            conn, name="pbx", module="fusionpbx", hostname="pbx.example.net", port=443
        )
        services = [
            seeding.insert_service(
                conn,
                client_id=client,
                product_id=product,
                server_id=server,
                domain=f"t{n}.example.net | 5195550100",
                username="2112",
                status="Active",
                next_due=DUE,
            )
            for n in range(len(counts))
        ]
    for service, count in zip(services, counts, strict=True):
        store_month(engine, server, service, count)
    return client, services


def store_month(engine: Engine, server: int, service: int, count: int) -> None:
    """Store ``count`` calls spread over the current month up to today, in batches."""
    start = datetime.combine(MONTH_START, day_time(), tzinfo=UTC)
    step = ((TODAY - MONTH_START).days * 24 * 3600) // count
    for first in range(0, count, 5000):
        batch = [
            CollectedCdr(
                Cdr(
                    uuid=f"s{service}-{n}",
                    direction=Direction.INBOUND if n % 7 == 0 else Direction.OUTBOUND,
                    caller_number=NUMBERS[n % 5] if n % 7 == 0 else "2112",
                    caller_destination="5195550100" if n % 7 == 0 else "",
                    destination_number="2112" if n % 7 == 0 else NUMBERS[n % 5],
                    start=start + timedelta(seconds=n * step),
                    billsec=(n * 37) % 900,
                ),
                domain=f"t{service}.example.net",
                caller_name=f"Caller {n % 997}",
                hangup_cause="NORMAL_CLEARING",
            )
            for n in range(first, min(first + 5000, count))
        ]
        with engine.begin() as conn:
            store_cdrs(conn, server, batch, now=NOW, service_id=service)


def main() -> None:
    """Build the scratch database, time the page and export, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--csv-calls", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--tariff-rows", type=int, default=0, help="pad the tariff with N rows")
    parser.add_argument("--url", default="mysql+pymysql://root@127.0.0.1:3306/bench_clientarea_tmp")
    args = parser.parse_args()
    url = make_url(args.url)
    server = create_engine(url.set(database=""))
    with server.begin() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{url.database}`"))
        conn.execute(text(f"CREATE DATABASE `{url.database}` CHARACTER SET utf8mb4"))
    engine = create_engine(url)
    try:
        run(engine, args.calls, args.csv_calls, args.repeat, args.tariff_rows)
    finally:
        engine.dispose()
        with server.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{url.database}`"))
        server.dispose()


def run(engine: Engine, calls: int, csv_calls: int, repeat: int, tariff_rows: int) -> None:
    """Time everything on a prepared database and print one line per figure."""
    loaded = time.perf_counter()
    client, (month, big) = prepare(engine, (calls, csv_calls), tariff_rows)
    print(f"prepared {calls:,} + {csv_calls:,} calls in {time.perf_counter() - loaded:.1f} s")
    database = EngineDatabase(engine)
    settings = Settings(database_url=engine.url, timezone=ZONE)
    with engine.connect() as conn:
        service = get_service(conn, month)
        big_service = get_service(conn, big)
    period = list_service_periods(service, TODAY)[0]
    bounds = period.bounds(ZONE)

    def query() -> object:
        with database.transaction() as conn:
            return list(iter_service_cdrs(conn, month, *bounds))

    def usage() -> object:
        # With the tariff kept loaded, as the pages keep it: this is fetch + rate.
        with database.transaction() as conn:
            plans = RatePlans(shared=TARIFFS)
            return rate_service_usage(conn, service, period, plans=plans, zone=ZONE)

    def page(query_: PageQuery) -> Callable[[], str]:
        def build() -> str:
            with database.transaction() as conn:
                access = open_client_service(
                    conn, service_id=month, client_id=client, module="fusionpbx"
                )
            return render_page(PageRequest(access, query_, settings), database, whmcs_links)

        return build

    def export(target: int) -> int:
        chosen = service if target == month else big_service
        chunks = stream_call_csv(
            database, chosen, period, PageQuery(), zone=ZONE, currency_code="CAD",
            plans=RatePlans(shared=TARIFFS),
        )  # fmt: skip
        return sum(len(chunk) for chunk in chunks)

    actions: dict[str, Callable[[], object]] = {
        f"query   (fetch {calls:,} calls)": query,
        "usage   (fetch + rate, as the invoice)": usage,
        "first page": page(PageQuery()),
        "sorted page (by cost, page 7)": page(PageQuery(sort="cost", descending=False, page=7)),
        f"CSV of {calls:,} calls": lambda: export(month),
    }
    # Rounds interleave the measures, so load from other processes hits them all alike.
    times: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(repeat):
        for name, action in actions.items():
            started = time.perf_counter()
            action()
            times[name].append(time.perf_counter() - started)
    print(f"{'':42} {'median':>9} {'best':>9}")
    for name, taken in times.items():
        print(f"{name:42} {statistics.median(taken) * 1000:7.1f}ms {min(taken) * 1000:7.1f}ms")
    t_query, _usage, t_first, t_sorted, t_csv = (statistics.median(t) for t in times.values())
    b_query, _b_usage, b_first, b_sorted, b_csv = (min(t) for t in times.values())
    print(f"first page / query  = {t_first / t_query:.2f} median, {b_first / b_query:.2f} best")
    print(f"sorted page / query = {t_sorted / t_query:.2f} median, {b_sorted / b_query:.2f} best")
    print(f"CSV / query         = {t_csv / t_query:.2f} median, {b_csv / b_query:.2f} best")
    for target, count in ((month, calls), (big, csv_calls)):
        tracemalloc.start()
        started = time.perf_counter()
        size = export(target)
        elapsed = time.perf_counter() - started
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(
            f"CSV of {count:>7,} calls: {size / 1e6:6.1f} MB in {elapsed:5.1f} s (traced), "
            f"peak Python memory {peak / 1e6:5.2f} MB"
        )


if __name__ == "__main__":
    main()
