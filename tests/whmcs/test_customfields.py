"""Custom fields read and written by name, for clients and for services' products."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from bridge.errors import CustomFieldNotFound
from bridge.whmcs.customfields import (
    get_client_field,
    get_client_fields,
    get_service_field,
    get_service_fields,
    set_client_field,
)
from bridge.whmcs.seeding import insert_custom_field
from bridge.whmcs.tables import custom_field_values
from tests.factories.whmcs import (
    make_client,
    make_client_field,
    make_field_value,
    make_product,
    make_service,
    make_voip_client_fields,
)

AT = datetime(2026, 11, 21, 9, 30)


class TestClientFields:
    def test_read_by_name(self, conn: Connection) -> None:
        """A client's field value is found by the field's name."""
        fields = make_voip_client_fields(conn)
        client_id = make_client(conn)
        make_field_value(conn, fields["Low Balance Threshold"], client_id, "15")

        assert get_client_field(conn, client_id, "Low Balance Threshold") == "15"

    def test_never_set_reads_as_none(self, conn: Connection) -> None:
        """A defined field with no stored value reads as None, not as an empty string."""
        make_voip_client_fields(conn)

        assert get_client_field(conn, make_client(conn), "VoIP Suspended") is None

    def test_key_pipe_friendly_name_matches_either_part(self, conn: Connection) -> None:
        """A field named 'key|Friendly Name' is found by its key or by its whole name."""
        field = make_client_field(conn, "lowbal|Low Balance Threshold")
        client_id = make_client(conn)
        make_field_value(conn, field, client_id, "7")

        assert get_client_field(conn, client_id, "lowbal") == "7"
        assert get_client_field(conn, client_id, "LOWBAL|low balance threshold") == "7"

    def test_undefined_field_is_a_clear_error(self, conn: Connection) -> None:
        """Asking for a field WHMCS does not have says how to create it."""
        with pytest.raises(CustomFieldNotFound, match="Setup > Custom Fields"):
            get_client_field(conn, make_client(conn), "No Such Field")

    def test_write_creates_then_updates_one_row(self, conn: Connection) -> None:
        """Writing twice leaves one value row holding the last value."""
        fields = make_voip_client_fields(conn)
        client_id = make_client(conn)

        set_client_field(conn, client_id, "VoIP Suspended", "Yes", at=AT)
        set_client_field(conn, client_id, "VoIP Suspended", "None", at=AT)

        assert get_client_field(conn, client_id, "VoIP Suspended") == "None"
        rows = conn.execute(
            select(func.count())
            .select_from(custom_field_values)
            .where(
                custom_field_values.c.fieldid == fields["VoIP Suspended"],
                custom_field_values.c.relid == client_id,
            )
        ).scalar_one()
        assert rows == 1

    def test_write_touches_only_that_client(self, conn: Connection) -> None:
        """Setting one client's field leaves other clients' values alone."""
        fields = make_voip_client_fields(conn)
        first, second = make_client(conn), make_client(conn)
        make_field_value(conn, fields["Manual VoIP Suspend"], second, "Yes")

        set_client_field(conn, first, "Manual VoIP Suspend", "No", at=AT)

        assert get_client_field(conn, first, "Manual VoIP Suspend") == "No"
        assert get_client_field(conn, second, "Manual VoIP Suspend") == "Yes"

    def test_all_fields_by_key_with_blanks(self, conn: Connection) -> None:
        """All client fields come back by key, unset ones as empty strings, entities decoded."""
        fields = make_voip_client_fields(conn)
        client_id = make_client(conn)
        make_field_value(conn, fields["Has VoIP Service"], client_id, "Yes")
        note = make_client_field(conn, "Billing Note")
        make_field_value(conn, note, client_id, "Ask for Jo &amp; Sam")

        values = get_client_fields(conn, client_id)

        assert values["Has VoIP Service"] == "Yes"
        assert values["Low Balance Threshold"] == ""
        assert values["Billing Note"] == "Ask for Jo & Sam"


class TestServiceFields:
    def test_product_fields_of_a_service_by_name(self, conn: Connection) -> None:
        """A LesNet service's product custom fields are read by name."""
        product = make_product(conn, module="lesnet")
        peer = insert_custom_field(conn, name="Peer ID", field_type="product", relid=product)
        link = insert_custom_field(conn, name="CDR Link", field_type="product", relid=product)
        service = make_service(conn, make_client(conn), product_id=product, module="lesnet")
        make_field_value(conn, peer, service, "D4E3CD2BFC791")
        make_field_value(conn, link, service, "https://portal.les.net/cdr/11330_0000.txt")

        assert get_service_field(conn, service, "Peer ID") == "D4E3CD2BFC791"
        assert get_service_fields(conn, service) == {
            "Peer ID": "D4E3CD2BFC791",
            "CDR Link": "https://portal.les.net/cdr/11330_0000.txt",
        }

    def test_fields_of_another_product_are_not_seen(self, conn: Connection) -> None:
        """A field defined on a different product is not a field of this service."""
        other = make_product(conn, module="vodia")
        insert_custom_field(conn, name="First Name", field_type="product", relid=other)
        service = make_service(conn, make_client(conn))

        with pytest.raises(CustomFieldNotFound):
            get_service_field(conn, service, "First Name")
        assert get_service_fields(conn, service) == {}
