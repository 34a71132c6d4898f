"""Rating commands: tariff import/export/list, package import/show, and the rate preview."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

from rich import progress
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bridge.clock import parse_timezone, utc_now
from bridge.commands import record_id
from bridge.db import open_database
from bridge.errors import InvalidRequest
from bridge.preview import json_lines, rate_files, render_preview
from bridge.rating import RatingError
from bridge.rating.package_export import package_toml
from bridge.rating.package_toml import PackageFile, parse_package_toml
from bridge.rating.special import SpecialBilling
from bridge.rating.tariff_csv import tariff_csv_lines
from bridge.settings import Settings
from bridge.store.packages import (
    load_package,
    load_special_rules,
    save_package,
    save_special_rules,
)
from bridge.store.tariffs import import_tariff, iter_rates, list_tariffs
from bridge.text_files import not_utf8, read_utf8


def run_rate(args: argparse.Namespace, settings: Settings) -> int:
    """Preview rating of a FusionPBX CDR export; nothing is stored or billed."""
    zone = parse_timezone(args.tz) if args.tz else settings.timezone
    try:
        preview = rate_files(Path(args.tariff), Path(args.package), Path(args.cdrs), zone=zone)
    except OSError as exc:
        raise InvalidRequest(f"{exc.filename}: {exc.strerror}") from None
    if args.json:
        sys.stdout.writelines(f"{line}\n" for line in json_lines(preview))
    else:
        currency = (args.currency_prefix, args.currency_suffix)
        Console().print(render_preview(preview, explain=args.explain, currency=currency))
    return 0


def run_tariff_import(args: argparse.Namespace, settings: Settings) -> int:
    """Import (or re-import) a provider rate card into a stored tariff, all or nothing."""
    overrides = dict(_parse_map(item) for item in args.map or ())
    path = Path(args.file)
    try:
        with (
            open_database(settings) as database,
            progress.open(
                path, "r", encoding="utf-8-sig", newline="", description="importing"
            ) as lines,
            database.transaction() as conn,
        ):
            outcome = import_tariff(
                conn, args.name, lines, source=path.name, now=utc_now(), overrides=overrides
            )
    except OSError as exc:
        raise InvalidRequest(f"{exc.filename}: {exc.strerror}") from None
    except UnicodeDecodeError:
        problem = not_utf8(path).message
        message = f"{problem}\nNothing was imported; tariff {args.name!r} is unchanged."
        raise InvalidRequest(message) from None
    except RatingError as exc:
        message = f"{exc}\nNothing was imported; tariff {args.name!r} is unchanged."
        raise InvalidRequest(message) from None
    mapping = ", ".join(f"{field}={column}" for field, column in sorted(outcome.column_map.items()))
    print(
        f"tariff {outcome.name!r}: {outcome.imported} rates imported "
        f"({outcome.replaced} replaced); columns {mapping}"
    )
    return 0


def run_tariff_export(args: argparse.Namespace, settings: Settings) -> int:
    """Write a stored tariff back out as a rate card (to FILE or standard output)."""
    with open_database(settings) as database, database.transaction() as conn:
        lines = tariff_csv_lines(iter_rates(conn, args.name))
        if args.file:
            with Path(args.file).open("w", encoding="utf-8", newline="") as out:
                out.writelines(lines)
        else:
            sys.stdout.writelines(lines)
    return 0


def run_tariff_list(args: argparse.Namespace, settings: Settings) -> int:
    """List stored tariffs with their size and when they were last imported."""
    with open_database(settings) as database, database.transaction() as conn:
        infos = list_tariffs(conn)
    table = Table(title="Tariffs")
    for heading in ("Name", "Rates", "Imported (UTC)", "From file"):
        table.add_column(heading)
    for info in infos:
        imported = f"{info.imported_at:%Y-%m-%d %H:%M}" if info.imported_at else "-"
        table.add_row(escape(info.name), str(info.rate_count), imported, escape(info.source_file))
    Console().print(table if infos else "No tariffs yet: bridge tariff import NAME FILE")
    return 0


def run_package_import(args: argparse.Namespace, settings: Settings) -> int:
    """Store a PACKAGE.toml as package NAME, and its special rules for the given products."""
    path = Path(args.file)
    try:
        parsed = parse_package_toml(read_utf8(path), source=str(path))
    except OSError as exc:
        raise InvalidRequest(f"{exc.filename}: {exc.strerror}") from None
    if parsed.special.rules and not args.product:
        raise InvalidRequest(
            f"{path} has special rules, which belong to WHMCS products: pass --product ID "
            "(repeatable) to store them for those products."
        )
    package = dataclasses.replace(parsed.package, name=args.name)
    with open_database(settings) as database, database.transaction() as conn:
        save_package(
            conn,
            package,
            tariff=args.tariff,
            inbound_tariff=args.inbound_tariff,
            realtime_billing=parsed.realtime_billing,
            now=utc_now(),
        )
        for product_id in args.product or ():
            save_special_rules(conn, product_id, parsed.special.rules)
    print(f"package {args.name!r} saved (tariff {args.tariff or 'none'})")
    for product_id in args.product or ():
        print(f"product #{product_id}: {len(parsed.special.rules)} special rule(s) saved")
    if parsed.special.enabled:
        print(
            "note: special_billing is switched per product: tick 'Special Number Billing' in the "
            "WHMCS product's Module Settings."
        )
    return 0


def run_package_show(args: argparse.Namespace, settings: Settings) -> int:
    """Print stored package NAME (and a product's special rules) as PACKAGE.toml."""
    with open_database(settings) as database, database.transaction() as conn:
        stored = load_package(conn, args.name)
        rules = load_special_rules(conn, args.product) if args.product else ()
    print(f"# tariff: {stored.tariff or 'none'}; inbound tariff: {stored.inbound_tariff or 'none'}")
    special = SpecialBilling(enabled=bool(rules), rules=rules)
    print(package_toml(PackageFile(stored.package, special, stored.realtime_billing)), end="")
    return 0


def _parse_map(item: str) -> tuple[str, str]:
    column, sep, field = item.partition("=")
    if not sep or not column.strip():
        raise InvalidRequest(f"--map {item!r} is not COLUMN=FIELD (e.g. --map Cost=RateValue)")
    return column.strip(), field.strip()


def add_commands(commands: Any) -> None:
    """Register these commands on the ``bridge`` argument parser."""
    rate = commands.add_parser(
        "rate",
        help="preview rating of a FusionPBX CDR CSV against a tariff CSV and a PACKAGE.toml",
        description="Rate CDRS (one billing period) and print each call and the totals. "
        "Nothing is stored or billed.",
    )
    rate.add_argument("--tariff", required=True, metavar="TARIFF.csv", help="provider rate card")
    rate.add_argument("--package", required=True, metavar="PACKAGE.toml", help="package settings")
    rate.add_argument("--cdrs", required=True, metavar="CDRS.csv", help="FusionPBX CDR export")
    rate.add_argument("--json", action="store_true", help="one JSON object per CDR, then a summary")
    rate.add_argument("--explain", action="store_true", help="print each call's rating trace")
    rate.add_argument(
        "--tz", help="zone of start_stamp values without an offset (default: BRIDGE_TIMEZONE)"
    )
    rate.add_argument("--currency-prefix", default="$", help="for invoice lines (default: $)")
    rate.add_argument("--currency-suffix", default="", help="for invoice lines, e.g. ' AUD'")
    rate.set_defaults(run=run_rate)

    tariff = commands.add_parser("tariff", help="import, export and list stored tariffs")
    tariff_commands = tariff.add_subparsers(title="tariff commands", required=True, metavar="CMD")
    tariff_import = tariff_commands.add_parser(
        "import",
        help="import a provider rate card CSV into tariff NAME (replaces its rates)",
        description="The first row is the header. Columns map to Description, Prefix, RateValue "
        "and Increment (required) and ShortDescription, Lastratechangedate, Oldrate, "
        "RatePremium, ConnectionFee (optional) by name; the mapping is saved per tariff.",
    )
    tariff_import.add_argument("name", help="tariff name, e.g. Telnyx_Outbound_2026_01")
    tariff_import.add_argument("file", help="rate card CSV (comma or semicolon, UTF-8)")
    tariff_import.add_argument(
        "--map",
        action="append",
        metavar="COLUMN=FIELD",
        help="map a header column to a field (repeatable); FIELD '-' ignores the column",
    )
    tariff_import.set_defaults(run=run_tariff_import)
    tariff_export = tariff_commands.add_parser("export", help="write tariff NAME as a rate card")
    tariff_export.add_argument("name")
    tariff_export.add_argument("file", nargs="?", help="output file (default: standard output)")
    tariff_export.set_defaults(run=run_tariff_export)
    tariff_list = tariff_commands.add_parser("list", help="list stored tariffs")
    tariff_list.set_defaults(run=run_tariff_list)

    package = commands.add_parser("package", help="store and show VoIP packages")
    package_commands = package.add_subparsers(
        title="package commands", required=True, metavar="CMD"
    )
    package_import = package_commands.add_parser(
        "import", help="store PACKAGE.toml as package NAME (replaces it)"
    )
    package_import.add_argument("name", help="the package name products refer to")
    package_import.add_argument("file", metavar="PACKAGE.toml")
    package_import.add_argument("--tariff", help="outbound tariff (stored, see bridge tariff list)")
    package_import.add_argument("--inbound-tariff", help="inbound tariff, instead of a flat rate")
    package_import.add_argument(
        "--product",
        type=record_id,
        action="append",
        metavar="ID",
        help="WHMCS product id to store the file's special rules for (repeatable)",
    )
    package_import.set_defaults(run=run_package_import)
    package_show = package_commands.add_parser("show", help="print package NAME as PACKAGE.toml")
    package_show.add_argument("name")
    package_show.add_argument(
        "--product", type=record_id, help="include this product's special rules"
    )
    package_show.set_defaults(run=run_package_show)
