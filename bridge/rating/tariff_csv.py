"""Provider rate cards as CSV: reading them into tariff rows, and writing tariffs back out.

A rate card's first row is its header. Each column is mapped to one tariff field, by default by
header name (case, spaces and underscores ignored: ``Rate Value`` is ``RateValue``); a saved
per-tariff mapping and explicit overrides take precedence. Required fields: Description, Prefix,
RateValue, Increment. Optional: ShortDescription, Lastratechangedate, Oldrate, RatePremium,
ConnectionFee. Other columns are ignored.

The reader streams: it holds one row at a time plus a prefix index for duplicate detection, so a
100 MB file never sits in memory. It never stops at the first bad row; it reports every bad line
number at the end (:meth:`TariffCsvReader.finish`), and the caller imports nothing when there is
one. Files may be comma- or semicolon-delimited (semicolon files may use a decimal comma), UTF-8
with or without BOM, with CRLF or LF line ends.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal

from bridge.errors import BadLine
from bridge.rating.csv_cells import read_cells, read_header
from bridge.rating.errors import InvalidRatingInput
from bridge.rating.models import RateRow
from bridge.rating.money import ZERO

REQUIRED_FIELDS = ("Description", "Prefix", "RateValue", "Increment")
OPTIONAL_FIELDS = (
    "ShortDescription",
    "Lastratechangedate",
    "Oldrate",
    "RatePremium",
    "ConnectionFee",
)
TARIFF_FIELDS = REQUIRED_FIELDS + OPTIONAL_FIELDS
MAX_REPORTED_LINES = 50
MAX_PREFIX_DIGITS = 32
MAX_RATE_DECIMALS = 8
# The stored increment is a signed 32-bit INT.
MAX_INCREMENT = 2**31 - 1
_LOW_64_BITS = (1 << 64) - 1

_NUMBER = re.compile(r"^\d+(\.\d+)?$")
# An amount as nearly every card writes it: what _amount accepts, in a shape it needs no help with.
_PLAIN_AMOUNT = re.compile(r"[0-9]{1,10}(?:\.[0-9]{1,8})?").fullmatch
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S")


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name).lower()


_FIELD_BY_KEY = {_key(name): name for name in TARIFF_FIELDS}


class TariffCsvError(InvalidRatingInput):
    """A rate card cannot be imported; ``bad_lines`` lists every problem by line number."""

    def __init__(self, source: str, bad_lines: list[BadLine]) -> None:
        self.bad_lines = tuple(bad_lines)
        shown = "\n".join(f"  {bad}" for bad in bad_lines[:MAX_REPORTED_LINES])
        more = len(bad_lines) - MAX_REPORTED_LINES
        tail = f"\n  ... and {more} more" if more > 0 else ""
        super().__init__(
            f"{source}: {len(bad_lines)} bad line(s), every one listed; fix them and retry:\n"
            f"{shown}{tail}"
        )


def resolve_mapping(
    header: list[str],
    saved: Mapping[str, str] | None = None,
    overrides: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Return field -> header column for ``header``: defaults, then saved, then overrides.

    ``saved`` maps fields to header names (as stored for the tariff); ``overrides`` maps header
    names to fields (the CLI's ``--map column=field``), and a field of ``-`` skips the column.
    """
    by_key = {_key(column): column for column in header if column.strip()}
    mapping = {field: by_key[_key(field)] for field in TARIFF_FIELDS if _key(field) in by_key}
    for field, column in (saved or {}).items():
        if column in header and field in TARIFF_FIELDS:
            _unmap_column(mapping, column)
            mapping[field] = column
    for column, field_name in (overrides or {}).items():
        if column not in header:
            raise InvalidRatingInput(
                f"--map names column {column!r}, which the header does not have "
                f"(columns: {', '.join(header)})"
            )
        _unmap_column(mapping, column)
        if field_name.strip() in ("-", ""):
            continue
        target = _FIELD_BY_KEY.get(_key(field_name))
        if target is None:
            raise InvalidRatingInput(
                f"--map {column}={field_name}: unknown field; use one of {', '.join(TARIFF_FIELDS)}"
            )
        mapping[target] = column
    missing = [field for field in REQUIRED_FIELDS if field not in mapping]
    if missing:
        raise InvalidRatingInput(
            f"no column for {', '.join(missing)}; the header has {', '.join(header)}. Map them "
            "with --map COLUMN=FIELD."
        )
    return mapping


def _unmap_column(mapping: dict[str, str], column: str) -> None:
    for field in [field for field, mapped in mapping.items() if mapped == column]:
        del mapping[field]


