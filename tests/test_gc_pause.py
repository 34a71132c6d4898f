"""Pausing the cyclic collector around bulk work, and restoring it whatever happens."""

from __future__ import annotations

import gc

import pytest

from bridge.gc_pause import collector_paused


def test_paused_inside_and_restored_after() -> None:
    """The collector is off inside the block and on again after it."""
    with collector_paused():
        inside = gc.isenabled()

    assert (inside, gc.isenabled()) == (False, True)


def test_restored_after_an_error() -> None:
    """An exception in the block still turns the collector back on."""
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("boom")

    assert gc.isenabled()


def test_a_collector_already_off_stays_off() -> None:
    """A caller that had switched the collector off finds it off afterwards."""
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
