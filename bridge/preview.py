"""``bridge rate``: rate a CDR export against a tariff and a package, touching no billing data.

The three files are read with the same readers imports use (so a file that previews cleanly will
import cleanly), rated by the pure engine as one billing period, and printed either as JSON lines
(one object per CDR, then a summary object) or as a table with totals and optional traces.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from bridge.gc_pause import collector_paused
from bridge.modules.fusionpbx_csv import FusionPbxCsvReader
from bridge.rating import (
    Cdr,
    Direction,
    RatedCall,
    RatePlan,
    RatingResult,
    Tariff,
    invoice_sections,
    rate_calls,
    summarise,
)
from bridge.rating.explain import trace_lines
from bridge.rating.money import COST_QUANTUM, format_amount
from bridge.rating.package_toml import parse_package_toml
from bridge.rating.tariff_csv import TariffCsvReader
from bridge.text_files import read_utf8, reading_utf8

_SHORT_DIRECTION = {Direction.INBOUND: "in", Direction.OUTBOUND: "out", Direction.LOCAL: "loc"}


@dataclass(frozen=True, slots=True)
class Preview:
    """A rated CDR file with the plan it was rated against."""

    plan: RatePlan
    result: RatingResult
    period_start: date
    period_end: date
    b_legs_skipped: int
    duplicates_skipped: int


def rate_files(tariff_path: Path, package_path: Path, cdr_path: Path, *, zone: ZoneInfo) -> Preview:
    """Read the three files, rate the CDRs as one billing period and return the outcome."""
    # Reading builds a row per rate and a call per line, and rating a result per call, none of
    # them in a cycle: the collector would only re-walk them (bridge/gc_pause.py).
    with collector_paused():
        with reading_utf8(tariff_path), tariff_path.open(encoding="utf-8-sig", newline="") as lines:
            reader = TariffCsvReader(lines, source=str(tariff_path))
            tariff = Tariff.from_rows(tariff_path.stem, reader.rows())
            reader.finish()
        package_file = parse_package_toml(read_utf8(package_path), source=str(package_path))
        with reading_utf8(cdr_path), cdr_path.open(encoding="utf-8-sig", newline="") as lines:
            cdrs = FusionPbxCsvReader(lines, source=str(cdr_path), zone=zone)
            records = [record.call for record in cdrs.cdrs()]
            cdrs.finish()
        plan = RatePlan(package=package_file.package, tariff=tariff, special=package_file.special)
        # The whole file is one billing period: from the first call's day to the last's, PBX time.
        days = period_days(records, zone) or [date.today()]
        result = rate_calls(records, plan)
    return Preview(
        plan=plan,
        result=result,
        period_start=days[0],
        period_end=days[-1],
        b_legs_skipped=cdrs.b_legs,
        duplicates_skipped=cdrs.duplicates,
    )


def period_days(records: list[Cdr], zone: ZoneInfo) -> list[date]:
    """Return the first and last day, in ``zone``, on which the calls of ``records`` started.

    A zone's offset only changes at a transition, and transitions fall on a quarter hour, so
    each call's local day comes from its Unix time plus the offset of its UTC quarter hour,
    looked up once per quarter hour (converting each start costs a microsecond).
    """
    offsets: dict[int, int] = {}
    days: set[int] = set()
    for cdr in records:
        seconds = int(cdr.start.timestamp() // 1)
        quarter = seconds // 900
        offset = offsets.get(quarter)
        if offset is None:
            shift = cdr.start.astimezone(zone).utcoffset()
            offset = offsets[quarter] = int(shift.total_seconds()) if shift else 0
        days.add((seconds + offset) // 86400)
    return [_EPOCH + timedelta(days=day) for day in (min(days), max(days))] if days else []


_EPOCH = date(1970, 1, 1)


def json_lines(preview: Preview) -> Iterator[str]:
    """Yield one JSON object per CDR, in file order, then the summary object.

    Each line is what ``json.dumps`` gives for the call's dict, written from a template: the
    keys, the enum values and the numbers need no escaping, and the id, number and prefix only
    when one of them holds a quote, a backslash, a control or a non-ASCII character (then
    ``json.dumps`` writes them). Each distinct rate is formatted once.
    """
    rates: dict[Decimal, str] = {}
    for call in preview.result.calls:
        entry = call.entry
        uuid, number = call.cdr.uuid, call.number
        prefix = "" if entry is None else entry.prefix
        texts = uuid + number + prefix
        if texts.isascii() and texts.isprintable() and '"' not in texts and "\\" not in texts:
            uuid, number, prefix = f'"{uuid}"', f'"{number}"', f'"{prefix}"'
        else:
            uuid, number, prefix = json.dumps(uuid), json.dumps(number), json.dumps(prefix)
        if entry is None:
            prefix = rate = "null"
        else:
            rate = rates.get(entry.rate) or rates.setdefault(
                entry.rate, json.dumps(f"{entry.rate.normalize():f}")
            )
        yield _CALL_LINE % (
            uuid,
            call.status._value_,
            call.calltype._value_,
            number,
            prefix,
            rate,
            call.billed_seconds,
            call.free_seconds,
            format(call.cost.quantize(COST_QUANTUM), "f"),
        )
    summary = summarise(preview.result.calls)
    yield json.dumps(
        {
            "summary": {
                "calls": summary.calls,
                "billed_calls": summary.billed_calls,
                "billed_seconds": summary.billed_seconds,
                "cost": f"{summary.cost:f}",
                "no_rate": summary.no_rate,
                "by_status": {status.value: n for status, n in summary.by_status.items()},
            }
        }
    )


# json.dumps's own layout (", " and ": ") for the keys json_lines writes, in its order. Status and
# call type values are plain lower-case words and CamelCase names: no escaping.
_CALL_LINE = (
    '{"uuid": %s, "status": "%s", "calltype": "%s", "number": %s, "prefix": %s, "rate": %s, '
    '"billed_seconds": %d, "free_seconds": %d, "cost": "%s"}'
)


def render_preview(
    preview: Preview, *, explain: bool = False, currency: tuple[str, str] = ("$", "")
) -> RenderableType:
    """Return the human-readable preview: calls, totals, invoice lines, and traces on request."""
    table = Table(
        title="Rated calls (preview; nothing is billed)",
        box=None,
        padding=(0, 1),
        collapse_padding=True,
        pad_edge=False,
        header_style="bold underline",
    )
    table.add_column("Start UTC", no_wrap=True)
    table.add_column("Dir", no_wrap=True)
    table.add_column("Number", no_wrap=True)
    table.add_column("Match", no_wrap=True)
    table.add_column("Description", max_width=24, overflow="ellipsis", no_wrap=True)
    for heading in ("Rate", "Sec", "Free", "Cost"):
        table.add_column(heading, justify="right", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    for call in preview.result.calls:
        table.add_row(*(escape(cell) for cell in _row(call)))
    sections = invoice_sections(
        preview.result.calls, period_start=preview.period_start, period_end=preview.period_end
    )
    invoice = "\n\n".join(
        section.text(currency_prefix=currency[0], currency_suffix=currency[1])
        for section in sections
    )
    parts: list[RenderableType] = [
        table,
        Text(""),
        Text(_totals(preview)),
        Text("\nInvoice lines:\n" + (invoice or "(nothing billed)")),
    ]
    if explain:
        for call in preview.result.calls:
            parts.append(Text(f"\n{call.uuid}\n" + "\n".join(trace_lines(call, preview.plan))))
    return Group(*parts)


def _row(call: RatedCall) -> tuple[str, ...]:
    return (
        call.cdr.start.strftime("%m-%d %H:%M"),
        _SHORT_DIRECTION[call.cdr.direction],
        call.number,
        call.prefix or "",
        call.description,
        "" if call.rate is None else f"{call.rate.normalize():f}",
        str(call.billed_seconds),
        str(call.free_seconds),
        f"{call.cost.quantize(COST_QUANTUM):f}",
        call.status.value,
    )


def _totals(preview: Preview) -> str:
    summary = summarise(preview.result.calls)
    statuses = ", ".join(f"{status.value} {n}" for status, n in summary.by_status.items() if n)
    lines = [
        f"{summary.calls} calls, {summary.billed_calls} billed, "
        f"{summary.billed_seconds} billed seconds ({summary.free_seconds} free), "
        f"total {format_amount(summary.cost)}",
        f"by status: {statuses or 'none'}",
    ]
    if summary.no_rate:
        lines.append(
            f"WARNING: {summary.no_rate} call(s) found no rate and would not be billed "
            "(a revenue leak: add the prefixes to the tariff or a custom rate)"
        )
    skipped = [
        f"{preview.b_legs_skipped} b-leg row(s)" if preview.b_legs_skipped else "",
        f"{preview.duplicates_skipped} repeated uuid(s)" if preview.duplicates_skipped else "",
    ]
    if any(skipped):
        lines.append("skipped: " + ", ".join(part for part in skipped if part))
    return "\n".join(lines)
