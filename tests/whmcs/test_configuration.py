"""WHMCS general settings."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from bridge.whmcs.configuration import get_setting
from bridge.whmcs.seeding import insert_setting


def test_setting_is_read_by_name(conn: Connection) -> None:
    """SystemURL (used for license binding) is read from tblconfiguration."""
    insert_setting(conn, "SystemURL", "https://billing.example.net/")

    assert get_setting(conn, "SystemURL") == "https://billing.example.net/"
    assert get_setting(conn, "NoSuchSetting") is None
