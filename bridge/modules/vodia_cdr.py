"""Vodia's CDR shapes, read into :class:`~bridge.modules.base.CollectedCdr` (no I/O).

Three CDR shapes become :class:`CollectedCdr` (:func:`parse_vodia_cdr`): the JSON CDR Vodia posts
per call leg (``action: call-data-record``; ``PrimaryCallID`` links the legs, ``Direction`` ``I``
into / ``O`` out of the PBX) [5]_, the WebCDR it posts once per call, and the REST listing's call
records; both of the latter carry ``start``/``connect``/``end`` as epoch seconds [6]_ [4]_. Times
become aware UTC; a JSON CDR's ``TimeStart`` may also be ``YYYY-MM-DD HH:MM:SS``, which is UTC
(``LocalTime`` is the local one) [7]_. ``billsec`` is ``end - connect`` rounded up, 0 if never
connected. On per-leg CDRs the trunk leg is the billable ``a`` leg (outbound: the number dialled is
``RemoteParty``; inbound: the DID dialled is ``LocalParty``); an external call's extension legs are
``b`` legs. A per-call record is external when it used a trunk, inbound when its caller is an
outside number (7+ digits, not one of the call's extensions).

See :mod:`bridge.modules.vodia` for the sources ([5] JSON CDR, [6] WebCDR, [7] ``TimeStart``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bridge.calls import CollectedCdr, parse_seconds
from bridge.errors import InvalidRequest
from bridge.rating.models import Cdr, Direction

_OUTSIDE_NUMBER = re.compile(r"\+?[0-9]{7,}", re.ASCII)
_ANGLE_URI = re.compile(r"<([^>]*)>")
# Epoch seconds up to the year 5138, to the nanosecond: nothing longer is a time.
_EPOCH = re.compile(r"\d{1,11}(?:\.\d{1,9})?", re.ASCII)


def parse_vodia_cdr(record: Any, *, domain: str = "") -> CollectedCdr:
    """Return a Vodia JSON CDR leg, WebCDR or REST call record as a call; raise if it is neither."""
    if not isinstance(record, Mapping):
        raise InvalidRequest(f"A Vodia CDR is a JSON object, not a {type(record).__name__}.")
    if record.get("action") == "call-data-record" or "CallID" in record:
        return _parse_leg(record, domain)
    if "callid" in record or "call_id" in record:
        return _parse_call(record, domain)
    raise InvalidRequest(
        "Not a Vodia CDR: expected a JSON CDR (action 'call-data-record' with CallID) or a "
        "WebCDR (callid, start, connect, end)."
    )


def _parse_leg(record: Mapping[str, Any], domain: str) -> CollectedCdr:
    call_id = _text(record, "CallID")
    if not call_id:
        raise InvalidRequest("JSON CDR without a CallID.")
    way = _text(record, "Direction").upper()
    if way not in ("I", "O"):
        raise InvalidRequest(f"JSON CDR {call_id}: Direction {way!r} is neither I nor O.")
    remote, local = _text(record, "RemoteParty"), _text(record, "LocalParty")
    caller_party = remote if way == "I" else local
    caller, callee = (_user(remote), _user(local)) if way == "I" else (_user(local), _user(remote))
    if _text(record, "TrunkID") or _text(record, "TrunkName"):
        direction, leg = (Direction.INBOUND if way == "I" else Direction.OUTBOUND), "a"
    elif _text(record, "Type").lower() == "extcall":
        # The trunk leg of the same call is the billable one; this is the extension's side of it.
        direction, leg = (Direction.OUTBOUND if way == "I" else Direction.INBOUND), "b"
    else:
        primary = _text(record, "PrimaryCallID") or call_id
        direction, leg = Direction.LOCAL, ("a" if primary == call_id else "b")
    times = [_epoch(record, name, call_id) for name in ("TimeStart", "TimeConnected", "TimeEnd")]
    return _collected(
        call_id, direction, caller, callee, times, _text(record, "Domain") or domain, leg,
        caller_name=_display_name(caller_party),
    )  # fmt: skip


def _parse_call(record: Mapping[str, Any], domain: str) -> CollectedCdr:
    call_id = _text(record, "callid") or _text(record, "call_id")
    if not call_id:
        raise InvalidRequest("WebCDR without a callid.")
    caller, callee = _user(_text(record, "from")), _user(_text(record, "to"))
    caller_name = _display_name(_text(record, "from"))
    trunks, extensions = record.get("trunks"), record.get("extensions")
    ours = {str(e) for e in extensions} if isinstance(extensions, list) else set()
    caller_outside = bool(_OUTSIDE_NUMBER.fullmatch(caller)) and caller not in ours
    if isinstance(trunks, list) and not trunks:
        direction = Direction.LOCAL
    elif caller_outside:
        direction = Direction.INBOUND
    elif isinstance(trunks, list) or _OUTSIDE_NUMBER.fullmatch(callee):
        direction = Direction.OUTBOUND
    else:
        direction = Direction.LOCAL
    times = [_epoch(record, name, call_id) for name in ("start", "connect", "end")]
    return _collected(
        call_id, direction, caller, callee, times, _text(record, "domain") or domain,
        caller_name=caller_name,
    )  # fmt: skip


def _collected(
    call_id: str,
    direction: Direction,
    caller: str,
    callee: str,
    times: list[Decimal | None],
    domain: str,
    leg: str = "a",
    *,
    caller_name: str = "",
) -> CollectedCdr:
    start, connect, end = times
    if start is None:
        raise InvalidRequest(f"CDR {call_id}: no start time.")
    billsec = 0
    if connect is not None:
        if end is None:
            raise InvalidRequest(f"CDR {call_id}: connected but no end time.")
        if end < connect:
            raise InvalidRequest(f"CDR {call_id}: ends before it connects.")
        billsec = parse_seconds(end - connect, what=f"CDR {call_id}: duration")
    try:
        started = datetime.fromtimestamp(float(start), UTC)
    except (OverflowError, OSError, ValueError):
        raise InvalidRequest(f"CDR {call_id}: start time {start} is out of range.") from None
    call = Cdr(
        uuid=call_id,
        direction=direction,
        caller_number=caller,
        caller_destination=callee,
        destination_number=callee,
        start=started,
        billsec=billsec,
    )
    return CollectedCdr(call, domain=domain.strip().lower(), leg=leg, caller_name=caller_name)


def _epoch(record: Mapping[str, Any], name: str, call_id: str) -> Decimal | None:
    """Return a time field as epoch seconds (None when empty or 0: not connected, not ended).

    Epoch seconds must be plain digits (an exponent such as ``1e999999`` would make the
    arithmetic below take minutes); anything else must be an ISO date and time.
    """
    text = _text(record, name)
    if not text:
        return None
    if _EPOCH.fullmatch(text):
        return Decimal(text) or None
    try:
        stamp = datetime.fromisoformat(text)
        stamp = stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
        return Decimal(str(stamp.timestamp()))
    except (ValueError, OverflowError):
        raise InvalidRequest(
            f"CDR {call_id}: {name} {text[:40]!r} is neither epoch seconds nor a date and time."
        ) from None


def _text(record: Mapping[str, Any], name: str) -> str:
    value = record.get(name)
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        # Decimal(str(float)) keeps the digits Vodia sent, which float arithmetic would not.
        return str(value)
    raise InvalidRequest(f"CDR field {name} is a {type(value).__name__}, not text or a number.")


def _display_name(party: str) -> str:
    """Return the name in ``"Name" <sip:number@host>``, or ``""`` when the party has none."""
    found = _ANGLE_URI.search(party)
    if not found:
        return ""
    return party[: found.start()].strip().strip('"').strip()


def _user(party: str) -> str:
    """Return the number in ``"Name" <sip:number@host;params>`` (or a bare number)."""
    found = _ANGLE_URI.search(party)
    uri = found.group(1) if found else party.strip().strip('"')
    for scheme in ("sips:", "sip:", "tel:"):
        if uri.lower().startswith(scheme):
            uri = uri[len(scheme) :]
            break
    return uri.split("@", 1)[0].split(";", 1)[0].strip()
