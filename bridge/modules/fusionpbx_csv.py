"""FusionPBX CDR CSV exports (the Call Detail Records page's export, FusionPBX 5.0-5.3).

The export's header row names ``v_xml_cdr`` columns. The bridge uses ``xml_cdr_uuid`` (older
exports: ``uuid``), ``direction``, ``caller_id_number``, ``caller_destination``,
``destination_number``, ``start_stamp``, ``billsec`` and, when present, ``leg``; every other column
is ignored. Only a-legs are billable, so b-leg rows are counted and skipped. Exports without a
``caller_destination`` column (older versions) rate inbound calls on ``destination_number``.

``start_stamp`` is what PostgreSQL printed for a ``timestamptz`` (``2025-12-29 10:15:02-05``) or
ISO 8601; a stamp without an offset is read in the zone the caller gives (the PBX's timezone).
Like the tariff reader, this one streams and collects every bad line instead of stopping.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from bridge.modules.base import CollectedCdr
from bridge.rating.errors import InvalidRatingInput
from bridge.rating.models import Cdr, Direction
from bridge.rating.tariff_csv import BadLine

_ALIASES = {"uuid": "xml_cdr_uuid"}
_REQUIRED = ("xml_cdr_uuid", "direction", "destination_number", "start_stamp", "billsec")


class FusionPbxCsvError(InvalidRatingInput):
    """A CDR export has bad lines; ``bad_lines`` lists them all."""

    def __init__(self, source: str, bad_lines: list[BadLine]) -> None:
        self.bad_lines = tuple(bad_lines)
        shown = "\n".join(f"  {bad}" for bad in bad_lines[:50])
        more = f"\n  ... and {len(bad_lines) - 50} more" if len(bad_lines) > 50 else ""
        super().__init__(f"{source}: {len(bad_lines)} bad line(s):\n{shown}{more}")


class FusionPbxCsvReader:
    """Stream :class:`Cdr` values out of a FusionPBX CDR export."""

    def __init__(self, lines: Iterable[str], *, source: str = "CDR export", zone: ZoneInfo) -> None:
        self.source = source
        self.zone = zone
        lines = iter(lines)
        first = next(lines, "").lstrip("\ufeff")
        if not first.strip():
            raise InvalidRatingInput(f"{source}: the file is empty; the first row must be a header")
        names = [name.strip().lower() for name in next(csv.reader([first]))]
        header = [_ALIASES.get(name, name) for name in names]
        missing = [name for name in _REQUIRED if name not in header]
        if missing:
            raise InvalidRatingInput(
                f"{source}: line 1: the header lacks {', '.join(missing)}; is this a FusionPBX "
                "CDR export?"
            )
        self._columns = {name: header.index(name) for name in header}
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
                if self._value(cells, "leg").lower() == "b":
                    self.b_legs += 1
                    continue
                cdr = self._parse(cells)
            except InvalidRatingInput as exc:
                self.bad_lines.append(BadLine(line, str(exc)))
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

    def _value(self, cells: list[str], name: str) -> str:
        position = self._columns.get(name)
        if position is None:
            return ""
        if position >= len(cells):
            raise InvalidRatingInput(
                f"only {len(cells)} column(s); {name} is column {position + 1}"
            )
        return cells[position].strip()

    def _parse(self, cells: list[str]) -> CollectedCdr:
        uuid = self._value(cells, "xml_cdr_uuid")
        if not uuid:
            raise InvalidRatingInput("xml_cdr_uuid is empty")
        destination = self._value(cells, "destination_number")
        # Building the rating Cdr validates direction, start and billsec the same way rating will.
        cdr = Cdr(
            uuid=uuid,
            direction=self._value(cells, "direction").lower(),  # type: ignore[arg-type]
            caller_number=self._value(cells, "caller_id_number"),
            caller_destination=self._value(cells, "caller_destination") or destination,
            destination_number=destination,
            start=self._start(self._value(cells, "start_stamp")),
            billsec=_seconds(self._value(cells, "billsec")),
        )
        return CollectedCdr(
            uuid=cdr.uuid,
            direction=Direction(cdr.direction),
            caller_number=cdr.caller_number,
            caller_destination=cdr.caller_destination,
            destination_number=cdr.destination_number,
            start=cdr.start,
            billsec=cdr.billsec,
            domain=self._value(cells, "domain_name"),
            leg=self._value(cells, "leg").lower() or "a",
            hangup_cause=self._value(cells, "hangup_cause"),
        )

    def _start(self, text: str) -> datetime:
        try:
            stamp = datetime.fromisoformat(text)
        except ValueError:
            raise InvalidRatingInput(
                f"start_stamp {text!r} is not a date and time (e.g. 2025-12-29 10:15:02-05)"
            ) from None
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=self.zone)
        return stamp.astimezone(UTC)


def _seconds(text: str) -> int:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InvalidRatingInput(f"billsec {text!r} is not a number of seconds") from None
    if not value.is_finite() or value < 0:
        raise InvalidRatingInput(f"billsec {text!r} is not a number of seconds")
    # A fraction of a second answered is a second started: round up, never down.
    return int(value.to_integral_value(rounding=ROUND_CEILING))
