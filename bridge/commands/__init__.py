"""The ``bridge`` subcommands, grouped by what they work on."""

from __future__ import annotations

import argparse

# WHMCS and the bridge keep record ids in signed 32-bit INT columns.
MAX_RECORD_ID = 2**31 - 1


def record_id(text: str) -> int:
    """Return a record id given on the command line (argparse type), refusing what no row has.

    A bigger number would overflow SQLite's integer binding with a traceback rather than simply
    find nothing, so it is refused here, with argparse's usage error (exit status 2).
    """
    if not text.strip().isdigit() or not 1 <= int(text) <= MAX_RECORD_ID:
        raise argparse.ArgumentTypeError(f"{text!r} is not an id (1 to {MAX_RECORD_ID:,})")
    return int(text)
