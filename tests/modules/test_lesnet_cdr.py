"""LesNet CDR files: header detection, delimiters, bad lines, direction, peers and call ids."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bridge.modules.lesnet_cdr import CdrFile, CdrFileError, read_cdr_file
from bridge.rating.models import Direction
from tests.fakes.lesnet import with_garbage

WINNIPEG = ZoneInfo("America/Winnipeg")
PEER = "D4E3CD2BFC791"
DID = "12046664021"

# The layout the fakes use most: a portal preamble, then a pipe-delimited header.
PORTAL_FILE = (
    "LES.NET - Call Detail Records\n"
    "Account 11330, peer D4E3CD2BFC791, generated 2025-12-30 00:05\n"
    "\n"
    "Date|Time|Source|Destination|Billsec|Rate|Cost\n"
    "2025-12-29|10:15:02|12046664021|14165550100|95|0.0100|0.0158\n"
    "2025-12-29|11:00:00|4165550199|2046664021|30|0.0000|0.0000\n"
)


def _read(text: str, *, dids: tuple[str, ...] = (DID,), zone: ZoneInfo = WINNIPEG) -> CdrFile:
    return read_cdr_file(text, peer_id=PEER, dids=dids, zone=zone)


def _one_call(header: str, row: str) -> CdrFile:
    return _read(f"{header}\n{row}\n")


class TestHeaderAndDelimiters:
    def test_portal_preamble_is_skipped_and_times_read_in_the_server_zone(self) -> None:
        """Lines before the header are skipped, and naive times are the server's local time."""
        cdr_file = _read(PORTAL_FILE)

        assert cdr_file.layout is not None
        assert cdr_file.layout.header_line == 4
        assert cdr_file.bad_lines == ()
        out, inbound = cdr_file.cdrs
        assert out.start == datetime(2025, 12, 29, 16, 15, 2, tzinfo=UTC)  # CST, UTC-6
        assert (out.call.caller_number, out.call.destination_number, out.billsec) == (
            "12046664021",
            "14165550100",
            95,
        )
        assert inbound.start == datetime(2025, 12, 29, 17, 0, tzinfo=UTC)

    @pytest.mark.parametrize("delimiter", [",", "\t", "|", ";"])
    def test_each_delimiter_reads_the_same_calls(self, delimiter: str) -> None:
        """Comma, tab, pipe and semicolon files with the same rows give the same calls and ids."""
        reference = _read(PORTAL_FILE)

        cdr_file = _read(PORTAL_FILE.replace("|", delimiter))

        assert cdr_file.layout is not None
        assert cdr_file.layout.delimiter == delimiter
        assert cdr_file.cdrs == reference.cdrs

    def test_header_names_match_loosely_and_quotes_bom_and_crlf_are_handled(self) -> None:
        """Header names ignore case and punctuation; a BOM, CRLF line ends and quotes are fine."""
        text = (
            '\ufeff"Call Date/Time","Caller ID","Dialed Number","Duration (sec)"\r\n'
            '"2025-12-29T10:15:02-05:00","Smith, J <2046664021>","+1 (416) 555-0100","61"\r\n'
        )

        (cdr,) = _read(text).cdrs

        assert cdr.start == datetime(2025, 12, 29, 15, 15, 2, tzinfo=UTC)
        assert cdr.call.destination_number == "+1 (416) 555-0100"
        assert cdr.billsec == 61

    def test_a_utc_header_overrides_the_server_zone(self) -> None:
        """A start column named '... (UTC)' means times without an offset are UTC."""
        cdr_file = _one_call(
            "Start (UTC),Source,Destination,Billsec", "2025-12-29 10:15:02,1,14165550100,5"
        )

        assert cdr_file.cdrs[0].start == datetime(2025, 12, 29, 10, 15, 2, tzinfo=UTC)

    def test_a_file_without_a_header_is_refused_with_the_expected_columns(self) -> None:
        """Text naming no start, destination and duration columns is not taken for a CDR file."""
        with pytest.raises(CdrFileError, match=r"no header row.*start time, destination"):
            _read("2025-12-29,10:15:02,1,14165550100,95\n2025-12-29,11:00:00,1,2,30\n")

    def test_an_html_page_is_refused(self) -> None:
        """A login page served in place of the file is named a web page, not read as calls."""
        with pytest.raises(CdrFileError, match="web page"):
            _read("<!DOCTYPE html>\n<html><body>Date,Source,Destination,Duration</body></html>")

    def test_an_empty_file_has_no_calls_and_says_so(self) -> None:
        """An empty file yields no calls and a warning, not an error."""
        cdr_file = _read("\n\n")

        assert (cdr_file.cdrs, cdr_file.warnings) == ((), ("the CDR file is empty",))

    def test_header_repeated_mid_file_and_comments_are_skipped(self) -> None:
        """Two files pasted together (header twice) and comment lines give no bad lines."""
        body = PORTAL_FILE.split("\n", 3)[3]

        cdr_file = _read(body + "# page 2\n" + body.replace("10:15:02", "12:00:00"))

        assert cdr_file.bad_lines == ()
        assert len(cdr_file.cdrs) == 3  # one row is the same call twice
        assert cdr_file.duplicates == 1


