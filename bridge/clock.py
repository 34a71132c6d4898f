"""The one clock.

Everything that needs the current time calls :func:`utc_now`, so tests freeze a single function
(freezegun) and pure code takes ``now`` as an argument instead of reading a clock itself.

WHMCS stores naive local times in the timezone its PHP runs in; :func:`to_whmcs_time` converts an
aware instant to that wall-clock form before it is written to a ``tbl*`` column.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bridge.errors import InvalidRequest


def utc_now() -> datetime:
    """Return the current instant as an aware UTC datetime."""
    return datetime.now(UTC)


def to_whmcs_time(instant: datetime, zone: ZoneInfo) -> datetime:
    """Return ``instant`` as the naive wall-clock time WHMCS stores in its DATETIME columns."""
    if instant.tzinfo is None:
        raise ValueError("to_whmcs_time needs an aware datetime; naive times have no instant")
    return instant.astimezone(zone).replace(tzinfo=None, microsecond=0)


def whmcs_today(instant: datetime, zone: ZoneInfo) -> date:
    """Return the WHMCS calendar date that ``instant`` falls on."""
    return to_whmcs_time(instant, zone).date()


# Dates an operator may give a command: anything outside is a typo (0001-01-01, 9999-12-31), and
# arithmetic on it (a window's lookback, a period's end) would overflow Python's calendar.
FIRST_YEAR, LAST_YEAR = 1970, 9000


def require_plausible(value: date, *, what: str) -> None:
    """Raise :class:`InvalidRequest` unless ``value`` (a date or datetime) is in 1970..9000."""
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise InvalidRequest(
            f"{what} {value.isoformat()} is out of range: give a date from {FIRST_YEAR} to "
            f"{LAST_YEAR}"
        )


def parse_timezone(name: str) -> ZoneInfo:
    """Return the IANA timezone ``name`` (``America/Toronto``), or raise :class:`InvalidRequest`."""
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidRequest(
            f"{name!r} is not an IANA timezone; use a name such as America/Toronto or Europe/London"
        ) from None
