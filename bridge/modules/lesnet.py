"""LesNet: a SIP trunk provider whose only interface to the bridge is a daily CDR text file.

Each LesNet service names its peer, the DIDs attached to it and the URL of its CDR file (the
product custom field "CDR Link", e.g. ``https://portal.les.net/cdr/11330_0000.txt``; see
:mod:`bridge.modules.assignment`). The file refreshes every 24 hours (ictVoIP admin guide,
``ictvoip/ictvoip-docs`` ``docs/source/clientadmin/clientadmin.rst``); its layout is read by
:mod:`bridge.modules.lesnet_cdr`. What this adapter decides:

* **Fetching.** ``fetch_cdrs`` GETs the service's CDR Link through :class:`PbxHttp` (the link is
  absolute and may be on another host than the server's; httpx sends an absolute URL as is, and
  ``base_url`` only completes relative paths). The server's username and password go along as HTTP
  Basic credentials only when the link is on the server's own origin (scheme, host and port), so a
  link elsewhere never receives them. A link carrying a user name or password itself is refused.
* **All or nothing per fetch.** The whole file is read before any call is returned. A transfer that
  breaks off (connection dropped, body shorter than its Content-Length, timeout, 5xx) is
  :class:`ProviderUnavailable` and returns nothing: the collector keeps its watermark and the next
  run reads the file again, so no good line is lost, and the stable call ids mean nothing is stored
  twice. A file that arrives whole but whose last line stops half way is read, and that line is
  reported as bad.
* **What the file holds.** The calls of the peer that started in the window are returned, with each
  unreadable line as a :class:`~bridge.calls.RejectedCdr` for the quarantine (except a line the
  file was cut inside, read whole next time); bad lines, other peers' calls, repeated rows and
  warnings are in :attr:`LesNetAdapter.last_fetch` (a
  :class:`LesNetFetch`, replaced on every call) and logged (``lesnet.fetched``,
  ``lesnet.bad_lines``, ``lesnet.file_warning``). An HTML page (a login or error page answered
  with 200) or a text without a CDR header is :class:`ProviderRejected`: the admin must fix the
  link. An empty file is no calls, with a warning.
* **One service at a time.** LesNet has no server-wide CDR feed, so ``fetch_cdrs(None, ...)`` is
  :class:`ProviderUnsupported`: the collector must go service by service.
* **No provisioning API.** create, suspend, unsuspend and terminate raise
  :class:`ProviderUnsupported` whose message tells the admin what to do in the LesNet portal;
  WHMCS shows it on the button, so nothing is ever reported done that was not done.
* **Test Connection and health.** With the server option ``test_url`` (a CDR Link, absolute or a
  path on the server) the file is fetched and its header checked. Without it, the server's host
  is asked for ``/``: any HTTP answer, even a refusal, shows it resolves and answers; credentials
  cannot be checked because LesNet offers no login API. Provider failures become ``ok=False`` with
  the reason, never an exception.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from bridge.calls import CollectedCdr, Intake
from bridge.errors import (
    BadLine,
    InvalidAssignment,
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
    ProviderUnsupported,
)
from bridge.modules.assignment import Assignment, LesNetAssignment
from bridge.modules.base import (
    ActionResult,
    CollectionPlan,
    ConnectionCheck,
    Health,
    PbxAdapter,
    PbxServer,
    TimeWindow,
)
from bridge.modules.http import Auth, PbxHttp, basic_auth, same_origin
from bridge.modules.lesnet_cdr import CdrFile, CdrFileError, find_layout, read_cdr_file

log = logging.getLogger("bridge.modules.lesnet")

TEST_URL_OPTION = "test_url"
LOGGED_BAD_LINES = 10
# The file holds the last 24 hours and a call is written when it ends: re-read 6 hours.
START_LOOKBACK = timedelta(hours=6)
_ACCEPT = {"Accept": "text/plain, text/csv;q=0.9, */*;q=0.5"}


@dataclass(frozen=True, slots=True)
class LesNetFetch:
    """One fetch of a peer's CDR file: the calls in the window and what else the file held."""

    peer_id: str
    link: str
    window: TimeWindow
    file: CdrFile
    cdrs: tuple[CollectedCdr, ...]

    @property
    def bad_lines(self) -> tuple[BadLine, ...]:
        """Return the lines of the file that could not be read, by line number."""
        return self.file.bad_lines

    @property
    def outside_window(self) -> int:
        """Return how many of the peer's calls in the file started outside the window."""
        return len(self.file.cdrs) - len(self.cdrs)