class TestBadLines:
    def test_bad_lines_are_reported_by_number_and_the_rest_is_kept(self) -> None:
        """Every unreadable line is reported with its number and reason; later lines still count."""
        text = (
            "Date,Time,Source,Destination,Billsec,Direction\n"  # 1
            "2025-12-29,10:00:00,1,14165550100,5,outbound\n"  # 2
            "this line is junk\n"  # 3
            "2025-13-01,10:00:00,1,14165550100,5,outbound\n"  # 4: month 13
            "03/04/2025,10:00:00,1,14165550100,5,outbound\n"  # 5: day or month first?
            "2025-12-29,10:01:00,1,14165550100,-4,outbound\n"  # 6: negative
            "2025-12-29,10:02:00,1,anonymous,5,outbound\n"  # 7: no number
            "2025-12-29,10:03:00,1,14165550100,5,sideways\n"  # 8: direction
            "2025-12-29,10:04:00,1,14165550100,9999999,outbound\n"  # 9: 115 days
            "2025-12-29,10:05:00,1,14165550100,7,outbound\n"  # 10
        )

        cdr_file = _read(text)

        reasons = {bad.line: bad.message for bad in cdr_file.bad_lines}
        assert sorted(reasons) == [3, 4, 5, 6, 7, 8, 9]
        assert "1 of 6 columns" in reasons[3]
        assert "not a real date" in reasons[4]
        assert "expected YYYY-MM-DD" in reasons[5]
        assert "not a number of seconds" in reasons[6]
        assert "destination 'anonymous'" in reasons[7]
        assert "direction 'sideways'" in reasons[8]
        assert "over 7 days" in reasons[9]
        assert [cdr.billsec for cdr in cdr_file.cdrs] == [5, 7]

    def test_a_start_its_offset_pushes_off_the_calendar_is_one_bad_line(self) -> None:
        """Year 1 at +14:00 is before the first day Python knows: a bad line, not a crash."""
        cdr_file = _read(
            "start,caller,destination,duration\n"
            "0001-01-01 01:00:00+14:00,1,14165550100,5\n"
            "2025-12-29 10:00:00+00:00,1,14165550100,5\n"
        )

        assert [bad.line for bad in cdr_file.bad_lines] == [2]
        assert "is out of range" in cdr_file.bad_lines[0].message
        assert len(cdr_file.cdrs) == 1

    def test_a_cut_last_line_is_reported_as_cut_off(self) -> None:
        """A file ending inside a line reports that line as cut off and keeps the others."""
        cdr_file = _read(PORTAL_FILE + "2025-12-29|12:00:00|1204666")

        (bad,) = cdr_file.bad_lines
        assert bad.line == 7
        assert "3 of 7 columns" in bad.message
        assert "cut off" in bad.message
        assert len(cdr_file.cdrs) == 2

    def test_a_complete_last_line_without_line_end_is_read(self) -> None:
        """A last line with every column but no final line break is an ordinary call."""
        cdr_file = _read(PORTAL_FILE + "2025-12-29|12:00:00|1|14165550100|8|0|0")

        assert cdr_file.bad_lines == ()
        assert cdr_file.cdrs[-1].billsec == 8

    def test_garbage_between_lines_spoils_only_those_lines(self) -> None:
        """Control bytes, a stray quote and a half record are bad lines; every call survives."""
        clean = _read(PORTAL_FILE)

        damaged = _read(with_garbage(PORTAL_FILE))

        assert damaged.cdrs == clean.cdrs
        assert [bad.line for bad in damaged.bad_lines] == [6, 9]


