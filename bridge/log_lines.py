"""How the bridge's log lines are written: one record, one line, whatever it quotes.

Log messages quote values that come from outside (a request path, a module name, a PBX's reason
for refusing a call). A value carrying a line break would start what looks like a new, forged log
entry, so :class:`OneLineFormatter` escapes every control character in the message itself
(``\\n`` becomes the two characters ``\\`` ``n``); a traceback attached to the record keeps its
lines, since the bridge writes those itself. :func:`configure_logging` installs it for every
command, ``bridge serve`` included. (httpx's own request log, which prints whole URLs, is kept
quiet where httpx is imported: :mod:`bridge.modules.http`.)
"""

from __future__ import annotations

import logging
import re
from typing import IO

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
# C0 and C1 controls, DEL, and the Unicode line and paragraph separators: anything a terminal or
# a log shipper may treat as the end of a line.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class OneLineFormatter(logging.Formatter):
    """A formatter that keeps each record's message on one line by escaping control characters."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record formatted with its message escaped; the record is left unchanged."""
        saved = record.msg, record.args
        record.msg, record.args = escape_controls(record.getMessage()), None
        try:
            return super().format(record)
        finally:
            record.msg, record.args = saved


def escape_controls(text: str) -> str:
    """Return ``text`` with each control character written as its Python escape (``\\n``)."""
    return _CONTROL.sub(lambda found: repr(found.group())[1:-1], text)


def configure_logging(level: str | int, stream: IO[str]) -> None:
    """Send every log record to ``stream``, one escaped line each, at ``level`` and above."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(OneLineFormatter(FORMAT))
    # Like basicConfig, this does nothing when the root logger already has handlers (a host
    # application, or a test harness capturing logs, configured logging first).
    logging.basicConfig(level=level, handlers=[handler])
