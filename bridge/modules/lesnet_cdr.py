"""LesNet CDR text files: finding the header, reading each call, reporting bad lines.

LesNet publishes no specification of its per-peer CDR file (``reference/rating-anchors.md``
§5.2; pages, docs and code searched again for this module, nothing found). The public facts come
from the ictVoIP admin guide (``ictvoip/ictvoip-docs`` ``docs/source/clientadmin/clientadmin.rst``):
the file is plain text at the service's "CDR Link" (``https://portal.les.net/cdr/11330_0000.txt``),
it refreshes every 24 hours, and a service is its "Peer ID" plus the "DID(s) Attached to Peer".
So this reader accepts any plausible delimited layout, and exactly this:

* **Text.** UTF-8 with or without BOM (undecodable bytes become U+FFFD and fail their line), LF or
  CRLF. Blank lines and comments (``#``, ``//``) are skipped anywhere.
* **Header.** The first of the first 50 lines whose cells name a start time, a destination and a
  duration (see ``_ALIASES``: names match case-insensitively, ignoring spaces and punctuation, so
  ``Date/Time``, ``date_time`` and ``DATETIME`` are one name). Any preamble before it is skipped. A
  name ending in ``UTC``/``GMT`` (``Start (UTC)``) says times without an offset are UTC; otherwise
  they are in the server's timezone. The header repeated further down (files pasted together) is
  skipped.
* **Delimiter.** Comma, tab, pipe or semicolon: whichever makes the header name the most known
  columns. Fields may be ``"quoted"`` but never span lines, so a stray quote spoils one line only.
* **Start.** ``YYYY-MM-DD HH:MM[:SS[.ffffff]]`` (``T`` or space, ``/`` or ``-``), optionally
  followed by ``Z``, ``UTC``, ``GMT`` or an offset ``±HH[:MM]``; or Unix seconds. A date-only start
  column is completed by a time column and vice versa. Day-first and month-first dates are refused:
  ``03/04/2025`` is two different days depending on who wrote it.
* **Duration.** Billed seconds (``billsec``) are preferred over ``duration``; either may be whole or
  decimal seconds (a started second counts, so ``12.2`` is 13) or ``[H:]MM:SS``; a minutes column
  (``0.5`` is 30 s) is used only when there is no seconds column. More than 7 days is refused. A
  status of no answer, busy, failed or cancelled makes the billed time 0 (``duration`` may include
  ringing).
* **Direction.** A ``direction`` column must say in/inbound/incoming/origination,
  out/outbound/outgoing/termination or local/internal, else the line is bad. A ``type`` column is
  used when it says one of those, and ignored otherwise (it may be a call class such as
  "Canada"). Without either, a call to one of the peer's DIDs is inbound, anything else outbound.
  An inbound call is rated on the DID (``caller_destination``), an outbound one on the destination.
* **Peer.** With a peer column (``peer``, ``peer id``, ``trunk``...), a row naming another peer is
  someone else's call; a row with an empty peer cell is ours when it comes from or goes to one of
  our DIDs. Without a peer column the file is the peer's own (one CDR Link per service) and every
  row is ours. DIDs compare as digits, with NANP ``1`` prefixes ignored (``+1 204-666-4021`` is
  ``2046664021``).
* **Identity.** The file has no call id we can trust across refreshes, so ``uuid`` is the first 40
  hex digits of a SHA-256 over the peer id, the UTC start, caller, destination, billed seconds and
  (if the file has one) the ``call id``/``unique id`` column. The same call fetched again tomorrow
  gets the same uuid and the CDR store keeps it once; two identical rows in one file are one call.
* **Rate and cost** columns are ignored: the bridge rates calls itself.

A line that cannot be read is reported by its line number and reading goes on; a line with fewer
cells than the header (for instance the last line of a file cut off in transfer) is such a line.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from bridge.calls import CollectedCdr, RejectedCdr, parse_plain_decimal, parse_seconds
from bridge.errors import BadLine, InvalidCdr, InvalidFile
from bridge.rating.models import Cdr, Direction

HEADER_SEARCH_LINES = 50
MAX_BILLSEC = 7 * 24 * 3600
DELIMITERS = (",", "\t", "|", ";")
_COMMENTS = ("#", "//")

# Canonical field -> accepted header names (normalised), best first: when two columns match one
# field, the earlier name wins (``billsec`` over ``duration``).
_ALIASES: dict[str, tuple[str, ...]] = {
    what: tuple(names.split())
    for what, names in {
        "start": "start starttime startstamp startdatetime datetime dateandtime calldatetime "
        "callstart callstarttime calldate timestamp startedat",
        "date": "date startdate day",
        "time": "time timeofday clock",
        "caller": "caller callerid calleridnumber callernumber callingnumber calling source "
        "sourcenumber src from fromnumber ani cli clid origin",
        "destination": "destination destinationnumber dest dst called callednumber calledparty "
        "dialed dialednumber dialled diallednumber to tonumber dnis number",
        "billsec": "billsec billseconds billableseconds billedseconds billedsec billable "
        "billedduration billableduration duration durationsec durationsecs durationseconds "
        "seconds secs sec talktime length",
        "minutes": "minutes mins min durationmin durationmins durationminutes billedminutes "
        "billableminutes",
        "direction": "direction dir calldirection inout",
        "kind": "type calltype class callclass category",
        "peer": "peer peerid peername sippeer trunk trunkid trunkname",
        "call_id": "callid uniqueid uuid sipcallid",
        "status": "disposition status callstatus result hangupcause cause",
    }.items()
}
_FIELD_OF = {
    name: (what, rank) for what, names in _ALIASES.items() for rank, name in enumerate(names)
}
_TIME_FIELDS = ("start", "date", "time")

_DIRECTIONS = {
    **dict.fromkeys(("in", "inbound", "incoming", "inc", "i", "origination"), Direction.INBOUND),
    **dict.fromkeys(("out", "outbound", "outgoing", "o", "termination"), Direction.OUTBOUND),
    **dict.fromkeys(("local", "internal", "onnet", "extension"), Direction.LOCAL),
}
_UNANSWERED = {"noanswer", "unanswered", "busy", "failed", "cancel", "cancelled", "canceled"}

_STAMP = re.compile(
    r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,6})\d*)?)?"
    r"\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$",
    re.I,
)
_DATE_ONLY = re.compile(r"^\d{4}[-/]\d{1,2}[-/]\d{1,2}$")
_TIME_ONLY = re.compile(r"^\d{1,2}:\d{2}(:\d{2}([.,]\d+)?)?\s*(Z|UTC|GMT|[+-]\d{2}(:?\d{2})?)?$")
_EPOCH = re.compile(r"^\d{9,10}(\.\d+)?$")
_CLOCK = re.compile(r"^(?:(\d{1,6}):)?(\d{1,2}):(\d{2}(?:\.\d{1,9})?)$")


class CdrFileError(InvalidFile):
    """The text is not a CDR file this reader understands (no header, or an HTML page)."""


@dataclass(frozen=True, slots=True)
class Layout:
    """Where a CDR file's header is, how it is delimited and which column holds which field."""

    header_line: int
    delimiter: str
    names: tuple[str, ...]
    columns: Mapping[str, int]
    utc: bool = False

    def describe(self) -> str:
        """Return the header as the admin would recognise it, e.g. ``line 3: Date|Source|...``."""
        shown = {"\t": "tab", ",": "comma", "|": "pipe", ";": "semicolon"}[self.delimiter]
        return f"header on line {self.header_line} ({shown}-delimited: {', '.join(self.names)})"