class TestDirection:
    def test_a_call_to_one_of_the_peer_dids_is_inbound_and_rated_on_that_did(self) -> None:
        """Without a direction column, a call to a DID (in any notation) is inbound on that DID."""
        out, inbound = _read(PORTAL_FILE).cdrs

        assert (out.direction, out.call.rated_number) == (Direction.OUTBOUND, "14165550100")
        assert inbound.direction is Direction.INBOUND
        assert inbound.call.destination_number == "2046664021"
        assert inbound.call.rated_number == DID

    @pytest.mark.parametrize(
        ("written", "direction"),
        [
            ("Incoming", Direction.INBOUND),
            ("in", Direction.INBOUND),
            ("Origination", Direction.INBOUND),
            ("OUTGOING", Direction.OUTBOUND),
            ("Termination", Direction.OUTBOUND),
            ("local", Direction.LOCAL),
        ],
    )
    def test_a_direction_column_is_obeyed(self, written: str, direction: Direction) -> None:
        """The file's own direction wins over the DID rule, in the usual spellings."""
        cdr_file = _one_call(
            "Date,Source,Destination,Billsec,Direction",
            f"2025-12-29 10:00:00,1,14165550100,5,{written}",
        )

        assert cdr_file.cdrs[0].direction is direction

    def test_a_type_column_holding_a_call_class_falls_back_to_the_did_rule(self) -> None:
        """A 'Type' column saying 'Canada' is a call class, not a direction, and is not an error."""
        cdr_file = _one_call(
            "Date,Source,Destination,Billsec,Type", "2025-12-29 10:00:00,1,12046664021,5,Canada"
        )

        assert cdr_file.bad_lines == ()
        assert cdr_file.cdrs[0].direction is Direction.INBOUND


class TestPeers:
    MULTI_PEER = (
        "Date,Peer,Source,Destination,Billsec\n"
        "2025-12-29 10:00:00,D4E3CD2BFC791,12046664021,14165550100,10\n"
        "2025-12-29 10:01:00,A1B2C3D4E5F60,12045550000,14165550100,20\n"
        "2025-12-29 10:02:00,,4165550199,12046664021,30\n"
        "2025-12-29 10:03:00,,4165550199,12045550000,40\n"
        "2025-12-29 10:04:00,d4e3cd2bfc791,12046664021,18005550100,50\n"
    )

    def test_a_file_of_several_peers_yields_only_this_peers_calls(self) -> None:
        """Rows naming this peer (any case) or, with no peer named, touching its DIDs are kept."""
        cdr_file = _read(self.MULTI_PEER)

        assert [cdr.billsec for cdr in cdr_file.cdrs] == [10, 30, 50]
        assert cdr_file.other_peers == 2
        assert {cdr.domain for cdr in cdr_file.cdrs} == {PEER}
        assert cdr_file.warnings == ()

    def test_a_peer_column_that_never_names_the_peer_is_warned_about(self) -> None:
        """If no row names this peer, a warning shows the names found so the admin can check."""
        cdr_file = _read(self.MULTI_PEER.replace("D4E3CD2BFC791", "X").replace("d4e3", "y"))

        assert [cdr.billsec for cdr in cdr_file.cdrs] == [30]
        (warning,) = cdr_file.warnings
        assert "no call in the file names peer D4E3CD2BFC791 in column 'Peer'" in warning
        assert "A1B2C3D4E5F60" in warning

    def test_without_a_peer_column_every_row_is_the_peers(self) -> None:
        """A file with no peer column is the service's own file: every call is kept."""
        cdr_file = _read(self.MULTI_PEER.replace("Peer,", "Account,"))

        assert len(cdr_file.cdrs) == 5
        assert cdr_file.other_peers == 0


