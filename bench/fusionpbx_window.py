"""What collecting by record time costs on a large FusionPBX ``v_xml_cdr``, and what fixes it.

    python bench/fusionpbx_window.py [--rows 1000000] [--url postgresql://postgres@127.0.0.1/postgres]

Creates a scratch PostgreSQL database (``bench_fusionpbx_tmp``, dropped afterwards) holding
FusionPBX's ``v_xml_cdr`` (``tests/schema/fusionpbx_v_xml_cdr.sql``, with FusionPBX's own
``start_stamp`` index) filled with ``--rows`` calls over 90 days, then times one batch of the
bridge's collection query for a typical five-minute window, three ways:

- the old window on ``start_stamp`` (FusionPBX's index serves it): the baseline;
- the window on when each row was recorded, ``COALESCE(insert_date, start_stamp)``, as the bridge
  reads since calls written late must not be missed — on the table as FusionPBX creates it;
- the same after the index the bridge's docs suggest to operators.

Prints each query's best time of five and its plan's first line, and the ratios.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from bridge.modules.base import TimeWindow
from bridge.modules.fusionpbx_db import FusionPbxCdrDatabase

SCHEMA = Path(__file__).resolve().parents[1] / "tests" / "schema" / "fusionpbx_v_xml_cdr.sql"
NAME = "bench_fusionpbx_tmp"
END = datetime(2026, 12, 1, tzinfo=UTC)
INDEX = (
    "CREATE INDEX voipbridge_v_xml_cdr_recorded "
    "ON v_xml_cdr ((COALESCE(insert_date, start_stamp)), xml_cdr_uuid)"
)


def fill(conn: psycopg.Connection[Any], rows: int) -> None:
    """Insert ``rows`` calls spread over 90 days, each recorded a few minutes after it started."""
    conn.execute(
        """
        INSERT INTO v_xml_cdr (xml_cdr_uuid, domain_name, direction, caller_id_number,
            destination_number, start_stamp, insert_date, billsec, leg, hangup_cause)
        SELECT md5(n::text)::uuid, 'tenant' || (n %% 200) || '.example.com',
            CASE WHEN n %% 5 = 0 THEN 'inbound' ELSE 'outbound' END, '2112',
            '1416555' || lpad((n %% 10000)::text, 4, '0'),
            %(end)s - (n * interval '90 days' / %(rows)s),
            %(end)s - (n * interval '90 days' / %(rows)s) + (n %% 600) * interval '1 second',
            n %% 900, 'a', 'NORMAL_CLEARING'
        FROM generate_series(1, %(rows)s) AS n
        """,
        {"rows": rows, "end": END},
    )
    conn.execute("ANALYZE v_xml_cdr")


def best_of(
    conn: psycopg.Connection[Any], query: sql.SQL | sql.Composed, params: dict[str, Any]
) -> float:
    """Return the best wall time of five runs of ``query``, in milliseconds."""
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        conn.execute(query, params).fetchall()
        best = min(best, time.perf_counter() - started)
    return best * 1000


def plan_of(
    conn: psycopg.Connection[Any], query: sql.SQL | sql.Composed, params: dict[str, Any]
) -> str:
    """Return the scan of ``query``'s plan (how PostgreSQL reaches the rows)."""
    lines = [str(row[0]).strip() for row in conn.execute(sql.SQL("EXPLAIN ") + query, params)]
    scans = [line.removeprefix("->  ") for line in lines if "Scan" in line]
    return scans[0] if scans else lines[0]


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()

    with psycopg.connect(args.url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(NAME))
        )
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(NAME)))
    dsn = make_conninfo(args.url, dbname=NAME)
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(SCHEMA.read_text(encoding="utf-8").encode())
            started = time.perf_counter()
            fill(conn, args.rows)
            print(f"v_xml_cdr: {args.rows:,} rows loaded in {time.perf_counter() - started:.1f} s")
            reader = FusionPbxCdrDatabase(dsn, server_name="bench")
            window = TimeWindow(END - timedelta(days=10, minutes=5), END - timedelta(days=10))
            recorded, params = reader._batch_query(None, window, None)  # the bridge's own query
            started_window = sql.SQL(
                "SELECT xml_cdr_uuid FROM v_xml_cdr WHERE start_stamp >= %(start)s "
                "AND start_stamp < %(end)s ORDER BY start_stamp, xml_cdr_uuid LIMIT %(limit)s"
            )
            figures = {
                "start_stamp window (FusionPBX's index)": best_of(conn, started_window, params),
            }
            plans = {
                "start_stamp window (FusionPBX's index)": plan_of(conn, started_window, params)
            }
            figures["recorded window, no index"] = best_of(conn, recorded, params)
            plans["recorded window, no index"] = plan_of(conn, recorded, params)
            started = time.perf_counter()
            conn.execute(INDEX)
            built = time.perf_counter() - started
            figures["recorded window, suggested index"] = best_of(conn, recorded, params)
            plans["recorded window, suggested index"] = plan_of(conn, recorded, params)
            size = conn.execute(
                "SELECT pg_size_pretty(pg_relation_size('voipbridge_v_xml_cdr_recorded'))"
            ).fetchone()
    finally:
        with psycopg.connect(args.url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(NAME))
            )
    baseline = figures["start_stamp window (FusionPBX's index)"]
    print("one batch of a five-minute collection window (best of 5):")
    for name, milliseconds in figures.items():
        print(f"  {name}: {milliseconds:.2f} ms ({milliseconds / baseline:.1f}x the baseline)")
        print(f"    plan: {plans[name]}")
    print(f"suggested index: built in {built:.1f} s, {size[0] if size else '?'} on disk")


if __name__ == "__main__":
    main()
