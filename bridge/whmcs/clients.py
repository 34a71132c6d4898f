"""WHMCS clients (``tblclients``): identity, currency, credit and the balance they owe."""

from __future__ import annotations

import html
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select, true
from sqlalchemy.engine import Connection, RowMapping

from bridge.errors import ClientNotFound
from bridge.whmcs.currencies import Currency, get_currency, list_currencies
from bridge.whmcs.customfields import find_client_ids_by_field
from bridge.whmcs.tables import accounts, clients, invoices

_CHUNK = 1000


@dataclass(frozen=True, slots=True)
class Client:
    """A WHMCS client with names decoded from WHMCS's HTML-entity storage."""

    id: int
    first_name: str
    last_name: str
    company_name: str
    email: str
    status: str
    language: str
    credit: Decimal
    currency: Currency

    @property
    def full_name(self) -> str:
        """Return "First Last", the form WHMCS uses for ``{$client_name}``."""
        return f"{self.first_name} {self.last_name}".strip()


def get_client(conn: Connection, client_id: int) -> Client:
    """Return client ``client_id`` with its currency, or raise :class:`ClientNotFound`."""
    row = conn.execute(select(clients).where(clients.c.id == client_id)).mappings().first()
    if row is None:
        raise ClientNotFound(f"WHMCS has no client #{client_id}.")
    return _client_from_row(conn, row)


def get_clients(conn: Connection, client_ids: list[int]) -> dict[int, Client]:
    """Return the clients with these ids that exist, by id (queried in chunks)."""
    currencies = {c.id: c for c in list_currencies(conn)}
    found: dict[int, Client] = {}
    for start in range(0, len(client_ids), _CHUNK):
        rows = conn.execute(
            select(clients).where(clients.c.id.in_(client_ids[start : start + _CHUNK]))
        ).mappings()
        for row in rows:
            found[row["id"]] = _client(row, currencies[row["currency"]])
    return found


def get_credit(conn: Connection, client_id: int) -> Decimal:
    """Return the client's credit balance (``tblclients.credit``)."""
    credit = conn.execute(
        select(clients.c.credit).where(clients.c.id == client_id)
    ).scalar_one_or_none()
    if credit is None:
        raise ClientNotFound(f"WHMCS has no client #{client_id}.")
    return Decimal(credit)


def get_due_balance(conn: Connection, client_id: int) -> Decimal:
    """Return what the client still owes on Unpaid invoices: totals less net payments."""
    return get_due_balances(conn, [client_id]).get(client_id, Decimal(0)).quantize(Decimal("0.01"))


def get_due_balances(conn: Connection, client_ids: list[int] | None) -> dict[int, Decimal]:
    """Return what each client (``None``: every client) owes on Unpaid invoices, if anything."""
    # Payments are tblaccounts rows linked by invoiceid: amountin received, amountout refunded.
    # tblinvoices.total is already net of applied credit, so credit is not subtracted again.
    mine = invoices.c.userid.in_(client_ids) if client_ids is not None else true()
    unpaid = select(invoices.c.id).where(mine, invoices.c.status == "Unpaid")
    paid = (
        select(
            accounts.c.invoiceid,
            func.sum(accounts.c.amountin - accounts.c.amountout).label("paid"),
        )
        .where(accounts.c.invoiceid.in_(unpaid))
        .group_by(accounts.c.invoiceid)
        .subquery()
    )
    query = (
        select(
            invoices.c.userid,
            func.sum(invoices.c.total - func.coalesce(paid.c.paid, 0)).label("due"),
        )
        .select_from(invoices.outerjoin(paid, paid.c.invoiceid == invoices.c.id))
        .where(mine, invoices.c.status == "Unpaid")
        .group_by(invoices.c.userid)
    )
    return {row.userid: Decimal(row.due) for row in conn.execute(query)}


def list_client_ids(conn: Connection) -> list[int]:
    """Return the id of every client, in order."""
    return list(conn.execute(select(clients.c.id).order_by(clients.c.id)).scalars())


def list_clients_by_field(conn: Connection, field_name: str, value: str) -> list[Client]:
    """Return the clients whose client custom field ``field_name`` equals ``value``."""
    client_ids = find_client_ids_by_field(conn, field_name, value)
    if not client_ids:
        return []
    rows = conn.execute(
        select(clients).where(clients.c.id.in_(client_ids)).order_by(clients.c.id)
    ).mappings()
    return [_client_from_row(conn, row) for row in rows]


def _client_from_row(conn: Connection, row: RowMapping) -> Client:
    return _client(row, get_currency(conn, row["currency"]))


def _client(row: RowMapping, currency: Currency) -> Client:
    return Client(
        id=row["id"],
        first_name=html.unescape(row["firstname"]),
        last_name=html.unescape(row["lastname"]),
        company_name=html.unescape(row["companyname"]),
        email=html.unescape(row["email"]),
        status=row["status"],
        language=row["language"] or "",
        credit=Decimal(row["credit"]),
        currency=currency,
    )
