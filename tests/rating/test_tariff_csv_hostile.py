"""Rate cards as a careless operator saves them: rows read, or refused, never a crash.

Hypothesis feeds the rate card reader a real header (comma or semicolon) and rows of hostile cells
(exponents, digit floods, impossible dates, quotes), and arbitrary text: it yields rows and lists
bad lines, or raises a rating error, quickly.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.errors import BridgeError
from bridge.rating.tariff_csv import TariffCsvReader
from tests.hostile import NUMBERISH, TEXT

HEADER = ["Prefix", "Description", "Rate", "Increment", "Connection Fee", "Effective Date"]
CELL = NUMBERISH | TEXT | st.sampled_from(["1", "44", "0.0100", "60/60", "2026-01-01", ""])


def _card(rows: list[list[str]], delimiter: str) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows([HEADER, *rows])
    return out.getvalue()


@settings(max_examples=200, deadline=timedelta(seconds=1))
@given(
    text=st.builds(
        _card,
        st.lists(st.lists(CELL, max_size=8), max_size=8),
        st.sampled_from([",", ";"]),
    )
    | st.text(max_size=600)
)
def test_any_rate_card_yields_rows_or_a_rating_error(text: str) -> None:
    """Hostile cells become rows or bad lines; only the bridge's own errors escape."""
    try:
        reader = TariffCsvReader(text.splitlines(keepends=True), source="card.csv")
        rows = list(reader.rows())
    except BridgeError:
        return
    assert all(row.rate.is_finite() for row in rows)
