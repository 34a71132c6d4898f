"""Benchmark: autosuspend and daily over many clients, set-based reads beside a per-client loop.

    python bench/standings.py [--clients 100000] [--sample 2000]

Creates a scratch MariaDB database (``bench_standings_tmp``) with the WHMCS fixture, the four VoIP
client fields, ``--clients`` clients with one VoIP service each (credit spread from -5 to 44, one
in ten owing an unpaid invoice, every service already in the state its client's standing asks,
so a pass finds nothing to change) and the two alert templates, then measures in one run:

- the set-based read both jobs use (``list_standings`` + the clients' services), for every client;
- the same facts read one client at a time (custom fields, credit, due balance, services), the
  way a per-client loop does, on ``--sample`` clients and scaled up;
- a full ``autosuspend`` pass and a full ``daily`` pass (which queues the day's alerts), each
  through the job runner as cron runs it.

Targets: set-based >= 10x the per-client loop; a full pass in <= 5 s.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine, make_url

from bridge.db import EngineDatabase
from bridge.jobs import JOBS
from bridge.jobs.base import JobContext, run_job
from bridge.settings import Settings
from bridge.store.migrate import upgrade_database
from bridge.usecases.voip_state import (
    HAS_VOIP,
    LOW_BALANCE_THRESHOLD,
    MANUAL_SUSPEND,
    VOIP_SUSPENDED,
)
from bridge.whmcs import seeding
from bridge.whmcs.clients import get_client, get_due_balance
from bridge.whmcs.customfields import get_client_field
from bridge.whmcs.schema import create_whmcs_schema
from bridge.whmcs.services import list_voip_service_states, list_voip_services
from bridge.whmcs.standings import list_standings

FIELDS = (HAS_VOIP, MANUAL_SUSPEND, VOIP_SUSPENDED, LOW_BALANCE_THRESHOLD)
NOW = datetime(2026, 11, 20, 13, 0, tzinfo=UTC)


def _columns(conn: Connection, table: str) -> list[str]:
    rows = conn.execute(
        text(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = DATABASE() "
            "AND table_name = :t AND column_name <> 'id' ORDER BY ordinal_position"
        ),
        {"t": table},
    )
    return [row[0] for row in rows]


def _copies(
    conn: Connection, table: str, row_id: int, count: int, overrides: dict[str, str]
) -> None:
    """Insert ``count`` copies of one row, some columns computed from the copy number ``seq``."""
    columns = _columns(conn, table)
    values = ", ".join(overrides.get(column, f"t.`{column}`") for column in columns)
    names = ", ".join(f"`{column}`" for column in columns)
    conn.execute(
        text(
            f"INSERT INTO {table} ({names}) SELECT {values} FROM {table} t "
            f"JOIN seq_1_to_{count} WHERE t.id = :row"
        ),
        {"row": row_id},
    )


def prepare(engine: Engine, clients: int) -> None:
    """Load the fixture and ``clients`` clients, each with its fields, balance and a service."""
    with engine.begin() as conn:
        create_whmcs_schema(conn)
    upgrade_database(engine)
    with engine.begin() as conn:
        currency = seeding.insert_currency(conn, code="USD")
        group = seeding.insert_product_group(conn, "VoIP")
        product = seeding.insert_product(
            conn, group_id=group, name="PBX", module="fusionpbx", settings={"VoIP Package": "X"}
        )
        server = seeding.insert_server(conn, name="PBX", module="fusionpbx", hostname="pbx")
        fields = {
            name: seeding.insert_custom_field(conn, name=name, input_type="text", options="")
            for name in FIELDS
        }
        for name in ("VoIP Zero Balance", "Low Balance Alert"):
            seeding.insert_email_template(conn, name=name, subject=name, message="{$client_id}")
        model = seeding.insert_client(conn, currency_id=currency, credit=Decimal(0))
        _copies(
            conn,
            "tblclients",
            model,
            clients - 1,
            {"credit": "CAST(seq % 50 AS SIGNED) - 5", "uuid": "UUID()"},
        )
        conn.execute(text("UPDATE tblclients SET credit = -5 WHERE id = :m"), {"m": model})
        service = seeding.insert_service(
            conn, client_id=model, product_id=product, server_id=server,
            domain="t.pbx.test | 5195550100", username="2112",
        )  # fmt: skip
        _copies(conn, "tblhosting", service, clients - 1, {"userid": f"{model} + seq"})
        # Services already as each client's standing asks: nothing for a pass to change.
        conn.execute(
            text(
                "UPDATE tblhosting h JOIN tblclients c ON c.id = h.userid SET "
                "h.domainstatus = IF(c.credit <= 0, 'Suspended', 'Active'), "
                "h.suspendreason = IF(c.credit <= 0, 'VoIP auto-suspend: no credit', '')"
            )
        )
        invoice = seeding.insert_invoice(conn, client_id=model, total=Decimal("5.00"))
        _copies(conn, "tblinvoices", invoice, clients // 10, {"userid": f"{model} + seq * 10"})
        for name, value in ((HAS_VOIP, "'Yes'"), (LOW_BALANCE_THRESHOLD, "'10'")):
            conn.execute(
                text(
                    "INSERT INTO tblcustomfieldsvalues (fieldid, relid, value, created_at, "
                    f"updated_at) SELECT :f, id, {value}, NOW(), NOW() FROM tblclients"
                ),
                {"f": fields[name]},
            )


def per_client(engine: Engine, sample: int) -> float:
    """Read ``sample`` clients' facts one client at a time; return the seconds taken."""
    with engine.connect() as conn:
        ids = list(
            conn.execute(text(f"SELECT id FROM tblclients ORDER BY id LIMIT {sample}")).scalars()
        )
        started = time.perf_counter()
        for client_id in ids:
            for name in FIELDS:
                get_client_field(conn, client_id, name)
            get_client(conn, client_id)
            get_due_balance(conn, client_id)
            list_voip_services(conn, client_id)
        return time.perf_counter() - started


