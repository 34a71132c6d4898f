"""Number normalisation per package, and E.164 checks.

:func:`normalise_number` turns the number a PBX wrote into the international digits the tariff is
keyed by (DESIGN §5 step 6):

1. remove spaces and ``+``; a number written with a leading ``+`` is already international and is
   final;
2. a number starting with the package's exit code (``011`` for country code 1, ``00`` otherwise)
   loses it and is final;
3. otherwise, with local-prefix handling on, a number starting with the national prefix (``0``,
   but not ``00``) becomes country code + the rest;
4. otherwise, with NANP 10-digit conversion on, ten digits starting 2-9 become ``1`` + number.

So for a UK package ``020 7946 0018`` → ``442079460018``, ``0033 1 23 45 67 89`` →
``33123456789``; for a NANP package ``876 555 0100`` → ``18765550100`` and ``011 44 20 7946 0018``
→ ``442079460018``.

The output is idempotent in its E.164 form: ``normalise("+" + n) == n`` for every output ``n``.
(Bare digits cannot promise more: under NANP conversion ``0113541234567`` is Iceland
``3541234567``, which as bare digits looks like a NANP number.)
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

import phonenumbers

from bridge.rating.plan import Package

_NANP_LEADING = frozenset("23456789")
_EXTENSION_LENGTHS = range(3, 6)
_E164_LENGTHS = range(7, 16)


def strip_number(raw: str) -> str:
    """Return ``raw`` without ``+`` and spaces: the form filters and special rules see."""
    return raw.replace("+", "").replace(" ", "")


def make_normaliser(package: Package) -> Callable[[str], str]:
    """Return a function that normalises raw numbers for ``package`` (built once per batch)."""
    from_written = make_written_normaliser(package)

    def normalise(raw: str) -> str:
        """Return ``raw`` normalised for the package."""
        return from_written(raw, strip_number(raw))

    return normalise


def make_written_normaliser(package: Package) -> Callable[[str, str], str]:
    """Return ``normalise(raw, as_written)`` for callers that already stripped ``raw``.

    ``as_written`` must be ``strip_number(raw)``; the engine has it from the filter step, and
    not stripping twice is worth it on a million calls. ``raw`` is still needed to see whether
    the PBX wrote a leading ``+``.
    """
    exit_code = package.international_exit_code
    exit_len = len(exit_code)
    national = package.national_prefix if package.local_prefix else None
    national_len = len(package.national_prefix)
    double_national = package.national_prefix * 2
    country_code = package.country_code
    nanp = package.nanp_10_digit

    def normalise(raw: str, number: str) -> str:
        """Return the normalised form of ``number``, the stripped ``raw``."""
        if raw.startswith("+") or (raw.startswith(" ") and raw.lstrip(" ").startswith("+")):
            return number
        if number.startswith(exit_code):
            return number[exit_len:]
        if (
            national is not None
            and number.startswith(national)
            and not number.startswith(double_national)
        ):
            return country_code + number[national_len:]
        if nanp and len(number) == 10 and number[0] in _NANP_LEADING and number.isdigit():
            return "1" + number
        return number

    return normalise


def normalise_number(raw: str, package: Package) -> str:
    """Return ``raw`` as international digits per ``package`` (see the module docstring)."""
    return make_normaliser(package)(raw)


def to_e164(number: str) -> str:
    """Return normalised digits in E.164 form, ``+`` then the digits."""
    return "+" + number


class NumberCheck(StrEnum):
    """The verdict of the E.164 validator on a normalised number."""

    VALID = "valid"
    WRONG_COUNTRY = "wrong_country"
    EXTENSION = "extension"
    INVALID = "invalid"


def check_number(number: str, country_code: str) -> NumberCheck:
    """Return whether normalised ``number`` is valid E.164 in the package's country.

    Three to five digits are an extension; otherwise the number must be 7-15 digits and valid
    for its country per ``phonenumbers``, and ``WRONG_COUNTRY`` flags a valid number of another
    country (expected for international calls, suspicious for local dialling).
    """
    if not (number.isascii() and number.isdigit()):
        return NumberCheck.INVALID
    if len(number) in _EXTENSION_LENGTHS:
        return NumberCheck.EXTENSION
    if len(number) not in _E164_LENGTHS:
        return NumberCheck.INVALID
    try:
        parsed = phonenumbers.parse(to_e164(number), None)
    except phonenumbers.NumberParseException:
        return NumberCheck.INVALID
    if not phonenumbers.is_valid_number(parsed):
        return NumberCheck.INVALID
    if str(parsed.country_code) != country_code:
        return NumberCheck.WRONG_COUNTRY
    return NumberCheck.VALID


def region_of(number: str) -> str | None:
    """Return the ISO region (``JM``, ``GB``) of a valid normalised number, or None."""
    try:
        parsed = phonenumbers.parse(to_e164(number), None)
    except phonenumbers.NumberParseException:
        return None
    region: str | None = phonenumbers.region_code_for_number(parsed)
    return region
