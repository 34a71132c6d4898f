"""Benchmark: importing a large rate card into MariaDB vs the database's own floor.

    python bench/tariff_import.py [--rows 1128648] [--rounds 3]
    python bench/tariff_import.py --quick      # 100,000 rows, 3 rounds

Writes a rate card of six columns (Description, Prefix, RateValue, Increment, ShortDescription,
Lastratechangedate; 1,128,648 rows is about 100 MB, the size providers send), creates and drops a
scratch database ``bench_tariff_<pid>`` on 127.0.0.1:3306 (root, no password, or ``--url``), and
in alternating rounds (so load from other processes hits both alike) times:

- the floor: in one transaction, delete the previous round's rows and ``LOAD DATA LOCAL INFILE``
  a tab-separated file of the same rates under the same tariff id, prepared before timing (the
  first round is a first import, the others replace every rate, as the bridge's rounds do);
- the bridge: ``import_tariff`` of the CSV in one transaction, in a child process (as
  ``bridge tariff import`` runs), which replaces the previous round's rates.

Prints rows/s from the median round of each, the bridge as a share of the floor, and the child's
peak memory: its maximum resident set (``resource.getrusage(RUSAGE_SELF).ru_maxrss``, the whole
process, as ``/usr/bin/time -v`` reports it). Targets: >= 50,000 rows/s; peak <= 240 MB for the
100 MB card.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pymysql
from scratch import floor_connection, scratch_database
from sqlalchemy.engine import URL, make_url

from bridge.db import make_engine
from bridge.settings import Settings
from bridge.store.tables import tariff_rates
from bridge.store.tariffs import import_tariff

HEADER = "Description,Prefix,RateValue,Increment,ShortDescription,Lastratechangedate\n"


def write_card(rows: int, csv_path: Path, tsv_path: Path, seed: int) -> None:
    """Write ``rows`` distinct rates as the provider's CSV and as LOAD DATA's tab-separated text."""
    rnd = random.Random(seed)
    with csv_path.open("w", encoding="utf-8") as card, tsv_path.open("w", encoding="utf-8") as tsv:
        card.write(HEADER)
        for n in range(rows):
            prefix = str(10**6 + n * 7)
            country = f"Destination {prefix[:3]} Mobile Operator {n % 97} - Standard Rate Area"
            rate = f"0.{rnd.randint(100, 999999):06d}"
            increment = (1, 6, 30, 60)[n % 4]
            day = f"2025-{n % 12 + 1:02d}-{n % 28 + 1:02d}"
            card.write(f"{country},{prefix},{rate},{increment},D{n % 1000},{day}\n")
            tsv.write(f"{prefix}\t{country}\t{rate}\t{increment}\tD{n % 1000}\t{day}\n")


def child(url: str, csv_path: str) -> None:
    """Import the card once, as ``bridge tariff import`` does; print seconds and peak RSS (KiB)."""
    engine = make_engine(Settings(database_url=make_url(url)))
    started = time.perf_counter()
    with engine.begin() as conn, open(csv_path, encoding="utf-8-sig", newline="") as lines:
        result = import_tariff(conn, "bench", lines, source=csv_path, now=datetime.now(UTC))
    seconds = time.perf_counter() - started
    engine.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{seconds} {peak} {result.imported}")


def floor_round(conn: pymysql.Connection, tsv_path: Path, tariff_id: int) -> float:
    """Replace the floor's rates with the prepared file in one transaction; return seconds."""
    started = time.perf_counter()
    with conn.cursor() as cur:
        cur.execute(f"DELETE FROM {tariff_rates.name} WHERE tariff_id = %s", (tariff_id,))
        cur.execute(
            f"LOAD DATA LOCAL INFILE '{tsv_path}' INTO TABLE {tariff_rates.name} "
            f"CHARACTER SET utf8mb4 (prefix, description, rate, increment, short_description, "
            f"last_rate_change) SET tariff_id = {tariff_id}"
        )
    conn.commit()
    return time.perf_counter() - started


def bridge_round(url: URL, csv_path: Path) -> tuple[float, int]:
    """Run the import in a child process; return its seconds and peak RSS in KiB."""
    out = subprocess.run(  # noqa: S603 - this script, run as a child
        [sys.executable, __file__, "--child", url.render_as_string(False), str(csv_path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return float(out[0]), int(out[1])


def main() -> None:
    """Write the card, run floor and bridge rounds on a scratch database, print the figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_128_648)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="100,000 rows")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument(
        "--url", default=f"mysql+pymysql://root@127.0.0.1:3306/bench_tariff_{os.getpid()}"
    )
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    if args.quick:
        args.rows = 100_000
    url: URL = make_url(args.url)
    with scratch_database(url) as engine:
        engine.dispose()
        with tempfile.TemporaryDirectory(prefix="bench_tariff_") as scratch:
            csv_path, tsv_path = Path(scratch) / "card.csv", Path(scratch) / "card.tsv"
            write_card(args.rows, csv_path, tsv_path, args.seed)
            size = csv_path.stat().st_size / 2**20
            print(f"card: {args.rows:,} rows, {size:.1f} MiB; load {os.getloadavg()}")
            floor_conn = floor_connection(url)
            floors, bridges, peaks = [], [], []
            try:
                for n in range(args.rounds):
                    floors.append(floor_round(floor_conn, tsv_path, 10_000))
                    seconds, peak = bridge_round(url, csv_path)
                    bridges.append(seconds)
                    peaks.append(peak)
                    print(f"  round {n + 1}: floor {floors[-1]:.2f} s, bridge {seconds:.2f} s")
            finally:
                floor_conn.close()
        floor_rate = args.rows / statistics.median(floors)
        bridge_rate = args.rows / statistics.median(bridges)
        print(f"floor (LOAD DATA of a prepared file): {floor_rate:,.0f} rows/s median")
        print(
            f"bridge (import_tariff, child process): {bridge_rate:,.0f} rows/s median; "
            f"{bridge_rate / floor_rate:.0%} of the floor"
        )
        print(f"bridge peak memory (child max RSS): {max(peaks) / 1024:.0f} MB")
        print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
