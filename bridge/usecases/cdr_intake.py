"""Calls in: collection from the PBXes, file import and Vodia's push, into the CDR store.

**Filing.** Every way in files a call under a service by one rule (:class:`TenantDirectory`): the
call's tenant (FusionPBX and Vodia tenant domain, LesNet peer id) is looked up among the server's
live services; exactly one service with that tenant owns the call; none or several (two services
claiming one tenant) leave it *unassigned* — stored with no service, counted in the report, and
filed later. Unassigned calls are never lost: before each server is collected (push servers too),
every tenant that now has exactly one service gets its stored unassigned calls
(:func:`reattribute_cdrs`), so a service created, or an assignment fixed, after its calls arrived
still bills them. ``bridge doctor`` lists what is still unassigned.

**Collection.** For every enabled fusionpbx/vodia/lesnet server in WHMCS, the adapter's
:class:`~bridge.modules.base.CollectionPlan` says whether it is read as a whole (FusionPBX) or
service by service (Vodia, LesNet), and on which clock its window runs. A window runs from the
scope's watermark minus the plan's lookback to now; a scope never collected starts
``first_window`` ago, or at ``--since``. Calls are stored in batches, each committed on its own
with duplicates ignored; a record that cannot be stored is quarantined with the reason (counted
in the report, listed by ``bridge doctor``) and never fails its batch. Only when the whole window
has been stored does the watermark move,
in its own transaction: a failure part way (PBX down, connection dropped, crash) leaves it where
it was, the next run fetches the window again and the store drops what it already has. A failure
on one server or service is reported and does not stop the others. A server whose CDRs are pushed
(``cdr_source = push``) is not polled.

**Import.** A FusionPBX CSV export is imported for one service the operator names: its a-legs are
filed under that service (the operator's choice overrides the tenant rule); rows whose
``domain_name`` names another tenant are counted, so a report can warn that the file may hold other
tenants' calls.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection
from starlette.datastructures import Secret

from bridge.calls import Intake
from bridge.db import Database
from bridge.errors import BadLine, BridgeError, InvalidRequest
from bridge.modules.assignment import (
    Assignment,
    FusionPbxAssignment,
    LesNetAssignment,
    VodiaAssignment,
    parse_assignment,
)
from bridge.modules.base import PbxAdapter, PbxServer, TimeWindow
from bridge.modules.fusionpbx_csv import FusionPbxCsvReader
from bridge.modules.registry import make_adapter
from bridge.store.cdrs import (
    assign_tenant_cdrs,
    get_watermark,
    set_watermark,
    store_cdrs,
)
from bridge.store.servers import get_server_timezone
from bridge.usecases.pbx_servers import read_pbx_servers
from bridge.whmcs.customfields import get_service_fields
from bridge.whmcs.services import Service, get_service, list_server_services

log = logging.getLogger("bridge.usecases.cdr_intake")

BATCH_SIZE = 1000
WHOLE_SERVER = "server"
FIRST_WINDOW = timedelta(days=2)

AdapterFactory = Callable[[PbxServer], PbxAdapter]
Progress = Callable[[str, int], None]


@dataclass(frozen=True, slots=True)
class ScopeReport:
    """What one collection scope (a service, or a whole server) fetched and stored."""

    server_id: int
    scope: str
    fetched: int = 0
    inserted: int = 0
    duplicates: int = 0
    unassigned: int = 0
    quarantined: int = 0
    collected_to: datetime | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class CollectReport:
    """The outcome of a collection run."""

    scopes: tuple[ScopeReport, ...] = ()
    reattributed: int = 0

    @property
    def inserted(self) -> int:
        """Return how many new calls were stored."""
        return sum(scope.inserted for scope in self.scopes)

    @property
    def unassigned(self) -> int:
        """Return how many new calls were stored without a service (no or several owners)."""
        return sum(scope.unassigned for scope in self.scopes)

    @property
    def quarantined(self) -> int:
        """Return how many fetched records could not be stored and were set aside."""
        return sum(scope.quarantined for scope in self.scopes)

    @property
    def errors(self) -> tuple[ScopeReport, ...]:
        """Return the scopes that failed (their watermarks did not move)."""
        return tuple(scope for scope in self.scopes if scope.error)


@dataclass(frozen=True, slots=True)
class Filed:
    """How the calls of one batch were stored."""

    inserted: int = 0
    duplicates: int = 0
    unassigned: int = 0
    quarantined: int = 0


@dataclass(frozen=True, slots=True)
class ServiceTarget:
    """A live service of a server with its parsed assignment."""

    service: Service
    assignment: Assignment

    @property
    def tenant(self) -> str:
        """Return the tenant its calls carry (tenant domain, or LesNet peer id)."""
        return tenant_of(self.assignment)


@dataclass(frozen=True, slots=True)
class TenantDirectory:
    """Which live service of one server owns each tenant: the one rule for filing a call."""

    server_id: int
    targets: tuple[ServiceTarget, ...]
    problems: tuple[ScopeReport, ...] = ()
    owners: Mapping[str, tuple[int, ...]] = field(default_factory=dict)

    @classmethod
    def build(cls, conn: Connection, server_id: int, module: str) -> TenantDirectory:
        """Read the server's live services of ``module`` and their assignments."""
        targets, problems = [], []
        for service in list_server_services(conn, server_id):
            if service.product.module != module:
                continue
            try:
                assignment = parse_assignment(
                    module, service.domain, service.username, get_service_fields(conn, service.id)
                )
            except BridgeError as exc:
                problems.append(ScopeReport(server_id, f"service:{service.id}", error=exc.message))
                continue
            targets.append(ServiceTarget(service, assignment))
        owners: dict[str, tuple[int, ...]] = {}
        for target in targets:
            owners[target.tenant] = (*owners.get(target.tenant, ()), target.service.id)
        return cls(server_id, tuple(targets), tuple(problems), owners)

    def owner_of(self, tenant: str) -> int | None:
        """Return the one service owning ``tenant``; ``None`` when none or several claim it."""
        owners = self.owners.get(tenant, ())
        return owners[0] if len(owners) == 1 else None

    def file(self, records: Iterable[Intake]) -> dict[int | None, list[Intake]]:
        """Group calls by the service that owns their tenant (``None``: unassigned)."""
        groups: dict[int | None, list[Intake]] = {}
        for record in records:
            groups.setdefault(self.owner_of(record.domain), []).append(record)
        return groups


