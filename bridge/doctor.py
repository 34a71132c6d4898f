"""``bridge doctor``: can the bridge work against this database, and if not, what is missing?

Checks, in order, and reports all problems in one go: the database answers; every WHMCS table and
column the bridge uses exists; the bridge's own tables are migrated to the code's head revision.
It also says which character sets the WHMCS text columns the bridge writes are in (utf8mb3 columns
get emoji written as U+FFFD), and warns, without failing, about stored calls that no service owns
(nothing bills them until exactly one service has their tenant) and about call records that were
quarantined because they could not be stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bridge.db import Database
from bridge.store.cdrs import Quarantined, Unassigned, list_quarantined, list_unassigned_cdrs
from bridge.store.migrate import MigrationState, get_migration_state
from bridge.whmcs.charsets import describe_written_text
from bridge.whmcs.schema import SchemaGap, declared_tables, describe_gaps, find_schema_gaps


@dataclass(frozen=True, slots=True)
class DoctorReport:
    """What ``bridge doctor`` found."""

    database: str
    latency_ms: float
    tables_checked: int
    gaps: tuple[SchemaGap, ...] = field(default=())
    migrations: MigrationState | None = None
    unassigned: tuple[Unassigned, ...] = ()
    quarantined: tuple[Quarantined, ...] = ()
    text_columns: str = ""

    @property
    def healthy(self) -> bool:
        """Tell whether the bridge can run: no gaps and every migration applied."""
        return not self.gaps and self.migrations is not None and self.migrations.up_to_date

    def render(self) -> str:
        """Return the report as the lines ``bridge doctor`` prints."""
        lines = [
            f"database     {self.database}",
            f"connection   ok ({self.latency_ms:.1f} ms)",
        ]
        if self.gaps:
            lines.append(describe_gaps(list(self.gaps)))
        else:
            lines.append(f"WHMCS schema ok ({self.tables_checked} tables, every column present)")
        if self.text_columns:
            lines.append(f"WHMCS text   {self.text_columns}")
        state = self.migrations
        if state is None:
            lines.append("bridge tables not checked")
        elif state.up_to_date:
            lines.append(f"bridge tables ok (revision {state.current})")
        else:
            lines.append(
                f"bridge tables at revision {state.current or 'none'}, code is at {state.head}: "
                f"{len(state.pending)} migration(s) pending ({', '.join(state.pending)}). "
                "Run `bridge migrate`."
            )
        for group in self.unassigned:
            lines.append(
                f"warning      {group.calls} call(s) on server #{group.server_id} of tenant "
                f"{group.domain or '(none)'} since {group.oldest:%Y-%m-%d} match no service, or "
                "several: set exactly one service's Domain to that tenant and they are billed"
            )
        for aside in self.quarantined:
            lines.append(
                f"warning      {aside.records} call record(s) from server #{aside.server_id} "
                f"could not be stored and are quarantined (latest {aside.latest:%Y-%m-%d}: "
                f"{aside.reason}); see mod_voipbridge_cdr_quarantine"
            )
        lines.append("All good." if self.healthy else "Problems found; see above.")
        return "\n".join(lines)


def examine(database: Database, display_url: str) -> DoctorReport:
    """Run every check against ``database`` and return the report."""
    latency = database.ping()
    with database.transaction() as conn:
        gaps = tuple(find_schema_gaps(conn))
        text_columns = "" if gaps else describe_written_text(conn)
        migrations = get_migration_state(conn)
        unassigned = tuple(list_unassigned_cdrs(conn)) if migrations.up_to_date else ()
        quarantined = tuple(list_quarantined(conn)) if migrations.up_to_date else ()
    return DoctorReport(
        database=display_url,
        latency_ms=latency,
        tables_checked=len(declared_tables()),
        gaps=gaps,
        migrations=migrations,
        unassigned=unassigned,
        quarantined=quarantined,
        text_columns=text_columns,
    )
