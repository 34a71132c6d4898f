"""Every client's standing at once: credit, due invoices balance and chosen custom fields.

The 5-minute autosuspend and the daily low-balance alert look at every VoIP client; asking WHMCS
one client at a time would cost a handful of queries per client. These functions read them all
with a few set queries (custom field values for the fields named, then credit, currency and the
due balance in chunks of client ids), so a pass over 100,000 clients takes seconds
(``bench/standings.py``).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.engine import Connection

from bridge.whmcs.clients import get_due_balances
from bridge.whmcs.currencies import list_currencies
from bridge.whmcs.customfields import client_field_ids
from bridge.whmcs.tables import clients, custom_field_values

CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Standing:
    """A client's balance and the custom fields asked for (unset fields as ``""``)."""

    client_id: int
    credit: Decimal
    due: Decimal
    currency_code: str
    fields: Mapping[str, str]


def list_standings(
    conn: Connection, field_names: Sequence[str], *, where: tuple[str, str] | None = None
) -> list[Standing]:
    """Return the standing of every client (or those whose field ``where[0]`` is ``where[1]``)."""
    fields = _field_values(conn, field_names)
    codes = {currency.id: currency.code for currency in list_currencies(conn)}
    due = get_due_balances(conn, None)
    standings = []
    for row in conn.execute(
        select(clients.c.id, clients.c.credit, clients.c.currency).order_by(clients.c.id)
    ):
        values = fields.get(row.id, {})
        if where is not None and values.get(where[0]) != where[1]:
            continue
        standings.append(
            Standing(
                client_id=row.id,
                credit=Decimal(row.credit),
                due=due.get(row.id, Decimal(0)).quantize(CENT),
                currency_code=codes.get(row.currency, ""),
                fields={name: values.get(name, "") for name in field_names},
            )
        )
    return standings


def _field_values(conn: Connection, names: Sequence[str]) -> dict[int, dict[str, str]]:
    ids = client_field_ids(conn, names)
    if not ids:
        return {}
    by_id = {field_id: name for name, field_id in ids.items()}
    rows = conn.execute(
        select(
            custom_field_values.c.relid, custom_field_values.c.fieldid, custom_field_values.c.value
        )
        .where(custom_field_values.c.fieldid.in_(by_id))
        # Descending id so the oldest row wins when WHMCS left duplicates, as for one client.
        .order_by(custom_field_values.c.id.desc())
    )
    values: dict[int, dict[str, str]] = {}
    for row in rows:
        values.setdefault(row.relid, {})[by_id[row.fieldid]] = html.unescape(row.value).strip()
    return values