def tenant_of(assignment: Assignment) -> str:
    """Return the tenant key the calls of a service with ``assignment`` carry."""
    if isinstance(assignment, FusionPbxAssignment | VodiaAssignment):
        return assignment.tenant
    if isinstance(assignment, LesNetAssignment):
        return assignment.peer_id
    raise InvalidRequest(f"No tenant for assignment {assignment!r}.")


def reattribute_cdrs(conn: Connection, directory: TenantDirectory) -> int:
    """File the server's unassigned stored calls under each tenant's one owner; return how many."""
    moved = 0
    for tenant, owners in directory.owners.items():
        if len(owners) == 1:
            moved += assign_tenant_cdrs(conn, directory.server_id, tenant, owners[0])
    return moved


def store_filed(
    conn: Connection,
    server_id: int,
    groups: Mapping[int | None, list[Intake]],
    *,
    now: datetime,
) -> Filed:
    """Store calls grouped by owner (see :meth:`TenantDirectory.file`), each call once."""
    inserted = duplicates = unassigned = quarantined = 0
    for service_id, records in groups.items():
        stored = store_cdrs(conn, server_id, records, now=now, service_id=service_id)
        inserted += stored.inserted
        duplicates += stored.duplicates
        quarantined += stored.quarantined
        if service_id is None:
            unassigned += stored.inserted
    return Filed(inserted, duplicates, unassigned, quarantined)


def collect_cdrs(
    database: Database,
    *,
    key: Secret | None,
    now: datetime,
    server_id: int | None = None,
    since: datetime | None = None,
    lookback: timedelta | None = None,
    first_window: timedelta = FIRST_WINDOW,
    adapters: AdapterFactory = make_adapter,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
) -> CollectReport:
    """Collect new CDRs from every VoIP server (or only ``server_id``) up to ``now``.

    ``lookback`` overrides each adapter's own (:class:`~bridge.modules.base.CollectionPlan`).
    """
    with database.transaction() as conn:
        servers = []
        loaded, broken = read_pbx_servers(conn, key=key, server_id=server_id)
        for pbx, settings in loaded:
            directory = TenantDirectory.build(conn, pbx.id, pbx.module)
            servers.append((pbx, settings.cdr_source, directory))
    # A server whose settings cannot be read fails alone; the others are collected.
    reports = [ScopeReport(b.server_id, WHOLE_SERVER, error=b.message) for b in broken]
    reattributed = 0
    for pbx, cdr_source, directory in servers:
        reports.extend(directory.problems)
        with database.transaction() as conn:
            reattributed += reattribute_cdrs(conn, directory)
        if cdr_source == "push" or not directory.targets:
            continue
        try:
            with adapters(pbx) as adapter:
                plan = adapter.collection_plan()
                scopes: list[tuple[str, Assignment | None]] = (
                    [(f"service:{t.service.id}", t.assignment) for t in directory.targets]
                    if plan.per_service
                    else [(WHOLE_SERVER, None)]
                )
                for scope, assignment in scopes:
                    with database.transaction() as conn:
                        watermark = get_watermark(conn, pbx.id, scope)
                    back = plan.lookback if lookback is None else lookback
                    start = since or (watermark - back if watermark else now - first_window)
                    reports.append(
                        _collect_scope(
                            database,
                            adapter,
                            directory,
                            scope,
                            assignment,
                            start=start,
                            now=now,
                            progress=progress,
                            label=f"{pbx.name} {scope}",
                            batch_size=batch_size,
                        )
                    )
        except BridgeError as exc:
            # A server the bridge cannot read from as configured (an adapter it cannot build, a
            # CDR source with no way to collect) fails alone, like one whose secret is broken.
            reports.append(ScopeReport(pbx.id, WHOLE_SERVER, error=exc.message))
        except Exception as exc:  # one server's surprise must not stop the rest
            # An error the bridge has no words for (a driver's, an adapter's bug): the traceback
            # goes to the log, the report names its type only (its text may carry connection
            # details), and the other servers are still collected.
            log.exception("collect.unexpected server=%s", pbx.id)
            reports.append(
                ScopeReport(
                    pbx.id, WHOLE_SERVER,
                    error=f"unexpected {type(exc).__name__}; the bridge's log has the details",
                )
            )  # fmt: skip
    return CollectReport(tuple(reports), reattributed)