class LesNetAdapter(PbxAdapter):
    """The bridge's view of one LesNet server entry."""

    def __init__(self, server: PbxServer, *, http: PbxHttp | None = None) -> None:
        self.server = server
        self._http = http or PbxHttp(server)
        self.last_fetch: LesNetFetch | None = None

    def collection_plan(self) -> CollectionPlan:
        """Fetch service by service (each has its own CDR file), by start time."""
        return CollectionPlan(per_service=True, recorded=False, lookback=START_LOOKBACK)

    def test_connection(self) -> ConnectionCheck:
        """Check the configured test file, or else that the server's host answers HTTP."""
        try:
            return ConnectionCheck(True, self._probe())
        except ProviderError as exc:
            return ConnectionCheck(False, exc.message)

    def health(self) -> Health:
        """Report whether the test file (or the host) answers, and how fast."""
        started = time.perf_counter()
        try:
            message, ok = self._probe(), True
        except ProviderError as exc:
            message, ok = exc.message, False
        return Health(ok, round((time.perf_counter() - started) * 1000, 1), message)

    def fetch_cdrs(self, assignment: Assignment | None, window: TimeWindow) -> Iterator[Intake]:
        """Return the peer's calls that started in ``window`` and its file's unreadable lines.

        A bad line has no start time to place it in a window, so each download sets it aside
        again; the quarantine keeps one entry per line's content.
        """
        if assignment is None:
            raise ProviderUnsupported(
                f"LesNet server {self.server.name} has no server-wide CDR feed: each service's "
                "calls come from its own 'CDR Link'; collect the LesNet services one by one."
            )
        self.last_fetch = None
        result = self.fetch(_lesnet(assignment), window)
        self.last_fetch = result
        _log_fetch(result)
        return iter((*result.cdrs, *result.file.rejected))

    def fetch(self, assignment: LesNetAssignment, window: TimeWindow) -> LesNetFetch:
        """Download and read the peer's CDR file, keeping the calls that started in ``window``."""
        link = assignment.cdr_link
        if urlsplit(link).username is not None:
            raise InvalidAssignment(
                f"The 'CDR Link' of peer {assignment.peer_id} carries a user name or password; "
                "remove them and set them on the WHMCS server entry instead."
            )
        text = self._download(link, f"peer {assignment.peer_id}")
        try:
            cdr_file = read_cdr_file(
                text, peer_id=assignment.peer_id, dids=assignment.dids, zone=self.server.timezone
            )
        except CdrFileError as exc:
            raise ProviderRejected(
                f"{self.server.name}: the CDR Link of peer {assignment.peer_id} ({_shown(link)}) "
                f"did not answer a CDR file: {exc.message}. Check the service's 'CDR Link' "
                "custom field."
            ) from None
        cdrs = tuple(cdr for cdr in cdr_file.cdrs if window.contains(cdr.start))
        return LesNetFetch(assignment.peer_id, _shown(link), window, cdr_file, cdrs)

    def create(self, assignment: Assignment) -> ActionResult:
        """Refuse: LesNet has no API to create a peer; say what to do in the portal."""
        raise ProviderUnsupported(
            self._by_hand(
                assignment,
                "create",
                "create it in the LesNet portal and attach its DIDs ({dids}); calls are "
                "collected from the service's 'CDR Link' once it is set",
            )
        )

    def suspend(self, assignment: Assignment) -> ActionResult:
        """Refuse: LesNet has no API to suspend a peer; say what to do in the portal."""
        raise ProviderUnsupported(
            self._by_hand(
                assignment,
                "suspend",
                "disable it in the LesNet portal so it can no longer place calls "
                "(DIDs {dids}), then mark the service suspended in WHMCS",
            )
        )

    def unsuspend(self, assignment: Assignment) -> ActionResult:
        """Refuse: LesNet has no API to unsuspend a peer; say what to do in the portal."""
        raise ProviderUnsupported(
            self._by_hand(
                assignment,
                "unsuspend",
                "enable it again in the LesNet portal (DIDs {dids}), then mark the service "
                "active in WHMCS",
            )
        )

    def terminate(self, assignment: Assignment) -> ActionResult:
        """Refuse: LesNet has no API to remove a peer; say what to do in the portal."""
        raise ProviderUnsupported(
            self._by_hand(
                assignment,
                "terminate",
                "delete it in the LesNet portal and release or move its DIDs ({dids}), then "
                "mark the service terminated in WHMCS",
            )
        )

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def _by_hand(self, assignment: Assignment, action: str, todo: str) -> str:
        lesnet = _lesnet(assignment)
        portal = self.server.hostname or "portal.les.net"
        steps = todo.format(dids=", ".join(lesnet.dids))
        return (
            f"LesNet has no API to {action} peer {lesnet.peer_id}: log in at {portal} and "
            f"{steps}. Nothing was changed by the bridge."
        )

    def _probe(self) -> str:
        test_url = self.server.options.get(TEST_URL_OPTION, "").strip()
        if test_url:
            text = self._download(test_url, "the test file")
            try:
                layout = find_layout(text.lstrip("\ufeff").split("\n"))
            except CdrFileError as exc:
                raise ProviderRejected(
                    f"{self.server.name}: the test file {_shown(test_url)} is not a CDR file: "
                    f"{exc.message}. Check the server option '{TEST_URL_OPTION}'."
                ) from None
            return (
                f"{self.server.name}: the test file {_shown(test_url)} is readable, "
                f"{layout.describe()}."
            )
        if not self.server.hostname:
            raise ProviderRejected(
                f"{self.server.name}: no hostname to check; set it to the LesNet portal's host "
                f"(portal.les.net) or set the server option '{TEST_URL_OPTION}' to a CDR Link."
            )
        try:
            response = self._http.request("GET", "/")
            answer = f"HTTP {response.status_code}"
        except ProviderRejected as exc:
            # A refusal is still an answer: the host resolves and speaks HTTP.
            answer = f"a refusal ({exc.message})"
        return (
            f"{self.server.name}: {self.server.hostname} answers with {answer}. LesNet offers no "
            "login API, so only reachability is checked; each service's CDR Link is checked "
            f"when its calls are collected (set the server option '{TEST_URL_OPTION}' to a CDR "
            "Link to check a file here)."
        )

    def _download(self, url: str, what: str) -> str:
        auth = self._auth_for(url)
        try:
            response = self._http.request("GET", url, headers=_ACCEPT, auth=auth)
        except ProviderUnavailable as exc:
            raise ProviderUnavailable(f"{what}: {_unleak(exc.message, url)}") from None
        except ProviderRejected as exc:
            raise ProviderRejected(
                f"{what}: {_unleak(exc.message, url).rstrip('.')}. Check the link, and the "
                "server's username and password if the portal asks for a login."
            ) from None
        if response.status_code >= 300:
            raise ProviderRejected(
                f"{what}: {_shown(url)} redirects ({response.status_code}) to "
                f"{_shown(response.headers.get('location', '?'))}; put the final address in the "
                "link (a redirect to a login page means the file is not public)."
            )
        text = response.content.decode("utf-8-sig", errors="replace")
        # Judged by the body, not Content-Type: a plain file may well be labelled text/html.
        if text.lstrip().startswith("<"):
            raise ProviderRejected(
                f"{what}: {_shown(url)} answered a web page, not a CDR text file (a login or "
                "error page?); check the link in a browser."
            )
        return text

    def _auth_for(self, url: str) -> Auth | None:
        if not (self.server.username and self.server.password):
            return None
        if same_origin(url, self.server.base_url):
            return basic_auth(self.server.username, self.server.password)
        return None


