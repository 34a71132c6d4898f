"""What every PBX/provider adapter offers, and the values that go in and out of one.

An adapter is built for one PBX server (:class:`PbxServer`) and does everything the bridge needs
from it: test the connection, fetch CDRs for a time window (for one service, or the whole server,
as its :class:`CollectionPlan` says), create, suspend, unsuspend and terminate a service, and report
its health. It holds connections (HTTP pools), so callers use it as a context manager.

All outbound HTTP of the bridge happens in ``bridge/modules/``; adapters turn every transport or
protocol failure into :class:`~bridge.errors.ProviderUnavailable` (retry later) or
:class:`~bridge.errors.ProviderRejected` (show the PBX's message to the admin), and an action the
provider has no API for into :class:`~bridge.errors.ProviderUnsupported`. No ``httpx`` (or
``psycopg``) exception leaves this package, and no password appears in an error or a log line.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol, Self
from zoneinfo import ZoneInfo

from bridge.calls import Intake
from bridge.errors import InvalidRequest
from bridge.modules.assignment import Assignment


@dataclass(frozen=True, slots=True)
class PbxServer:
    """A WHMCS server entry with plaintext credentials, as an adapter needs it."""

    id: int
    name: str
    module: str
    hostname: str
    port: int | None = None
    secure: bool = True
    username: str = ""
    password: str = field(default="", repr=False)
    access_hash: str = field(default="", repr=False)
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    # What the bridge keeps for this server beside WHMCS's fields: plain settings (``options``,
    # e.g. FusionPBX's "cdr_source") and decrypted secrets (``credentials``, e.g. "db_dsn").
    options: Mapping[str, str] = field(default_factory=dict)
    credentials: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def base_url(self) -> str:
        """Return ``https://host[:port]`` (``http`` when the server is not marked secure)."""
        scheme = "https" if self.secure else "http"
        default = 443 if self.secure else 80
        port = f":{self.port}" if self.port and self.port != default else ""
        return f"{scheme}://{self.hostname}{port}"

    @property
    def secrets(self) -> tuple[str, ...]:
        """Return the values that must never appear in a log line or an error message."""
        candidates = (self.password, self.access_hash, *self.credentials.values())
        # Masking a 1-3 character value would garble every message it appears in by chance.
        return tuple(value for value in candidates if len(value) >= 4)


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """A half-open window of instants, ``[start, end)``, in UTC.

    What the instants are depends on the adapter (:attr:`CollectionPlan.recorded`): when the PBX
    recorded each call, or when each call started.
    """

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise InvalidRequest("A time window needs times with a time zone.")
        if self.end <= self.start:
            raise InvalidRequest(
                f"The time window {self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M} UTC "
                "is empty; its start must come before its end."
            )

    def contains(self, instant: datetime) -> bool:
        """Tell whether ``instant`` falls in the window."""
        return self.start <= instant < self.end


@dataclass(frozen=True, slots=True)
class CollectionPlan:
    """How the collector reads an adapter's calls.

    ``per_service``: fetch each service's calls (``True``), or the whole server's at once and
    file each call under its tenant's service (``False``). ``recorded``: the fetch window is on
    when the PBX recorded each call (so a long call or a late import is never missed) rather than
    on when it started. ``lookback``: how far before the last collected instant the next window
    starts, for calls recorded late or out of order.
    """

    per_service: bool
    recorded: bool
    lookback: timedelta


@dataclass(frozen=True, slots=True)
class ConnectionCheck:
    """The outcome of Test Connection: the text WHMCS shows the admin either way."""

    ok: bool
    message: str


@dataclass(frozen=True, slots=True)
class ActionResult:
    """The outcome of create/suspend/unsuspend/terminate on the PBX."""

    message: str
    changed: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Health:
    """A PBX's health as ``/healthz`` reports it."""

    ok: bool
    latency_ms: float
    message: str = ""


class PbxAdapter(Protocol):
    """The operations the bridge needs from one PBX or provider server.

    Adapters subclass this protocol to inherit its context-manager methods: ``with
    make_adapter(server) as adapter:`` closes the adapter's connections whatever happens.
    """

    server: PbxServer

    def collection_plan(self) -> CollectionPlan:
        """Say whether calls are fetched per service or per server, and on which clock."""
        ...

    def test_connection(self) -> ConnectionCheck:
        """Check that the bridge can reach and authenticate to the server."""
        ...

    def fetch_cdrs(self, assignment: Assignment | None, window: TimeWindow) -> Iterator[Intake]:
        """Yield the calls in ``window`` (see :class:`CollectionPlan`), of one service or all.

        A record that cannot be read is yielded as a :class:`~bridge.calls.RejectedCdr`, never
        raised, so the CDR store sets it aside and the rest of the window is stored.
        """
        ...

    def create(self, assignment: Assignment) -> ActionResult:
        """Provision the service on the PBX (idempotent: WHMCS may retry)."""
        ...

    def suspend(self, assignment: Assignment) -> ActionResult:
        """Stop the service from placing calls (idempotent)."""
        ...

    def unsuspend(self, assignment: Assignment) -> ActionResult:
        """Let the service place calls again (idempotent)."""
        ...

    def terminate(self, assignment: Assignment) -> ActionResult:
        """Remove the service from the PBX (idempotent)."""
        ...

    def health(self) -> Health:
        """Report whether the server answers, and how fast."""
        ...

    def close(self) -> None:
        """Release connections (HTTP pools); the adapter is not used afterwards."""
        ...

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