def _collect_scope(
    database: Database,
    adapter: PbxAdapter,
    directory: TenantDirectory,
    scope: str,
    assignment: Assignment | None,
    *,
    start: datetime,
    now: datetime,
    progress: Progress | None,
    label: str,
    batch_size: int,
) -> ScopeReport:
    server_id = directory.server_id
    fetched = inserted = duplicates = unassigned = quarantined = 0
    try:
        window = TimeWindow(start, now)
        for batch in _batches(adapter.fetch_cdrs(assignment, window), batch_size):
            with database.transaction() as conn:
                filed = store_filed(conn, server_id, directory.file(batch), now=now)
            fetched += len(batch)
            inserted += filed.inserted
            duplicates += filed.duplicates
            unassigned += filed.unassigned
            quarantined += filed.quarantined
            if progress is not None:
                progress(label, len(batch))
        with database.transaction() as conn:
            set_watermark(conn, server_id, scope, now, now=now)
    except BridgeError as exc:
        return ScopeReport(
            server_id, scope, fetched, inserted, duplicates, unassigned, quarantined,
            error=exc.message,
        )  # fmt: skip
    return ScopeReport(
        server_id, scope, fetched, inserted, duplicates, unassigned, quarantined, collected_to=now
    )


def _batches(records: Iterable[Intake], size: int) -> Iterator[list[Intake]]:
    iterator = iter(records)
    while batch := list(islice(iterator, size)):
        yield batch


@dataclass(frozen=True, slots=True)
class PushReport:
    """What one Vodia push stored."""

    stored: int
    duplicates: int
    unassigned: int
    quarantined: int = 0


def store_pushed_cdrs(
    database: Database, server_id: int, module: str, records: list[Intake], *, now: datetime
) -> PushReport:
    """Store calls a PBX posted, filed by tenant, each call once (a repeated post adds nothing)."""
    # Records without an id (rejected ones) are each their own; calls repeated in a post are one.
    unique = {
        record.uuid or f"#{number}": record for number, record in reversed(list(enumerate(records)))
    }
    with database.transaction() as conn:
        directory = TenantDirectory.build(conn, server_id, module)
        filed = store_filed(conn, server_id, directory.file(unique.values()), now=now)
    repeated = len(records) - len(unique)
    return PushReport(
        filed.inserted, filed.duplicates + repeated, filed.unassigned, filed.quarantined
    )


@dataclass(frozen=True, slots=True)
class FileImport:
    """What ``bridge cdr import`` did with one export file."""

    service_id: int
    imported: int
    duplicates: int
    b_legs: int
    other_tenants: int
    bad_lines: tuple[BadLine, ...]
    quarantined: int = 0


def import_cdr_file(
    database: Database,
    *,
    service_id: int,
    lines: Iterable[str],
    source: str,
    zone: ZoneInfo | None,
    now: datetime,
) -> FileImport:
    """Import a FusionPBX CDR CSV export for one service; good lines are kept, bad ones listed.

    Calls are read in the server's timezone unless ``zone`` is given. No PBX secret is read, so
    an import works whatever state the server's stored secrets are in.
    """
    with database.transaction() as conn:
        service = get_service(conn, service_id)
        if service.server is None:
            raise InvalidRequest(f"Service #{service.id} has no server; assign one in WHMCS.")
        server_id = service.server.id
        server_zone = get_server_timezone(conn, server_id)
        tenant = _tenant_or_none(service, get_service_fields(conn, service.id))
    reader = FusionPbxCsvReader(lines, source=source, zone=zone or server_zone)
    records = list(reader.cdrs())
    others = sum(1 for r in records if tenant is not None and r.domain and r.domain != tenant)
    with database.transaction() as conn:
        stored = store_cdrs(conn, server_id, records, now=now, service_id=service.id)
    return FileImport(
        service_id=service.id,
        imported=stored.inserted,
        duplicates=stored.duplicates + reader.duplicates,
        b_legs=reader.b_legs,
        other_tenants=others,
        bad_lines=tuple(reader.bad_lines),
        quarantined=stored.quarantined,
    )


def _tenant_or_none(service: Service, fields: Mapping[str, str]) -> str | None:
    try:
        assignment = parse_assignment(
            service.product.module, service.domain, service.username, fields
        )
    except BridgeError:
        return None
    return tenant_of(assignment)
