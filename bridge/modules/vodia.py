"""Vodia PBX: REST session, per-tenant CDR listing, and extension enable/disable.

A service is one Vodia tenant (domain), as in ictVoIP's ``tenant | DID | DID`` assignment. The
adapter speaks these REST endpoints (paths as Vodia v68+ answers them):

- ``PUT /rest/system/session`` with ``{"name": "auth", "value": "<user> <md5(password)>"}`` logs
  in; the answer is the session id as a JSON string, sent back as the ``session`` cookie [1]_ [2]_.
  A 401 later means the session ended: the adapter logs in again, once.
- ``GET /rest/system/domaininfo`` lists the tenants (Test Connection, health) [3]_.
- ``GET /rest/domain/{tenant}/cdrs?start=YYYYMMDD&end=YYYYMMDD&page=N&size=M`` lists a tenant's
  calls by day in the PBX's timezone (both ends inclusive), paged; the default page is 30 [2]_ [4]_.
- ``GET /rest/domain/{tenant}/users`` lists accounts with ``usertype`` and ``disabled`` [3]_.
- ``PUT /rest/domain/{tenant}/user_settings/{ext}`` with ``{"disabled": "true"|"false"}`` [3]_.

Suspend and terminate disable every extension of the tenant, unsuspend and create enable them; a
tenant is never created or deleted (its recordings and history are the admin's to keep).

Vodia's CDR shapes are read by :mod:`bridge.modules.vodia_cdr`.

.. [1] "Vodia PBX - RESTful API", Login, 2015: https://1library.net/document/q2orl2jz-vodia-pbx-restful-api-v.html
.. [2] A Vodia integration in the field (2020), config.properties and LoginService.java:
   https://github.com/guptahitesh1304/vodia-dashboard-api
.. [3] https://api.vodia.com/domains_lists_api and https://api.vodia.com/extensions_api
.. [4] "Default CDR listing size" 30: https://doc.vodia.com/docs/recordings-cdr-settings
.. [5] https://doc.vodia.com/docs/json-cdr
.. [6] https://doc.vodia.com/docs/webcdr
.. [7] A JSON CDR whose VQ report says ``START=2015-11-28T09:21:42Z`` beside ``TimeStart
   2015-11-28 09:21:42`` (github.com, a Yii ``CdrCollectController`` receiving Vodia 5.3 CDRs).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Generator, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from bridge.calls import Intake, RejectedCdr
from bridge.errors import (
    InvalidAssignment,
    InvalidRequest,
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
)
from bridge.modules.assignment import Assignment, VodiaAssignment
from bridge.modules.base import (
    ActionResult,
    CollectionPlan,
    ConnectionCheck,
    Health,
    PbxAdapter,
    PbxServer,
    TimeWindow,
)
from bridge.modules.http import Auth, PbxHttp, Request, Response
from bridge.modules.vodia_cdr import parse_vodia_cdr
from bridge.redact import redact

log = logging.getLogger("bridge.modules.vodia")

LOGIN_PATH = "/rest/system/session"
PAGE_SIZE = 500
MAX_PAGES = 2000
# Vodia writes a call's record when it ends: re-read the last 6 hours of start times each run.
START_LOOKBACK = timedelta(hours=6)


class _VodiaSession(Auth):
    """Log in once, send the session cookie, and log in again once when the PBX answers 401."""

    requires_response_body = True

    def __init__(self, server: PbxServer) -> None:
        self.server = server
        # Vodia's login takes the MD5 of the password; it is a password equivalent, so it is masked.
        self.digest = hashlib.md5(server.password.encode()).hexdigest()  # noqa: S324
        self.token = ""

    def auth_flow(self, request: Request) -> Generator[Request, Response, None]:
        """Send ``request`` with a session, logging in first or again as needed."""
        fresh = not self.token
        if fresh:
            yield from self._login(request)
        request.headers["Cookie"] = f"session={self.token}"
        response = yield request
        if response.status_code != 401:
            return
        if not fresh:
            # Sessions end when the PBX restarts or idles them out; one new login is worth a try.
            log.info("vodia.relogin server=%s", self.server.name)
            yield from self._login(request)
            request.headers["Cookie"] = f"session={self.token}"
            response = yield request
        if response.status_code == 401:
            self.token = ""

    def _login(self, request: Request) -> Generator[Request, Response, None]:
        self.token = ""
        login = Request(
            "PUT",
            request.url.join(LOGIN_PATH),
            json={"name": "auth", "value": f"{self.server.username} {self.digest}"},
            headers={"User-Agent": request.headers.get("User-Agent", "voipbridge")},
            # The client's timeouts ride on the request it built; a bare Request would wait forever.
            extensions=dict(request.extensions),
        )
        response = yield login
        where = f"{self.server.name} ({self.server.hostname})"
        excerpt = _redact(response.text.strip()[:300] or response.reason_phrase, self.secrets)
        if response.status_code >= 500:
            raise ProviderUnavailable(
                f"{where}: login failed with server error {response.status_code} ({excerpt}); "
                "will retry."
            )
        if response.status_code >= 400:
            raise ProviderRejected(
                f"{where}: the PBX refused the API login for user {self.server.username!r} "
                f"({response.status_code}: {excerpt}). Check the server's username and password "
                "in WHMCS and that this administrator may use the REST API."
            )
        token = _session_id(response)
        if not token:
            raise ProviderRejected(
                f"{where}: the login answer carries no session id ({excerpt}). Is this a Vodia PBX?"
            )
        self.token = token
        log.info("vodia.login server=%s", self.server.name)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Return what must be masked beside the server's own secrets."""
        extra = tuple(value for value in (self.digest, self.token) if value)
        return (*self.server.secrets, *extra)


