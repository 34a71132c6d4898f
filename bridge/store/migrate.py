"""Applying and inspecting the bridge's Alembic migrations (`bridge migrate`, `bridge doctor`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from bridge.db import translate_errors
from bridge.store.tables import VERSION_TABLE

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


@dataclass(frozen=True, slots=True)
class MigrationState:
    """Where the database's ``mod_voipbridge_*`` tables stand against the code's migrations."""

    current: str | None
    head: str
    pending: tuple[str, ...]

    @property
    def up_to_date(self) -> bool:
        """Tell whether every migration has been applied."""
        return not self.pending


def alembic_config(conn: Connection | None = None) -> Config:
    """Return an Alembic config for the bridge's migrations, bound to ``conn`` when given."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    return config


def get_migration_state(conn: Connection) -> MigrationState:
    """Return the applied revision, the head revision and the revisions still to apply."""
    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS}")
    current = MigrationContext.configure(
        conn, opts={"version_table": VERSION_TABLE}
    ).get_current_revision()
    pending = tuple(
        revision.revision for revision in reversed(list(script.iterate_revisions(head, current)))
    )
    return MigrationState(current=current, head=head, pending=pending)


def upgrade_database(engine: Engine) -> MigrationState:
    """Apply every pending migration in one transaction and return the resulting state."""
    with translate_errors(engine.url), engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
        return get_migration_state(conn)
