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
from zoneinfo import ZoneInfo

from bridge.calls import CollectedCdr
from bridge.errors import BadLine, InvalidCdr, InvalidFile
from bridge.modules.fusionpbx_cdr import COLUMNS, cdr_from_row

_ALIASES = {"uuid": "xml_cdr_uuid"}
_REQUIRED = ("xml_cdr_uuid", "direction", "destination_number", "start_stamp", "billsec")
MAX_SHOWN = 50


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
        names = [name.strip().lower() for name in next(csv.reader([first]))]
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
        self._reader = csv.reader(lines)
        self.bad_lines: list[BadLine] = []
        self.b_legs = 0
        self.duplicates = 0

    def cdrs(self) -> Iterator[CollectedCdr]:
        """Yield each a-leg CDR once, recording bad lines and skipping b-legs and repeats."""
        seen: set[str] = set()
        for cells in self._reader:
            line = self._reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            try:
                cdr = self._parse(cells)
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

    def _parse(self, cells: list[str]) -> CollectedCdr:
        if len(cells) < self._width:
            short = [name for name, at in self._columns.items() if at >= len(cells)]
            raise InvalidCdr(
                f"only {len(cells)} column(s); {short[0]} is column {self._columns[short[0]] + 1}"
            )
        row = {name: cells[at] for name, at in self._columns.items()}
        return cdr_from_row(row, zone=self.zone, unknown_direction=None)
