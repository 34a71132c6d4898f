"""Real HTTP servers on loopback that stand in for PBXes and providers in tests.

Each fake is a small Starlette app (``tests/fakes/<vendor>.py``) speaking the vendor's protocol;
:func:`serve` runs any ASGI app under uvicorn in a background thread on 127.0.0.1 and a free
port, so adapters talk to it over real TCP and HTTP exactly as they would to a PBX.

Starting and stopping a server for every test costs time (and a stop waits for a deliberately
slow handler to finish), so most tests plug their fake into the session's one
:class:`Switchboard` server instead (the ``switchboard`` fixture): a real listener whose app is
swapped per test and unplugged afterwards, so no test sees another's fake.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import freezegun
import uvicorn
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

# Tests freeze the clock with freezegun while these servers run in background threads. Their event
# loops must keep real time: a loop timer set on a frozen clock never fires once the clock is
# unfrozen, and uvicorn then never notices it should exit. Handlers still see the frozen clock.
freezegun.configure(extend_ignore_list=["asyncio", "uvicorn"])


@dataclass(frozen=True, slots=True)
class Served:
    """Where a fake is listening."""

    host: str
    port: int

    @property
    def url(self) -> str:
        """Return the fake's base URL."""
        return f"http://{self.host}:{self.port}"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(app: ASGIApp) -> Iterator[Served]:
    """Run ``app`` on 127.0.0.1 for the duration of the block."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"fake-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"fake server on port {port} did not start")
        time.sleep(0.01)
    try:
        yield Served("127.0.0.1", port)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


class Switchboard:
    """One real server for the whole session, answering with whichever fake is plugged in."""

    def __init__(self) -> None:
        self.served: Served | None = None
        self._app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = self._app
        if app is None:
            # Between tests nothing is plugged in: a late request from a finished test gets this.
            response = PlainTextResponse("no fake plugged in", status_code=503)
            await response(scope, receive, send)
            return
        await app(scope, receive, send)

    @contextmanager
    def plug(self, app: ASGIApp) -> Iterator[Served]:
        """Answer with ``app`` for the duration of the block."""
        if self.served is None or self._app is not None:
            raise RuntimeError("the switchboard is not running or already has a fake plugged in")
        self._app = app
        try:
            yield self.served
        finally:
            self._app = None
