"""The ``bridge`` command line: parse arguments, load settings, run one subcommand.

The subcommands live in :mod:`bridge.commands`; each is a few lines that call the layer doing the
work and print the outcome. Expected failures (:class:`~bridge.errors.BridgeError`) print one line
to stderr and exit with status 2; ``doctor`` and ``serve`` exit 1 when the database has problems.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from bridge import __version__
from bridge.commands import jobs, license, pbx, rating, service
from bridge.errors import BridgeError
from bridge.log_lines import configure_logging
from bridge.settings import load_settings

EXIT_ERROR = 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``bridge`` command line and return its exit status."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        configure_logging(settings.log_level, sys.stderr)
        # Alembic narrates every connection at INFO; the commands report the outcome themselves.
        logging.getLogger("alembic").setLevel(logging.WARNING)
        status: int = args.run(args, settings)
    except BridgeError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    return status


def build_parser() -> argparse.ArgumentParser:
    """Return the parser for every ``bridge`` subcommand."""
    parser = argparse.ArgumentParser(
        prog="bridge", description="voipbridge: VoIP usage billing for WHMCS."
    )
    parser.add_argument("--version", action="version", version=f"voipbridge {__version__}")
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    service.add_commands(commands)
    rating.add_commands(commands)
    pbx.add_commands(commands)
    jobs.add_commands(commands)
    license.add_commands(commands)
    return parser


if __name__ == "__main__":
    sys.exit(main())
