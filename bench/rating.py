"""Rating throughput: the in-memory engine against one SQL query per CDR.

    python bench/rating.py [--cdrs 1000000] [--prefixes 50000] [--sample 20000] [--repeat 3]
    python bench/rating.py --end-to-end [--cdrs 100000] [--quick]    # bench/rating_e2e.py

Builds a synthetic deck (real country codes extended with random digits, 1-9 digit prefixes,
NANP NPAs among them) and a CDR set shaped like a FusionPBX export (80% outbound, 15% inbound,
5% local; 20% unanswered; numbers written as bare digits, E.164, with the 011 exit code or as
NANP 10-digit), then prints:

- the full pipeline, ``rate_calls`` (filters, normalisation, lookup, increments, free minutes,
  Decimal costs), in CDRs/s, best of ``--repeat`` runs, plus grouping into invoice lines;
- the baseline PHP billers use (A2Billing, MagnusBilling, ASTPP): per CDR, one
  ``SELECT ... WHERE prefix IN (<every prefix of the number>) ORDER BY LENGTH(prefix) DESC
  LIMIT 1`` on SQLite in memory and on MariaDB (127.0.0.1:3306, root, scratch database
  ``bench_rating_tmp``, dropped afterwards), run on a sample and extrapolated;
- the ratio between them, the index's build time and its memory (tracemalloc).

Targets on one core: >= 300,000 CDRs/s, >= 20x the per-query baseline, index <= 50 MB built
in <= 1 s. Never part of the test run.
"""

from __future__ import annotations

import argparse
import gc
import platform
import random
import runpy
import sqlite3
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from bridge.gc_pause import collector_paused
from bridge.rating import (
    Cdr,
    CustomRate,
    Direction,
    FilterSet,
    Increment,
    Package,
    Price,
    RatePlan,
    RateRow,
    Tariff,
    group_calls,
    rate_calls,
    strip_number,
)
from bridge.rating.money import mark_up, markup_factor
from bridge.rating.numbers import make_normaliser

# Country calling codes of the ITU list (a realistic spread of 1-3 digit heads).
_COUNTRY_CODE_TEXT = """
1 7 20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 60 61 62
63 64 65 66 81 82 84 86 90 91 92 93 94 95 98 211 212 213 216 218 220 221 222 223 224 225
226 227 228 229 230 231 232 233 234 235 236 237 238 239 240 241 242 243 244 245 246 248 249
250 251 252 253 254 255 256 257 258 260 261 262 263 264 265 266 267 268 269 290 291 297 298
299 350 351 352 353 354 355 356 357 358 359 370 371 372 373 374 375 376 377 378 380 381 382
383 385 386 387 389 420 421 423 500 501 502 503 504 505 506 507 508 509 590 591 592 593 594
595 596 597 598 599 670 672 673 674 675 676 677 678 679 680 681 682 683 685 686 687 688 689
690 691 692 850 852 853 855 856 880 886 960 961 962 963 964 965 966 967 968 970 971 972 973
974 975 976 977 992 993 994 995 996 998
"""
COUNTRY_CODES = tuple(_COUNTRY_CODE_TEXT.split())
DIGITS = "0123456789"
DB_NAME = "bench_rating_tmp"


@dataclass(frozen=True, slots=True)
class Scenario:
    """The generated inputs: deck rows, the plan around them and the CDRs."""

    rows: list[RateRow]
    plan: RatePlan
    cdrs: list[Cdr]


def make_deck(count: int, rnd: random.Random) -> list[RateRow]:
    """Return ``count`` unique rows: every country code, NANP NPAs, then deeper prefixes."""
    prefixes: dict[str, None] = dict.fromkeys(COUNTRY_CODES)
    for npa in rnd.sample(range(200, 1000), 600):
        prefixes["1" + str(npa)] = None
    while len(prefixes) < count:
        head = rnd.choice(COUNTRY_CODES)
        length = rnd.randint(len(head) + 1, 9)
        prefixes[head + "".join(rnd.choices(DIGITS, k=length - len(head)))] = None
    rows = []
    for prefix in list(prefixes)[:count]:
        nanp = prefix.startswith("1")
        rows.append(
            RateRow(
                prefix=prefix,
                description=f"Destination {prefix[:3]}",
                rate=Decimal(f"0.{rnd.randint(50, 99999):05d}"),
                increment=6 if nanp else rnd.choice((1, 6, 60, 60)),
                connection_fee=Decimal("0.01") if rnd.random() < 0.05 else Decimal(0),
            )
        )
    return rows


