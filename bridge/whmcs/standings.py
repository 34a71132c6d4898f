"""Every client's standing at once: credit, due invoices balance and chosen custom fields.

The 5-minute autosuspend and the daily low-balance alert look at every VoIP client; asking WHMCS
one client at a time would cost a handful of queries per client. These functions read them all
with a few set queries (custom field values for the fields named, then credit, currency and the
due balance in chunks of client ids), so a pass over 100,000 clients takes seconds
(``bench/standings.py``).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.engine import Connection

from bridge.whmcs.clients import get_due_balances
from bridge.whmcs.currencies import currency_from_row
from bridge.whmcs.customfields import client_field_ids
from bridge.whmcs.services import Service, list_live_voip_services
from bridge.whmcs.tables import clients, currencies, custom_field_values

_CHUNK = 1000
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
    if where is not None:
        name, wanted = where
        ids = sorted(client for client, values in fields.items() if values.get(name) == wanted)
    else:
        ids = list(conn.execute(select(clients.c.id).order_by(clients.c.id)).scalars())
    money = _money(conn, ids)
    return [
        Standing(
            client_id=client_id,
            credit=money[client_id][0],
            due=money[client_id][1],
            currency_code=money[client_id][2],
            fields={name: fields.get(client_id, {}).get(name, "") for name in field_names},
        )
        for client_id in ids
        if client_id in money
    ]


def list_clients_services(conn: Connection, client_ids: Iterable[int]) -> dict[int, list[Service]]:
    """Return the live VoIP services of these clients, grouped by client."""
    grouped: dict[int, list[Service]] = {}
    for service in list_live_voip_services(conn, client_ids):
        grouped.setdefault(service.client_id, []).append(service)
    return grouped


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


def _money(conn: Connection, ids: list[int]) -> dict[int, tuple[Decimal, Decimal, str]]:
    codes = {
        row["id"]: currency_from_row(row).code
        for row in conn.execute(select(currencies)).mappings()
    }
    money: dict[int, tuple[Decimal, Decimal, str]] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        due = get_due_balances(conn, chunk)
        for row in conn.execute(
            select(clients.c.id, clients.c.credit, clients.c.currency).where(
                clients.c.id.in_(chunk)
            )
        ):
            balance = due.get(row.id, Decimal(0)).quantize(CENT)
            money[row.id] = (Decimal(row.credit), balance, codes.get(row.currency, ""))
    return money
