"""Alembic environment for the bridge's own ``mod_voipbridge_*`` tables.

Migrations always run on a connection handed over by :mod:`bridge.store.migrate`, never on a URL
read here, so the one settings module stays the only reader of the environment.
"""

from __future__ import annotations

from alembic import context

from bridge.store.tables import METADATA, VERSION_TABLE


def _run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through `bridge migrate`, not the alembic CLI")
    context.configure(
        connection=connection,
        target_metadata=METADATA,
        version_table=VERSION_TABLE,
        # Only the bridge's tables are ours; WHMCS's tbl* tables are never compared or touched.
        include_name=lambda name, type_, _parent: (
            type_ != "table" or name is None or name.startswith("mod_voipbridge_")
        ),
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


_run()