def make_plan(tariff: Tariff) -> RatePlan:
    """Return a NANP package with markup, free minutes, filters and a few custom rates."""
    customs = tuple(
        CustomRate("1" + str(npa), Decimal("0.004")) for npa in (204, 226, 416, 437, 647)
    )
    package = Package(
        country_code="1",
        nanp_10_digit=True,
        markup_percent=Decimal("12.5"),
        free_minutes=500,
        bill_inbound=True,
        inbound_rate=Decimal("0.0050"),
        inbound_increment=Increment(6, 6),
        custom_rates=customs,
        exclude=FilterSet.parse("1800xxxxxxx,1888xxxxxxx,911,112"),
    )
    return RatePlan(package, tariff, provider_suppress=FilterSet.parse("*xx,#xx"))


def make_number(prefixes: list[str], rnd: random.Random) -> str:
    """Return an international number: 90% extend a deck prefix, 10% a bare country code."""
    head = rnd.choice(prefixes) if rnd.random() < 0.9 else rnd.choice(COUNTRY_CODES)
    length = max(len(head) + 1, rnd.randint(11, 13))
    return head + "".join(rnd.choices(DIGITS, k=length - len(head)))


def as_pbx_writes(number: str, rnd: random.Random) -> str:
    """Return ``number`` in one of the forms PBXes write: bare, +E.164, 011 or NANP 10-digit."""
    form = rnd.random()
    if form < 0.1:
        return "+" + number
    if form < 0.2:
        return "011" + number
    if form < 0.3 and number.startswith("1") and len(number) == 11 and number[1] in "23456789":
        return number[1:]
    return number


def make_cdrs(count: int, prefixes: list[str], rnd: random.Random) -> list[Cdr]:
    """Return ``count`` CDRs in start order, shaped like a FusionPBX export."""
    start = datetime(2025, 12, 29, tzinfo=UTC)
    cdrs = []
    for i in range(count):
        roll = rnd.random()
        direction = (
            Direction.OUTBOUND
            if roll < 0.80
            else Direction.INBOUND
            if roll < 0.95
            else Direction.LOCAL
        )
        if direction is Direction.LOCAL:
            destination = str(rnd.randint(2000, 2999))
        elif rnd.random() < 0.005:
            # Feature codes, emergency and toll-free numbers the filters catch, and numbers no
            # deck prefix covers (999 is no country code): the no_rate leak the admin must see.
            destination = rnd.choice(("*72", "#21", "911", "18005550100", "99912345678"))
        else:
            destination = as_pbx_writes(make_number(prefixes, rnd), rnd)
        cdrs.append(
            Cdr(
                uuid=f"{i:012d}",
                direction=direction,
                caller_number="12045550199",
                caller_destination="1204555" + f"{rnd.randint(0, 9999):04d}",
                destination_number=destination,
                start=start + timedelta(seconds=i * 2),
                billsec=0 if rnd.random() < 0.2 else rnd.randint(1, 600),
            )
        )
    return cdrs


@contextmanager
def timed(label: str) -> Iterator[None]:
    """Print how long the block took."""
    started = time.perf_counter()
    yield
    print(f"  {label}: {time.perf_counter() - started:.2f} s")


