"""Money in WHMCS: credit movements (``tblclients.credit`` + ``tblcredit``) and billable items.

A credit movement changes the client's running balance and appends the matching ledger row in the
caller's transaction, so WHMCS's invariant ``credit == SUM(tblcredit.amount)`` holds whatever
fails. The balance is changed with a single ``UPDATE ... SET credit = credit + :amount``, which
takes the row lock in InnoDB: two movements on one client at the same time serialise on that lock
and neither update is lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import IntEnum

from sqlalchemy import select
from sqlalchemy.engine import Connection

from bridge.errors import ClientNotFound, InvalidAmount, InvalidRequest
from bridge.whmcs.charsets import fit_text
from bridge.whmcs.tables import billable_items, clients, credit, inserted_id

CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class CreditMovement:
    """The result of moving credit: the ledger row written and the balance after it."""

    client_id: int
    ledger_id: int
    amount: Decimal
    balance: Decimal


class InvoiceAction(IntEnum):
    """``tblbillableitems.invoiceaction``, in the order of WHMCS's "Invoice Action" choices."""

    NO_INVOICE = 0
    NEXT_CRON = 1
    NEXT_INVOICE = 2
    DUE_DATE = 3
    RECUR = 4


@dataclass(frozen=True, slots=True)
class BillableItem:
    """A charge for WHMCS to put on an invoice (``tblbillableitems``)."""

    client_id: int
    description: str
    amount: Decimal
    due_date: date
    invoice_action: InvoiceAction = InvoiceAction.NEXT_INVOICE
    quantity: Decimal = Decimal(1)


def move_credit(
    conn: Connection,
    client_id: int,
    amount: Decimal,
    description: str,
    *,
    on: date,
    admin_id: int = 0,
    relid: int = 0,
) -> CreditMovement:
    """Add ``amount`` (negative to deduct) to the client's credit and record it in the ledger."""
    amount = _check_cents(amount, what="A credit movement")
    if not description.strip():
        raise InvalidRequest("A credit movement needs a description for the client's ledger.")
    updated = conn.execute(
        clients.update().where(clients.c.id == client_id).values(credit=clients.c.credit + amount)
    )
    if updated.rowcount == 0:
        raise ClientNotFound(f"WHMCS has no client #{client_id}; no credit was moved.")
    inserted = conn.execute(
        credit.insert().values(
            clientid=client_id,
            admin_id=admin_id,
            date=on,
            description=fit_text(conn, credit.c.description, description),
            amount=amount,
            relid=relid,
        )
    )
    balance = conn.execute(select(clients.c.credit).where(clients.c.id == client_id)).scalar_one()
    return CreditMovement(
        client_id=client_id,
        ledger_id=inserted_id(inserted),
        amount=amount,
        balance=Decimal(balance).quantize(CENT),
    )


def add_billable_item(conn: Connection, item: BillableItem) -> int:
    """Queue ``item`` for invoicing by WHMCS and return its ``tblbillableitems`` id."""
    amount = _check_cents(item.amount, what="A billable item")
    if not item.description.strip():
        raise InvalidRequest("A billable item needs a description for the invoice line.")
    result = conn.execute(
        billable_items.insert().values(
            userid=item.client_id,
            description=fit_text(conn, billable_items.c.description, item.description),
            hours=item.quantity,
            amount=amount,
            recur=0,
            recurcycle="",
            recurfor=0,
            invoiceaction=int(item.invoice_action),
            # 1 = "quantity" (WHMCS 8.2+); 0 would print the quantity as hours.
            unit=1,
            duedate=item.due_date,
            invoicecount=0,
        )
    )
    return inserted_id(result)


@dataclass(frozen=True, slots=True)
class PostedAmount:
    """A billable item or credit-ledger row as WHMCS holds it, for showing what was posted."""

    id: int
    client_id: int
    description: str
    amount: Decimal


def list_billable_items(conn: Connection) -> list[PostedAmount]:
    """Return every billable item, oldest first."""
    rows = conn.execute(select(billable_items).order_by(billable_items.c.id))
    return [PostedAmount(r.id, r.userid, r.description, Decimal(r.amount)) for r in rows]


def list_credit_movements(conn: Connection) -> list[PostedAmount]:
    """Return every credit-ledger row, oldest first."""
    rows = conn.execute(select(credit).order_by(credit.c.id))
    return [PostedAmount(r.id, r.clientid, r.description, Decimal(r.amount)) for r in rows]


def _check_cents(amount: Decimal, *, what: str) -> Decimal:
    """Return ``amount`` if it is a non-zero Decimal of whole cents, else raise InvalidAmount."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise InvalidAmount(f"{what} needs a Decimal amount, got {amount!r}.")
    try:
        cents = amount.quantize(CENT)
    except InvalidOperation:
        raise InvalidAmount(f"{what} amount {amount} is out of range.") from None
    if cents != amount:
        # Rounding is the caller's decision (once per invoice line, DESIGN.md §5), never ours.
        raise InvalidAmount(f"{what} amount {amount} has fractions of a cent; round it first.")
    if cents == 0:
        raise InvalidAmount(f"{what} amount must not be zero.")
    return cents
