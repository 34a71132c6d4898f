"""Text written into WHMCS's utf8mb3 tables: 4-byte characters and sizes fitted, in any SQL mode."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from bridge.whmcs.charsets import REPLACEMENT, column_text, fit_text
from bridge.whmcs.money import BillableItem, add_billable_item
from bridge.whmcs.tables import billable_items, credit
from tests.factories.whmcs import make_client

PHONE = "\U0001f4de"  # an emoji: 4 bytes in UTF-8, more than utf8mb3 holds


class TestFitText:
    def test_the_fixture_columns_are_utf8mb3(self, conn: Connection) -> None:
        """Like a real install, the WHMCS text columns cannot hold 4-byte characters."""
        info = column_text(conn, credit.c.description)

        assert info.charset in ("utf8", "utf8mb3")
        assert not info.holds_four_byte_characters

    def test_four_byte_characters_become_the_replacement_character(self, conn: Connection) -> None:
        """An emoji is written as U+FFFD; 3-byte text such as accents and CJK is kept."""
        assert (
            fit_text(conn, credit.c.description, f"Café 東京 {PHONE}") == f"Café 東京 {REPLACEMENT}"
        )

    def test_sqlite_keeps_everything(self) -> None:
        """The demo's SQLite stores any text as it is."""
        engine = create_engine("sqlite://")
        with engine.connect() as conn:
            assert fit_text(conn, credit.c.description, PHONE) == PHONE
        engine.dispose()


class TestWrites:
    def test_an_unfitted_emoji_is_refused_in_strict_mode(self, conn: Connection) -> None:
        """What the bridge guards against: the strict server refuses the raw 4-byte value."""
        client = make_client(conn)

        with pytest.raises(DBAPIError), conn.begin_nested():
            conn.execute(
                credit.insert().values(
                    clientid=client, admin_id=0, date=date(2026, 1, 1), description=PHONE,
                    amount=Decimal("1.00"), relid=0,
                )
            )  # fmt: skip

    def test_a_billable_item_with_an_emoji_is_stored_in_either_mode(
        self, conn: Connection, sql_mode: str
    ) -> None:
        """Strict mode and sql_mode='' both store the item, the emoji as U+FFFD (never '?')."""
        client = make_client(conn)

        add_billable_item(
            conn, BillableItem(client, f"Calls to {PHONE} land", Decimal("1.00"), date(2026, 1, 1))
        )

        stored = conn.execute(
            select(billable_items.c.description).where(billable_items.c.userid == client)
        ).scalar_one()
        assert stored == f"Calls to {REPLACEMENT} land"