class VodiaAdapter(PbxAdapter):
    """The bridge's view of one Vodia PBX, one tenant per service."""

    def __init__(
        self, server: PbxServer, *, http: PbxHttp | None = None, page_size: int = PAGE_SIZE
    ) -> None:
        self.server = server
        self.http = http or PbxHttp(server)
        self.page_size = page_size
        self._session = _VodiaSession(server)

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self.http.close()

    def collection_plan(self) -> CollectionPlan:
        """Fetch tenant by tenant, by start time: Vodia lists calls by the day they started."""
        return CollectionPlan(per_service=True, recorded=False, lookback=START_LOOKBACK)

    def test_connection(self) -> ConnectionCheck:
        """Log in and list the tenants; report the outcome, never raise for a PBX failure."""
        try:
            tenants = self._tenants()
        except ProviderError as exc:
            return ConnectionCheck(ok=False, message=exc.message)
        return ConnectionCheck(
            ok=True, message=f"Connection successful. The PBX has {len(tenants)} tenant(s)."
        )

    def health(self) -> Health:
        """Report whether the PBX logs the bridge in and lists its tenants, and how fast."""
        started = time.perf_counter()
        try:
            self._tenants()
        except ProviderError as exc:
            return Health(ok=False, latency_ms=_ms_since(started), message=exc.message)
        return Health(ok=True, latency_ms=_ms_since(started))

    def fetch_cdrs(self, assignment: Assignment | None, window: TimeWindow) -> Iterator[Intake]:
        """Yield each call of the service's tenant (or every tenant) started in ``window`` once.

        A record that cannot be read comes as a :class:`~bridge.calls.RejectedCdr`, to be
        quarantined with the reason.
        """
        tenants = [_tenant_of(assignment)] if assignment is not None else sorted(self._tenants())
        for tenant in tenants:
            yield from self._fetch_tenant(tenant, window)

    def create(self, assignment: Assignment) -> ActionResult:
        """Check the tenant exists and enable its extensions (the bridge never creates tenants)."""
        tenant = self._existing_tenant(assignment)
        changed = self._set_disabled(tenant, disabled=False)
        return ActionResult(_summary(tenant, "ready", "enabled", changed), changed)

    def suspend(self, assignment: Assignment) -> ActionResult:
        """Disable every extension of the tenant; already disabled ones are left as they are."""
        tenant = self._existing_tenant(assignment)
        changed = self._set_disabled(tenant, disabled=True)
        return ActionResult(_summary(tenant, "suspended", "disabled", changed), changed)

    def unsuspend(self, assignment: Assignment) -> ActionResult:
        """Enable every extension of the tenant again."""
        tenant = self._existing_tenant(assignment)
        changed = self._set_disabled(tenant, disabled=False)
        return ActionResult(_summary(tenant, "unsuspended", "enabled", changed), changed)

    def terminate(self, assignment: Assignment) -> ActionResult:
        """Disable the tenant's extensions; the tenant and its data stay for the admin to delete."""
        tenant = _tenant_of(assignment)
        if tenant not in self._tenants():
            return ActionResult(f"Tenant {tenant} is not on the PBX; nothing to terminate.")
        changed = self._set_disabled(tenant, disabled=True)
        return ActionResult(
            _summary(tenant, "terminated", "disabled", changed)
            + " The tenant itself was kept; delete it in Vodia when its data is no longer needed.",
            changed,
        )

    def _fetch_tenant(self, tenant: str, window: TimeWindow) -> Iterator[Intake]:
        zone = self.server.timezone
        first_day = window.start.astimezone(zone).strftime("%Y%m%d")
        last_day = (window.end - timedelta(microseconds=1)).astimezone(zone).strftime("%Y%m%d")
        seen: set[str] = set()
        for page in range(1, MAX_PAGES + 1):
            params = {"start": first_day, "end": last_day, "page": page, "size": self.page_size}
            records = self._get_list(f"/rest/domain/{_path(tenant)}/cdrs", params=params)
            new = 0
            for record in records:
                try:
                    cdr = parse_vodia_cdr(record, domain=tenant)
                except InvalidRequest as exc:
                    new += 1
                    log.warning("vodia.cdr_rejected server=%s tenant=%s", self.server.name, tenant)
                    # Handed on, not dropped: the CDR store quarantines it with the reason.
                    yield _rejected(record, tenant, exc.message)
                    continue
                if cdr.uuid in seen:
                    # New calls push older ones onto the next page, so pages can overlap.
                    continue
                seen.add(cdr.uuid)
                new += 1
                if window.contains(cdr.start):
                    yield cdr
            if len(records) < self.page_size:
                log.info(
                    "vodia.fetched server=%s tenant=%s pages=%d", self.server.name, tenant, page
                )
                return
            if not new:
                raise ProviderRejected(
                    f"{self.server.name}: page {page} of tenant {tenant}'s calls only repeats "
                    "earlier pages; the PBX does not seem to honour paging. Please report this "
                    "Vodia version."
                )
        raise ProviderRejected(
            f"{self.server.name}: tenant {tenant} lists more than {MAX_PAGES} pages of calls for "
            f"{first_day}-{last_day}; collect a shorter window."
        )

    def _set_disabled(self, tenant: str, *, disabled: bool) -> tuple[str, ...]:
        changed = []
        for extension, is_disabled in sorted(self._extensions(tenant).items()):
            if is_disabled == disabled:
                continue
            path = f"/rest/domain/{_path(tenant)}/user_settings/{_path(extension)}"
            with self._guard():
                self.http.request(
                    "PUT",
                    path,
                    json={"disabled": "true" if disabled else "false"},
                    auth=self._session,
                )
            changed.append(extension)
        log.info(
            "vodia.extensions server=%s tenant=%s disabled=%s changed=%d",
            self.server.name,
            tenant,
            disabled,
            len(changed),
        )
        return tuple(changed)

    def _extensions(self, tenant: str) -> dict[str, bool]:
        accounts = self._get_list(f"/rest/domain/{_path(tenant)}/users")
        return {
            str(account.get("name", "")): account.get("disabled") in (True, "true", "1", 1)
            for account in accounts
            if isinstance(account, Mapping) and account.get("usertype") == "extensions"
        }

    def _tenants(self) -> set[str]:
        names: set[str] = set()
        for entry in self._get_list("/rest/system/domaininfo"):
            if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
                raise ProviderRejected(
                    f"{self.server.name}: the tenant list has an entry without a name; is this a "
                    "Vodia PBX?"
                )
            names.add(entry["name"].lower())
        return names

    def _existing_tenant(self, assignment: Assignment) -> str:
        tenant = _tenant_of(assignment)
        if tenant not in self._tenants():
            raise ProviderRejected(
                f"Tenant {tenant} does not exist on {self.server.name}. Create it in Vodia (or fix "
                "the service's Domain field) and retry; the bridge does not create tenants."
            )
        return tenant

    def _get_list(self, path: str, params: Mapping[str, Any] | None = None) -> list[Any]:
        with self._guard():
            response = self.http.request("GET", path, params=params, auth=self._session)
        try:
            answer = response.json()
        except ValueError:
            excerpt = _redact(self.http.excerpt(response), self._session.secrets)
            raise ProviderRejected(
                f"{self.server.name}: GET {path} did not answer JSON ({excerpt}). Does the "
                "server's hostname and port lead to the Vodia PBX's web interface?"
            ) from None
        if not isinstance(answer, list):
            raise ProviderRejected(
                f"{self.server.name}: GET {path} answered a JSON {type(answer).__name__}, not the "
                "list Vodia sends. Is this a Vodia PBX?"
            )
        return answer

    @contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except ProviderError as exc:
            masked = _redact(exc.message, self._session.secrets)
            if masked == exc.message:
                raise
            raise type(exc)(masked) from None


