"""Benchmark: storing CDRs in MariaDB with the bridge's bulk path vs the database's own floor.

    python bench/ingest.py [--cdrs 1000000] [--batch 5000] [--baseline-sample 20000]
    python bench/ingest.py --quick          # 100,000 CDRs, a 2,000-row row-by-row sample
    python bench/ingest.py --plain          # the bridge's fallback (multi-row INSERT IGNORE)
    python bench/ingest.py --url mysql+mysqldb://root@127.0.0.1:3306/bench_ingest_mc  # mysqlclient

Creates and drops a scratch database ``bench_ingest_<pid>`` on 127.0.0.1:3306 (root, no password,
or ``--url``). In alternating batches (so load from other processes hits both alike) it times:

- the floor: ``LOAD DATA LOCAL INFILE`` of a tab-separated file prepared before timing, with the
  same rows the bridge stores, one transaction per batch (server 3);
- the bridge: :func:`bridge.store.cdrs.store_cdrs` over the same calls, built as
  :class:`~bridge.calls.CollectedCdr` values, one transaction per batch, as ``bridge cdr collect``
  commits them (server 1).

Prints rows/s for each from the median batch and the bridge as a share of the floor, then a
row-by-row sample (one INSERT and one commit per call, as a naive collector does). Targets:
>= 50,000 rows/s and >= 60% of the floor.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pymysql
from scratch import floor_connection, scratch_database
from sqlalchemy import text
from sqlalchemy.engine import URL, Engine, make_url

from bridge.calls import CollectedCdr
from bridge.rating.models import Cdr, Direction
from bridge.store import bulk
from bridge.store.cdrs import store_cdrs
from bridge.store.tables import cdrs

START = datetime(2026, 1, 1, tzinfo=UTC)
DIRECTIONS = (Direction.OUTBOUND, Direction.OUTBOUND, Direction.INBOUND, Direction.LOCAL)
FLOOR_COLUMNS = (
    "server_id, uuid, service_id, domain, direction, caller_number, caller_destination, "
    "destination_number, start_utc, billsec, leg, hangup_cause, caller_name, collected_at"
)


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
            caller_name=f"Caller {n % 500}",
        )


def floor_file(records: list[CollectedCdr], path: Path, now: datetime) -> None:
    """Write ``records`` as LOAD DATA's default tab-separated text (no value needs escaping)."""
    stamp = now.strftime("%Y-%m-%d %H:%M:%S")
    with path.open("w", encoding="utf-8") as out:
        for r in records:
            start = r.start.strftime("%Y-%m-%d %H:%M:%S")
            out.write(
                f"3\t{r.uuid}\t7\t{r.domain}\t{r.direction.value}\t{r.call.caller_number}\t"
                f"{r.call.caller_destination}\t{r.call.destination_number}\t{start}\t"
                f"{r.billsec}\t{r.leg}\t{r.hangup_cause}\t{r.caller_name}\t{stamp}\n"
            )


def floor_batch(conn: pymysql.Connection, path: Path) -> float:
    """Load one prepared file in its own transaction; return the seconds it took."""
    started = time.perf_counter()
    with conn.cursor() as cur:
        cur.execute(
            f"LOAD DATA LOCAL INFILE '{path}' IGNORE INTO TABLE {cdrs.name} "
            f"CHARACTER SET utf8mb4 ({FLOOR_COLUMNS})"
        )
    conn.commit()
    return time.perf_counter() - started


def bridge_batch(engine: Engine, records: list[CollectedCdr], now: datetime) -> float:
    """Store one batch with ``store_cdrs`` in its own transaction; return the seconds taken."""
    started = time.perf_counter()
    with engine.begin() as conn:
        store_cdrs(conn, 1, records, now=now, service_id=7)
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


def compare(engine: Engine, url: URL, total: int, batch: int) -> tuple[float, float]:
    """Run floor and bridge batches alternately; return (floor rows/s, bridge rows/s), medians."""
    now = datetime.now(UTC).replace(microsecond=0)
    batches = [list(synthetic_cdrs(batch, offset=first)) for first in range(0, total, batch)]
    # The calls are built before timing; frozen, so the collector does not re-walk a million of
    # them on each pass (`bridge cdr collect` holds one batch, not the whole run).
    gc.collect()
    gc.freeze()
    floor_conn = floor_connection(url)
    floor_times, bridge_times = [], []
    with tempfile.TemporaryDirectory(prefix="bench_ingest_") as scratch:
        paths = []
        for n, rows in enumerate(batches):
            paths.append(Path(scratch) / f"batch{n}.tsv")
            floor_file(rows, paths[-1], now)
        try:
            for path, rows in zip(paths, batches, strict=True):
                floor_times.append(floor_batch(floor_conn, path) / len(rows))
                bridge_times.append(bridge_batch(engine, rows, now) / len(rows))
        finally:
            floor_conn.close()
    gc.unfreeze()
    floor_rate = 1 / statistics.median(floor_times)
    bridge_rate = 1 / statistics.median(bridge_times)
    print(
        f"floor (LOAD DATA of prepared files): {floor_rate:,.0f} rows/s median "
        f"({total / (sum(floor_times) * batch):,.0f} overall)"
    )
    print(
        f"bridge (store_cdrs, {batch}/batch): {bridge_rate:,.0f} rows/s median "
        f"({total / (sum(bridge_times) * batch):,.0f} overall); "
        f"{bridge_rate / floor_rate:.0%} of the floor"
    )
    return floor_rate, bridge_rate


def main() -> None:
    """Run the floor and the bridge on a scratch database and print the figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cdrs", type=int, default=1_000_000)
    parser.add_argument("--baseline-sample", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--quick", action="store_true", help="100,000 CDRs, 2,000 row by row")
    parser.add_argument(
        "--plain", action="store_true", help="the bridge without LOAD DATA (its fallback insert)"
    )
    parser.add_argument(
        "--url", default=f"mysql+pymysql://root@127.0.0.1:3306/bench_ingest_{os.getpid()}"
    )
    args = parser.parse_args()
    if args.quick:
        args.cdrs, args.baseline_sample = 100_000, 2_000
    if args.plain:
        bulk.load_data_available = lambda conn: False
    url: URL = make_url(args.url)
    with scratch_database(url) as engine:
        with engine.connect() as conn:
            version = conn.execute(text("SELECT VERSION()")).scalar_one()
        print(f"MariaDB {version}, Python {platform.python_version()}, load {os.getloadavg()}")
        _floor, bridge_rate = compare(engine, url, args.cdrs, args.batch)
        if args.baseline_sample:
            base_seconds = row_by_row(engine, args.baseline_sample)
            base_rate = args.baseline_sample / base_seconds
            print(
                f"row by row: {args.baseline_sample:,} rows in {base_seconds:.1f} s = "
                f"{base_rate:,.0f} rows/s; the bridge is {bridge_rate / base_rate:.1f}x that"
            )
        again = time.perf_counter()
        with engine.begin() as conn:
            result = store_cdrs(conn, 1, synthetic_cdrs(args.batch), now=datetime.now(UTC))
        print(
            f"re-storing {args.batch} stored calls: {result.inserted} inserted, "
            f"{result.duplicates} skipped in {time.perf_counter() - again:.2f} s"
        )
        print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
