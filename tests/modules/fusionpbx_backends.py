"""The two FusionPBX hosts the adapter tests run against: the in-memory fake and the real scripts.

:class:`FakeBackend` wraps :class:`~tests.fakes.fusionpbx.FakeFusionPbx`; :class:`PhpBackend`
wraps the bridge's PHP scripts under PHP's built-in server with FusionPBX's tables in PostgreSQL
and a fake event socket (:mod:`tests.fusionpbx_api.harness`). Both offer the same handles
(tenants, whitelist, registrations, CDR rows, what is enabled), so one adapter test proves the
contract on both. Requests are recorded on the client side by :class:`RecordingTransport`.
CDR uuids: the scripts' table holds real UUIDs, so test labels ("u01") are written as UUIDs
whose bytes spell the label (same sort order) and read back with :meth:`label`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qsl

import httpx

from tests.fakes import Served
from tests.fakes.fusionpbx import FakeFusionPbx, Received
from tests.fusionpbx_api.harness import API_PASSWORD, API_USERNAME, PhpFusionPbx


class RecordingTransport(httpx.BaseTransport):
    """An HTTP transport that records each request's path and form before sending it."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self._inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Record the request, then send it."""
        form = dict(parse_qsl(request.read().decode(), keep_blank_values=True))
        self.requests.append(Received(request.url.path, form))
        return self._inner.handle_request(request)

    def close(self) -> None:
        """Close the wrapped transport."""
        self._inner.close()