def make_vodia_adapter(server: PbxServer) -> VodiaAdapter:
    """Return the adapter for a Vodia server."""
    return VodiaAdapter(server)


def _session_id(response: Response) -> str:
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if isinstance(answer, str) and answer.strip():
        return answer.strip()
    return response.cookies.get("session") or ""


def _tenant_of(assignment: Assignment | None) -> str:
    if not isinstance(assignment, VodiaAssignment):
        raise InvalidAssignment(
            f"A Vodia server needs a Vodia assignment ('tenant.domain | DID ...'), not "
            f"{type(assignment).__name__}; is the product on the right module?"
        )
    return assignment.tenant


def _summary(tenant: str, state: str, verb: str, changed: tuple[str, ...]) -> str:
    if not changed:
        return f"Tenant {tenant} is {state}; no extension needed to be {verb}."
    return f"Tenant {tenant} is {state}: {verb} extension(s) {', '.join(changed)}."


def _path(segment: str) -> str:
    return quote(segment, safe="")


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _redact(text: str, secrets: Iterable[str]) -> str:
    # 4+ characters, as PbxServer.secrets: shorter values would garble messages by chance.
    return redact(text, secrets, min_length=4)


def _rejected(record: object, tenant: str, reason: str) -> RejectedCdr:
    call_id = ""
    if isinstance(record, dict):
        found = record.get("callid") or record.get("call_id") or record.get("CallID") or ""
        call_id = str(found) if isinstance(found, str | int) else ""
    return RejectedCdr(call_id, reason, json.dumps(record, default=str)[:2000], tenant)