def measure(run: Callable[[], object], repeat: int) -> float:
    """Return the best wall time of ``repeat`` runs, dropping each result before the next."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        with collector_paused():
            started = time.perf_counter()
            result = run()
            best = min(best, time.perf_counter() - started)
        del result
    return best


def index_figures(rows: list[RateRow], seed: int) -> tuple[float, int, int]:
    """Return the tariff build time (best of 5), the index's memory and the deck rows' memory.

    The index is what ``Tariff.from_rows`` adds on top of the rows (the prefix dict and the row
    tuple); the rows are measured by building the same deck again under tracemalloc, so their
    strings and Decimals count too.
    """
    build = measure(lambda: Tariff.from_rows("bench", rows), 5)
    tracemalloc.start()
    tariff = Tariff.from_rows("bench", rows)
    index_bytes = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del tariff
    tracemalloc.start()
    deck = make_deck(len(rows), random.Random(seed))
    rows_bytes = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del deck
    return build, index_bytes, rows_bytes


def all_prefixes(number: str) -> list[str]:
    """Return every prefix of ``number``, longest first (what the PHP billers put in IN (...))."""
    return [number[:n] for n in range(min(len(number), 15), 0, -1)]


def per_query_rater(
    plan: RatePlan, execute: Callable[[str, list[str]], Any], placeholder: str
) -> Callable[[Cdr], Decimal | None]:
    """Return a rater doing one longest-prefix query per CDR, as the PHP billers do."""
    normalise = make_normaliser(plan.package)
    factor = markup_factor(plan.package.markup_percent)

    def rate(cdr: Cdr) -> Decimal | None:
        if cdr.billsec == 0 or cdr.direction is not Direction.OUTBOUND:
            return None
        number = normalise(cdr.destination_number)
        prefixes = all_prefixes(number)
        marks = ",".join([placeholder] * len(prefixes))
        row = execute(
            "SELECT prefix, rate, increment, connection_fee FROM rates "
            f"WHERE prefix IN ({marks}) ORDER BY LENGTH(prefix) DESC LIMIT 1",
            prefixes,
        )
        if row is None:
            return None
        _, rate_text, increment, fee = row
        billed = Increment(increment, increment).bill(cdr.billsec)
        return Price(mark_up(Decimal(rate_text), factor), Decimal(fee)).cost(billed)

    return rate


def sqlite_baseline(scenario: Scenario, sample: list[Cdr]) -> float:
    """Return the seconds SQLite one-query-per-CDR rating takes over ``sample``."""
    print(f"  SQLite library {sqlite3.sqlite_version}")
    db = sqlite3.connect(":memory:")
    db.execute(
        "CREATE TABLE rates (prefix TEXT PRIMARY KEY, description TEXT, rate TEXT, "
        "increment INTEGER, connection_fee TEXT)"
    )
    db.executemany(
        "INSERT INTO rates VALUES (?, ?, ?, ?, ?)",
        [
            (r.prefix, r.description, str(r.rate), r.increment, str(r.connection_fee))
            for r in scenario.rows
        ],
    )

    def execute(sql: str, params: list[str]) -> Any:
        return db.execute(sql, params).fetchone()

    rate = per_query_rater(scenario.plan, execute, "?")
    seconds = measure(lambda: [rate(cdr) for cdr in sample], 1)
    db.close()
    return seconds


def mariadb_baseline(scenario: Scenario, sample: list[Cdr]) -> float | None:
    """Return the seconds MariaDB one-query-per-CDR rating takes, or None if unreachable."""
    try:
        import pymysql
    except ImportError:
        print("  MariaDB: skipped (pymysql is not installed)")
        return None
    try:
        conn = pymysql.connect(
            host="127.0.0.1", port=3306, user="root", password="", autocommit=True
        )
    except pymysql.MySQLError as exc:
        print(f"  MariaDB: skipped, 127.0.0.1:3306 unreachable ({exc.args[-1]})")
        return None
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT VERSION()")
            print(f"  MariaDB server {cur.fetchone()[0]}")
            cur.execute(f"DROP DATABASE IF EXISTS {DB_NAME}")
            cur.execute(f"CREATE DATABASE {DB_NAME}")
            cur.execute(f"USE {DB_NAME}")
            cur.execute(
                "CREATE TABLE rates (prefix VARCHAR(20) PRIMARY KEY, description VARCHAR(80), "
                "rate DECIMAL(15,6), increment INT, connection_fee DECIMAL(15,6)) ENGINE=InnoDB"
            )
            cur.executemany(
                "INSERT INTO rates VALUES (%s, %s, %s, %s, %s)",
                [
                    (r.prefix, r.description, str(r.rate), r.increment, str(r.connection_fee))
                    for r in scenario.rows
                ],
            )

            def execute(sql: str, params: list[str]) -> Any:
                cur.execute(sql, params)
                return cur.fetchone()

            rate = per_query_rater(scenario.plan, execute, "%s")
            return measure(lambda: [rate(cdr) for cdr in sample], 1)
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {DB_NAME}")
        conn.close()


def report_pipeline(scenario: Scenario, repeat: int) -> float:
    """Print the full pipeline's figures and return its CDRs/s."""
    count = len(scenario.cdrs)
    print("full pipeline (rate_calls, cyclic collector paused as billing runs pause it):")
    seconds = measure(lambda: rate_calls(scenario.cdrs, scenario.plan), repeat)
    pipeline = count / seconds
    print(f"  {count:,} CDRs in {seconds:.2f} s: {pipeline:,.0f} CDRs/s")
    result = rate_calls(scenario.cdrs, scenario.plan)
    statuses = {str(k): v for k, v in result.by_status().items() if v}
    print(f"  statuses: {statuses}; total {result.total()}")
    grouping = measure(lambda: group_calls(result.calls), repeat)
    both = count / (seconds + grouping)
    print(f"  + invoice grouping: {grouping:.2f} s ({both:,.0f} CDRs/s rated and grouped)")
    return pipeline


