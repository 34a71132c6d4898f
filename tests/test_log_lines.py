"""Log lines: a value from outside never starts a forged line of its own."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from bridge.log_lines import configure_logging, escape_controls

_LINE_START = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ [\w.]+ ")


@pytest.fixture(name="log_stream")
def _log_stream() -> Iterator[io.StringIO]:
    """Configure logging as the CLI does, into a string, and restore pytest's handlers after."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = io.StringIO()
    root.handlers = []
    configure_logging("INFO", stream)
    try:
        yield stream
    finally:
        root.handlers, root.level = saved[0], saved[1]


def test_a_line_break_in_a_request_path_is_escaped(
    http: TestClient, log_stream: io.StringIO
) -> None:
    """A path carrying CR/LF and a fake entry stays inside one line of the access log."""
    forged = "2026-01-01 00:00:00,000 ERROR bridge.app admin password reset"

    http.post(f"/v1/whmcs/fusionpbx/x%0D%0A{forged.replace(' ', '%20')}")

    lines = log_stream.getvalue().splitlines()
    assert lines
    assert all(_LINE_START.match(line) for line in lines), lines
    assert any("x\\r\\n2026-01-01" in line for line in lines)


def test_controls_are_escaped_and_other_text_kept() -> None:
    """Controls become their escapes; accents, emoji and tabs' neighbours are untouched."""
    assert escape_controls("Zoë\u2028\x1b[31m😀\x00") == "Zoë\\u2028\\x1b[31m😀\\x00"
