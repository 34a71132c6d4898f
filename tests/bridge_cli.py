"""The `bridge` command run in-process, as an operator runs it: argv, environment and stdin in,
exit status, stdout and stderr out.

Running ``bridge.cli.main(argv)`` in the test process saves a Python start-up per command (about
half of the suite's time when every command was a subprocess). Tests that need a real process —
a server to talk to, a process to kill — start :data:`BRIDGE` instead.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

from sqlalchemy import create_engine

from bridge.cli import main
from bridge.store.migrate import upgrade_database

BRIDGE = str(Path(sys.executable).with_name("bridge"))


@dataclass(frozen=True, slots=True)
class Ran:
    """What one `bridge` command did."""

    returncode: int
    stdout: str
    stderr: str


def bridge_env(**values: str) -> dict[str, str]:
    """Return this process's environment without BRIDGE_* settings, plus ``values``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    env["BRIDGE_LOG_LEVEL"] = "WARNING"
    env["COLUMNS"] = "200"  # wide enough that rich never wraps a table cell mid-name
    return {**env, **values}


def run_bridge(
    *args: str | Path, env: dict[str, str], stdin: str = "", cwd: Path | None = None
) -> Ran:
    """Run ``bridge ARGS`` with exactly ``env`` as its environment; return what it did."""
    out, err = io.StringIO(), io.StringIO()
    with (
        mock.patch.dict(os.environ, env, clear=True),
        contextlib.chdir(cwd or Path.cwd()),
        mock.patch.object(sys, "stdin", io.StringIO(stdin)),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        try:
            status = main([str(arg) for arg in args])
        except SystemExit as exc:  # argparse's usage errors
            status = exc.code if isinstance(exc.code, int) else 2
    return Ran(status, out.getvalue(), err.getvalue())


def bridge_on_sqlite(tmp_path: Path) -> Callable[..., Ran]:
    """Migrate a fresh SQLite file and return a runner for `bridge` commands against it."""
    database = tmp_path / "bridge.db"
    engine = create_engine(f"sqlite:///{database}")
    upgrade_database(engine)
    engine.dispose()
    env = bridge_env(BRIDGE_DATABASE_URL=f"sqlite:///{database}")

    def run(*args: str, stdin: str = "") -> Ran:
        return run_bridge(*args, env=env, stdin=stdin)

    return run