@dataclass(frozen=True, slots=True)
class CdrFile:
    """One peer's calls read out of a CDR file, and what could not be read."""

    layout: Layout | None
    cdrs: tuple[CollectedCdr, ...] = ()
    bad_lines: tuple[BadLine, ...] = ()
    other_peers: int = 0
    duplicates: int = 0
    warnings: tuple[str, ...] = field(default=())
    # The bad lines as records for the quarantine; a line the file was cut inside is left out,
    # since the next download holds it whole.
    rejected: tuple[RejectedCdr, ...] = ()


# How much of a bad line the quarantine keeps.
_LINE_SHOWN = 1000


class _BadValue(Exception):
    """A cell of one line cannot be read; the message says which and why."""


def find_layout(lines: Sequence[str]) -> Layout:
    """Return the layout of the first header row among the first lines, or raise CdrFileError."""
    for index, raw in enumerate(lines[:HEADER_SEARCH_LINES]):
        text = raw.strip().lstrip("\ufeff")
        if not text or text.startswith(_COMMENTS):
            continue
        if text.startswith("<"):
            raise CdrFileError(
                f"line {index + 1} is HTML ({text[:40]!r}): this is a web page, not a CDR file"
            )
        layout = _header(text, index + 1)
        if layout is not None:
            return layout
    raise CdrFileError(
        f"no header row in the first {HEADER_SEARCH_LINES} lines: expected a line naming the "
        "start time, destination and duration columns, e.g. 'Date,Source,Destination,Duration'"
    )


