"""Credit movements and billable items: exact balances, ledger rows, nothing half-written."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import delete, event, func, select
from sqlalchemy.engine import Connection, Engine

from bridge.db import BoundDatabase
from bridge.errors import ClientNotFound, InvalidAmount, InvalidRequest
from bridge.whmcs.clients import get_credit
from bridge.whmcs.money import BillableItem, InvoiceAction, add_billable_item, move_credit
from bridge.whmcs.tables import billable_items, clients, credit, currencies
from tests.factories.whmcs import make_client, make_currency

ON = date(2026, 11, 21)


def _ledger(conn: Connection, client_id: int) -> list[tuple[str, Decimal]]:
    rows = conn.execute(
        select(credit.c.description, credit.c.amount)
        .where(credit.c.clientid == client_id)
        .order_by(credit.c.id)
    )
    return [(row.description, row.amount) for row in rows]


class TestMoveCredit:
    def test_deduction_updates_balance_and_ledger(self, conn: Connection) -> None:
        """A deduction lowers the balance and writes one negative ledger row dated as asked."""
        client_id = make_client(conn, credit=Decimal("10.00"))

        movement = move_credit(conn, client_id, Decimal("-2.35"), "VoIP usage #55", on=ON)

        assert movement.balance == Decimal("7.65")
        assert get_credit(conn, client_id) == Decimal("7.65")
        assert _ledger(conn, client_id) == [("VoIP usage #55", Decimal("-2.35"))]
        ledger_date = conn.execute(
            select(credit.c.date).where(credit.c.id == movement.ledger_id)
        ).scalar_one()
        assert ledger_date == ON

    def test_balance_may_go_negative(self, conn: Connection) -> None:
        """Real-time usage can take a client below zero; the balance says so exactly."""
        client_id = make_client(conn, credit=Decimal("1.00"))

        movement = move_credit(conn, client_id, Decimal("-3.10"), "VoIP usage", on=ON)

        assert movement.balance == Decimal("-2.10")

    @pytest.mark.parametrize(
        ("amount", "message"),
        [
            (Decimal("0.00"), "must not be zero"),
            (Decimal("1.005"), "fractions of a cent"),
            (Decimal("NaN"), "Decimal amount"),
            (1.5, "Decimal amount"),
        ],
    )
    def test_bad_amounts_are_refused_and_nothing_written(
        self, conn: Connection, amount: object, message: str
    ) -> None:
        """Zero, sub-cent, NaN and float amounts are refused before anything is written."""
        client_id = make_client(conn, credit=Decimal("5.00"))

        with pytest.raises(InvalidAmount, match=message):
            move_credit(conn, client_id, amount, "bad", on=ON)  # type: ignore[arg-type]

        assert get_credit(conn, client_id) == Decimal("5.00")
        assert _ledger(conn, client_id) == []

    def test_blank_description_is_refused(self, conn: Connection) -> None:
        """The client's ledger line must say what the money was for."""
        with pytest.raises(InvalidRequest, match="description"):
            move_credit(conn, make_client(conn), Decimal("1.00"), "  ", on=ON)

    def test_unknown_client_writes_no_ledger_row(self, conn: Connection) -> None:
        """Moving credit for a missing client fails without an orphan ledger row."""
        with pytest.raises(ClientNotFound):
            move_credit(conn, 987654, Decimal("1.00"), "top-up", on=ON)
        assert _ledger(conn, 987654) == []

    def test_failure_after_the_update_rolls_back_the_balance(self, conn: Connection) -> None:
        """If the ledger insert fails, the balance change is rolled back with it."""
        client_id = make_client(conn, credit=Decimal("8.00"))
        database = BoundDatabase(conn)

        def refuse_the_ledger_row(*args: Any) -> None:
            if args[2].startswith("INSERT INTO tblcredit"):
                raise RuntimeError("the ledger insert failed")

        event.listen(conn, "before_cursor_execute", refuse_the_ledger_row)
        try:
            with pytest.raises(RuntimeError), database.transaction() as tx:
                move_credit(tx, client_id, Decimal("-1.00"), "usage", on=ON)
        finally:
            event.remove(conn, "before_cursor_execute", refuse_the_ledger_row)

        assert get_credit(conn, client_id) == Decimal("8.00")
        assert _ledger(conn, client_id) == []

    def test_a_description_too_long_for_the_ledger_is_cut_to_fit(self, conn: Connection) -> None:
        """A 70,000-byte description is cut to the TEXT column's 65,535 bytes, not refused."""
        client_id = make_client(conn, credit=Decimal("8.00"))

        move_credit(conn, client_id, Decimal("-1.00"), "x" * 70_000, on=ON)

        ((description, amount),) = _ledger(conn, client_id)
        assert (len(description), amount) == (65_535, Decimal("-1.00"))