class FusionPbxBackend(Protocol):
    """A FusionPBX host the adapter can be pointed at, with handles for the tests."""

    @property
    def name(self) -> str:
        """Return "fake" or "php"."""

    @property
    def username(self) -> str:
        """Return the API user's name."""

    @property
    def password(self) -> str:
        """Return the API user's password."""

    @property
    def port(self) -> int:
        """Return the port the host listens on."""

    @property
    def read_timeout(self) -> float:
        """Return how long the adapter may wait for an answer."""

    @property
    def status_message(self) -> str:
        """Return the message status/index.php answers with this setup."""

    @property
    def transport(self) -> RecordingTransport:
        """Return the transport that records the adapter's requests."""

    @property
    def requests(self) -> list[Received]:
        """Return the requests the adapter sent."""

    def add_tenant(self, domain: str, extensions: tuple[str, ...], *, enabled: bool = True) -> None:
        """Create (or replace) ``domain`` with ``extensions`` and a gateway named after it."""

    def deny_this_host(self) -> None:
        """Take the test's address off the whitelist."""

    def register(self, domain: str, extension: str) -> None:
        """Have a SIP device registered for the extension."""

    def set_cdrs(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Replace the CDR rows the export serves."""

    def states(self, domain: str) -> dict[str, bool]:
        """Return 'extension N' and 'gateway DOMAIN' → enabled for the tenant."""

    def extension_exists(self, domain: str, extension: str) -> bool:
        """Tell whether the extension is still on the PBX."""

    def uuid(self, label: str) -> str:
        """Return the xml_cdr_uuid the PBX stores for a test label."""

    def label(self, stored: str) -> str:
        """Return the test label of a stored xml_cdr_uuid."""


@dataclass
class FakeBackend:
    """The in-memory fake of the scripts."""

    fake: FakeFusionPbx
    served: Served
    name: str = "fake"
    read_timeout: float = 0.5
    status_message: str = "FusionPBX 5.3.2 online"
    transport: RecordingTransport = field(default_factory=RecordingTransport)

    @property
    def username(self) -> str:
        """Return the API user's name."""
        return self.fake.username

    @property
    def password(self) -> str:
        """Return the API user's password."""
        return self.fake.password

    @property
    def port(self) -> int:
        """Return the port the fake listens on."""
        return self.served.port

    @property
    def requests(self) -> list[Received]:
        """Return the requests the adapter sent."""
        return self.transport.requests

    def add_tenant(self, domain: str, extensions: tuple[str, ...], *, enabled: bool = True) -> None:
        """Create (or replace) ``domain`` with ``extensions`` and a gateway named after it."""
        self.fake.add_tenant(domain, extensions, enabled=enabled)

    def deny_this_host(self) -> None:
        """Take the test's address off the whitelist."""
        self.fake.whitelisted = False

    def register(self, domain: str, extension: str) -> None:
        """Have a SIP device registered for the extension."""
        self.fake.registered.add((domain, extension))

    def set_cdrs(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Replace the CDR rows the export serves."""
        self.fake.cdrs = [dict(row) for row in rows]

    def states(self, domain: str) -> dict[str, bool]:
        """Return 'extension N' and 'gateway DOMAIN' → enabled for the tenant."""
        found = {f"extension {e}": on for (d, e), on in self.fake.extensions.items() if d == domain}
        found[f"gateway {domain}"] = self.fake.gateways[(domain, domain)]
        return found

    def extension_exists(self, domain: str, extension: str) -> bool:
        """Tell whether the extension is still on the PBX."""
        return (domain, extension) in self.fake.extensions

    def uuid(self, label: str) -> str:
        """Return the xml_cdr_uuid the PBX stores for a test label (the label itself)."""
        return label

    def label(self, stored: str) -> str:
        """Return the test label of a stored xml_cdr_uuid (itself)."""
        return stored


@dataclass
class PhpBackend:
    """The bridge's PHP scripts on PHP's built-in server, PostgreSQL and a fake event socket."""

    pbx: PhpFusionPbx
    name: str = "php"
    username: str = API_USERNAME
    password: str = API_PASSWORD
    # PHP connects to PostgreSQL and checks a bcrypt hash per request: allow a loaded machine.
    read_timeout: float = 20.0
    status_message: str = (
        "FusionPBX online: database ok (3 domains), FreeSWITCH UP 0 years, 0 days, 3 hours, "
        "12 minutes, 5 seconds, 120 milliseconds, 7 microseconds"
    )
    transport: RecordingTransport = field(default_factory=RecordingTransport)

    @property
    def port(self) -> int:
        """Return the port PHP's built-in server listens on."""
        return self.pbx.port

    @property
    def requests(self) -> list[Received]:
        """Return the requests the adapter sent."""
        return self.transport.requests

    def add_tenant(self, domain: str, extensions: tuple[str, ...], *, enabled: bool = True) -> None:
        """Create (or replace) ``domain`` with ``extensions`` and a gateway named after it."""
        domain_uuid = self.pbx.add_domain(domain)
        for table in ("v_extensions", "v_gateways"):
            self.pbx.execute(f"DELETE FROM {table} WHERE domain_uuid = %s", domain_uuid)
        for extension in extensions:
            self.pbx.add_extension(domain, extension, enabled=enabled)
        self.pbx.add_gateway(domain, domain, enabled=enabled)

    def deny_this_host(self) -> None:
        """Take the test's address off the whitelist."""
        self.pbx.write_whitelist("# only the billing server\n192.0.2.10\n")

    def register(self, domain: str, extension: str) -> None:
        """Have a SIP device registered for the extension."""
        self.pbx.esl.registered.add((domain, extension))

    def set_cdrs(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Replace the CDR rows the export serves."""
        self.pbx.execute("DELETE FROM v_xml_cdr")
        for row in rows:
            self.pbx.insert("v_xml_cdr", {**row, "xml_cdr_uuid": self.uuid(row["xml_cdr_uuid"])})

    def states(self, domain: str) -> dict[str, bool]:
        """Return 'extension N' and 'gateway DOMAIN' → enabled for the tenant."""
        rows = self.pbx.select(
            "SELECT 'extension ' || e.extension AS name, e.enabled FROM v_extensions e "
            "JOIN v_domains d USING (domain_uuid) WHERE d.domain_name = %s "
            "UNION ALL SELECT 'gateway ' || g.gateway, g.enabled FROM v_gateways g "
            "JOIN v_domains d USING (domain_uuid) WHERE d.domain_name = %s",
            domain,
            domain,
        )
        return {row["name"]: row["enabled"] for row in rows}

    def extension_exists(self, domain: str, extension: str) -> bool:
        """Tell whether the extension is still on the PBX."""
        return self.pbx.extension(domain, extension) is not None

    def uuid(self, label: str) -> str:
        """Return a UUID whose bytes spell ``label`` (so UUIDs sort as their labels do)."""
        return str(uuid.UUID(bytes=label.encode().ljust(16, b"\0")))

    def label(self, stored: str) -> str:
        """Return the label spelt by a UUID from :meth:`uuid`."""
        return uuid.UUID(stored).bytes.rstrip(b"\0").decode()
