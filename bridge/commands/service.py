"""Service commands: serve, migrate, doctor, grants and demo."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import uvicorn
from rich.console import Console
from rich.markup import escape
from starlette.routing import BaseRoute

from bridge.app import create_app
from bridge.clock import utc_now, whmcs_today
from bridge.db import EngineDatabase, open_database
from bridge.demo import DUE_IN_DAYS, build_demo_database, render_summary, summarize_demo
from bridge.demo_billing import describe_billing, run_demo_jobs
from bridge.demo_rating import describe_usage
from bridge.doctor import examine
from bridge.errors import ConfigError
from bridge.grants import grant_statements
from bridge.settings import Listen, Settings, load_settings
from bridge.store.migrate import upgrade_database
from bridge.web.demo_preview import ROOT as PREVIEW_ROOT
from bridge.web.demo_preview import is_loopback, preview_routes

EXIT_PROBLEMS = 1


def run_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Check the database, then serve the bridge with uvicorn until interrupted."""
    if args.listen:
        settings = dataclasses.replace(settings, listen=_parse_listen_arg(args.listen))
    with open_database(settings) as database:
        report = examine(database, settings.database_display)
        if not report.healthy:
            print(report.render(), file=sys.stderr)
            return EXIT_PROBLEMS
        _serve(settings, database)
    return 0


def run_migrate(args: argparse.Namespace, settings: Settings) -> int:
    """Apply the bridge's pending migrations and say where the database now stands."""
    with open_database(settings) as database:
        state = upgrade_database(database.engine)
    print(f"bridge tables at revision {state.current} ({settings.database_display})")
    return 0


def run_doctor(args: argparse.Namespace, settings: Settings) -> int:
    """Print the doctor report; exit 1 when anything is missing."""
    with open_database(settings) as database:
        report = examine(database, settings.database_display)
    print(report.render())
    return 0 if report.healthy else EXIT_PROBLEMS


def run_grants(args: argparse.Namespace, settings: Settings) -> int:
    """Print the GRANT statements the bridge's database user needs."""
    database = args.database or (None if settings.is_sqlite else settings.database_url.database)
    if not database:
        raise ConfigError("Name the WHMCS database: --database whmcs (or set BRIDGE_DATABASE_URL).")
    print("\n".join(grant_statements(args.account, database)))
    return 0


def run_demo(args: argparse.Namespace, settings: Settings) -> int:
    """Build the demo WHMCS database, show what is in it, then serve the bridge on it."""
    if settings.database_configured and not settings.is_sqlite:
        raise ConfigError(
            "bridge demo writes demo data and only runs on its own SQLite file; unset "
            "BRIDGE_DATABASE_URL (it points at a real database) or run `bridge serve` instead."
        )
    path = Path(args.db)
    today = whmcs_today(utc_now(), settings.timezone)
    listen = _parse_listen_arg(args.listen) if args.listen else settings.listen
    settings = dataclasses.replace(
        settings,
        database_url=build_demo_database(path, today=today),
        database_configured=True,
        listen=listen,
    )
    console = Console()
    with open_database(settings) as database, database.transaction() as conn:
        console.print(render_summary(summarize_demo(conn)))
        console.print(
            "\nUsage the stored demo calls would add to the next invoices (nothing is billed):"
        )
        console.print(escape(describe_usage(conn, today=today, zone=settings.timezone)))
    outbox = _fresh_mail_folder(path)
    with open_database(settings) as database:
        reports = run_demo_jobs(
            database,
            settings,
            now=utc_now(),
            due=today + timedelta(days=DUE_IN_DAYS),
            outbox=outbox,
        )
        with database.transaction() as conn:
            console.print("\nThe billing jobs, run on the demo data:")
            console.print(escape(describe_billing(conn, reports)))
    console.print(f"Demo WHMCS database: {path.resolve()}; its mail: {outbox.resolve()}")
    if args.no_serve:
        return 0
    base = f"http://{settings.listen}"
    console.print(f"Serving the bridge on {base}  (Ctrl-C to stop)")
    console.print(f"  health:        {base}/healthz")
    if settings.secret is None:
        console.print("  module calls:  disabled until BRIDGE_SECRET is set (see .env.example)")
    else:
        console.print(f"  module calls:  POST {base}/v1/whmcs/{{module}}/{{action}} (signed)")
    preview = is_loopback(settings.listen.host)
    if preview:
        console.print(
            f"  client area:   {base}{PREVIEW_ROOT}  (preview of the demo clients' pages)"
        )
    else:
        console.print("  client area:   no preview (it is served on loopback addresses only)")
    with open_database(settings) as database:
        _serve(settings, database, extra_routes=preview_routes() if preview else ())
    return 0


def _fresh_mail_folder(database: Path) -> Path:
    """Return the demo's mail folder beside its database, emptied of an earlier demo's mail."""
    folder = database.with_name(f"{database.stem}-mail")
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.eml"):
        old.unlink()
    return folder


def _serve(
    settings: Settings, database: EngineDatabase, *, extra_routes: Sequence[BaseRoute] = ()
) -> None:
    app = create_app(settings, database=database, extra_routes=extra_routes)
    uvicorn.run(
        app,
        host=settings.listen.host,
        port=settings.listen.port,
        log_level=settings.log_level.lower(),
        # The proxy in front of the bridge (if any) is trusted only when configured in uvicorn.
        proxy_headers=False,
        # The bridge logs requests itself, without query strings (bridge/web/access_log.py).
        access_log=False,
    )


def _parse_listen_arg(raw: str) -> Listen:
    return load_settings({"BRIDGE_LISTEN": raw}).listen


def add_commands(commands: Any) -> None:
    """Register these commands on the ``bridge`` argument parser."""
    serve = commands.add_parser("serve", help="check the database, then serve the bridge")
    serve.add_argument("--listen", help="HOST:PORT (default: BRIDGE_LISTEN or 127.0.0.1:8080)")
    serve.set_defaults(run=run_serve)

    migrate = commands.add_parser("migrate", help="create or upgrade the bridge's own tables")
    migrate.set_defaults(run=run_migrate)

    doctor = commands.add_parser(
        "doctor", help="check the WHMCS schema and the bridge's tables; exit 1 on problems"
    )
    doctor.set_defaults(run=run_doctor)

    grants = commands.add_parser(
        "grants", help="print the GRANT statements for the bridge's database user"
    )
    grants.add_argument("account", help="USER@HOST, e.g. voipbridge@10.0.0.%%")
    grants.add_argument("--database", help="WHMCS database (default: from BRIDGE_DATABASE_URL)")
    grants.set_defaults(run=run_grants)

    demo = commands.add_parser(
        "demo", help="build a demo WHMCS in SQLite, show it, and serve the bridge on it"
    )
    demo.add_argument("--db", default="voipbridge.db", help="SQLite file (default: %(default)s)")
    demo.add_argument("--listen", help="HOST:PORT (default: BRIDGE_LISTEN or 127.0.0.1:8080)")
    demo.add_argument(
        "--no-serve", action="store_true", help="build and show the demo data, then exit"
    )
    demo.set_defaults(run=run_demo)
