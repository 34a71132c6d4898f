"""The client area's CSV export: a period's calls, streamed in constant memory.

Rows are read from the CDR store in batches, rated one at a time (:func:`iter_service_calls`
with ``stream``, the same costs the invoice uses) and written out in chunks, so a month of
100,000 calls never sits in memory. The file opens in spreadsheets as it should: UTF-8 with a
byte-order mark, RFC 4180 quoting, and text cells that a spreadsheet would run as a formula
(starting ``=``, ``+``, ``-``, ``@``, tab or carriage return: caller names come from whoever
placed the call) prefixed with ``'`` so they stay text. The export honours the page's call-type
filter and search, and lists calls in start order.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from bridge.db import Database
from bridge.usecases.call_history import PageQuery, call_row, matches
from bridge.usecases.usage import RatePlans, iter_service_calls
from bridge.whmcs.cycles import BillingPeriod
from bridge.whmcs.services import Service

BOM = "\ufeff"
HEADER = (
    "Date",
    "Time",
    "Direction",
    "Number",
    "Caller name",
    "Disposition",
    "Duration (s)",
    "Billed (s)",
    "Free (s)",
    "Cost",
    "Currency",
    "Note",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Rows written before a chunk is handed to the response.
_CHUNK_ROWS = 500


def inert_cell(text: str) -> str:
    """Return ``text`` so a spreadsheet shows it as text, never runs it as a formula."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def export_filename(service: Service, period: BillingPeriod) -> str:
    """Return the download's name, e.g. ``calls-42-2026-11-01.csv``."""
    return f"calls-{service.id}-{period.start:%Y-%m-%d}.csv"


def stream_call_csv(
    database: Database,
    service: Service,
    period: BillingPeriod,
    query: PageQuery,
    *,
    zone: ZoneInfo,
    currency_code: str,
    plans: RatePlans | None = None,
) -> Iterator[bytes]:
    """Yield the period's CSV in chunks of UTF-8 bytes, reading the store as it goes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow(HEADER)
    plans = plans or RatePlans()
    with database.transaction() as conn:
        written = 0
        for record, call in iter_service_calls(
            conn, service, period, plans=plans, zone=zone, stream=True
        ):
            if not call.status.shown or not matches(record, query):
                continue
            row = call_row(record, call, zone)
            writer.writerow(
                (
                    f"{row.started:%Y-%m-%d}",
                    f"{row.started:%H:%M:%S}",
                    row.direction.value,
                    inert_cell(row.number),
                    inert_cell(row.caller_name),
                    inert_cell(row.disposition),
                    row.duration,
                    row.billed_seconds,
                    row.free_seconds,
                    f"{row.cost:f}",
                    currency_code,
                    row.note,
                )
            )
            written += 1
            if written % _CHUNK_ROWS == 0:
                yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> bytes:
    chunk = buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    return chunk
