"""Reading CSV records so that a record the ``csv`` module refuses is one bad line, not a crash.

The ``csv`` module raises :class:`csv.Error` for a field longer than its limit (131,072
characters) or a NUL byte, and then goes on with the next line when asked again. The readers
(rate cards, FusionPBX exports) list every bad line by number and keep the rest, so such a record
is handed to them as a message with its line number instead of ending the whole file.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

# Appended to the csv module's own message, which names neither cause an operator would look for.
_HINT = "(a field over 131,072 characters, a NUL byte or a stray quote?)"


def read_cells(reader: Any, *, first_line: int = 1) -> Iterator[tuple[int, list[str] | str]]:
    """Yield ``(line, cells)`` per record of ``reader``, or ``(line, message)`` for a refused one.

    ``first_line`` is the file's line number of the reader's first line (2 when the header was
    read before the reader was made).
    """
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield reader.line_num + first_line - 1, f"cannot be read as CSV: {exc} {_HINT}"
            continue
        yield reader.line_num + first_line - 1, cells


def read_header(first: str, *, delimiter: str = ",") -> list[str] | str:
    """Return the cells of the header line ``first``, or the message saying why it is refused."""
    try:
        return next(csv.reader([first], delimiter=delimiter))
    except csv.Error as exc:
        return f"cannot be read as CSV: {exc} {_HINT}"
