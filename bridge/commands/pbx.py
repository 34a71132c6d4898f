"""PBX commands: CDR collection and import, and the bridge's per-server settings."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich import progress
from rich.console import Console

from bridge.clock import parse_timezone, require_plausible, utc_now
from bridge.commands import record_id
from bridge.db import open_database
from bridge.errors import InvalidRequest
from bridge.settings import Settings
from bridge.store.servers import get_server_settings, issue_push_token, save_server_settings
from bridge.text_files import reading_utf8
from bridge.usecases.cdr_intake import collect_cdrs, import_cdr_file
from bridge.whmcs.services import find_server

EXIT_PROBLEMS = 1


def run_cdr_collect(args: argparse.Namespace, settings: Settings) -> int:
    """Collect new CDRs from the PBXes into the store; exit 1 if any scope failed."""
    since = _parse_since(args.since) if args.since else None
    console = Console(stderr=True)
    with (
        open_database(settings) as database,
        progress.Progress(
            progress.SpinnerColumn(),
            progress.TextColumn("{task.description}"),
            progress.TextColumn("{task.completed} calls"),
            console=console,
            transient=True,
        ) as bar,
    ):
        task = bar.add_task("collecting", total=None)

        def advance(scope: str, count: int) -> None:
            bar.update(task, description=f"collecting {scope}", advance=count)

        report = collect_cdrs(
            database,
            key=settings.encryption_key,
            now=utc_now(),
            server_id=args.server,
            since=since,
            progress=advance,
        )
    for scope in report.scopes:
        where = f"server #{scope.server_id} {scope.scope}"
        if scope.error:
            print(f"{where}: FAILED, will retry next run: {scope.error}")
        else:
            unassigned = f", {scope.unassigned} with no service" if scope.unassigned else ""
            aside = f", {scope.quarantined} quarantined" if scope.quarantined else ""
            print(
                f"{where}: {scope.inserted} new, {scope.duplicates} already stored"
                f"{unassigned}{aside}"
            )
    if report.reattributed:
        print(f"{report.reattributed} earlier call(s) filed under their service now")
    print(f"{report.inserted} new call(s) stored; {len(report.errors)} scope(s) failed")
    if report.quarantined:
        print(
            f"{report.quarantined} record(s) could not be stored and were quarantined with the "
            "reason; the rest were stored (`bridge doctor` counts them)"
        )
    if report.unassigned:
        print(
            f"{report.unassigned} new call(s) match no service, or several: they are kept and "
            "filed once exactly one service has their tenant (`bridge doctor` lists them)"
        )
    return EXIT_PROBLEMS if report.errors else 0


def run_cdr_import(args: argparse.Namespace, settings: Settings) -> int:
    """Import a FusionPBX CDR CSV export for one service, never duplicating stored calls."""
    path = Path(args.file)
    zone = parse_timezone(args.tz) if args.tz else None
    try:
        with (
            open_database(settings) as database,
            reading_utf8(path),
            progress.open(
                path, "r", encoding="utf-8-sig", newline="", description="reading"
            ) as lines,
        ):
            report = import_cdr_file(
                database,
                service_id=args.service,
                lines=lines,
                source=path.name,
                zone=zone,
                now=utc_now(),
            )
    except OSError as exc:
        raise InvalidRequest(f"{exc.filename}: {exc.strerror}") from None
    bad = len(report.bad_lines)
    print(
        f"service #{report.service_id}: {report.imported} imported, "
        f"{report.duplicates} skipped (already stored), "
        f"{report.b_legs} b-leg row(s) skipped, {bad} bad line(s), "
        f"{report.quarantined} quarantined"
    )
    if report.other_tenants:
        print(
            f"warning: {report.other_tenants} call(s) name another tenant than service "
            f"#{report.service_id}'s; they were filed under it as asked",
            file=sys.stderr,
        )
    for line in report.bad_lines[:50]:
        print(f"  {line}", file=sys.stderr)
    return EXIT_PROBLEMS if bad or report.quarantined else 0


def run_server_set(args: argparse.Namespace, settings: Settings) -> int:
    """Store the bridge's settings for a WHMCS server; secrets are prompted for, never argv."""
    values = _read_secrets(args.secret or ())
    with open_database(settings) as database, database.transaction() as conn:
        if find_server(conn, args.server) is None:
            raise InvalidRequest(
                f"WHMCS has no server #{args.server} (tblservers.id); check the id in WHMCS under "
                "System Settings > Servers."
            )
        saved = save_server_settings(
            conn,
            args.server,
            key=settings.encryption_key,
            now=utc_now(),
            timezone=args.timezone,
            cdr_source=args.cdr_source,
            secret_values=values,
        )
    print(_describe(saved.server_id, saved.timezone.key, saved.cdr_source, saved.secrets))
    return 0


