"""FusionPBX CDR CSV exports (the Call Detail Records page's export, FusionPBX 5.0-5.3).

The export's header row names ``v_xml_cdr`` columns. The bridge uses ``xml_cdr_uuid`` (older
exports: ``uuid``), ``direction``, ``caller_id_number``, ``caller_destination``,
``destination_number``, ``start_stamp``, ``billsec`` and, when present, ``leg``, ``domain_name`` and
``hangup_cause``; every other column is ignored. Each row is mapped by
:func:`bridge.modules.fusionpbx_cdr.cdr_from_row`, as rows read from the PBX's database are, except
that a direction other than inbound, outbound or local is a bad line here (the operator can fix the
file). Only a-legs are billable, so b-leg rows are counted and skipped.

``start_stamp`` is what PostgreSQL printed for a ``timestamptz`` (``2025-12-29 10:15:02-05``) or
ISO 8601; a stamp without an offset is read in the zone the caller gives (the PBX's timezone).
Like the tariff reader, this one streams and collects every bad line instead of stopping.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bridge.calls import MAX_SECONDS, CollectedCdr
from bridge.errors import BadLine, InvalidCdr, InvalidFile
from bridge.modules.fusionpbx_cdr import COLUMNS, cdr_from_row
from bridge.rating.csv_cells import read_cells, read_header
from bridge.rating.models import Cdr, Direction

_ALIASES = {"uuid": "xml_cdr_uuid"}
_REQUIRED = ("xml_cdr_uuid", "direction", "destination_number", "start_stamp", "billsec")
MAX_SHOWN = 50
# Directions as _quick reads them (lower-cased; empty is local, as cdr_from_row decides).
_DIRECTIONS = {direction.value: direction for direction in Direction} | {"": Direction.LOCAL}


class FusionPbxCsvError(InvalidFile):
    """A CDR export has bad lines; ``bad_lines`` lists them all."""

    def __init__(self, source: str, bad_lines: list[BadLine]) -> None:
        shown = "\n".join(f"  {bad}" for bad in bad_lines[:MAX_SHOWN])
        hidden = len(bad_lines) - MAX_SHOWN
        more = f"\n  ... and {hidden} more" if hidden > 0 else ""
        super().__init__(f"{source}: {len(bad_lines)} bad line(s):\n{shown}{more}", bad_lines)


class FusionPbxCsvReader:
    """Stream :class:`CollectedCdr` values out of a FusionPBX CDR export."""

    def __init__(self, lines: Iterable[str], *, source: str = "CDR export", zone: ZoneInfo) -> None:
        self.source = source
        self.zone = zone
        lines = iter(lines)
        first = next(lines, "").lstrip("\ufeff")
        if not first.strip():
            raise InvalidFile(f"{source}: the file is empty; the first row must be a header")
        cells = read_header(first)
        if isinstance(cells, str):
            raise InvalidFile(f"{source}: line 1: the header {cells}")
        names = [name.strip().lower() for name in cells]
        header = [_ALIASES.get(name, name) for name in names]
        missing = [name for name in _REQUIRED if name not in header]
        if missing:
            raise InvalidFile(
                f"{source}: line 1: the header lacks {', '.join(missing)}; is this a FusionPBX "
                "CDR export?"
            )
        # Column positions are decided once, from the header; rows are then read by position.
        self._columns = {name: header.index(name) for name in COLUMNS if name in header}
        self._width = max(self._columns.values()) + 1
        # The per-file plan for _quick: each column's position (None when the export lacks it).
        self._at = tuple(self._columns.get(name) for name in COLUMNS)
        self._reader = csv.reader(lines)
        self.bad_lines: list[BadLine] = []
        self.b_legs = 0
        self.duplicates = 0

    def cdrs(self) -> Iterator[CollectedCdr]:
        """Yield each a-leg CDR once, recording bad lines and skipping b-legs and repeats."""
        seen: set[str] = set()
        for line, cells in read_cells(self._reader, first_line=2):
            if isinstance(cells, str):
                self.bad_lines.append(BadLine(line, cells))
                continue
            if not "".join(cells).strip():
                continue
            try:
                cdr = self._quick(cells) or self._parse(cells)
            except InvalidCdr as exc:
                self.bad_lines.append(BadLine(line, exc.message))
                continue
            if cdr.leg == "b":
                self.b_legs += 1
                continue
            if cdr.uuid in seen:
                self.duplicates += 1
                continue
            seen.add(cdr.uuid)
            yield cdr

    def finish(self) -> None:
        """Raise :class:`FusionPbxCsvError` when any line was bad."""
        if self.bad_lines:
            raise FusionPbxCsvError(self.source, self.bad_lines)

    def _quick(self, cells: list[str]) -> CollectedCdr | None:
        """Return the call of a line written the usual way, or None to let :meth:`_parse` decide.

        Accepts only what :func:`cdr_from_row` accepts and reads it the same way (a known
        direction, whole seconds in ASCII digits, an ISO start); anything else, and every
        error, is left to it, so the mapping and its messages have one owner.
        """
        if len(cells) < self._width:
            return None
        (
            uuid_at, domain_at, direction_at, caller_at, did_at, dest_at, start_at, sec_at,
            leg_at, cause_at, name_at,
        ) = self._at  # fmt: skip
        uuid = cells[uuid_at].strip()  # type: ignore[index]
        direction = _DIRECTIONS.get(cells[direction_at].strip().lower())  # type: ignore[index]
        stamp = cells[start_at].strip()  # type: ignore[index]
        seconds = cells[sec_at]  # type: ignore[index]
        if seconds:
            seconds = seconds.strip()
            if not (seconds.isdigit() and seconds.isascii() and len(seconds) <= 10):
                return None
        billsec = int(seconds) if seconds else 0
        if not uuid or direction is None or not stamp or billsec > MAX_SECONDS:
            return None
        try:
            start = datetime.fromisoformat(stamp)
            if start.tzinfo is None:
                start = start.replace(tzinfo=self.zone)
            if start.tzinfo is not UTC:
                start = start.astimezone(UTC)
        except (ValueError, OverflowError):
            return None
        destination = cells[dest_at].strip()  # type: ignore[index]
        dialled = "" if did_at is None else cells[did_at].strip()
        leg = "" if leg_at is None else cells[leg_at].strip().lower()
        # Cdr: uuid, direction, caller_number, caller_destination, destination_number, start,
        # billsec; CollectedCdr: call, domain, leg, hangup_cause, caller_name (positional: a
        # million calls).
        call = Cdr(
            uuid, direction, "" if caller_at is None else cells[caller_at].strip(),
            dialled or destination, destination, start, billsec,
        )  # fmt: skip
        return CollectedCdr(
            call,
            "" if domain_at is None else cells[domain_at].strip().lower(),
            leg or "a",
            "" if cause_at is None else cells[cause_at].strip(),
            "" if name_at is None else cells[name_at].strip(),
        )

    def _parse(self, cells: list[str]) -> CollectedCdr:
        if len(cells) < self._width:
            short = [name for name, at in self._columns.items() if at >= len(cells)]
            raise InvalidCdr(
                f"only {len(cells)} column(s); {short[0]} is column {self._columns[short[0]] + 1}"
            )
        row = {name: cells[at] for name, at in self._columns.items()}
        return cdr_from_row(row, zone=self.zone, unknown_direction=None)
