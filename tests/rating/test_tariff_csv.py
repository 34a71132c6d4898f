"""Rate cards: column mapping, streaming validation with every bad line, and export."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.rating.errors import InvalidRatingInput
from bridge.rating.tariff_csv import (
    TariffCsvError,
    TariffCsvReader,
    resolve_mapping,
    tariff_csv_lines,
)


def _read(text: str, **kwargs: object) -> TariffCsvReader:
    return TariffCsvReader(text.splitlines(keepends=True), **kwargs)  # type: ignore[arg-type]


class TestMapping:
    def test_default_mapping_by_header_name_ignores_case_and_spacing(self) -> None:
        """'rate value', 'PREFIX' and 'Increment' map to their fields without help."""
        mapping = resolve_mapping(["description", "PREFIX", "rate value", "Increment", "Notes"])

        assert mapping == {
            "Description": "description",
            "Prefix": "PREFIX",
            "RateValue": "rate value",
            "Increment": "Increment",
        }

    def test_saved_mapping_then_overrides(self) -> None:
        """A saved mapping names odd columns; an override beats it; '-' drops a column."""
        header = ["Dest", "Code", "Price", "Billing", "Description"]
        saved = {
            "Description": "Dest",
            "Prefix": "Code",
            "RateValue": "Price",
            "Increment": "Billing",
        }

        mapping = resolve_mapping(header, saved, {"Description": "Description", "Dest": "-"})

        assert mapping["Description"] == "Description"
        assert mapping["Prefix"] == "Code"

    def test_saved_mapping_for_columns_the_card_no_longer_has_is_ignored(self) -> None:
        """A saved column missing from a new card, or a field that no longer exists, is skipped."""
        header = ["Description", "Prefix", "RateValue", "Increment"]

        mapping = resolve_mapping(header, {"RateValue": "Price", "Notes": "Description"})

        assert mapping == {field: field for field in header}

    def test_override_can_swap_two_columns(self) -> None:
        """--map can swap two columns the provider labelled the wrong way round."""
        header = ["Description", "Prefix", "RateValue", "Increment", "Oldrate"]

        mapping = resolve_mapping(
            header, overrides={"RateValue": "Oldrate", "Oldrate": "RateValue"}
        )

        assert (mapping["RateValue"], mapping["Oldrate"]) == ("Oldrate", "RateValue")

    def test_missing_required_column_names_it_and_the_header(self) -> None:
        """A card without a rate column says which field is unmapped and what columns exist."""
        with pytest.raises(
            InvalidRatingInput, match=r"no column for RateValue.*Description, Prefix"
        ):
            resolve_mapping(["Description", "Prefix", "Increment"])

    def test_override_of_unknown_field_or_column(self) -> None:
        """--map with a field or column that does not exist is refused with the choices."""
        header = ["Description", "Prefix", "RateValue", "Increment", "Fee"]
        with pytest.raises(InvalidRatingInput, match="unknown field"):
            resolve_mapping(header, overrides={"Fee": "Tip"})
        with pytest.raises(InvalidRatingInput, match="does not have"):
            resolve_mapping(header, overrides={"Cost": "ConnectionFee"})


class TestReader:
    def test_comma_file_with_bom_and_crlf(self) -> None:
        """A UTF-8 BOM, CRLF line ends and optional columns are all read."""
        text = (
            "\ufeffDescription,Prefix,RateValue,Increment,ConnectionFee,Lastratechangedate\r\n"
            "Canada,1,0.0100,6,,2025-12-01\r\n"
            "Jamaica Mobile,1876,0.2150,60,0.05,2025/11/30\r\n"
        )
        reader = _read(text)

        rows = list(reader.rows())
        reader.finish()

        assert [(r.prefix, r.rate, r.increment) for r in rows] == [
            ("1", Decimal("0.0100"), 6),
            ("1876", Decimal("0.2150"), 60),
        ]
        assert rows[1].connection_fee == Decimal("0.05")
        assert rows[1].last_rate_change == date(2025, 11, 30)

    def test_semicolon_file_with_decimal_commas(self) -> None:
        """European cards use ';' and decimal commas."""
        reader = _read("Description;Prefix;RateValue;Increment\nUK Mobile;447;0,0450;60\n")

        rows = list(reader.rows())

        assert rows[0].rate == Decimal("0.0450")
        assert reader.delimiter == ";"

    def test_every_bad_line_is_reported_with_its_number(self) -> None:
        """All bad rows are collected (not just the first) and the import is refused."""
        text = (
            "Description,Prefix,RateValue,Increment\n"
            "Good,1,0.01,6\n"
            "No rate,44,,60\n"
            "Words,45,cheap,60\n"
            "Negative,46,-0.01,60\n"
            "Bad increment,47,0.01,zero\n"
            "Bad prefix,4a8,0.01,60\n"
            "Conflict,1,0.02,6\n"
            "Short row,49\n"
        )
        reader = _read(text, source="telnyx.csv")
        good = list(reader.rows())

        with pytest.raises(TariffCsvError) as caught:
            reader.finish()

        assert [bad.line for bad in caught.value.bad_lines] == [3, 4, 5, 6, 7, 8, 9]
        message = str(caught.value)
        assert "telnyx.csv: 7 bad line(s), every one listed" in message
        assert "line 8: prefix 1 is already on line 2" in message
        assert "line 5: RateValue '-0.01' is negative" in message
        assert [row.prefix for row in good] == ["1"]

    @pytest.mark.parametrize(
        ("row", "message"),
        [
            ("Canada,,0.01,6,,", "Prefix is empty"),
            (",1,0.01,6,,", "Description is empty"),
            (f"Long,{'1' * 33},0.01,6,,", f"Prefix {'1' * 33} is longer than 32 digits"),
            (f"{'D' * 256},1,0.01,6,,", "Description is longer than 255 characters"),
            (f"Canada,1,0.01,6,{'S' * 65},", "ShortDescription is longer than 64 characters"),
            (
                "Canada,1,0.012345678,6,,",
                "RateValue '0.012345678' has more than 8 decimals or 10 digits",
            ),
            (
                "Canada,1,12345678901,6,,",
                "RateValue '12345678901' has more than 8 decimals or 10 digits",
            ),
            (
                "Canada,1,0.01,6,,01/12/2025",
                "Lastratechangedate '01/12/2025' is not a date (use YYYY-MM-DD)",
            ),
        ],
        ids=[
            "no-prefix",
            "no-description",
            "long-prefix",
            "long-description",
            "long-short-description",
            "too-many-decimals",
            "too-many-digits",
            "bad-date",
        ],
    )
    def test_bad_value_is_reported_with_its_line_and_reason(self, row: str, message: str) -> None:
        """Each value the tariff cannot store is reported with its line; the card is refused."""
        header = "Description,Prefix,RateValue,Increment,ShortDescription,Lastratechangedate\n"
        reader = _read(f"{header}Good,44,0.02,60,,\n{row}\n", source="card.csv")
        good = [r.prefix for r in reader.rows()]

        with pytest.raises(TariffCsvError) as caught:
            reader.finish()

        assert str(caught.value).splitlines()[1:] == [f"  line 3: {message}"]
        assert good == ["44"]

    def test_exact_repeats_are_kept_once(self) -> None:
        """The same row twice is not a conflict; it is imported once."""
        reader = _read("Description,Prefix,RateValue,Increment\nUS,1,0.01,6\nUS,1,0.01,6\n")

        assert len(list(reader.rows())) == 1
        reader.finish()

    def test_empty_file_and_header_only(self) -> None:
        """An empty file and a header without rates are both refused clearly."""
        with pytest.raises(InvalidRatingInput, match="empty"):
            _read("")
        reader = _read("Description,Prefix,RateValue,Increment\n\n")
        list(reader.rows())
        with pytest.raises(InvalidRatingInput, match="no rates"):
            reader.finish()

    def test_streams_without_reading_ahead(self) -> None:
        """Rows come out as lines go in, so a huge file is never held whole."""
        consumed = 0

        def lines() -> object:
            nonlocal consumed
            yield "Description,Prefix,RateValue,Increment\n"
            for n in range(1_000_000):
                consumed += 1
                yield f"Dest {n},{100000 + n},0.01,60\n"

        reader = TariffCsvReader(lines())  # type: ignore[arg-type]
        first = next(reader.rows())

        assert first.prefix == "100000"
        assert consumed < 10


class TestExport:
    def test_export_reimports_to_the_same_rows(self) -> None:
        """Exported cards use the documented column names and read back identically."""
        text = (
            "Description,Prefix,RateValue,Increment,ShortDescription,Oldrate,RatePremium,ConnectionFee\n"
            "Jamaica Mobile,1876,0.2150,60,JM,0.2000,0.01,0.05\n"
            "Canada,1,0.01,6,,,,\n"
        )
        original = list(_read(text).rows())

        exported = "".join(tariff_csv_lines(original))
        again = list(_read(exported).rows())

        assert exported.splitlines()[0] == (
            "Description,Prefix,RateValue,Increment,ShortDescription,Lastratechangedate,"
            "Oldrate,RatePremium,ConnectionFee"
        )
        assert again == original


_AMOUNTS = st.sampled_from(
    ["", "0.01", "0", "0.00", " 0.2 ", "-1", "1e5", "0,5", "1,5", "00000000001.5", "12345678901",
     "1.123456789", "1.", ".5", "NaN", "\u0661.\u0665", "0 .1"]
) | st.from_regex(r"[0-9]{1,11}(\.[0-9]{0,9})?", fullmatch=True)  # fmt: skip
# A usual line, then each line of a card changes one field to something a card may hold.
_USUAL = ["Zone", "44", "0.02", "60", "S", "2025-11-01", "0.1", "", "0.00"]
_FIELDS = [
    st.sampled_from(["", " UK ", "d" * 256, "a,b", "tab\tin"]) | st.text(max_size=8),
    st.sampled_from(["+44", "4 4", "", "abc", "1" * 33, "\u0661\u0662", "0044"])
    | st.from_regex(r"[0-9]{1,34}", fullmatch=True),
    _AMOUNTS,
    st.sampled_from(["0", "06", "-1", "x", "", "\u0666", " 6 ", "9" * 12]),
    st.sampled_from(["", "s" * 64, "s" * 65]),
    st.sampled_from(
        [
            "",
            "2025-02-30",
            "2025/11/01",
            "2025-1-01",
            "2025-11-01 10:00:00",
            "20251101",
            "2025-13-01",
            "2025-11-0x",
            "\u0662\u0660\u0662\u0665-11-01",
            "2025-11-01 ",
        ]
    ),
    _AMOUNTS,
    _AMOUNTS,
    _AMOUNTS,
]
_LINES = st.lists(
    st.tuples(
        st.one_of([st.tuples(st.just(at), field) for at, field in enumerate(_FIELDS)]),
        st.integers(min_value=0, max_value=12),
    ),
    max_size=12,
)


def _card(lines: list[tuple[tuple[int, str], int]], delimiter: str) -> list[str]:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(
        ["Description", "Prefix", "RateValue", "Increment", "ShortDescription",
         "Lastratechangedate", "Oldrate", "RatePremium", "ConnectionFee"]
    )  # fmt: skip
    for n, ((at, value), width) in enumerate(lines):
        cells = list(_USUAL)
        cells[1] = f"{cells[1]}{n}"  # one prefix per line, unless the change is to the prefix
        cells[at] = value
        writer.writerow(cells if width > 2 else cells[: width + 1])  # some lines are short
    return out.getvalue().splitlines(keepends=True)


def _outcome(lines: list[str]) -> tuple[list[str], list[object], int]:
    reader = TariffCsvReader(lines, source="card.csv")
    rows = [repr(row) for row in reader.rows()]
    return rows, list(reader.bad_lines), reader.rows_read


class TestIncrements:
    def test_a_digit_flood_or_an_increment_past_the_column_is_a_bad_line(self) -> None:
        """5,000 digits (more than int() converts) and 2^31 seconds are bad lines, not crashes."""
        card = "Description,Prefix,RateValue,Increment\n"
        card += f"A,44,0.1,{'9' * 5000}\nB,45,0.1,2147483648\nC,46,0.1,{'0' * 5000}6\n"
        reader = _read(card)

        rows = list(reader.rows())

        assert [(row.prefix, row.increment) for row in rows] == [("46", 6)]
        assert [str(bad) for bad in reader.bad_lines] == [
            f"line 2: Increment {'9' * 20!r} is out of range (1 to 2147483647 seconds)",
            "line 3: Increment '2147483648' is out of range (1 to 2147483647 seconds)",
        ]


class TestPlannedReading:
    @settings(max_examples=200)
    @given(lines=_LINES, delimiter=st.sampled_from([",", ";"]))
    def test_the_planned_path_reads_every_line_as_the_general_parser(
        self, lines: list[tuple[tuple[int, str], int]], delimiter: str
    ) -> None:
        """The per-file plan gives the same rows, bad lines and messages as the general parser."""
        card = _card(lines, delimiter)

        planned = _outcome(card)
        with mock.patch.object(TariffCsvReader, "_quick", return_value=None):
            general = _outcome(card)

        assert planned == general

    def test_usual_lines_take_the_planned_path(self) -> None:
        """A card written the usual way never needs the general parser."""
        card = "Description,Prefix,RateValue,Increment,Lastratechangedate,ConnectionFee\n"
        card += "UK,44,0.02,60,2025-11-01,0.00\nUS,1,0.01,6,2025-11-01,\n"

        with mock.patch.object(TariffCsvReader, "_parse", side_effect=AssertionError):
            rows = list(_read(card).rows())

        assert [(row.prefix, row.connection_fee, row.last_rate_change) for row in rows] == [
            ("44", Decimal(0), date(2025, 11, 1)),
            ("1", Decimal(0), date(2025, 11, 1)),
        ]


class TestUnreadableCsv:
    def test_a_header_over_the_field_limit_names_line_1(self) -> None:
        """A header the csv module refuses is an error naming line 1, not a csv.Error."""
        with pytest.raises(
            InvalidRatingInput, match=r"card\.csv: line 1: the header cannot be read"
        ):
            _read('"' + "x" * 200_000 + '",Prefix\n', source="card.csv")

    def test_a_line_over_the_field_limit_is_one_bad_line(self) -> None:
        """A field over the csv module's limit is a bad line by number; the good rows still come."""
        text = (
            "Description,Prefix,RateValue,Increment\n"
            + '"' + "x" * 200_000 + '",1,0.01,60\n'
            + "UK,44,0.02,60\n"
        )  # fmt: skip
        reader = _read(text)

        rows = list(reader.rows())

        assert [row.prefix for row in rows] == ["44"]
        assert [bad.line for bad in reader.bad_lines] == [2]
        assert "field larger than field limit" in reader.bad_lines[0].message
