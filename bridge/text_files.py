"""Reading a text file an operator names as UTF-8, or a clear error naming file and line.

Windows editors often save in Windows-1252; Python's decoder would then stop with a traceback
naming a byte offset. :func:`read_utf8` (a whole PACKAGE.toml) and :func:`not_utf8` (for a rate
card or CDR export streamed in text mode, whose decoder failed part way) name the file and the
line instead, so the command prints one ``error:`` line and exits 2.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bridge.errors import InvalidRequest


def not_utf8(path: Path) -> InvalidRequest:
    """Return the error for ``path`` whose text-mode reading stopped on a byte that is not UTF-8.

    Found again line by line in binary (a line break never sits inside a UTF-8 character), so
    the streaming readers pay nothing for it until a file actually fails.
    """
    with path.open("rb") as lines:
        for number, line in enumerate(lines, 1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as exc:
                return _error(path, number, line[exc.start])
    return InvalidRequest(f"{path}: the file is not UTF-8; save it as UTF-8.")


@contextmanager
def reading_utf8(path: Path) -> Iterator[None]:
    """Turn a decoding failure while the block reads ``path`` into :func:`not_utf8`'s error."""
    try:
        yield
    except UnicodeDecodeError:
        raise not_utf8(path) from None


def read_utf8(path: Path) -> str:
    """Return the text of ``path`` (without a UTF-8 BOM), or say on which line it is not UTF-8."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise _error(path, line, data[exc.start]) from None


def _error(path: Path, line: int, byte: int) -> InvalidRequest:
    return InvalidRequest(
        f"{path}:{line}: byte {byte:#04x} is not UTF-8; save the file as UTF-8 "
        "(a Windows-1252 file needs converting first)."
    )