def read_cdr_file(text: str, *, peer_id: str, dids: Sequence[str], zone: ZoneInfo) -> CdrFile:
    """Read the calls of ``peer_id`` out of a LesNet CDR file, collecting bad lines by number."""
    text = text.lstrip("\ufeff")
    if not text.strip():
        return CdrFile(layout=None, warnings=("the CDR file is empty",))
    lines = text.split("\n")
    layout = find_layout(lines)
    ours = {_number_key(did): did for did in dids}
    header_keys = tuple(_normalise(name) for name in layout.names)
    cdrs: dict[str, CollectedCdr] = {}
    bad: list[BadLine] = []
    rejected: list[RejectedCdr] = []
    other_peers = named_us = duplicates = 0
    peers_seen: set[str] = set()
    for number in range(layout.header_line + 1, len(lines) + 1):
        line = lines[number - 1].rstrip("\r")
        if not line.strip() or line.lstrip().startswith(_COMMENTS):
            continue
        cells = _split(line, layout.delimiter)
        if tuple(_normalise(cell) for cell in cells) == header_keys:
            continue
        try:
            cdr, peer = _read_line(cells, layout, peer_id, ours, zone)
        except _BadValue as exc:
            cut = number == len(lines)  # the text did not end with a line break
            suffix = "; the file ends inside this line (cut off in transfer?)" if cut else ""
            bad.append(BadLine(number, f"{exc}{suffix}"))
            if not cut:
                reason = f"line {number} of peer {peer_id}'s CDR file: {exc}"
                rejected.append(RejectedCdr("", reason, line[:_LINE_SHOWN], domain=peer_id))
            continue
        if peer is not None:
            if peer.casefold() != peer_id.casefold():
                other_peers += 1
                peers_seen.add(peer)
                continue
            named_us += 1
        elif "peer" in layout.columns and not _touches(cdr, ours):
            other_peers += 1
            continue
        if cdr.uuid in cdrs:
            duplicates += 1
            continue
        cdrs[cdr.uuid] = cdr
    warnings: list[str] = []
    if peers_seen and not named_us:
        column = layout.names[layout.columns["peer"]]
        seen = ", ".join(repr(name) for name in sorted(peers_seen)[:3])
        warnings.append(
            f"no call in the file names peer {peer_id} in column {column!r} (it names {seen}); "
            "check the service's Peer ID and CDR Link"
        )
    return CdrFile(
        layout,
        tuple(cdrs.values()),
        tuple(bad),
        other_peers,
        duplicates,
        tuple(warnings),
        tuple(rejected),
    )


