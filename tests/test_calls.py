"""Collected calls: times kept in UTC, and a start no calendar holds refused, not a crash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bridge.calls import CollectedCdr
from bridge.errors import InvalidCdr
from bridge.rating.models import Cdr, Direction


def _call(start: datetime) -> CollectedCdr:
    return CollectedCdr(Cdr("u1", Direction.OUTBOUND, "2112", "", "14165550100", start, 60))


def test_a_start_with_an_offset_is_kept_in_utc() -> None:
    """10:15 at -05:00 is 15:15 UTC."""
    start = datetime(2026, 1, 10, 10, 15, tzinfo=timezone(timedelta(hours=-5)))

    assert _call(start).start == datetime(2026, 1, 10, 15, 15, tzinfo=UTC)


def test_a_start_its_offset_pushes_off_the_calendar_is_an_invalid_cdr() -> None:
    """Year 1 at +14:00 has no UTC instant Python can hold: InvalidCdr, which adapters report."""
    start = datetime(1, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=14)))

    with pytest.raises(InvalidCdr, match="is out of range"):
        _call(start)