def set_based(engine: Engine) -> tuple[float, int]:
    """Read every VoIP client's standing and services at once; return (seconds, clients)."""
    with engine.connect() as conn:
        started = time.perf_counter()
        standings = list_standings(conn, FIELDS, where=(HAS_VOIP, "Yes"))
        list_voip_service_states(conn)
        return time.perf_counter() - started, len(standings)


def full_pass(engine: Engine, job: str) -> tuple[float, str]:
    """Run ``job`` as cron does; return (seconds, its summary)."""
    database = EngineDatabase(engine)
    context = JobContext(database, Settings(database_url=engine.url), NOW)
    started = time.perf_counter()
    report = run_job(JOBS[job], context)
    return time.perf_counter() - started, report.summary


def main() -> None:
    """Prepare the clients, measure both reads and both passes, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=2_000)
    parser.add_argument("--url", default="mysql+pymysql://root@127.0.0.1:3306/bench_standings_tmp")
    args = parser.parse_args()
    url = make_url(args.url)
    server = create_engine(url.set(database=""))
    with server.begin() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{url.database}`"))
        conn.execute(text(f"CREATE DATABASE `{url.database}` CHARACTER SET utf8mb4"))
    engine = create_engine(url)
    try:
        prepare(engine, args.clients)
        loop = per_client(engine, args.sample) / args.sample * args.clients
        bulk, count = set_based(engine)
        suspend_pass = full_pass(engine, "autosuspend")
        daily_pass = full_pass(engine, "daily")
    finally:
        engine.dispose()
        with server.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{url.database}`"))
        server.dispose()
    print(f"{count:,} VoIP clients")
    print(f"per-client loop ({args.sample:,}-client sample, scaled): {loop:.1f} s")
    print(f"set-based read: {bulk:.2f} s, {loop / bulk:.1f}x faster")
    for job, (seconds, summary) in (("autosuspend", suspend_pass), ("daily", daily_pass)):
        print(f"full {job} pass: {seconds:.2f} s ({summary})")


if __name__ == "__main__":
    main()
