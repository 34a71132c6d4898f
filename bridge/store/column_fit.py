"""Refusing a value its column cannot hold, before it is written, on either database.

MariaDB in a non-strict mode clips an over-long name or an out-of-range number with only a warning,
and SQLite stores whatever it is given (``1e999`` becomes an infinite REAL that later breaks every
read of the row). So the bridge checks each value against the column it goes into, as the table
declares it: text against its length, integers against a signed 32-bit INT, decimals against their
precision and scale (too many decimals would be rounded silently, so they are refused too). A value
that does not fit is :class:`~bridge.errors.InvalidRequest` naming the table's thing and column.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Integer, Numeric, String, Table

from bridge.errors import InvalidRequest
from bridge.store.tables import Identifier

_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


def check_fits(table: Table, row: Mapping[str, Any], *, what: str) -> None:
    """Raise :class:`InvalidRequest` unless every value of ``row`` fits its column of ``table``."""
    for name, value in row.items():
        if value is None or name not in table.c:
            continue
        problem = _problem(table.c[name].type, value)
        if problem:
            raise InvalidRequest(f"{what}: {name} {_shown(value)} {problem}.")


def _problem(kind: Any, value: Any) -> str:
    if isinstance(kind, Identifier | String) and isinstance(value, str):
        length = kind.length
        if length is not None and len(value) > length:
            return f"is longer than {length} characters"
    elif isinstance(kind, Numeric) and isinstance(value, Decimal):
        return _decimal_problem(kind, value)
    elif _is_int(kind) and isinstance(value, int) and not _INT_MIN <= value <= _INT_MAX:
        return f"is out of range ({_INT_MIN} to {_INT_MAX})"
    return ""


def _decimal_problem(kind: Numeric[Any], value: Decimal) -> str:
    precision, scale = kind.precision or 18, kind.scale or 0
    if not value.is_finite():
        return "is not a finite number"
    # Compared by exponent and digit count, which stays cheap for any exponent (1e999999).
    _sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite
    if exponent < -scale and any(digits[exponent + scale :]):
        return f"has more than {scale} decimal places"
    whole_digits = len(digits) + exponent
    if value and whole_digits > precision - scale:
        limit = Decimal(10) ** (precision - scale)
        return f"is out of range (the column holds less than {limit:,} in size)"
    return ""


def _is_int(kind: Any) -> bool:
    return isinstance(kind, Integer) and not isinstance(kind, BigInteger)


def _shown(value: Any) -> str:
    text = str(value)
    return repr(text if len(text) <= 40 else text[:40] + "…")
