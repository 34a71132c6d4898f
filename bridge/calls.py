"""Calls as the bridge collects them: a rating :class:`Cdr` and what the CDR store keeps beside it.

Adapters (``bridge/modules``) build these from whatever their PBX delivers, the CDR store
(``bridge/store/cdrs.py``) keeps them, and the use cases hand their :attr:`CollectedCdr.call` to
the rating engine. The type lives here, owned by no layer, so none of them imports another's.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_CEILING, Decimal

from bridge.errors import InvalidCdr
from bridge.rating.models import Cdr, Direction

# The CDR store's billsec column is a signed 32-bit INT; nothing longer is a real call anyway.
MAX_SECONDS = 2**31 - 1
# Plain decimal seconds only: no sign, exponent or digit flood, so no value from outside can make
# the conversion below expensive (Decimal("1e999999").to_integral_value() takes half a minute).
_PLAIN_DECIMAL = re.compile(r"(?:\d{1,12}(?:\.\d{0,12})?|\.\d{1,12})", re.ASCII)


@dataclass(frozen=True, slots=True)
class CollectedCdr:
    """One call as a PBX reported it (start in UTC), with its tenant, leg and hangup cause.

    ``call.uuid`` is the PBX's own id for the call (FusionPBX ``xml_cdr_uuid``, Vodia ``callid``,
    a stable digest of the line for LesNet); the store is unique on (server, uuid). ``domain`` is
    the tenant the call belongs to (lower-case for FusionPBX and Vodia, the peer id for LesNet)
    and ``leg`` is ``a`` or ``b`` (only a-legs are billed). ``caller_name`` is the caller id name
    the PBX reported: free text from whoever placed the call, shown to clients, never trusted.
    """

    call: Cdr
    domain: str = ""
    leg: str = "a"
    hangup_cause: str = ""
    caller_name: str = ""

    def __post_init__(self) -> None:
        start = self.call.start
        if start.tzinfo is not UTC and start.utcoffset() != UTC.utcoffset(None):
            try:
                start = self.call.start.astimezone(UTC)
            except OverflowError:  # year 1 or 9999 pushed off the calendar by its offset
                raise InvalidCdr(f"start {self.call.start.isoformat()} is out of range") from None
            object.__setattr__(self, "call", dataclasses.replace(self.call, start=start))

    @property
    def uuid(self) -> str:
        """Return the PBX's id of the call."""
        return self.call.uuid

    @property
    def direction(self) -> Direction:
        """Return which way the call went."""
        return self.call.direction

    @property
    def start(self) -> datetime:
        """Return when the call started, as an aware UTC instant."""
        return self.call.start

    @property
    def billsec(self) -> int:
        """Return the answered seconds."""
        return self.call.billsec


@dataclass(frozen=True, slots=True)
class RejectedCdr:
    """A call record a PBX delivered that cannot be read as a call, set aside with why.

    Adapters yield it in place of the call instead of raising, so one bad record never fails its
    batch: the CDR store quarantines it (``mod_voipbridge_cdr_quarantine``) and stores the rest.
    ``uuid`` is the PBX's id for it when one could be read (``""`` otherwise) and ``record`` the
    record as received, as text (already shortened by whoever built it if it may be huge).
    """

    uuid: str
    reason: str
    record: str
    domain: str = ""


# What an adapter yields for each record it fetched.
Intake = CollectedCdr | RejectedCdr


def parse_seconds(value: object, *, what: str = "billsec") -> int:
    """Return a PBX's answered seconds as whole seconds, a started second counting as one.

    The one rule for billed seconds, whatever delivered them (a database ``numeric``, JSON or CSV
    text): empty or ``None`` is 0 (not answered); a fraction rounds up; a negative, non-finite,
    exponent-written or out-of-range value is :class:`~bridge.errors.InvalidCdr`.
    """
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise InvalidCdr(f"{what} {value!r} is not a number of seconds")
    if isinstance(value, int):
        seconds = Decimal(value)
    elif isinstance(value, Decimal | float):
        # Range-checked before any conversion: a comparison stays cheap for any exponent. A float
        # NaN fails every comparison; a Decimal NaN would raise, so it is refused first.
        finite = value.is_finite() if isinstance(value, Decimal) else True
        if not (finite and 0 <= value <= MAX_SECONDS):
            raise InvalidCdr(f"{what} {value!r} is not a number of seconds")
        seconds = Decimal(value)
    else:
        seconds = parse_plain_decimal(value, what=what)
    if not 0 <= seconds <= MAX_SECONDS:
        raise InvalidCdr(f"{what} {_shown(str(value))} is out of range (0 to {MAX_SECONDS})")
    return int(seconds.to_integral_value(rounding=ROUND_CEILING))


def parse_plain_decimal(value: object, *, what: str) -> Decimal:
    """Return text such as ``12.5`` as a Decimal, refusing signs, exponents and digit floods."""
    text = str(value).strip()
    if not _PLAIN_DECIMAL.fullmatch(text):
        raise InvalidCdr(f"{what} {_shown(text)} is not a number of seconds")
    return Decimal(text)


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "…")
