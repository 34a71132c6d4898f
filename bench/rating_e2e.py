"""End-to-end rating: ``bridge rate --json`` over CSV files vs an independent per-query rater.

    python bench/rating_e2e.py [--cdrs 100000] [--prefixes 50000] [--rounds 5]
    python bench/rating.py --end-to-end [same options]      # the same benchmark
    python bench/rating_e2e.py --quick                      # 20,000 CDRs, 3 rounds

Writes a rate card (``--prefixes`` rows), a NANP package and a FusionPBX CDR export (``--cdrs``
calls: outbound mostly, some inbound and local, a fifth unanswered, numbers written bare, E.164,
with 011 or as NANP 10-digit) into a scratch folder, then in alternating rounds (so load from
other processes hits both alike) times:

- the bridge: the ``bridge rate --json`` command (``run_rate``) with its output to ``/dev/null``:
  both CSV readers, the package, the engine and the JSON lines;
- a per-query rater written independently: the card read with ``csv`` into an indexed SQLite
  table in memory, the export read with ``csv``, one longest-prefix query per answered outbound
  call (``WHERE prefix IN (every prefix) ORDER BY LENGTH(prefix) DESC LIMIT 1``), its cost in
  ``Decimal``, and a JSON line per call from ``json.dumps``.

Prints the median round of each and the ratio, then each CSV reader alone (lines/s, median of
the rounds, collector paused as ``bridge rate`` pauses it). Targets: the bridge >= 2x the
per-query rater; each reader >= 200,000 lines/s.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import gc
import json
import os
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from bridge.commands.rating import run_rate
from bridge.gc_pause import collector_paused
from bridge.modules.fusionpbx_csv import FusionPbxCsvReader
from bridge.rating.tariff_csv import TariffCsvReader
from bridge.settings import Settings

PACKAGE = """name = "Bench NANP"
country_code = "1"
nanp_10_digit = true
markup_percent = "12.5"
free_minutes = 500
bill_inbound = true
inbound_rate = "0.0050"
inbound_increment = "6/6"
"""
HEADER = (
    "xml_cdr_uuid,domain_name,direction,caller_id_name,caller_id_number,caller_destination,"
    "destination_number,start_stamp,answer_stamp,end_stamp,duration,billsec,hangup_cause,leg,"
    "status\n"
)
DIGITS = "0123456789"
HEADS = ("1", "7", "20", "27", "33", "44", "49", "52", "55", "61", "81", "86", "91", "234", "880")


def write_files(folder: Path, prefixes: int, calls: int, seed: int) -> tuple[Path, Path, Path]:
    """Write the card, the package and the export; return their paths."""
    rnd = random.Random(seed)
    deck: dict[str, None] = dict.fromkeys(HEADS)
    for npa in range(200, 1000):
        deck["1" + str(npa)] = None
    while len(deck) < prefixes:
        head = rnd.choice(HEADS)
        deck[head + "".join(rnd.choices(DIGITS, k=rnd.randint(1, 8 - len(head))))] = None
    keys = list(deck)[:prefixes]
    tariff = folder / "tariff.csv"
    with tariff.open("w", encoding="utf-8") as out:
        out.write("Description,Prefix,RateValue,Increment,ShortDescription,Lastratechangedate\n")
        for prefix in keys:
            rate = f"0.{rnd.randint(50, 99999):05d}"
            out.write(f"Destination {prefix[:3]},{prefix},{rate},6,D{prefix[:2]},2025-11-01\n")
    package = folder / "package.toml"
    package.write_text(PACKAGE, encoding="utf-8")
    cdrs = folder / "cdrs.csv"
    start = datetime(2025, 12, 1, 8, tzinfo=UTC)
    with cdrs.open("w", encoding="utf-8") as out:
        out.write(HEADER)
        for n in range(calls):
            roll = rnd.random()
            direction = "outbound" if roll < 0.8 else "inbound" if roll < 0.95 else "local"
            number = rnd.choice(keys)
            number += "".join(rnd.choices(DIGITS, k=max(1, 11 - len(number))))
            form = rnd.random()
            if direction == "local":
                number = str(rnd.randint(2000, 2999))
            elif form < 0.1:
                number = "+" + number
            elif form < 0.2:
                number = "011" + number
            elif form < 0.3 and len(number) == 11 and number[0] == "1" and number[1] in "23456789":
                number = number[1:]
            billsec = 0 if rnd.random() < 0.2 else rnd.randint(1, 600)
            stamp = (start + timedelta(seconds=n * 20)).strftime("%Y-%m-%d %H:%M:%S+00")
            out.write(
                f"{n:08x}-0000-4000-8000-{n:012d},acme.pbx.example,{direction},Desk,2001,"
                f"1204555{n % 10000:04d},{number},{stamp},{stamp},{stamp},{billsec + 4},"
                f"{billsec},NORMAL_CLEARING,a,answered\n"
            )
    return tariff, package, cdrs


def bridge_round(tariff: Path, package: Path, cdrs: Path) -> float:
    """Run ``bridge rate --json`` with its output to /dev/null; return the seconds taken."""
    args = argparse.Namespace(
        tariff=str(tariff), package=str(package), cdrs=str(cdrs), tz="UTC", json=True
    )
    gc.collect()
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        started = time.perf_counter()
        run_rate(args, Settings())
        return time.perf_counter() - started


def per_query_round(tariff: Path, cdrs: Path) -> float:
    """Rate the export one SQLite query per call, writing a JSON line each; return seconds."""
    gc.collect()
    started = time.perf_counter()
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE rates (prefix TEXT PRIMARY KEY, rate TEXT, increment INTEGER)")
    with tariff.open(encoding="utf-8", newline="") as card:
        rows = csv.reader(card)
        next(rows)
        db.executemany(
            "INSERT INTO rates VALUES (?, ?, ?)", ((r[1], r[2], int(r[3])) for r in rows)
        )
    markup = Decimal("1.125")
    with cdrs.open(encoding="utf-8", newline="") as export, open(os.devnull, "w") as sink:
        for call in csv.DictReader(export):
            billsec = int(call["billsec"])
            number = call["destination_number"].replace("+", "")
            cost, rate_text, prefix = Decimal(0), None, None
            if billsec and call["direction"] == "outbound":
                if number.startswith("011"):
                    number = number[3:]
                elif len(number) == 10 and number[0] in "23456789":
                    number = "1" + number
                heads = [number[:n] for n in range(len(number), 0, -1)]
                found = db.execute(
                    f"SELECT prefix, rate, increment FROM rates WHERE prefix IN "
                    f"({','.join('?' * len(heads))}) ORDER BY LENGTH(prefix) DESC LIMIT 1",
                    heads,
                ).fetchone()
                if found:
                    prefix, rate_text, inc = found
                    billed = -(-billsec // inc) * inc
                    cost = Decimal(rate_text) * markup * billed / 60
            line = {
                "uuid": call["xml_cdr_uuid"],
                "number": number,
                "prefix": prefix,
                "rate": rate_text,
                "billed_seconds": billsec,
                "cost": f"{cost.quantize(Decimal('0.000001'), ROUND_HALF_UP):f}",
            }
            print(json.dumps(line), file=sink)
    db.close()
    return time.perf_counter() - started


def reader_round(tariff: Path, cdrs: Path) -> tuple[float, float]:
    """Return the seconds each reader takes alone over its file: (rate card, CDR export)."""
    gc.collect()
    with collector_paused():
        started = time.perf_counter()
        with tariff.open(encoding="utf-8-sig", newline="") as lines:
            card = TariffCsvReader(lines, source=str(tariff))
            for _row in card.rows():
                pass
            card.finish()
        middle = time.perf_counter()
        with cdrs.open(encoding="utf-8-sig", newline="") as lines:
            export = FusionPbxCsvReader(lines, source=str(cdrs), zone=ZoneInfo("UTC"))
            for _call in export.cdrs():
                pass
            export.finish()
        return middle - started, time.perf_counter() - middle


def main() -> None:
    """Write the files, alternate bridge and per-query rounds, print medians and the ratio."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cdrs", type=int, default=100_000)
    parser.add_argument("--prefixes", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="20,000 CDRs, 3 rounds")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--end-to-end", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.cdrs, args.rounds = 20_000, 3
    with tempfile.TemporaryDirectory(prefix="bench_rating_e2e_") as scratch:
        tariff, package, cdrs = write_files(Path(scratch), args.prefixes, args.cdrs, args.seed)
        print(f"{args.cdrs:,} CDRs, {args.prefixes:,} prefixes; load {os.getloadavg()}")
        bridge, naive, cards, exports = [], [], [], []
        for n in range(args.rounds):
            bridge.append(bridge_round(tariff, package, cdrs))
            naive.append(per_query_round(tariff, cdrs))
            card, export = reader_round(tariff, cdrs)
            cards.append(card)
            exports.append(export)
            print(f"  round {n + 1}: bridge {bridge[-1]:.2f} s, per-query {naive[-1]:.2f} s")
    fast, slow = statistics.median(bridge), statistics.median(naive)
    print(f"bridge rate --json: {fast:.2f} s median ({args.cdrs / fast:,.0f} CDRs/s)")
    print(f"per-query rater:    {slow:.2f} s median ({args.cdrs / slow:,.0f} CDRs/s)")
    print(f"the bridge is {slow / fast:.2f}x the per-query rater; load {os.getloadavg()}")
    card_rate = args.prefixes / statistics.median(cards)
    export_rate = args.cdrs / statistics.median(exports)
    print(
        f"rate-card reader: {card_rate:,.0f} lines/s; FusionPBX reader: {export_rate:,.0f} lines/s"
    )


if __name__ == "__main__":
    main()
