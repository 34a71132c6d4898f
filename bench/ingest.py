"""Benchmark: storing CDRs in MariaDB with the bridge's bulk path vs one INSERT per row.

    python bench/ingest.py [--cdrs 1000000] [--baseline-sample 20000] [--batch 5000]

Creates and drops a scratch database ``bench_ingest_tmp`` on 127.0.0.1:3306 (root, no password,
or ``--url``). The bulk path is :func:`bridge.store.cdrs.store_cdrs` in batches, each batch its
own transaction (as ``bridge cdr collect`` commits them). The baseline inserts one row per
statement and commits each, as a naive collector does; it runs on a sample and is scaled up.
Prints rows/s for both and the ratio. Targets: >= 50,000 rows/s, >= 10x row by row.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Engine, make_url

from bridge.calls import CollectedCdr
from bridge.db import make_engine
from bridge.rating.models import Cdr, Direction
from bridge.settings import Settings
from bridge.store.cdrs import store_cdrs
from bridge.store.migrate import upgrade_database
from bridge.store.tables import cdrs

START = datetime(2026, 1, 1, tzinfo=UTC)
DIRECTIONS = (Direction.OUTBOUND, Direction.OUTBOUND, Direction.INBOUND, Direction.LOCAL)


def synthetic_cdrs(count: int, *, offset: int = 0) -> Iterator[CollectedCdr]:
    """Yield ``count`` distinct, realistic-looking calls."""
    for n in range(offset, offset + count):
        yield CollectedCdr(
            Cdr(
                uuid=f"{n:08x}-4a1c-4e2f-9b7d-{n * 7919 % 10**12:012d}",
                direction=DIRECTIONS[n % 4],
                caller_number=f"2{n % 1000:03d}",
                caller_destination=f"1519{n % 10**7:07d}",
                destination_number=f"1416{(n * 31) % 10**7:07d}",
                start=START + timedelta(seconds=n * 3),
                billsec=(n * 37) % 900,
            ),
            domain=f"tenant{n % 200}.pbx.example.net",
            hangup_cause="NORMAL_CLEARING",
        )


def bulk(engine: Engine, total: int, batch: int) -> float:
    """Store ``total`` calls with the bridge's bulk path; return the seconds it took."""
    now = datetime.now(UTC)
    records = list(synthetic_cdrs(total))
    started = time.perf_counter()
    for first in range(0, total, batch):
        with engine.begin() as conn:
            store_cdrs(conn, 1, records[first : first + batch], now=now, service_id=7)
    return time.perf_counter() - started


def row_by_row(engine: Engine, sample: int) -> float:
    """Insert ``sample`` calls one statement and one commit each; return the seconds taken."""
    now = datetime.now(UTC).replace(tzinfo=None)
    statement = cdrs.insert()
    started = time.perf_counter()
    for record in synthetic_cdrs(sample, offset=10**9):
        with engine.begin() as conn:
            conn.execute(
                statement,
                {
                    "server_id": 2,
                    "uuid": record.uuid,
                    "service_id": 7,
                    "domain": record.domain,
                    "direction": record.direction.value,
                    "caller_number": record.call.caller_number,
                    "caller_destination": record.call.caller_destination,
                    "destination_number": record.call.destination_number,
                    "start_utc": record.start.replace(tzinfo=None),
                    "billsec": record.billsec,
                    "leg": "a",
                    "hangup_cause": record.hangup_cause,
                    "collected_at": now,
                },
            )
    return time.perf_counter() - started


def main() -> None:
    """Run both paths on a scratch database and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cdrs", type=int, default=1_000_000)
    parser.add_argument("--baseline-sample", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--url", default="mysql+pymysql://root@127.0.0.1:3306/bench_ingest_tmp")
    args = parser.parse_args()
    url: URL = make_url(args.url)
    server = create_engine(url.set(database=""))
    with server.begin() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{url.database}`"))
        conn.execute(text(f"CREATE DATABASE `{url.database}` CHARACTER SET utf8mb4"))
    engine = make_engine(Settings(database_url=url))
    try:
        upgrade_database(engine)
        with engine.connect() as conn:
            version = conn.execute(text("SELECT VERSION()")).scalar_one()
        print(f"MariaDB {version}, Python {platform.python_version()}, {platform.processor()}")
        bulk_seconds = bulk(engine, args.cdrs, args.batch)
        bulk_rate = args.cdrs / bulk_seconds
        print(
            f"bulk ({args.batch}/batch): {args.cdrs:,} rows in {bulk_seconds:.1f} s = "
            f"{bulk_rate:,.0f} rows/s"
        )
        base_seconds = row_by_row(engine, args.baseline_sample)
        base_rate = args.baseline_sample / base_seconds
        print(
            f"row by row: {args.baseline_sample:,} rows in {base_seconds:.1f} s = "
            f"{base_rate:,.0f} rows/s ({args.cdrs / base_rate:.0f} s per {args.cdrs:,})"
        )
        print(f"ratio: bulk is {bulk_rate / base_rate:.1f}x row by row")
        again = time.perf_counter()
        with engine.begin() as conn:
            result = store_cdrs(conn, 1, synthetic_cdrs(args.batch), now=datetime.now(UTC))
        print(
            f"re-storing {args.batch} stored calls: {result.inserted} inserted, "
            f"{result.duplicates} skipped in {time.perf_counter() - again:.2f} s"
        )
    finally:
        engine.dispose()
        with server.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{url.database}`"))
        server.dispose()


if __name__ == "__main__":
    main()
