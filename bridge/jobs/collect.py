"""CDR collection: pull each VoIP server's new calls into the CDR store, each call once.

For every enabled fusionpbx/vodia/lesnet server in WHMCS, and each of its live services:

- the window runs from the scope's watermark (minus a lookback, because a PBX writes a call's
  record when it ends, possibly hours after the start time the window selects on) to now; a
  scope never collected starts ``first_window`` ago, or at ``--since``;
- a FusionPBX server is read as a whole (one query per batch over all its tenants) and each call
  is filed under the service whose tenant domain it carries; Vodia and LesNet are read per
  service; a server whose CDRs are pushed to the bridge (``cdr_source = push``) is skipped;
- calls are stored in batches, each batch committed on its own and duplicates ignored, and only
  when the whole window has been stored does the watermark advance, in its own transaction. A
  failure part way (PBX down, connection dropped, crash) leaves the watermark where it was: the
  next run fetches the window again and the store drops what it already has.

A failure on one server or service is reported and does not stop the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice

from starlette.datastructures import Secret

from bridge.db import Database
from bridge.errors import BridgeError
from bridge.jobs.servers import load_pbx_servers
from bridge.modules.assignment import Assignment, FusionPbxAssignment, parse_assignment
from bridge.modules.base import CollectedCdr, PbxAdapter, PbxServer, TimeWindow
from bridge.modules.registry import make_adapter
from bridge.store.cdrs import get_watermark, set_watermark, store_cdrs
from bridge.store.servers import ServerSettings
from bridge.whmcs.customfields import get_service_fields
from bridge.whmcs.services import Service, list_server_services

BATCH_SIZE = 1000
WHOLE_SERVER = "server"

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
    collected_to: datetime | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class CollectReport:
    """The outcome of a collection run."""

    scopes: tuple[ScopeReport, ...] = ()

    @property
    def inserted(self) -> int:
        """Return how many new calls were stored."""
        return sum(scope.inserted for scope in self.scopes)

    @property
    def errors(self) -> tuple[ScopeReport, ...]:
        """Return the scopes that failed (their watermarks did not move)."""
        return tuple(scope for scope in self.scopes if scope.error)


@dataclass(frozen=True, slots=True)
class _Plan:
    server: PbxServer
    cdr_source: str
    # (scope, assignment or None for the whole server, service id or None)
    targets: tuple[tuple[str, Assignment | None, int | None], ...]
    tenants: dict[str, int] = field(default_factory=dict)
    problems: tuple[ScopeReport, ...] = ()


def collect_cdrs(
    database: Database,
    *,
    key: Secret | None,
    now: datetime,
    server_id: int | None = None,
    since: datetime | None = None,
    lookback: timedelta = timedelta(hours=6),
    first_window: timedelta = timedelta(days=2),
    adapters: AdapterFactory = make_adapter,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
) -> CollectReport:
    """Collect new CDRs from every VoIP server (or only ``server_id``) up to ``now``."""
    with database.transaction() as conn:
        plans = []
        for pbx, settings in load_pbx_servers(conn, key=key, server_id=server_id):
            services = list_server_services(conn, pbx.id)
            fields = {s.id: get_service_fields(conn, s.id) for s in services}
            plans.append(_plan(pbx, settings, services, fields))
    reports: list[ScopeReport] = []
    for plan in plans:
        reports.extend(plan.problems)
        if plan.cdr_source == "push" or not plan.targets:
            continue
        adapter = adapters(plan.server)
        try:
            reports.extend(
                _collect_scope(
                    database,
                    adapter,
                    plan,
                    scope,
                    assignment,
                    service_id,
                    now=now,
                    since=since,
                    lookback=lookback,
                    first_window=first_window,
                    progress=progress,
                    batch_size=batch_size,
                )
                for scope, assignment, service_id in plan.targets
            )
        finally:
            adapter.close()
    return CollectReport(tuple(reports))


def _plan(
    pbx: PbxServer,
    settings: ServerSettings,
    services: list[Service],
    fields: dict[int, dict[str, str]],
) -> _Plan:
    problems = []
    assignments: list[tuple[Service, Assignment]] = []
    for service in services:
        try:
            assignment = parse_assignment(
                service.product.module, service.domain, service.username, fields[service.id]
            )
        except BridgeError as exc:
            problems.append(ScopeReport(pbx.id, f"service:{service.id}", error=exc.message))
            continue
        assignments.append((service, assignment))
    if pbx.module == "fusionpbx":
        tenants = {a.tenant: s.id for s, a in assignments if isinstance(a, FusionPbxAssignment)}
        targets: tuple[tuple[str, Assignment | None, int | None], ...] = (
            ((WHOLE_SERVER, None, None),) if assignments else ()
        )
        return _Plan(pbx, settings.cdr_source, targets, tenants, tuple(problems))
    targets = tuple((f"service:{s.id}", a, s.id) for s, a in assignments)
    return _Plan(pbx, settings.cdr_source, targets, {}, tuple(problems))


def _collect_scope(
    database: Database,
    adapter: PbxAdapter,
    plan: _Plan,
    scope: str,
    assignment: Assignment | None,
    service_id: int | None,
    *,
    now: datetime,
    since: datetime | None,
    lookback: timedelta,
    first_window: timedelta,
    progress: Progress | None,
    batch_size: int,
) -> ScopeReport:
    server_id = plan.server.id
    with database.transaction() as conn:
        watermark = get_watermark(conn, server_id, scope)
    start = since or (watermark - lookback if watermark else now - first_window)
    fetched = inserted = duplicates = 0
    try:
        window = TimeWindow(start, now)
        for batch in _batches(adapter.fetch_cdrs(assignment, window), batch_size):
            with database.transaction() as conn:
                for owner, records in _by_service(batch, service_id, plan.tenants):
                    stored = store_cdrs(conn, server_id, records, now=now, service_id=owner)
                    inserted += stored.inserted
                    duplicates += stored.duplicates
            fetched += len(batch)
            if progress is not None:
                progress(f"{plan.server.name} {scope}", len(batch))
        with database.transaction() as conn:
            set_watermark(conn, server_id, scope, now, now=now)
    except BridgeError as exc:
        return ScopeReport(server_id, scope, fetched, inserted, duplicates, error=exc.message)
    except ValueError as exc:  # an empty window (since >= now) or a malformed record
        return ScopeReport(server_id, scope, fetched, inserted, duplicates, error=str(exc))
    return ScopeReport(server_id, scope, fetched, inserted, duplicates, collected_to=now)


def _batches(records: Iterable[CollectedCdr], size: int) -> Iterator[list[CollectedCdr]]:
    iterator = iter(records)
    while batch := list(islice(iterator, size)):
        yield batch


def _by_service(
    batch: list[CollectedCdr], service_id: int | None, tenants: dict[str, int]
) -> Iterator[tuple[int | None, list[CollectedCdr]]]:
    if service_id is not None or not tenants:
        yield service_id, batch
        return
    groups: dict[int | None, list[CollectedCdr]] = {}
    for record in batch:
        groups.setdefault(tenants.get(record.domain.lower()), []).append(record)
    yield from groups.items()
