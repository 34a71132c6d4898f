"""CDR files as a careless operator or a hostile PBX writes them: read, or refused, never a crash.

Hypothesis feeds the FusionPBX CSV export reader and the LesNet CDR file reader plausible headers
followed by rows of hostile cells (exponents, digit floods, impossible dates, quotes, controls),
and arbitrary text. Whatever comes in, a reader yields calls and lists bad lines, or raises one of
the bridge's own errors, and does so quickly (hypothesis deadlines).
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.calls import CollectedCdr
from bridge.errors import BridgeError
from bridge.modules.fusionpbx_csv import FusionPbxCsvReader
from bridge.modules.lesnet_cdr import read_cdr_file
from tests.hostile import NUMBERISH, TEXT

ZONE = ZoneInfo("America/Toronto")
FUSION_HEADER = [
    "xml_cdr_uuid", "domain_name", "direction", "caller_id_number", "caller_destination",
    "destination_number", "start_stamp", "billsec", "leg", "hangup_cause", "caller_id_name",
]  # fmt: skip
LESNET_HEADERS = [
    "Date|Time|Peer ID|Source|Destination|Billsec|Rate|Cost",
    "start,caller,destination,duration,direction,call id,status",
    "Start (UTC);Source;Dest;Minutes",
]
CELL = NUMBERISH | TEXT | st.sampled_from(["x" * 70, "outbound", "b", "2026-01-05 10:00:00-05"])


def _csv(rows: list[list[str]], delimiter: str = ",") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return out.getvalue()


ROWS = st.lists(st.lists(CELL, min_size=0, max_size=12), max_size=8)
SETTINGS = settings(max_examples=200, deadline=timedelta(seconds=1))


class TestFusionPbxCsv:
    @SETTINGS
    @given(text=ROWS.map(lambda rows: _csv([FUSION_HEADER, *rows])) | st.text(max_size=600))
    def test_any_export_yields_calls_or_a_bridge_error(self, text: str) -> None:
        """Rows of hostile cells become calls or bad lines; nothing else escapes."""
        try:
            reader = FusionPbxCsvReader(text.splitlines(keepends=True), zone=ZONE)
            calls = list(reader.cdrs())
        except BridgeError:
            return
        assert all(isinstance(call, CollectedCdr) for call in calls)
        assert all(0 <= call.billsec < 2**31 for call in calls)


class TestLesNetFile:
    @SETTINGS
    @given(
        header=st.sampled_from(LESNET_HEADERS),
        rows=ROWS,
        noise=st.text(max_size=300),
    )
    def test_any_file_yields_calls_or_a_bridge_error(
        self, header: str, rows: list[list[str]], noise: str
    ) -> None:
        """A plausible header then hostile rows, or plain noise: calls and bad lines, no crash."""
        delimiter = "|" if "|" in header else (";" if ";" in header else ",")
        for text in (f"{header}\n{_csv(rows, delimiter)}", noise):
            try:
                read = read_cdr_file(text, peer_id="D4E3CD2BFC791", dids=("2046664021",), zone=ZONE)
            except BridgeError:
                continue
            assert all(0 <= call.billsec <= 7 * 24 * 3600 for call in read.cdrs)
