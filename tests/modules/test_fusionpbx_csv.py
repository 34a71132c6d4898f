"""FusionPBX CDR exports: the columns rating needs, timezones, legs and bad lines."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.errors import InvalidFile
from bridge.modules.fusionpbx_csv import FusionPbxCsvError, FusionPbxCsvReader
from bridge.rating.models import Direction

TORONTO = ZoneInfo("America/Toronto")
HEADER = (
    "xml_cdr_uuid,direction,caller_id_number,caller_destination,destination_number,"
    "start_stamp,billsec,leg\n"
)


def _read(text: str) -> FusionPbxCsvReader:
    return FusionPbxCsvReader(text.splitlines(keepends=True), zone=TORONTO)


class TestFusionPbxCsv:
    def test_columns_map_to_cdrs(self) -> None:
        """Outbound rates on destination_number, inbound on caller_destination; times become UTC."""
        reader = _read(
            HEADER
            + "u1,outbound,2112,,4165550100,2025-12-29 10:15:02-05,95,a\n"
            + "u2,inbound,4165550199,5192229000,2112,2025-12-29T11:00:00-05:00,30,a\n"
        )

        out, inbound = list(reader.cdrs())
        reader.finish()

        assert (out.uuid, out.direction, out.call.rated_number, out.billsec) == (
            "u1",
            Direction.OUTBOUND,
            "4165550100",
            95,
        )
        assert out.start == datetime(2025, 12, 29, 15, 15, 2, tzinfo=UTC)
        assert inbound.call.rated_number == "5192229000"

    def test_stamp_without_offset_uses_the_pbx_zone_across_dst(self) -> None:
        """A naive stamp is read in the PBX's zone, so both sides of a DST change are right."""
        reader = _read(
            HEADER
            + "u1,outbound,1,,2,2026-03-08 01:30:00,5,a\n"
            + "u2,outbound,1,,2,2026-03-08 03:30:00,5,a\n"
        )

        before, after = list(reader.cdrs())

        assert before.start == datetime(2026, 3, 8, 6, 30, tzinfo=UTC)  # EST, UTC-5
        assert after.start == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)  # EDT, UTC-4

    def test_b_legs_and_repeated_uuids_are_skipped(self) -> None:
        """Only a-legs are billed, and a uuid repeated in the export counts once."""
        reader = _read(
            HEADER
            + "u1,outbound,1,,2,2025-01-01 00:00:00,5,a\n"
            + "u1-b,outbound,1,,2,2025-01-01 00:00:00,5,b\n"
            + "u1,outbound,1,,2,2025-01-01 00:00:00,5,a\n"
        )

        assert [cdr.uuid for cdr in reader.cdrs()] == ["u1"]
        assert (reader.b_legs, reader.duplicates) == (1, 1)

    def test_older_export_without_caller_destination(self) -> None:
        """Without caller_destination (old exports) inbound calls rate on destination_number."""
        reader = _read(
            "uuid,direction,destination_number,start_stamp,billsec\n"
            "u9,inbound,5195550100,2025-01-01 00:00:00,7\n"
        )

        (cdr,) = reader.cdrs()

        assert (cdr.uuid, cdr.call.rated_number) == ("u9", "5195550100")

    def test_fractional_billsec_rounds_up(self) -> None:
        """A part second answered is a second started."""
        (cdr,) = _read(HEADER + "u1,outbound,1,,2,2025-01-01 00:00:00,12.2,a\n").cdrs()

        assert cdr.billsec == 13

    def test_every_bad_line_is_listed(self) -> None:
        """Bad direction, time and billsec are all reported by line; good rows still stream."""
        reader = _read(
            HEADER
            + "u1,sideways,1,,2,2025-01-01 00:00:00,5,a\n"
            + "u2,outbound,1,,2,yesterday,5,a\n"
            + "u3,outbound,1,,2,2025-01-01 00:00:00,-4,a\n"
            + "u4,outbound,1,,2,2025-01-01 00:00:00,5,a\n"
            + ",outbound,1,,2,2025-01-01 00:00:00,5,a\n"
        )

        good = [cdr.uuid for cdr in reader.cdrs()]
        with pytest.raises(FusionPbxCsvError) as caught:
            reader.finish()

        assert good == ["u4"]
        assert [bad.line for bad in caught.value.bad_lines] == [2, 3, 4, 6]

    def test_not_a_cdr_export(self) -> None:
        """A file without the needed columns says which are missing on line 1."""
        with pytest.raises(InvalidFile, match=r"line 1: the header lacks .*billsec"):
            _read("Description,Prefix,RateValue,Increment\n")


