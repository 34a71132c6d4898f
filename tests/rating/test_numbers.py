"""Tests of number normalisation per package and of the E.164 check."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.rating import NumberCheck, Package, check_number, normalise_number, strip_number
from bridge.rating.numbers import region_of, to_e164

NANP = Package(country_code="1", nanp_10_digit=True)
NANP_PLAIN = Package(country_code="1")
UK = Package(country_code="44", local_prefix=True)
AU = Package(country_code="61", local_prefix=True)


class TestNormalise:
    """Strip + and spaces; exit code and + mean international; then national forms."""

    @pytest.mark.parametrize(
        ("package", "raw", "expected"),
        [
            # NANP 10-digit conversion: ten digits starting 2-9 gain the leading 1.
            (NANP, "876 555 0100", "18765550100"),
            (NANP, "8765550100", "18765550100"),
            (NANP, "18765550100", "18765550100"),
            (NANP, "1234567890", "1234567890"),
            (NANP_PLAIN, "8765550100", "8765550100"),
            # E.164 with + is already international.
            (NANP, "+1 876 555 0100", "18765550100"),
            (NANP, "+3541234567", "3541234567"),
            # 011 is the exit code for country code 1, and the rest is final.
            (NANP, "011 44 20 7946 0018", "442079460018"),
            (NANP, "0113541234567", "3541234567"),
            # Extensions and feature codes pass through.
            (NANP, "2112", "2112"),
            (NANP, "*72", "*72"),
            # Local prefix handling: national 0 becomes the country code, 00 is the exit code.
            (UK, "020 7946 0018", "442079460018"),
            (UK, "07700900123", "447700900123"),
            (UK, "0033 1 23 45 67 89", "33123456789"),
            (UK, "00442079460018", "442079460018"),
            (UK, "+44 (0)20", "44(0)20"),
            (Package(country_code="44"), "02079460018", "02079460018"),
            (AU, "0412 345 678", "61412345678"),
            (AU, "1300 123 456", "1300123456"),
            # A package may override the exit code.
            (Package(country_code="1", exit_code="00"), "00442079460018", "442079460018"),
            (Package(country_code="1", exit_code="00"), "011442079460018", "011442079460018"),
            # A stray + inside the number is removed too.
            (UK, "44+2079460018", "442079460018"),
        ],
    )
    def test_worked_examples(self, package: Package, raw: str, expected: str) -> None:
        """Numbers as PBXes write them normalise to the digits the tariff is keyed by."""
        assert normalise_number(raw, package) == expected

    @given(
        raw=st.text(alphabet="0123456789+ ", max_size=16),
        country_code=st.sampled_from(["1", "44", "61", "353"]),
        exit_code=st.sampled_from([None, "00", "011", "0011"]),
        local_prefix=st.booleans(),
        nanp=st.booleans(),
    )
    def test_idempotent_on_its_e164_form(
        self, raw: str, country_code: str, exit_code: str | None, local_prefix: bool, nanp: bool
    ) -> None:
        """Normalising the E.164 form of a normalised number gives that number back."""
        package = Package(
            country_code=country_code,
            exit_code=exit_code,
            local_prefix=local_prefix,
            nanp_10_digit=nanp,
        )
        once = normalise_number(raw, package)
        assert " " not in once
        assert "+" not in once
        assert normalise_number(to_e164(once), package) == once

    @given(
        country_code=st.sampled_from(["1", "44", "61", "33", "353"]),
        subscriber=st.from_regex(r"[1-9][0-9]{8,11}", fullmatch=True),
        form=st.sampled_from(["e164", "exit", "spaced"]),
        package=st.sampled_from([NANP, NANP_PLAIN, UK, AU]),
    )
    def test_international_numbers_normalise_once_and_stay(
        self, country_code: str, subscriber: str, form: str, package: Package
    ) -> None:
        """An international number of 10+ digits, in any PBX form, is found and then stable."""
        international = country_code + subscriber
        raw = {
            "e164": "+" + international,
            "exit": package.international_exit_code + international,
            "spaced": f"+{country_code} {subscriber[:3]} {subscriber[3:]}",
        }[form]
        once = normalise_number(raw, package)
        assert once == international
        assert normalise_number(once, package) == once

    @given(national=st.from_regex(r"[1-9][0-9]{8,10}", fullmatch=True))
    def test_national_numbers_normalise_once_and_stay(self, national: str) -> None:
        """A UK national number (0 + digits) normalises to 44 + digits and stays there."""
        once = normalise_number("0" + national, UK)
        assert once == "44" + national
        assert normalise_number(once, UK) == once

    @given(number=st.from_regex(r"[2-9][0-9]{9}", fullmatch=True))
    def test_nanp_ten_digit_numbers_normalise_once_and_stay(self, number: str) -> None:
        """A NANP 10-digit number gains its 1 once; the 11-digit result is stable."""
        once = normalise_number(number, NANP)
        assert once == "1" + number
        assert normalise_number(once, NANP) == once

    def test_strip_number_removes_only_plus_and_spaces(self) -> None:
        """Filters and special rules see the number with just + and spaces removed."""
        assert strip_number(" +61 1300-123 ") == "611300-123"


class TestCheckNumber:
    """The E.164 validator flags invalid, foreign and extension numbers."""

    @pytest.mark.parametrize(
        ("number", "country_code", "expected"),
        [
            ("12125550100", "1", NumberCheck.VALID),
            ("18765550100", "1", NumberCheck.VALID),
            ("442079460018", "1", NumberCheck.WRONG_COUNTRY),
            ("442079460018", "44", NumberCheck.VALID),
            ("2112", "1", NumberCheck.EXTENSION),
            ("3541234567", "1", NumberCheck.INVALID),
            ("123456", "1", NumberCheck.INVALID),
            ("1234567890123456", "1", NumberCheck.INVALID),
            ("*72", "1", NumberCheck.INVALID),
            ("00000000", "1", NumberCheck.INVALID),
        ],
    )
    def test_verdicts(self, number: str, country_code: str, expected: NumberCheck) -> None:
        """Valid, wrong-country, extension and invalid numbers are told apart."""
        assert check_number(number, country_code) is expected

    @pytest.mark.parametrize(
        ("number", "region"), [("18765550100", "JM"), ("12125550100", "US"), ("*72", None)]
    )
    def test_region_tells_the_caribbean_from_the_us(self, number: str, region: str | None) -> None:
        """+1 876 is Jamaica, priced internationally though dialled like a US number."""
        assert region_of(number) == region
