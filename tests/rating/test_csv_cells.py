"""CSV records the csv module refuses become numbered messages; the records after them follow."""

from __future__ import annotations

import csv

from bridge.rating.csv_cells import read_cells, read_header

WIDE = '"' + "x" * 200_000 + '"'


def test_a_refused_record_is_a_message_and_the_rest_follow() -> None:
    """A field over the csv module's limit on line 3 is a message; lines 2 and 4 come as cells."""
    lines = ["a,b\n", WIDE + ",1\n", "c,d\n"]

    records = list(read_cells(csv.reader(lines), first_line=2))

    assert [line for line, _cells in records] == [2, 3, 4]
    assert records[0][1] == ["a", "b"]
    assert isinstance(records[1][1], str)
    assert records[1][1].startswith("cannot be read as CSV: field larger than field limit")
    assert records[2][1] == ["c", "d"]


def test_a_header_the_csv_module_refuses_is_a_message() -> None:
    """A header with an over-long field is the reason, not an exception; a usual one its cells."""
    refused = read_header(WIDE + ",Prefix\n")

    assert isinstance(refused, str)
    assert "field larger than field limit" in refused
    assert read_header("Prefix;Rate\n", delimiter=";") == ["Prefix", "Rate"]