# A usual line of a full export, then each line changes one field to something exports may hold.
_COLUMNS = [
    "xml_cdr_uuid", "domain_name", "direction", "caller_id_name", "caller_id_number",
    "caller_destination", "destination_number", "start_stamp", "billsec", "hangup_cause", "leg",
]  # fmt: skip
_USUAL = [
    "u", "Acme.PBX", "outbound", "Desk", "2001", "", "14165550100", "2025-12-29 10:15:02-05",
    "60", "NORMAL_CLEARING", "a",
]  # fmt: skip
_STAMPS = [
    "2025-12-29 10:15:02", "2025-12-29T10:15:02+00:00", "2025-12-29 10:15:02+00", "", "junk",
    "0001-01-01 00:00:00+01", "9999-12-31 23:59:59-05", "2025-03-09 02:30:00",
    "2025-11-02 01:30:00", "2025-12-29 10:15:02.5+05:30", "20251229T101502Z",
]  # fmt: skip
_FIELDS = [
    st.sampled_from(["", " u2 ", "x" * 70]) | st.text(max_size=6),
    st.sampled_from(["", " ACME ", "İ.example"]),
    st.sampled_from(["inbound", "OUTBOUND", "local", "", "sideways", " Inbound ", "İnbound"]),
    st.text(max_size=6),
    st.sampled_from(["", " 2001 ", "+1 416"]),
    st.sampled_from(["", "18005550100", " 1800 "]),
    st.sampled_from(["", " 1416 ", "tab\there"]),
    st.sampled_from(_STAMPS),
    st.sampled_from(
        [
            "",
            "0",
            " 7 ",
            "1.5",
            "-1",
            "2147483648",
            "2147483647",
            "99999999999",
            "1e3",
            "\u0663",
            " ",
            "0007",
            ".5",
        ]
    ),
    st.sampled_from(["", " X "]),
    st.sampled_from(["", "A", "b", "B ", "c"]),
]
_LINES = st.lists(
    st.tuples(
        st.one_of([st.tuples(st.just(at), field) for at, field in enumerate(_FIELDS)]),
        st.integers(min_value=0, max_value=14),
    ),
    max_size=12,
)


def _export(lines: list[tuple[tuple[int, str], int]]) -> list[str]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(_COLUMNS)
    for n, ((at, value), width) in enumerate(lines):
        cells = list(_USUAL)
        cells[0] = f"u{n % 5}"  # some repeats
        cells[at] = value
        writer.writerow(cells if width > 3 else cells[: width + 5])  # some lines are short
    return out.getvalue().splitlines(keepends=True)


def _outcome(lines: list[str]) -> tuple[list[str], list[object], int, int]:
    reader = FusionPbxCsvReader(lines, zone=TORONTO)
    calls = [repr(call) for call in reader.cdrs()]
    return calls, list(reader.bad_lines), reader.b_legs, reader.duplicates


class TestPlannedReading:
    @settings(max_examples=200)
    @given(lines=_LINES)
    def test_the_planned_path_reads_every_line_as_the_general_mapping(
        self, lines: list[tuple[tuple[int, str], int]]
    ) -> None:
        """The per-file plan gives the same calls, skips, bad lines and messages as the mapping."""
        export = _export(lines)

        planned = _outcome(export)
        with mock.patch.object(FusionPbxCsvReader, "_quick", return_value=None):
            general = _outcome(export)

        assert planned == general

    def test_usual_lines_take_the_planned_path(self) -> None:
        """An export written the usual way never needs the general mapping."""
        export = _export([((0, "u0"), 14), ((7, "2025-12-29 10:15:02"), 14)])

        with mock.patch.object(FusionPbxCsvReader, "_parse", side_effect=AssertionError):
            calls = list(FusionPbxCsvReader(export, zone=TORONTO).cdrs())

        assert [call.start for call in calls] == [datetime(2025, 12, 29, 15, 15, 2, tzinfo=UTC)] * 2
