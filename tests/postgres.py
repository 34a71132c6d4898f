"""The PostgreSQL server the tests may create databases on, and how to reach it as its admin.

The server is the one ``BRIDGE_TEST_POSTGRES_URL`` names (a libpq conninfo or ``postgresql://``
URL of a login that may create databases and roles; default: ``postgres`` on 127.0.0.1:5432 with
trust auth, as on these machines). When it cannot be reached the run stops with a message saying
how to start it: the database tests are never skipped.
"""

from __future__ import annotations

import os

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
START_POSTGRES = (
    "Start it with\n"
    "  pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n"
    "(or run the suite through `scripts/test`), or point BRIDGE_TEST_POSTGRES_URL at a "
    "PostgreSQL server where you may create databases."
)


def admin_conninfo() -> str:
    """Return the conninfo of the test PostgreSQL server's admin login."""
    return os.environ.get("BRIDGE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def connect_admin(conninfo: str) -> psycopg.Connection[tuple[object, ...]]:
    """Connect with autocommit, or stop the run saying how to start PostgreSQL."""
    try:
        return psycopg.connect(conninfo, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.exit(
            f"PostgreSQL is not reachable at {shown(conninfo)}: {exc}\n{START_POSTGRES}",
            returncode=1,
        )


def shown(conninfo: str) -> str:
    """Return ``conninfo`` without its password, for messages."""
    params = conninfo_to_dict(conninfo)
    params.pop("password", None)
    return make_conninfo("", **params)
