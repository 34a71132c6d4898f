"""Clients: identity with decoded names, currency, credit, and the due-invoices balance."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.engine import Connection

from bridge.errors import ClientNotFound
from bridge.whmcs.clients import get_client, get_credit, get_due_balance, list_clients_by_field
from tests.factories.whmcs import (
    make_client,
    make_client_field,
    make_currency,
    make_field_value,
    make_invoice,
    make_payment,
)


class TestGetClient:
    def test_names_stored_with_html_entities_are_decoded(self, conn: Connection) -> None:
        """Names WHMCS stored HTML-encoded come back as the characters the client typed."""
        client_id = make_client(
            conn,
            firstname="Ren&eacute;e",
            lastname="O&#039;Brien",
            companyname="Smith &amp; Sons &lt;Ltd&gt;",
        )

        client = get_client(conn, client_id)

        assert client.first_name == "Renée"
        assert client.last_name == "O'Brien"
        assert client.company_name == "Smith & Sons <Ltd>"
        assert client.full_name == "Renée O'Brien"

    def test_client_carries_its_currency(self, conn: Connection) -> None:
        """The client's currency comes with it, formatting amounts with prefix and suffix."""
        make_currency(conn, code="USD")
        gbp = make_currency(conn, code="GBP", prefix="£", suffix=" GBP", default=False)
        client_id = make_client(conn, currency_id=gbp, credit=Decimal("1234.5"))

        client = get_client(conn, client_id)

        assert client.currency.code == "GBP"
        assert client.credit == Decimal("1234.50")
        assert client.currency.format_amount(client.credit) == "£1234.50 GBP"

    def test_unknown_currency_falls_back_to_default(self, conn: Connection) -> None:
        """A client whose currency id is 0 (old imports) uses the default currency."""
        make_currency(conn, code="EUR", prefix="€", suffix="", default=False)
        make_currency(conn, code="CAD", suffix=" CAD", default=True)
        client_id = make_client(conn, currency_id=0)

        assert get_client(conn, client_id).currency.code == "CAD"

    def test_missing_client_is_a_clear_not_found(self, conn: Connection) -> None:
        """Asking for a client that does not exist names the id."""
        with pytest.raises(ClientNotFound, match="#999999"):
            get_client(conn, 999999)
        with pytest.raises(ClientNotFound):
            get_credit(conn, 999999)


class TestDueBalance:
    def test_no_invoices_means_nothing_due(self, conn: Connection) -> None:
        """A client without invoices owes nothing."""
        assert get_due_balance(conn, make_client(conn)) == Decimal("0.00")

    def test_partial_payments_reduce_what_is_due(self, conn: Connection) -> None:
        """Two partial payments on an unpaid invoice leave the remainder due."""
        client_id = make_client(conn)
        invoice = make_invoice(conn, client_id, Decimal("50.00"))
        make_payment(conn, client_id, invoice, amount_in=Decimal("20.00"))
        make_payment(conn, client_id, invoice, amount_in=Decimal("5.50"))

        assert get_due_balance(conn, client_id) == Decimal("24.50")

    def test_refunds_add_back_to_what_is_due(self, conn: Connection) -> None:
        """A refund of part of a payment counts as money not received."""
        client_id = make_client(conn)
        invoice = make_invoice(conn, client_id, Decimal("40.00"))
        make_payment(conn, client_id, invoice, amount_in=Decimal("40.00"))
        make_payment(conn, client_id, invoice, amount_out=Decimal("15.00"))

        assert get_due_balance(conn, client_id) == Decimal("15.00")

    def test_only_unpaid_invoices_of_this_client_count(self, conn: Connection) -> None:
        """Paid, cancelled, draft and other clients' invoices are not part of the balance."""
        client_id = make_client(conn)
        other = make_client(conn)
        make_invoice(conn, client_id, Decimal("10.00"))
        make_invoice(conn, client_id, Decimal("11.00"))
        for status in ("Paid", "Cancelled", "Draft", "Refunded"):
            make_invoice(conn, client_id, Decimal("100.00"), status=status)
        make_invoice(conn, other, Decimal("7.00"))

        assert get_due_balance(conn, client_id) == Decimal("21.00")


class TestListClientsByField:
    def test_returns_clients_with_that_value_only(self, conn: Connection) -> None:
        """Listing by "Has VoIP Service" = Yes returns exactly the clients marked Yes."""
        field = make_client_field(conn, "Has VoIP Service", input_type="dropdown")
        yes = [make_client(conn), make_client(conn)]
        no = make_client(conn)
        make_client(conn)  # never set
        for client_id in yes:
            make_field_value(conn, field, client_id, "Yes")
        make_field_value(conn, field, no, "No")

        found = list_clients_by_field(conn, "Has VoIP Service", "Yes")

        assert [client.id for client in found] == yes
