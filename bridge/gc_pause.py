"""Pausing Python's cyclic garbage collector around bulk work, for the callers that want it.

Rating a batch allocates one result per call and creates no reference cycles, yet every
allocation counts toward the collector's thresholds, and its full passes re-walk every live call
and result: measured at up to half of a million-call run (``bench/rating.py``). Reference counting
still frees memory as usual while it is paused. The pure engine leaves this process-wide switch
to its callers (the ``bridge rate`` preview, billing runs, benchmarks).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic collector for the block; it resumes as it was, whatever happens."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