def run_server_show(args: argparse.Namespace, settings: Settings) -> int:
    """Show the bridge's settings for a WHMCS server (secret names only)."""
    with open_database(settings) as database, database.transaction() as conn:
        saved = get_server_settings(conn, args.server, key=settings.encryption_key)
    print(_describe(saved.server_id, saved.timezone.key, saved.cdr_source, saved.secrets))
    return 0


def run_server_push_token(args: argparse.Namespace, settings: Settings) -> int:
    """Issue a new CDR push token for a server (the old one stops working) and print it once."""
    with open_database(settings) as database, database.transaction() as conn:
        token = issue_push_token(conn, args.server, now=utc_now())
    print(token)
    print(
        f"Use it in the PBX's CDR URL for POST /v1/cdr/vodia/{args.server} (as Bearer token or "
        "basic-auth password). It is shown only now; run this again to replace it.",
        file=sys.stderr,
    )
    return 0


def _describe(server_id: int, zone: str, source: str, secrets: Any) -> str:
    names = ", ".join(sorted(secrets)) or "none"
    return (
        f"server #{server_id}: timezone {zone}, CDR source {source or 'default'}, secrets: {names}"
    )


def _read_secrets(names: Sequence[str]) -> dict[str, str]:
    """Read one value per secret name (a prompt, or one stdin line each); refuse gaps."""
    values = {}
    for number, name in enumerate(names, start=1):
        if sys.stdin.isatty():
            value = getpass.getpass(f"{name}: ")
        else:
            line = sys.stdin.readline()
            if not line:
                raise InvalidRequest(
                    f"--secret {name}: stdin ended after {number - 1} line(s), but {len(names)} "
                    "secret name(s) were given; send one line per --secret, in order."
                )
            value = line.rstrip("\r\n")
        if not value:
            # Saving an empty value would delete the stored secret without saying so.
            raise InvalidRequest(
                f"--secret {name}: the value is empty; nothing was changed. Give the secret's "
                "value (one line on stdin, or at the prompt)."
            )
        values[name] = value
    return values


def _parse_since(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidRequest(f"--since {text!r} is not a date (YYYY-MM-DD or ISO 8601)") from None
    require_plausible(value, what="--since")
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def add_commands(commands: Any) -> None:
    """Register the cdr and server commands on the ``bridge`` argument parser."""
    cdr = commands.add_parser("cdr", help="collect and import call detail records")
    cdr_commands = cdr.add_subparsers(title="cdr commands", required=True, metavar="CMD")
    collect = cdr_commands.add_parser(
        "collect", help="pull new CDRs from the PBXes into the store (exit 1 if any failed)"
    )
    collect.add_argument("--server", type=record_id, help="only this WHMCS server id")
    collect.add_argument(
        "--since", help="collect calls from this date (UTC unless an offset is given)"
    )
    collect.set_defaults(run=run_cdr_collect)
    importer = cdr_commands.add_parser(
        "import", help="import a FusionPBX CDR CSV export for a service (no duplicates)"
    )
    importer.add_argument("file", metavar="CDRS.csv")
    importer.add_argument("--service", type=record_id, required=True, help="WHMCS service id")
    importer.add_argument("--tz", help="zone of stamps without an offset (default: the server's)")
    importer.set_defaults(run=run_cdr_import)

    server = commands.add_parser("server", help="the bridge's settings for a WHMCS server")
    server_commands = server.add_subparsers(title="server commands", required=True, metavar="CMD")
    setter = server_commands.add_parser("set", help="set timezone, CDR source and secrets")
    setter.add_argument("server", type=record_id, help="WHMCS server id (tblservers.id)")
    setter.add_argument("--timezone", help="the PBX's IANA timezone, e.g. America/Toronto")
    setter.add_argument(
        "--cdr-source", choices=("database", "export", "push", "file"), help="where CDRs come from"
    )
    setter.add_argument(
        "--secret",
        action="append",
        metavar="NAME",
        help="store a secret (db_dsn, api_password, ...), read from a prompt or one stdin line",
    )
    setter.set_defaults(run=run_server_set)
    show = server_commands.add_parser("show", help="show the settings (secret names only)")
    show.add_argument("server", type=record_id)
    show.set_defaults(run=run_server_show)
    token = server_commands.add_parser("push-token", help="issue a new CDR push token")
    token.add_argument("server", type=record_id)
    token.set_defaults(run=run_server_push_token)
