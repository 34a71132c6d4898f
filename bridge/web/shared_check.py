"""A slow check whose result is shared by concurrent callers and reused for a short while.

``/healthz?pbx=1`` logs in to every PBX. Anyone may call it, so it must not be a way to make the
bridge fan out to every PBX per request, nor to fill the thread pool the module calls run on.
:class:`SharedCheck` runs the check on threads of its own, one run at a time: callers arriving
while it runs wait for that run, and for ``ttl`` seconds afterwards get its result without
running it again.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

T = TypeVar("T")

# Threads that may wait for a running check at once; more callers queue without a thread.
WAITERS = 4


class SharedCheck(Generic[T]):
    """Run ``check`` at most once per ``ttl`` seconds, however many callers ask at once."""

    def __init__(
        self, check: Callable[[], T], *, ttl: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._check = check
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._result: tuple[T, float] | None = None
        self._pool = ThreadPoolExecutor(WAITERS, "shared-check")

    async def get(self) -> tuple[T, float]:
        """Return a result at most ``ttl`` seconds old and its age in seconds."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._get)

    def _get(self) -> tuple[T, float]:
        with self._lock:
            if self._result is None or self._clock() - self._result[1] >= self._ttl:
                # A failing check raises and is not kept: the next caller tries again.
                self._result = (self._check(), self._clock())
            value, at = self._result
            return value, self._clock() - at
