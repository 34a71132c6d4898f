"""Test-only driver: `bridge migrate` killed with SIGKILL before its k-th write, then run again.

    python -m tests.store.interrupted_migrate URL K [URL K ...]

For each pair it forks a child that runs `bridge migrate` (:func:`bridge.cli.main`) on URL and
kills itself, as ``kill -9`` would, just before executing its K-th write statement (see
:func:`is_write`); once those are all dead it forks, for each URL, another child that runs
`bridge migrate` on URL again. It prints one line per pair::

    RESULT {"url": ..., "stop_at": K, "killed": true, "rerun": 0}

Children are forked from one process that imported the bridge once, and a few run at a time
(each pair has its own database), which keeps the many kill points down to a few seconds.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import traceback
from typing import Any, NoReturn

from sqlalchemy import event
from sqlalchemy.engine import Engine

from bridge.cli import main

PARALLEL = 2
_WRITES = ("CREATE", "ALTER", "DROP", "RENAME", "INSERT", "UPDATE", "DELETE")


def is_write(statement: str) -> bool:
    """Tell whether ``statement`` changes the schema or a row (a kill point)."""
    return statement.lstrip().upper().startswith(_WRITES)


def _kill_before_write(stop_at: int) -> None:
    seen = 0

    def _count(_conn: Any, _cursor: Any, statement: str, *_args: Any, **_kwargs: Any) -> None:
        nonlocal seen
        if is_write(statement):
            seen += 1
            if seen == stop_at:
                os.kill(os.getpid(), signal.SIGKILL)

    event.listen(Engine, "before_cursor_execute", _count)


def _start_migrate(url: str, stop_at: int | None) -> int:
    pid = os.fork()
    if pid:
        return pid
    status = 70
    try:
        os.environ["BRIDGE_DATABASE_URL"] = url
        if stop_at is not None:
            _kill_before_write(stop_at)
        status = main(["migrate"])
    except BaseException:  # the parent reports the status; the traceback goes to stderr
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


def _migrate_all(runs: list[tuple[str, int | None]]) -> list[int]:
    """Run `bridge migrate` for each (url, stop_at), PARALLEL at a time; return wait statuses."""
    statuses: dict[int, int] = {}
    running: dict[int, int] = {}
    for n, (url, stop_at) in enumerate(runs):
        if len(running) == PARALLEL:
            pid, status = os.wait()
            statuses[running.pop(pid)] = status
        running[_start_migrate(url, stop_at)] = n
    while running:
        pid, status = os.wait()
        statuses[running.pop(pid)] = status
    return [statuses[n] for n in range(len(runs))]


def run(pairs: list[tuple[str, int]]) -> NoReturn:
    """Kill and rerun `bridge migrate` for each (url, k); print a RESULT line for each."""
    first = _migrate_all([(url, stop_at) for url, stop_at in pairs])
    second = _migrate_all([(url, None) for url, _stop_at in pairs])
    for (url, stop_at), killed_status, rerun_status in zip(pairs, first, second, strict=True):
        killed = os.WIFSIGNALED(killed_status) and os.WTERMSIG(killed_status) == signal.SIGKILL
        rerun = os.waitstatus_to_exitcode(rerun_status)
        result = {"url": url, "stop_at": stop_at, "killed": killed, "rerun": rerun}
        print("RESULT " + json.dumps(result), flush=True)  # noqa: T201 - the test reads it
    sys.exit(0)


if __name__ == "__main__":
    arguments = sys.argv[1:]
    run([(arguments[i], int(arguments[i + 1])) for i in range(0, len(arguments), 2)])