def make_lesnet_adapter(server: PbxServer) -> LesNetAdapter:
    """Return the adapter for a LesNet server entry."""
    return LesNetAdapter(server)


def _lesnet(assignment: Assignment) -> LesNetAssignment:
    if not isinstance(assignment, LesNetAssignment):
        raise InvalidAssignment(
            f"A LesNet server needs a LesNet assignment ('PEER_ID | DID' with a CDR Link); "
            f"got a {type(assignment).__name__}."
        )
    return assignment


def _shown(url: str) -> str:
    """Return ``url`` without user info or query, which may carry a token."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    query = "?…" if parts.query else ""
    return f"{parts.scheme}://{host}{port}{parts.path}{query}" if parts.scheme else url


def _unleak(message: str, url: str) -> str:
    return message.replace(url, _shown(url))


def _log_fetch(result: LesNetFetch) -> None:
    cdr_file = result.file
    log.info(
        "lesnet.fetched peer=%s link=%s calls=%d outside_window=%d other_peers=%d "
        "duplicates=%d bad_lines=%d",
        result.peer_id,
        result.link,
        len(result.cdrs),
        result.outside_window,
        cdr_file.other_peers,
        cdr_file.duplicates,
        len(cdr_file.bad_lines),
    )
    if cdr_file.bad_lines:
        shown = "; ".join(str(bad) for bad in cdr_file.bad_lines[:LOGGED_BAD_LINES])
        more = len(cdr_file.bad_lines) - LOGGED_BAD_LINES
        log.warning(
            "lesnet.bad_lines peer=%s count=%d %s%s",
            result.peer_id,
            len(cdr_file.bad_lines),
            shown,
            f" (and {more} more)" if more > 0 else "",
        )
    for warning in cdr_file.warnings:
        log.warning("lesnet.file_warning peer=%s %s", result.peer_id, warning)