class TariffCsvReader:
    """Stream :class:`RateRow` values out of a rate card, collecting every bad line."""

    def __init__(
        self,
        lines: Iterable[str],
        *,
        source: str = "rate card",
        saved: Mapping[str, str] | None = None,
        overrides: Mapping[str, str] | None = None,
    ) -> None:
        self.source = source
        lines = iter(lines)
        first = next(lines, "").lstrip("\ufeff")
        if not first.strip():
            raise InvalidRatingInput(f"{source}: the file is empty; the first row must be a header")
        self.delimiter = ";" if first.count(";") > first.count(",") else ","
        header = read_header(first, delimiter=self.delimiter)
        if isinstance(header, str):
            raise InvalidRatingInput(f"{source}: line 1: the header {header}")
        self.header = [column.strip() for column in header]
        self.mapping = resolve_mapping(self.header, saved, overrides)
        self._positions = {field: self.header.index(col) for field, col in self.mapping.items()}
        # The per-file plan for _quick: each field's column (None when unmapped), decided once.
        self._at = tuple(self._positions.get(field) for field in TARIFF_FIELDS)
        self._amounts_at = tuple(
            (slot, self._positions[field])
            for slot, field in enumerate(("Oldrate", "RatePremium", "ConnectionFee"))
            if field in self._positions
        )
        self._width = max(self._positions.values()) + 1
        self._dates: dict[str, date] = {}
        self._reader = csv.reader(lines, delimiter=self.delimiter)
        self.bad_lines: list[BadLine] = []
        self.rows_read = 0

    def rows(self) -> Iterator[RateRow]:
        """Yield each good row once; bad lines are recorded, exact repeats skipped."""
        # One small int per prefix (line number and a 64-bit digest of the row's values packed
        # together) keeps duplicate detection to ~100 bytes a row: a 100 MB card has a million.
        # Keyed by the prefix as a number behind a leading 1 (``0044`` is 10044, ``44`` is 144):
        # an int of that size takes half the memory of the string.
        seen: dict[int, int] = {}
        # The header was read before this reader, so its first line is the file's second.
        for line, cells in read_cells(self._reader, first_line=2):
            if isinstance(cells, str):
                self.rows_read += 1
                self.bad_lines.append(BadLine(line, cells))
                continue
            if not "".join(cells).strip():
                continue
            self.rows_read += 1
            try:
                row = self._quick(cells) or self._parse(cells)
            except InvalidRatingInput as exc:
                self.bad_lines.append(BadLine(line, str(exc)))
                continue
            digest = (
                hash((row.rate, row.increment, row.connection_fee, row.description)) & _LOW_64_BITS
            )
            first = seen.setdefault(int("1" + row.prefix), line << 64 | digest)
            if first & _LOW_64_BITS != digest:
                self.bad_lines.append(
                    BadLine(
                        line,
                        f"prefix {row.prefix} is already on line {first >> 64} "
                        "with a different rate, increment, fee or description",
                    )
                )
            elif first >> 64 == line:
                yield row

    def finish(self) -> None:
        """Raise :class:`TariffCsvError` listing every bad line, if there was any."""
        if self.bad_lines:
            raise TariffCsvError(self.source, self.bad_lines)
        if self.rows_read == 0:
            raise InvalidRatingInput(f"{self.source}: the file has a header but no rates")

    def _quick(self, cells: list[str]) -> RateRow | None:
        """Return the row of a line written the usual way, or None to let :meth:`_parse` decide.

        Every value accepted here is one :meth:`_parse` accepts and reads the same way (plain
        digits, ASCII amounts, ISO dates); anything else, and every error, is left to it, so
        the rules and the messages have one owner.
        """
        if len(cells) < self._width:
            return None
        at_desc, at_prefix, at_rate, at_inc, at_short, at_date = self._at[:6]
        prefix = cells[at_prefix].strip()  # type: ignore[index]
        description = cells[at_desc].strip()  # type: ignore[index]
        rate = cells[at_rate].strip()  # type: ignore[index]
        increment = cells[at_inc].strip()  # type: ignore[index]
        short = "" if at_short is None else cells[at_short].strip()
        if not (
            prefix.isdigit()
            and prefix.isascii()
            and len(prefix) <= MAX_PREFIX_DIGITS
            and description
            and len(description) <= 255
            and len(short) <= 64
            and increment.isdigit()
            and increment.isascii()
            and len(increment) <= 9
            and int(increment) >= 1
            and _PLAIN_AMOUNT(rate)
        ):
            return None
        amounts: list[Decimal | None] = [None, None, None]  # Oldrate, RatePremium, ConnectionFee
        for slot, at in self._amounts_at:
            text = cells[at].strip()
            if text:
                if not _PLAIN_AMOUNT(text):
                    return None
                amounts[slot] = Decimal(text)
        changed = None if at_date is None else cells[at_date].strip()
        day = self._dates.get(changed) if changed else None
        if changed and day is None:
            if not (
                len(changed) == 10
                and changed.isascii()
                and changed[4] == changed[7] == "-"
                and (changed[:4] + changed[5:7] + changed[8:]).isdigit()
            ):
                return None
            try:
                day = date(int(changed[:4]), int(changed[5:7]), int(changed[8:]))
            except ValueError:
                return None
            self._dates[changed] = day
        # prefix, description, rate, increment, connection_fee, short_description,
        # last_rate_change, old_rate, rate_premium (positional: a million calls)
        return RateRow(
            prefix, description, Decimal(rate), int(increment), amounts[2] or ZERO, short, day,
            amounts[0], amounts[1],
        )  # fmt: skip

    def _parse(self, cells: list[str]) -> RateRow:
        values = {field: self._cell(cells, field) for field in self._positions}
        if not values["Prefix"]:
            raise InvalidRatingInput("Prefix is empty")
        if not values["Description"]:
            raise InvalidRatingInput("Description is empty")
        prefix = values["Prefix"].replace(" ", "").removeprefix("+")
        if not (prefix.isascii() and prefix.isdigit()):
            raise InvalidRatingInput(f"Prefix {values['Prefix']!r} is not digits")
        if len(prefix) > MAX_PREFIX_DIGITS:
            raise InvalidRatingInput(f"Prefix {prefix} is longer than {MAX_PREFIX_DIGITS} digits")
        for field, limit in (("Description", 255), ("ShortDescription", 64)):
            if len(values.get(field, "")) > limit:
                raise InvalidRatingInput(f"{field} is longer than {limit} characters")
        increment = values["Increment"]
        seconds = increment.lstrip("0")
        if not (increment.isascii() and increment.isdigit()) or not seconds:
            raise InvalidRatingInput(f"Increment {increment!r} is not a whole number of seconds")
        # Length first: int() of a digit flood is slow, and over 4,300 digits it raises.
        if len(seconds) > 10 or int(seconds) > MAX_INCREMENT:
            raise InvalidRatingInput(
                f"Increment {increment[:20]!r} is out of range (1 to {MAX_INCREMENT} seconds)"
            )
        return RateRow(
            prefix=prefix,
            description=values["Description"],
            rate=self._amount(values["RateValue"], "RateValue"),
            increment=int(seconds),
            connection_fee=self._optional_amount(values.get("ConnectionFee"), "ConnectionFee")
            or Decimal(0),
            short_description=values.get("ShortDescription", ""),
            last_rate_change=_parse_date(values.get("Lastratechangedate", "")),
            old_rate=self._optional_amount(values.get("Oldrate"), "Oldrate"),
            rate_premium=self._optional_amount(values.get("RatePremium"), "RatePremium"),
        )

    def _cell(self, cells: list[str], field: str) -> str:
        position = self._positions[field]
        if position >= len(cells):
            raise InvalidRatingInput(
                f"only {len(cells)} column(s); {field} is column {position + 1}"
            )
        return cells[position].strip()

    def _amount(self, text: str, field: str) -> Decimal:
        cleaned = text.replace(" ", "")
        if self.delimiter == ";":
            cleaned = cleaned.replace(",", ".")
        if cleaned.startswith("-"):
            raise InvalidRatingInput(f"{field} {text!r} is negative")
        if not _NUMBER.match(cleaned):
            raise InvalidRatingInput(f"{field} {text!r} is not a number")
        whole, _, fraction = cleaned.partition(".")
        if len(fraction) > MAX_RATE_DECIMALS or len(whole.lstrip("0")) > 10:
            # Stored as DECIMAL(18,8): refuse what the database would silently round.
            raise InvalidRatingInput(
                f"{field} {text!r} has more than {MAX_RATE_DECIMALS} decimals or 10 digits"
            )
        # Decimal reads every digit that `\d` admits (all of Unicode's decimal digits).
        return Decimal(cleaned)

    def _optional_amount(self, text: str | None, field: str) -> Decimal | None:
        return None if not text else self._amount(text, field)


def _parse_date(text: str) -> date | None:
    if not text:
        return None
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise InvalidRatingInput(f"Lastratechangedate {text!r} is not a date (use YYYY-MM-DD)")


def tariff_csv_lines(rows: Iterable[RateRow]) -> Iterator[str]:
    """Yield a rate card for ``rows`` with every tariff field as a column, header first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")

    def flush(values: Iterable[object]) -> str:
        writer.writerow(values)
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield flush(TARIFF_FIELDS)
    for row in rows:
        yield flush(
            (
                row.description,
                row.prefix,
                _plain(row.rate),
                row.increment,
                row.short_description,
                row.last_rate_change.isoformat() if row.last_rate_change else "",
                _plain(row.old_rate),
                _plain(row.rate_premium),
                _plain(row.connection_fee) if row.connection_fee else "",
            )
        )


def _plain(amount: Decimal | None) -> str:
    return "" if amount is None else f"{amount.normalize():f}"
