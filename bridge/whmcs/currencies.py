"""WHMCS currencies (``tblcurrencies``), formatted by :class:`~bridge.currency.Currency`."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.engine import Connection, RowMapping

from bridge.currency import Currency
from bridge.errors import NotFound
from bridge.whmcs.tables import currencies

__all__ = ["Currency", "currency_from_row", "get_currency"]


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


def list_currencies(conn: Connection) -> list[Currency]:
    """Return every currency, by id."""
    rows = conn.execute(select(currencies).order_by(currencies.c.id)).mappings()
    return [currency_from_row(row) for row in rows]
