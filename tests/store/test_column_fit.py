"""Values checked against their columns before a write, on MariaDB and SQLite alike."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bridge.errors import InvalidRequest
from bridge.store.column_fit import check_fits
from bridge.store.tables import packages, special_rules


@pytest.mark.parametrize(
    ("table", "row", "said"),
    [
        (packages, {"name": "p" * 129}, "name 'pppp"),
        (packages, {"markup_percent": Decimal("100000")}, "is out of range"),
        (packages, {"markup_percent": Decimal("1.00001")}, "more than 4 decimal places"),
        (packages, {"inbound_rate": Decimal("1e999999")}, "is out of range"),
        (packages, {"inbound_rate": Decimal("Infinity")}, "is not a finite number"),
        (packages, {"free_minutes": 2**31}, "is out of range"),
        (special_rules, {"priority": -(2**31) - 1}, "is out of range"),
        (special_rules, {"pattern": "9" * 201}, "longer than 200 characters"),
    ],
    ids=["name", "markup", "markup-places", "hostile-rate", "infinite", "minutes", "prio", "pat"],
)
def test_what_a_column_cannot_hold_is_refused(
    table: object, row: dict[str, object], said: str
) -> None:
    """Each value that would be clipped, rounded or broken by its column is an InvalidRequest."""
    with pytest.raises(InvalidRequest, match=r"^thing: ") as caught:
        check_fits(table, row, what="thing")  # type: ignore[arg-type]

    assert said in caught.value.message


def test_what_fits_passes_including_trailing_zeros_and_edges() -> None:
    """Edge values and zeros written with many places are accepted."""
    check_fits(
        packages,
        {
            "name": "p" * 128,
            "markup_percent": Decimal("99999.99990000"),
            "inbound_rate": Decimal("9999999999.99999999"),
            "free_minutes": 2**31 - 1,
            "exit_code": None,
            "unknown": "ignored",
        },
        what="thing",
    )
    check_fits(packages, {"inbound_rate": Decimal("0E+100")}, what="thing")
