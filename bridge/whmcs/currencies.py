"""WHMCS currencies (``tblcurrencies``) and amounts formatted the way WHMCS shows them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.engine import Connection, RowMapping

from bridge.errors import NotFound
from bridge.whmcs.tables import currencies

# WHMCS's currency "format" setting: (thousands separator, decimal separator, decimal places).
_FORMATS: dict[int, tuple[str, str, int]] = {
    1: ("", ".", 2),  # 1234.56
    2: (",", ".", 2),  # 1,234.56
    3: (".", ",", 2),  # 1.234,56
    4: (",", "", 0),  # 1,234 (currencies without minor units)
}


@dataclass(frozen=True, slots=True)
class Currency:
    """A WHMCS currency: ISO code, display prefix/suffix and number format."""

    id: int
    code: str
    prefix: str
    suffix: str
    format: int
    rate: Decimal

    def format_amount(self, amount: Decimal) -> str:
        """Return ``amount`` as WHMCS displays it, e.g. ``$1,234.50 USD`` (ROUND_HALF_UP)."""
        thousands, point, places = _FORMATS.get(self.format, _FORMATS[1])
        rounded = amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        whole, _, fraction = f"{abs(rounded):f}".partition(".")
        groups = [whole[max(0, end - 3) : end] for end in range(len(whole), 0, -3)][::-1]
        number = thousands.join(groups) + (point + fraction if places else "")
        sign = "-" if rounded < 0 else ""
        return f"{sign}{self.prefix}{number}{self.suffix}"


def get_currency(conn: Connection, currency_id: int) -> Currency:
    """Return currency ``currency_id``, or the default currency when no such row exists."""
    row = conn.execute(select(currencies).where(currencies.c.id == currency_id)).mappings().first()
    if row is None:
        # WHMCS leaves tblclients.currency at 0 for some imported clients; it then uses the default.
        query = select(currencies).order_by(currencies.c.default.desc(), currencies.c.id).limit(1)
        row = conn.execute(query).mappings().first()
    if row is None:
        raise NotFound("WHMCS has no currencies configured (tblcurrencies is empty).")
    return currency_from_row(row)


def currency_from_row(row: RowMapping) -> Currency:
    """Build a :class:`Currency` from a ``tblcurrencies`` row."""
    return Currency(
        id=row["id"],
        code=row["code"],
        prefix=row["prefix"],
        suffix=row["suffix"],
        format=int(row["format"]),
        rate=Decimal(row["rate"]),
    )
