"""`bridge` in a process of its own, with a hook on every database statement it sends.

    python -m tests.jobs.statement_runner count -- run autobill --json
    python -m tests.jobs.statement_runner kill K -- run autobill --json
    python -m tests.jobs.statement_runner hold K DIR -- run autobill --json

``count`` runs the command and then prints ``statements=N`` on stderr. ``kill`` sends the process
SIGKILL just before statement K reaches the server, so it dies mid-run, never in Python's
start-up or after the last write. ``hold`` creates ``DIR/held`` just before statement K, then
waits (at most :data:`HOLD_LIMIT` seconds) for ``DIR/go`` to appear before it goes on: a test
can start a second run while this one is known to be mid-run. Statements are counted across
every engine the command creates, its job lock's connection included.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from bridge.cli import main

HOLD_LIMIT = 120.0
USAGE = "usage: statement_runner (count | kill K | hold K DIR) -- BRIDGE-ARGS..."


class StatementHook:
    """A ``before_cursor_execute`` listener that counts statements and acts before the k-th."""

    def __init__(self, mode: str, at: int | None = None, folder: Path | None = None) -> None:
        self.mode = mode
        self.at = at
        self.folder = folder
        self.seen = 0

    def __call__(self, *args: Any) -> None:
        """Count one statement; at statement ``at``, die or hold as the mode says."""
        self.seen += 1
        if self.seen != self.at:
            return
        if self.mode == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        if self.mode == "hold" and self.folder is not None:
            (self.folder / "held").touch()
            deadline = time.monotonic() + HOLD_LIMIT
            while not (self.folder / "go").exists() and time.monotonic() < deadline:
                time.sleep(0.02)


def parse_hook(words: list[str]) -> StatementHook:
    """Return the hook the words before ``--`` ask for."""
    match words:
        case ["count"]:
            return StatementHook("count")
        case ["kill", at] if at.isdigit():
            return StatementHook("kill", int(at))
        case ["hold", at, folder] if at.isdigit():
            return StatementHook("hold", int(at), Path(folder))
    raise SystemExit(USAGE)


def run(argv: list[str]) -> int:
    """Run ``bridge`` with the hook ``argv`` asks for; return its exit status."""
    if "--" not in argv:
        raise SystemExit(USAGE)
    split = argv.index("--")
    hook = parse_hook(argv[:split])
    event.listen(Engine, "before_cursor_execute", hook)
    status = main(argv[split + 1 :])
    sys.stderr.write(f"statements={hook.seen}\n")
    return status


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