@pytest.fixture(name="committed_client")
def _committed_client(engine: Engine) -> Iterator[int]:
    """A client committed for real (threads need to see it), removed again afterwards."""
    with engine.begin() as conn:
        currency = make_currency(conn)
        client_id = make_client(conn, credit=Decimal("100.00"), currency_id=currency)
    yield client_id
    with engine.begin() as conn:
        conn.execute(delete(credit).where(credit.c.clientid == client_id))
        conn.execute(delete(clients).where(clients.c.id == client_id))
        conn.execute(delete(currencies).where(currencies.c.id == currency))


class TestConcurrentMovements:
    def test_two_threads_lose_no_update(self, engine: Engine, committed_client: int) -> None:
        """Two threads moving credit on one client at once end exact, with every ledger row."""
        per_thread = 25
        start = threading.Barrier(2)
        errors: list[BaseException] = []

        def spend(amount: Decimal) -> None:
            try:
                start.wait()
                for n in range(per_thread):
                    with engine.begin() as conn:
                        move_credit(conn, committed_client, amount, f"usage {n}", on=ON)
            except BaseException as exc:  # reported to the main thread below
                errors.append(exc)

        threads = [
            threading.Thread(target=spend, args=(Decimal("-1.25"),)),
            threading.Thread(target=spend, args=(Decimal("0.50"),)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert errors == []
        with engine.connect() as conn:
            balance = get_credit(conn, committed_client)
            rows, total = conn.execute(
                select(func.count(), func.sum(credit.c.amount)).where(
                    credit.c.clientid == committed_client
                )
            ).one()
        # 100.00 - 25 x 1.25 + 25 x 0.50 = 81.25
        assert balance == Decimal("81.25")
        assert rows == 2 * per_thread
        assert Decimal("100.00") + total == balance


class TestBillableItems:
    def test_item_is_queued_for_the_next_invoice(self, conn: Connection) -> None:
        """A usage charge lands in tblbillableitems for WHMCS to invoice, with its due date."""
        client_id = make_client(conn)

        item_id = add_billable_item(
            conn,
            BillableItem(
                client_id=client_id,
                description="VoIP usage 29/10/2026 to 29/11/2026: 214 calls, 1,032 min",
                amount=Decimal("18.42"),
                due_date=date(2026, 11, 29),
            ),
        )

        row = conn.execute(select(billable_items).where(billable_items.c.id == item_id)).one()
        assert row.userid == client_id
        assert row.amount == Decimal("18.42")
        assert row.invoiceaction == InvoiceAction.NEXT_INVOICE
        assert row.duedate == date(2026, 11, 29)
        assert row.hours == Decimal("1.00")

    def test_sub_cent_amount_is_refused(self, conn: Connection) -> None:
        """An unrounded amount never reaches an invoice."""
        item = BillableItem(
            client_id=make_client(conn),
            description="usage",
            amount=Decimal("1.234"),
            due_date=ON,
        )
        with pytest.raises(InvalidAmount):
            add_billable_item(conn, item)