def call_uuid(
    peer_id: str, start: datetime, caller: str, destination: str, billsec: int, call_id: str = ""
) -> str:
    """Return the stable id of one call: the same call read again yields the same id."""
    parts = (
        "lesnet",
        peer_id.upper(),
        start.astimezone(UTC).isoformat(),
        _number_key(caller),
        _number_key(destination),
        str(billsec),
        call_id,
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


def _header(text: str, line: int) -> Layout | None:
    best: Layout | None = None
    for delimiter in DELIMITERS:
        cells = [cell.strip() for cell in _split(text, delimiter)]
        while cells and not cells[-1]:
            cells.pop()  # a trailing delimiter on the header names no column
        names = tuple(cells)
        if len(names) < 3:
            continue
        columns: dict[str, tuple[int, int]] = {}
        utc = False
        for position, name in enumerate(names):
            key = _normalise(name)
            zone_named = key.endswith(("utc", "gmt")) and len(key) > 3
            found = _FIELD_OF.get(key[:-3] if zone_named else key)
            if found is None:
                continue
            what, rank = found
            utc = utc or (zone_named and what in _TIME_FIELDS)
            if what not in columns or rank < columns[what][1]:
                columns[what] = (position, rank)
        has_time = any(name in columns for name in _TIME_FIELDS)
        has_length = "billsec" in columns or "minutes" in columns
        if not (has_time and "destination" in columns and has_length):
            continue
        if best is None or len(columns) > len(best.columns):
            mapping = {what: position for what, (position, _) in columns.items()}
            best = Layout(line, delimiter, names, mapping, utc)
    return best


def _read_line(
    cells: list[str], layout: Layout, peer_id: str, ours: Mapping[str, str], zone: ZoneInfo
) -> tuple[CollectedCdr, str | None]:
    if len(cells) < len(layout.names):
        shown = layout.delimiter.join(cells)[:60]
        raise _BadValue(f"{len(cells)} of {len(layout.names)} columns: {shown!r}")

    def cell(what: str) -> str:
        position = layout.columns.get(what)
        return "" if position is None else cells[position].strip()

    start = _start(cell("start"), cell("date"), cell("time"), UTC if layout.utc else zone)
    caller, destination = cell("caller"), cell("destination")
    if not any(char.isdigit() for char in destination):
        raise _BadValue(f"destination {destination!r} is not a number")
    billsec = _billsec(cell("billsec"), cell("minutes"), "billsec" in layout.columns)
    status = cell("status")
    if _normalise(status) in _UNANSWERED:
        billsec = 0
    did = ours.get(_number_key(destination))
    direction = _direction(cell("direction"), cell("kind"), inbound=did is not None)
    call = Cdr(
        uuid=call_uuid(peer_id, start, caller, destination, billsec, cell("call_id")),
        direction=direction,
        caller_number=caller,
        caller_destination=did if direction is Direction.INBOUND and did else destination,
        destination_number=destination,
        start=start,
        billsec=billsec,
    )
    cdr = CollectedCdr(call, domain=peer_id, leg="a", hangup_cause=status)
    return cdr, cell("peer") or None


def _start(start: str, date: str, time: str, zone: tzinfo) -> datetime:
    base = start or date or time
    if _DATE_ONLY.match(base) and time and base != time:
        base = f"{base} {time}"
    elif _TIME_ONLY.match(base) and date and base != date:
        base = f"{date} {base}"
    if _EPOCH.match(base):
        return datetime.fromtimestamp(float(base), UTC)
    match = _STAMP.match(base)
    if not match:
        raise _BadValue(
            f"start {base!r} is not a date and time (expected YYYY-MM-DD HH:MM:SS, ISO 8601 or "
            "Unix seconds)"
        )
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        stamp = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second or 0),
            int((fraction or "0").ljust(6, "0")),
        )
    except ValueError as exc:
        raise _BadValue(f"start {base!r} is not a real date and time ({exc})") from None
    try:
        return stamp.replace(tzinfo=_offset(offset) if offset else zone).astimezone(UTC)
    except OverflowError:  # an offset pushing year 1 or 9999 off the calendar
        raise _BadValue(f"start {base!r} is out of range") from None


def _offset(text: str) -> tzinfo:
    if text.upper() in ("Z", "UTC", "GMT"):
        return UTC
    digits = text[1:].replace(":", "")
    delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
    return timezone(-delta if text[0] == "-" else delta)


def _billsec(seconds: str, minutes: str, has_seconds: bool) -> int:
    text, unit = (seconds, 1) if has_seconds else (minutes, 60)
    clock = _CLOCK.match(text) if unit == 1 else None
    try:
        if clock:
            hours, mins, secs = clock.groups()
            value = Decimal(int(hours or 0) * 3600 + int(mins) * 60) + Decimal(secs)
        else:
            value = parse_plain_decimal(text, what="duration") * unit
    except (InvalidOperation, InvalidCdr):
        raise _BadValue(f"duration {text[:40]!r} is not a number of seconds") from None
    if value > MAX_BILLSEC:
        raise _BadValue(f"duration {text[:40]!r} is over 7 days; not a real call")
    return parse_seconds(value)


def _direction(explicit: str, kind: str, *, inbound: bool) -> Direction:
    if explicit:
        found = _DIRECTIONS.get(_normalise(explicit))
        if found is None:
            raise _BadValue(f"direction {explicit!r} is not inbound, outbound or local")
        return found
    found = _DIRECTIONS.get(_normalise(kind))
    if found is not None:
        return found
    return Direction.INBOUND if inbound else Direction.OUTBOUND


def _touches(cdr: CollectedCdr, ours: Mapping[str, str]) -> bool:
    call = cdr.call
    return _number_key(call.caller_number) in ours or _number_key(call.destination_number) in ours


def _number_key(number: str) -> str:
    digits = "".join(char for char in number if char.isdigit())
    if not digits:
        return number.strip().casefold()
    # NANP numbers appear with and without the country code 1: compare the ten-digit form.
    return digits[1:] if len(digits) == 11 and digits.startswith("1") else digits


def _normalise(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _split(line: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=delimiter, skipinitialspace=True), [])
    except csv.Error:
        # e.g. a field over csv's size limit: one cell, so the line is reported as bad.
        return [line]
