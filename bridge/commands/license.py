"""``bridge license-server``: run the reference license server and manage its keys."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

import uvicorn

from bridge.clock import require_plausible, utc_now
from bridge.errors import InvalidRequest
from bridge.licensing.keystore import (
    LicenseKey,
    create_key,
    list_keys,
    load_signing_key,
    open_keystore,
    resolve_key,
    set_expiry,
    set_suspended,
)
from bridge.licensing.server import RateLimit, create_license_app
from bridge.licensing.tokens import public_key_text
from bridge.settings import Settings, load_settings

DEFAULT_LISTEN = "127.0.0.1:8090"


def run_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Serve the license server until interrupted."""
    listen = load_settings({"BRIDGE_LISTEN": args.listen}).listen
    signing_key = load_signing_key(Path(args.signing_key))
    engine = open_keystore(Path(args.db))
    app = create_license_app(
        engine, signing_key, rate_limit=RateLimit(requests=args.rate_limit, per_seconds=60)
    )
    print(f"license server on http://{listen} (keys in {args.db})")
    print(f"public key (BRIDGE_LICENSE_PUBLIC_KEY): {public_key_text(signing_key)}")
    uvicorn.run(
        app,
        host=listen.host,
        port=listen.port,
        log_level=settings.log_level.lower(),
        # Rate limits count the client IP, so a proxy's X-Forwarded-For is trusted only from the
        # addresses given with --forwarded-allow-ips.
        proxy_headers=bool(args.forwarded_allow_ips),
        forwarded_allow_ips=args.forwarded_allow_ips or None,
        access_log=False,
    )
    engine.dispose()
    return 0


def run_create(args: argparse.Namespace, settings: Settings) -> int:
    """Create a license key and print it (the only time it is shown in full)."""
    expires = _parse_expiry(args.expires) if args.expires else None
    engine = open_keystore(Path(args.db))
    with engine.begin() as conn:
        key, record = create_key(conn, now=utc_now(), expires_on=expires, note=args.note)
    engine.dispose()
    print(key)
    print(f"key #{record.id} created, {_expiry(record)}; it is shown only now: keep it.")
    return 0


def run_list(args: argparse.Namespace, settings: Settings) -> int:
    """List every key with its status, expiry and binding."""
    engine = open_keystore(Path(args.db))
    with engine.begin() as conn:
        records = list_keys(conn)
    engine.dispose()
    # Plain lines rather than a table: one key per line reads the same in a terminal, a pipe or
    # grep, and is never wrapped.
    today = utc_now().date()
    for record in records:
        bound = f"{record.bound_at:%Y-%m-%d %H:%M} UTC" if record.bound_at else "never activated"
        print(
            f"#{record.id:<4} {record.hint:<7} {_status(record, today):<9} "
            f"{_expiry(record):<18} {record.domain or '-'} {record.ip or '-'} ({bound})"
            + (f"  {record.note}" if record.note else "")
        )
    if not records:
        print("no keys yet: `bridge license-server create` makes one")
    return 0


def run_suspend(args: argparse.Namespace, settings: Settings) -> int:
    """Suspend or unsuspend a key (``args.suspend``)."""
    engine = open_keystore(Path(args.db))
    with engine.begin() as conn:
        record = resolve_key(conn, args.key)
        record = set_suspended(conn, record.id, args.suspend, now=utc_now())
    engine.dispose()
    print(f"key #{record.id} ({record.hint}): {_status(record, utc_now().date())}")
    return 0


def run_set_expiry(args: argparse.Namespace, settings: Settings) -> int:
    """Set the day a key expires, or ``never``."""
    expires = None if args.expires.strip().lower() == "never" else _parse_expiry(args.expires)
    engine = open_keystore(Path(args.db))
    with engine.begin() as conn:
        record = resolve_key(conn, args.key)
        record = set_expiry(conn, record.id, expires, now=utc_now())
    engine.dispose()
    print(f"key #{record.id} ({record.hint}): {_expiry(record)}")
    return 0


def run_public_key(args: argparse.Namespace, settings: Settings) -> int:
    """Print the server's public key (generating the signing key if there is none yet)."""
    print(public_key_text(load_signing_key(Path(args.signing_key))))
    return 0


def _parse_expiry(text: str) -> date:
    try:
        expiry = date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidRequest(f"{text!r} is not a date (YYYY-MM-DD) or 'never'.") from None
    require_plausible(expiry, what="expiry")
    return expiry


def _expiry(record: LicenseKey) -> str:
    return f"expires {record.expires_on}" if record.expires_on else "no expiry"


def _status(record: LicenseKey, today: date) -> str:
    if record.suspended:
        return "suspended"
    return "expired" if record.expired(today) else "active"


def add_commands(commands: Any) -> None:
    """Register ``bridge license-server`` and its commands on the argument parser."""
    files = argparse.ArgumentParser(add_help=False)
    files.add_argument(
        "--db", default="license-server.db", help="the keys' SQLite file (default: %(default)s)"
    )
    signing = argparse.ArgumentParser(add_help=False)
    signing.add_argument(
        "--signing-key",
        default="license-server.key",
        help="the Ed25519 private key file, created if missing (default: %(default)s)",
    )
    server = commands.add_parser("license-server", help="the reference license server")
    sub = server.add_subparsers(title="license-server commands", required=True, metavar="CMD")

    serve = sub.add_parser("serve", parents=[files, signing], help="serve the license API")
    serve.add_argument("--listen", default=DEFAULT_LISTEN, help="HOST:PORT (default: %(default)s)")
    serve.add_argument(
        "--rate-limit", type=_positive, default=30, metavar="N",
        help="requests per minute per client IP (default: %(default)s)",
    )  # fmt: skip
    serve.add_argument(
        "--forwarded-allow-ips", metavar="IPS",
        help="proxies whose X-Forwarded-For is trusted for the client IP (default: none)",
    )  # fmt: skip
    serve.set_defaults(run=run_serve)

    create = sub.add_parser("create", parents=[files], help="create a key and print it once")
    create.add_argument("--expires", metavar="YYYY-MM-DD", help="first day it no longer works")
    create.add_argument("--note", default="", help="who the key is for")
    create.set_defaults(run=run_create)

    listing = sub.add_parser("list", parents=[files], help="list keys, status and binding")
    listing.set_defaults(run=run_list)

    for name, suspend in (("suspend", True), ("unsuspend", False)):
        command = sub.add_parser(name, parents=[files], help=f"{name} a key")
        command.add_argument("key", metavar="KEY|ID", help="the key, or its id from `list`")
        command.set_defaults(run=run_suspend, suspend=suspend)

    expiry = sub.add_parser("set-expiry", parents=[files], help="set or clear a key's expiry")
    expiry.add_argument("key", metavar="KEY|ID", help="the key, or its id from `list`")
    expiry.add_argument("expires", metavar="YYYY-MM-DD|never", help="first day it no longer works")
    expiry.set_defaults(run=run_set_expiry)

    public = sub.add_parser(
        "public-key", parents=[signing], help="print the public key for BRIDGE_LICENSE_PUBLIC_KEY"
    )
    public.set_defaults(run=run_public_key)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)
