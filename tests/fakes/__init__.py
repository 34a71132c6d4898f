"""Real HTTP servers on loopback that stand in for PBXes and providers in tests.

Each fake is a small Starlette app (``tests/fakes/<vendor>.py``) speaking the vendor's protocol;
:func:`serve` runs any ASGI app under uvicorn in a background thread on 127.0.0.1 and a free
port, so adapters talk to it over real TCP and HTTP exactly as they would to a PBX.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from starlette.types import ASGIApp


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