class TestDurationAndTime:
    @pytest.mark.parametrize(
        ("header", "value", "billsec"),
        [
            ("Billsec", "12.2", 13),
            ("Duration", "0:01:05", 65),
            ("Duration", "02:05", 125),
            ("Minutes", "1.5", 90),
            ("Minutes", "0.01", 1),
        ],
    )
    def test_durations_in_seconds_clock_or_minutes(
        self, header: str, value: str, billsec: int
    ) -> None:
        """Seconds round up, clock durations and minutes become whole billed seconds."""
        cdr_file = _one_call(f"Date,Destination,{header}", f"2025-12-29 10:00:00,1416555,{value}")

        assert cdr_file.cdrs[0].billsec == billsec

    def test_billsec_wins_over_duration_and_unanswered_calls_bill_nothing(self) -> None:
        """Billed seconds are used over total duration; a busy or unanswered call bills 0."""
        text = (
            "Date,Destination,Duration,Billsec,Disposition\n"
            "2025-12-29 10:00:00,14165550100,40,31,ANSWERED\n"
            "2025-12-29 10:01:00,14165550100,25,25,NO ANSWER\n"
        )

        answered, unanswered = _read(text).cdrs

        assert (answered.billsec, answered.hangup_cause) == (31, "ANSWERED")
        assert (unanswered.billsec, unanswered.hangup_cause) == (0, "NO ANSWER")

    def test_naive_times_follow_the_server_zone_across_dst(self) -> None:
        """Local times on both sides of a DST change map to the right UTC instants."""
        text = (
            "Date,Destination,Billsec\n"
            "2026-03-08 01:30:00,14165550100,5\n"
            "2026-03-08 03:30:00,14165550100,5\n"
        )

        before, after = _read(text, zone=ZoneInfo("America/Toronto")).cdrs

        assert before.start == datetime(2026, 3, 8, 6, 30, tzinfo=UTC)  # EST, UTC-5
        assert after.start == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)  # EDT, UTC-4

    @pytest.mark.parametrize(
        "written",
        [
            "2025-12-29T16:15:02Z",
            "2025-12-29 16:15:02 UTC",
            "2025-12-29 10:15:02-06:00",
            "2025/12/29 11:15:02 -0500",
            "1767024902",
        ],
    )
    def test_explicit_offsets_and_unix_seconds_ignore_the_server_zone(self, written: str) -> None:
        """A start with its own offset, or Unix seconds, is that instant whatever the zone."""
        cdr_file = _one_call("Date,Destination,Billsec", f"{written},14165550100,5")

        assert cdr_file.cdrs[0].start == datetime(2025, 12, 29, 16, 15, 2, tzinfo=UTC)


class TestCallIds:
    def test_the_same_call_keeps_its_id_when_the_file_is_rewritten(self) -> None:
        """Reformatted numbers, UTC times and another layout still give the same 40-hex id."""
        rewritten = (
            "Start (UTC);Caller;Called;Seconds\n"
            "2025-12-29 16:15:02;+1 204 666 4021;+1-416-555-0100;95\n"
        )

        original = _read(PORTAL_FILE).cdrs[0]
        again = _read(rewritten).cdrs[0]

        assert again.uuid == original.uuid
        assert len(original.uuid) == 40
        assert int(original.uuid, 16) >= 0

    def test_calls_differing_in_any_identifying_field_get_different_ids(self) -> None:
        """Start, caller, destination and billed seconds each change the id."""
        rows = [
            "2025-12-29 10:00:00,1,14165550100,5",
            "2025-12-29 10:00:01,1,14165550100,5",
            "2025-12-29 10:00:00,2,14165550100,5",
            "2025-12-29 10:00:00,1,14165550101,5",
            "2025-12-29 10:00:00,1,14165550100,6",
        ]

        cdr_file = _read("Date,Source,Destination,Billsec\n" + "\n".join(rows))

        assert len({cdr.uuid for cdr in cdr_file.cdrs}) == 5

    def test_a_call_id_column_keeps_identical_looking_calls_apart(self) -> None:
        """Two calls alike in every field but their call id are two calls, not a repeat."""
        text = (
            "Date,Source,Destination,Billsec,Call ID\n"
            "2025-12-29 10:00:00,1,14165550100,5,a84b4c76e66710\n"
            "2025-12-29 10:00:00,1,14165550100,5,b11f2a90c3d4e5\n"
        )

        cdr_file = _read(text)

        assert len(cdr_file.cdrs) == 2
        assert cdr_file.duplicates == 0
