"""WHMCS general settings (``tblconfiguration``: one ``setting``/``value`` row each)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Connection

from bridge.whmcs.tables import configuration


def get_setting(conn: Connection, setting: str) -> str | None:
    """Return the value of WHMCS setting ``setting`` (e.g. ``SystemURL``), or ``None``."""
    value = conn.execute(
        select(configuration.c.value).where(configuration.c.setting == setting)
    ).scalar_one_or_none()
    return None if value is None else str(value)
