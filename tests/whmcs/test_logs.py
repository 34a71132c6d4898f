"""Activity and module log rows, with secrets masked."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from bridge.redact import MASK
from bridge.whmcs.logs import log_activity, log_module_call
from bridge.whmcs.tables import activity_log, module_log

AT = datetime(2026, 11, 21, 10, 15, 0)


class TestLogActivity:
    def test_entry_is_attributed_to_the_bridge_and_client(self, conn: Connection) -> None:
        """An activity entry names the bridge as its author and the client it concerns."""
        entry = log_activity(conn, "VoIP services suspended: zero balance", at=AT, client_id=7)

        row = conn.execute(select(activity_log).where(activity_log.c.id == entry)).one()
        assert (row.user, row.userid, row.date) == ("voipbridge", 7, AT)
        assert row.description == "VoIP services suspended: zero balance"


class TestLogModuleCall:
    def test_secrets_are_masked_everywhere(self, conn: Connection) -> None:
        """Passwords never reach the module log, in request, response or processed data."""
        entry = log_module_call(
            conn,
            "fusionpbx",
            "SuspendAccount",
            {"username": "admin", "password": "hunter2-long"},
            "login failed for admin/hunter2-long",
            at=AT,
            processed={"token": "tok-123", "note": "hunter2-long"},
            secrets=["hunter2-long", "tok-123", ""],
        )

        row = conn.execute(select(module_log).where(module_log.c.id == entry)).one()
        logged = row.request + row.response + row.arrdata
        assert "hunter2" not in logged
        assert "tok-123" not in logged
        assert logged.count(MASK) == 4
        assert '"username": "admin"' in row.request
        assert (row.module, row.action, row.date) == ("fusionpbx", "SuspendAccount", AT)

    def test_longer_secret_containing_a_shorter_one_is_masked_whole(self, conn: Connection) -> None:
        """A secret that contains another secret leaves no fragment behind."""
        entry = log_module_call(
            conn, "vodia", "Test", "key=abc123xyz", "", at=AT, secrets=["abc", "abc123xyz"]
        )

        request = conn.execute(
            select(module_log.c.request).where(module_log.c.id == entry)
        ).scalar_one()
        assert request == f"key={MASK}"