def machine_notes() -> str:
    """Return the CPU model, Python version and platform in one line."""
    model = platform.processor() or "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    python = f"{platform.python_implementation()} {platform.python_version()}"
    return f"{model}; {python}; {platform.platform()}"


def main() -> None:
    """Run the benchmark and print its figures."""
    if "--end-to-end" in sys.argv:  # CSV files in, JSON lines out: its own script
        runpy.run_path(str(Path(__file__).with_name("rating_e2e.py")), run_name="__main__")
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cdrs", type=int, default=1_000_000, help="CDRs to rate")
    parser.add_argument("--prefixes", type=int, default=50_000, help="rows in the deck")
    parser.add_argument("--sample", type=int, default=20_000, help="CDRs for the SQL baselines")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the pipeline (best kept)")
    parser.add_argument("--seed", type=int, default=20251229)
    args = parser.parse_args()

    print(f"machine: {machine_notes()}")
    rnd = random.Random(args.seed)
    print(f"setup ({args.prefixes:,} prefixes, {args.cdrs:,} CDRs):")
    with timed("deck rows"):
        rows = make_deck(args.prefixes, rnd)
    build, index_bytes, rows_bytes = index_figures(rows, args.seed)
    tariff = Tariff.from_rows("bench", rows)
    with timed("CDRs"):
        cdrs = make_cdrs(args.cdrs, [r.prefix for r in rows], rnd)
    scenario = Scenario(rows, make_plan(tariff), cdrs)

    print("index:")
    print(f"  build (Tariff.from_rows over {len(rows):,} rows): {build * 1000:.1f} ms")
    print(f"  index memory (prefix dict, row tuple; tracemalloc): {index_bytes / 2**20:.1f} MiB")
    print(f"  deck rows memory (RateRow, str, Decimal; tracemalloc): {rows_bytes / 2**20:.1f} MiB")
    numbers = [strip_number(c.destination_number) for c in cdrs[:200_000]]
    lookup = measure(lambda: [tariff.lookup(n) for n in numbers], args.repeat)
    print(f"  longest-prefix lookups: {len(numbers) / lookup:,.0f} /s")

    pipeline = report_pipeline(scenario, args.repeat)

    sample = rnd.sample(cdrs, min(args.sample, len(cdrs)))
    print(f"per-query baseline ({len(sample):,}-CDR sample, extrapolated):")
    baselines: list[tuple[str, Callable[[], float | None]]] = [
        ("SQLite :memory:", lambda: sqlite_baseline(scenario, sample)),
        ("MariaDB 127.0.0.1", lambda: mariadb_baseline(scenario, sample)),
    ]
    for name, baseline in baselines:
        taken = baseline()
        if taken is None:
            continue
        rate = len(sample) / taken
        print(
            f"  {name}: {rate:,.0f} CDRs/s ({len(cdrs) / rate:.1f} s for {len(cdrs):,}); "
            f"pipeline is {pipeline / rate:.1f}x faster"
        )


if __name__ == "__main__":
    main()
