"""Scratch MariaDB databases for the benchmarks: made fresh, migrated, dropped afterwards.

Each bench names its own database (a per-process name by default), so runs never meet; the
floor connection is a bare PyMySQL one allowed to send local files, for the database's own
``LOAD DATA`` figure beside the bridge's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pymysql
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Engine

from bridge.db import make_engine
from bridge.settings import Settings
from bridge.store.migrate import upgrade_database


@contextmanager
def scratch_database(url: URL) -> Iterator[Engine]:
    """Create the database ``url`` names afresh with the bridge's tables; drop it on the way out."""
    server = create_engine(url.set(database=""))
    with server.begin() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{url.database}`"))
        conn.execute(text(f"CREATE DATABASE `{url.database}` CHARACTER SET utf8mb4"))
    engine = make_engine(Settings(database_url=url))
    try:
        upgrade_database(engine)
        yield engine
    finally:
        engine.dispose()
        with server.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{url.database}`"))
        server.dispose()


def floor_connection(url: URL) -> pymysql.connections.Connection[pymysql.cursors.Cursor]:
    """Return a bare PyMySQL connection to ``url``'s database that may send local files."""
    return pymysql.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 3306,
        user=url.username or "root",
        password=url.password or "",
        database=url.database,
        charset="utf8mb4",
        local_infile=True,
    )
