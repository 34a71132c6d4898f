"""Reading a whole text file an operator names (PACKAGE.toml), as UTF-8 or a clear error.

Windows editors often save in Windows-1252; Python's decoder would then stop with a traceback
naming a byte offset. :func:`read_utf8` names the file and the line instead, so the command
prints one ``error:`` line and exits 2. Line-by-line readers (rate cards, CDR exports) decode as
they stream and report their own bad lines.
"""

from __future__ import annotations

from pathlib import Path

from bridge.errors import InvalidRequest


def read_utf8(path: Path) -> str:
    """Return the text of ``path`` (without a UTF-8 BOM), or say on which line it is not UTF-8."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InvalidRequest(
            f"{path}:{line}: byte {data[exc.start]:#04x} is not UTF-8; save the file as UTF-8 "
            "(a Windows-1252 file needs converting first)."
        ) from None
