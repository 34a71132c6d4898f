"""The FusionPBX adapter (DESIGN.md §4a): CDRs from ``v_xml_cdr``, changes through our PHP scripts.

FusionPBX has no provisioning or CDR API of its own. CDRs come from its PostgreSQL
(:mod:`bridge.modules.fusionpbx_db`) or, when the server has no database access, from
``export_cdr.php``. Everything else goes through the small FusionPBX-side scripts the bridge
ships in ``fusionpbx_api/``. Which CDR source: the server option ``cdr_source`` (``database`` or
``export``); unset means ``database`` when the server has a ``db_dsn`` credential, else ``export``.

The HTTP contract those scripts implement (the fake in ``tests/fakes/fusionpbx.py`` speaks it):

* Every request is ``POST``, form-encoded, with ``username`` and ``password`` (the WHMCS server's
  username and password). Every answer is ``200`` with a JSON object
  ``{"success": 1|0, "message": "...", ...}``; ``success: 0`` is a refusal and ``message`` is shown
  to the admin verbatim (as :class:`~bridge.errors.ProviderRejected`). Wrong credentials may be
  ``401`` or ``{"success": 0, "message": "Authentication failed"}``; both are ProviderRejected.
  Every script also refuses callers off the whitelist (the chkcon refusal below), and answers
  ``429`` with the same JSON shape and ``Retry-After`` when the caller exceeds its rate limits
  (``fusionpbx_api/README.md``); that is temporary (ProviderUnavailable, retried next run).
* ``/app/xml_cdr/chkcon.php``: Test Connection. Checks only the caller's IP against
  ``chkcon_whitelist.conf`` (the seeds: "No username or password is required for whitelisted
  IPs"); refusal ``{"success": 0, "message": "API Access Denied: Only whitelisted IPs may access
  this endpoint."}``.
* ``/app/status/index.php``: server status; ``{"success": 1, "message": ...}``.
* ``/app/registrations/check_registration.php``: fields ``extension``, ``tenant_domain`` (the
  seeds' names); answers ``{"success": 1, "registered": true|false}``.
* ``/app/extensions/manage.php``: fields ``action`` = ``enable``/``disable``, ``extension``,
  ``domain``; answers ``{"success": 1, "changed": 1|0, "message": ...}``, ``changed: 0`` when the
  extension already was in that state (idempotent), ``success: 0`` when it does not exist.
* ``/app/gateways/provision.php``: fields ``action``, ``gateway_name``, ``domain``; same answer.
  The bridge names a tenant's gateway after the tenant domain and the script looks it up within
  that domain only, so a gateway shared by several tenants is never disabled for one of them.
* ``/app/xml_cdr/export_cdr.php``: fields ``date_start``, ``date_end`` (ISO 8601 instants with an
  offset), ``window=recorded`` (the half-open window ``[date_start, date_end)`` on when the PBX
  recorded each row, ``COALESCE(insert_date, start_stamp)``, as the database source reads it),
  ``format=JSON``, ``domain`` (omitted: every domain), ``limit`` and, after the first page, the
  keyset cursor ``after_recorded``/``after_uuid`` (the last row's ``recorded`` and
  ``xml_cdr_uuid``). Answers a JSON list of ``v_xml_cdr`` rows (column names as in the table,
  plus ``recorded``) ordered by ``recorded, xml_cdr_uuid``, at most ``limit`` of them (a shorter
  page is the last), or ``{"success": 0, ...}``.
  The adapter yields each uuid once per fetch, drops rows outside the window or tenant, and stops
  with ProviderRejected if a full page brings nothing new (a script that ignores the cursor).

Suspend disables the service's extensions and its gateway; unsuspend and create enable them;
terminate disables them and keeps every record on the PBX. All four are idempotent. The adapter
asks only for ``enable`` and ``disable``, so Create expects the extensions and the gateway to exist
in FusionPBX already; ``manage.php`` and ``provision.php`` can also create, update and delete them,
and ``provision_list.php`` lists a domain's gateways (``fusionpbx_api/README.md``).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from bridge.calls import Intake, RejectedCdr
from bridge.errors import (
    InvalidAssignment,
    InvalidCdr,
    NotConfigured,
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
    ProviderUnsupported,
)
from bridge.modules.assignment import Assignment, FusionPbxAssignment
from bridge.modules.base import (
    ActionResult,
    CollectionPlan,
    ConnectionCheck,
    Health,
    PbxAdapter,
    PbxServer,
    TimeWindow,
)
from bridge.modules.fusionpbx_cdr import read_row, recorded_at
from bridge.modules.fusionpbx_db import FusionPbxCdrDatabase
from bridge.modules.http import PbxHttp, form

log = logging.getLogger("bridge.modules.fusionpbx")

CHKCON = "/app/xml_cdr/chkcon.php"
STATUS = "/app/status/index.php"
REGISTRATION = "/app/registrations/check_registration.php"
EXTENSIONS = "/app/extensions/manage.php"
GATEWAYS = "/app/gateways/provision.php"
EXPORT = "/app/xml_cdr/export_cdr.php"
# insert_date comes from the PBX's clock and its importer's transactions: a little overlap covers
# clock drift and rows committed after a later one.
RECORDED_LOOKBACK = timedelta(minutes=30)
WHITELIST_HINT = (
    "Add this WHMCS server's public IP address (or its subnet) to chkcon_whitelist.conf on the "
    "FusionPBX server, and to fail2ban's ignore list if fail2ban runs there."
)


class FusionPbxAdapter(PbxAdapter):
    """One FusionPBX server: CDRs from PostgreSQL or export_cdr.php, changes via its scripts."""

    def __init__(
        self,
        server: PbxServer,
        *,
        http: PbxHttp | None = None,
        db_batch_size: int = 5000,
        export_page_size: int = 1000,
        db_connect_timeout: int = 5,
    ) -> None:
        self.server = server
        self._http = http or PbxHttp(server)
        self.db_batch_size = db_batch_size
        self.export_page_size = export_page_size
        self.db_connect_timeout = db_connect_timeout

    def close(self) -> None:
        """Release the HTTP connection pool."""
        self._http.close()

    def collection_plan(self) -> CollectionPlan:
        """Read the whole server at once, by when each call was recorded (either source)."""
        self._cdr_source()  # A misconfigured source fails the plan, before any window is read.
        return CollectionPlan(per_service=False, recorded=True, lookback=RECORDED_LOOKBACK)

    def test_connection(self) -> ConnectionCheck:
        """Ask chkcon.php whether this host is whitelisted; report, never raise, on failure."""
        try:
            answer = self._post(CHKCON, {}, refusal_raises=False)
        except ProviderUnavailable as exc:
            reason = exc.message.removesuffix("; will retry.")
            return ConnectionCheck(False, f"Cannot reach the FusionPBX server: {reason}.")
        except ProviderError as exc:
            return ConnectionCheck(False, exc.message)
        message = self._message(answer)
        if _succeeded(answer):
            return ConnectionCheck(True, f"Connection successful. {message}".strip())
        return ConnectionCheck(False, f"{message or 'API access denied.'} {WHITELIST_HINT}")

    def health(self) -> Health:
        """Call status/index.php and time it; a failure is reported, not raised."""
        started = time.perf_counter()
        try:
            answer = self._post(STATUS, {})
        except ProviderError as exc:
            return Health(False, _elapsed_ms(started), exc.message)
        return Health(True, _elapsed_ms(started), self._message(answer) or "OK")

    def check_registration(self, extension: str, tenant: str) -> bool:
        """Tell whether ``extension`` of ``tenant`` has a SIP device registered right now."""
        answer = self._post(REGISTRATION, {"extension": extension, "tenant_domain": tenant})
        registered = answer.get("registered")
        if registered in (True, 1, "1", "true"):
            return True
        if registered in (False, 0, "0", "false"):
            return False
        raise ProviderRejected(
            f"{self.server.name}: {REGISTRATION} answered without a 'registered' flag "
            f"({self._excerpt(answer)}); is the bridge's script up to date?"
        )

    def create(self, assignment: Assignment) -> ActionResult:
        """Enable the service's extensions and gateway (they must already exist in FusionPBX)."""
        return self._switch(assignment, enable=True, done="Enabled for the new service")

    def suspend(self, assignment: Assignment) -> ActionResult:
        """Disable the service's extensions and gateway (already disabled is fine)."""
        return self._switch(assignment, enable=False, done="Suspended")

    def unsuspend(self, assignment: Assignment) -> ActionResult:
        """Enable the service's extensions and gateway again (already enabled is fine)."""
        return self._switch(assignment, enable=True, done="Unsuspended")

    def terminate(self, assignment: Assignment) -> ActionResult:
        """Disable the service's extensions and gateway; their data stays on the PBX."""
        result = self._switch(assignment, enable=False, done="Terminated")
        return ActionResult(
            f"{result.message} Their settings, voicemail and call records are kept on the PBX; "
            "delete them in FusionPBX if they are no longer needed.",
            result.changed,
        )

    def fetch_cdrs(self, assignment: Assignment | None, window: TimeWindow) -> Iterator[Intake]:
        """Return the tenant's legs (``None``: every tenant's) recorded in ``window``.

        Both sources window on when FusionPBX recorded each call (``insert_date``), so a long
        call or a late import is collected by the run after it was written.
        """
        domain = None if assignment is None else _fusion(assignment, self.server).tenant
        source = self._cdr_source()
        if source == "database":
            reader = FusionPbxCdrDatabase(
                self.server.credentials.get("db_dsn", ""),
                server_name=self.server.name,
                secrets=self.server.secrets,
                batch_size=self.db_batch_size,
                connect_timeout=self.db_connect_timeout,
            )
            return reader.fetch(domain, window)
        return self._export(domain, window)

    def _cdr_source(self) -> str:
        configured = self.server.options.get("cdr_source", "").strip().lower()
        has_dsn = bool(self.server.credentials.get("db_dsn"))
        if not configured:
            return "database" if has_dsn else "export"
        if configured == "database" and not has_dsn:
            raise NotConfigured(
                f"{self.server.name}: the CDR source is 'database' but the bridge has no "
                "read-only database DSN (db_dsn) for this server; store one in the server's "
                "settings, or set the CDR source to 'export'."
            )
        if configured not in ("database", "export"):
            raise ProviderUnsupported(
                f"{self.server.name}: FusionPBX cannot deliver CDRs by {configured!r}; set the "
                "server's CDR source to 'database' (read v_xml_cdr) or 'export' "
                "(export_cdr.php)."
            )
        return configured

    def _export(self, domain: str | None, window: TimeWindow) -> Iterator[Intake]:
        fields: dict[str, object] = {
            "date_start": window.start.isoformat(),
            "date_end": window.end.isoformat(),
            "window": "recorded",
            "format": "JSON",
            "limit": self.export_page_size,
        }
        if domain is not None:
            fields["domain"] = domain
        # Pages are ordered, so a repeat (an offset-paging script, rows arriving meanwhile) can
        # only come from the previous page; remembering two pages keeps memory bounded.
        previous: set[str] = set()
        while True:
            page = self._export_page(fields)
            current: set[str] = set()
            outside = 0
            for row in page:
                cdr, recorded = self._export_row(row)
                if cdr.uuid in previous or cdr.uuid in current:
                    continue
                current.add(cdr.uuid)
                if isinstance(cdr, RejectedCdr):
                    if domain is None or cdr.domain in ("", domain):
                        yield cdr  # set aside by the CDR store; its window cannot be told
                    continue
                assert recorded is not None  # _export_row gives every readable row its time
                # A script filtering on whole days, or not by tenant, must not bill other calls.
                if not window.contains(recorded) or (domain is not None and cdr.domain != domain):
                    outside += 1
                    continue
                yield cdr
            if outside:
                log.info(
                    "fusionpbx.export_rows_dropped server=%s outside_window_or_tenant=%d",
                    self.server.name,
                    outside,
                )
            if len(page) < self.export_page_size:
                return
            if not current:
                raise ProviderRejected(
                    f"{self.server.name}: {EXPORT} sent the same page of CDRs again; it must "
                    "honour after_recorded/after_uuid. Update the bridge's script on the PBX."
                )
            previous = current
            last = page[-1]
            fields["after_recorded"] = str(last.get("recorded", ""))
            fields["after_uuid"] = str(last.get("xml_cdr_uuid", ""))

    def _export_page(self, fields: Mapping[str, object]) -> list[Mapping[str, Any]]:
        answer = self._http.json("POST", EXPORT, data=self._form(fields))
        if isinstance(answer, dict):
            self._check(EXPORT, answer)
            raise ProviderRejected(
                f"{self.server.name}: {EXPORT} answered {self._excerpt(answer)} instead of a "
                "list of CDRs; is the bridge's script up to date?"
            )
        if not isinstance(answer, list) or not all(isinstance(row, dict) for row in answer):
            raise ProviderRejected(
                f"{self.server.name}: {EXPORT} answered {self._excerpt(answer)} instead of a "
                "list of CDR rows; is the bridge's script up to date?"
            )
        return answer

    def _export_row(self, row: Mapping[str, Any]) -> tuple[Intake, datetime | None]:
        cdr = read_row(row, zone=self.server.timezone)
        if isinstance(cdr, RejectedCdr):
            return cdr, None
        if "recorded" not in row:
            raise ProviderRejected(
                f"{self.server.name}: {EXPORT} sent CDRs without 'recorded' (it ignores "
                "window=recorded, so long calls and late imports would be missed). Update the "
                "bridge's script on the PBX."
            )
        try:
            return cdr, recorded_at(row, zone=self.server.timezone)
        except InvalidCdr as exc:
            raise ProviderRejected(
                f"{self.server.name}: {EXPORT} sent a CDR the bridge cannot read "
                f"({self._excerpt(row)}): {exc.message}"
            ) from None

    def _switch(self, assignment: Assignment, *, enable: bool, done: str) -> ActionResult:
        fusion = _fusion(assignment, self.server)
        action = "enable" if enable else "disable"
        state = "enabled" if enable else "disabled"
        steps = [
            (EXTENSIONS, f"extension {ext}@{fusion.tenant}", {"extension": ext})
            for ext in fusion.extensions
        ]
        steps.append((GATEWAYS, f"gateway {fusion.tenant}", {"gateway_name": fusion.tenant}))
        changed: list[str] = []
        for path, what, fields in steps:
            try:
                answer = self._post(path, {"action": action, "domain": fusion.tenant, **fields})
            except ProviderError as exc:
                progress = f" (already {state}: {', '.join(changed)})" if changed else ""
                raise type(exc)(f"{what} was not {state}: {exc.message}{progress}") from None
            if answer.get("changed") not in (False, 0, "0", "false"):
                changed.append(what)
            log.debug("fusionpbx.%s server=%s %s", action, self.server.name, what)
        names = ", ".join(what for _path, what, _fields in steps)
        summary = f"{len(changed)} changed" if changed else f"all were already {state}"
        return ActionResult(
            f"{done} on {self.server.name}: {names} {state} ({summary}).", tuple(changed)
        )

    def _post(
        self, path: str, fields: Mapping[str, object], *, refusal_raises: bool = True
    ) -> dict[str, Any]:
        answer = self._http.json("POST", path, data=self._form(fields))
        if not isinstance(answer, dict) or "success" not in answer:
            raise ProviderRejected(
                f"{self.server.name}: {path} answered {self._excerpt(answer)} instead of "
                '{"success": ..., "message": ...}; is the bridge\'s script installed there?'
            )
        if refusal_raises:
            self._check(path, answer)
        return answer

    def _check(self, path: str, answer: Mapping[str, Any]) -> None:
        if not _succeeded(answer):
            message = self._message(answer) or "refused without a message"
            raise ProviderRejected(f"{self.server.name}: {path}: {message}")

    def _form(self, fields: Mapping[str, object]) -> dict[str, str]:
        return form({"username": self.server.username, "password": self.server.password, **fields})

    def _message(self, answer: Mapping[str, Any]) -> str:
        return self._http.scrub(str(answer.get("message") or "").strip())

    def _excerpt(self, value: object, limit: int = 200) -> str:
        return self._http.scrub(json.dumps(value, default=str)[:limit])


def make_fusionpbx_adapter(server: PbxServer) -> FusionPbxAdapter:
    """Return the adapter for a FusionPBX server (the registry's factory)."""
    return FusionPbxAdapter(server)


def _fusion(assignment: Assignment, server: PbxServer) -> FusionPbxAssignment:
    if not isinstance(assignment, FusionPbxAssignment):
        raise InvalidAssignment(
            f"{server.name} is a FusionPBX server but the service has a "
            f"{type(assignment).__name__}; check the product's module."
        )
    return assignment


def _succeeded(answer: Mapping[str, Any]) -> bool:
    return answer.get("success") in (True, 1, "1", "true")


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
