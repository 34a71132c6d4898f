"""A fake FusionPBX host: the bridge's FusionPBX-side PHP scripts, as a Starlette app.

It speaks the contract documented in :mod:`bridge.modules.fusionpbx` (form POSTs carrying
``username``/``password``, JSON answers ``{"success": 1|0, "message": ...}``) and keeps its state
in memory: which extensions and gateways exist and are enabled, which extensions are registered,
and the CDR rows ``export_cdr.php`` serves. Tests flip switches between calls: ``whitelisted``,
``auth_style`` (how wrong credentials are refused), ``failure`` (slow, 500, garbage, truncated)
and the export's faults (``ignore_cursor``, ``overlap_pages``, ``sloppy_filters``).
``requests`` records every call (path and form).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Literal
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

Failure = Literal["slow", "error_500", "garbage", "truncated"]
Handler = Callable[[dict[str, str]], Awaitable[Response]]

DENIED = "API Access Denied: Only whitelisted IPs may access this endpoint."
GRANTED = "API Access Granted: Whitelisted IP"


@dataclass(frozen=True, slots=True)
class Received:
    """One request the fake answered."""

    path: str
    form: dict[str, str]


class _TruncatedResponse(Response):
    """Promise a longer body than is sent, then drop the connection."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the headers and half of the body."""
        body = self.body
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        # Returning with the body unfinished makes uvicorn drop the connection mid-body.
        await send(
            {"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True}
        )


@dataclass
class FakeFusionPbx:
    """In-memory FusionPBX state behind the bridge's PHP scripts, with failure switches."""

    username: str = "whmcs-api"
    password: str = "Fusion-Secret-42"
    whitelisted: bool = True
    auth_style: Literal["401", "json", "echo"] = "json"
    failure: Failure | None = None
    delay: float = 2.0
    # (domain, extension) and (domain, gateway name) -> enabled
    extensions: dict[tuple[str, str], bool] = field(default_factory=dict)
    gateways: dict[tuple[str, str], bool] = field(default_factory=dict)
    registered: set[tuple[str, str]] = field(default_factory=set)
    cdrs: list[dict[str, Any]] = field(default_factory=list)
    ignore_cursor: bool = False
    sloppy_filters: bool = False
    # The PBX's zone, for CDR stamps written without an offset.
    timezone: tzinfo = UTC
    overlap_pages: bool = False
    requests: list[Received] = field(default_factory=list)

    def add_tenant(self, domain: str, extensions: tuple[str, ...], *, enabled: bool = True) -> None:
        """Create ``domain`` with ``extensions`` and a gateway named after the domain."""
        for extension in extensions:
            self.extensions[(domain, extension)] = enabled
        self.gateways[(domain, domain)] = enabled

    @property
    def app(self) -> Starlette:
        """The Starlette app serving the scripts over this state."""
        routes = {
            "/app/xml_cdr/chkcon.php": self._chkcon,
            "/app/status/index.php": self._status,
            "/app/registrations/check_registration.php": self._registration,
            "/app/extensions/manage.php": self._manage_extension,
            "/app/gateways/provision.php": self._provision_gateway,
            "/app/xml_cdr/export_cdr.php": self._export,
        }
        return Starlette(
            routes=[
                Route(path, self._endpoint(path, handler), methods=["POST"])
                for path, handler in routes.items()
            ]
        )

    def _endpoint(self, path: str, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            # Parsed by hand: Starlette's form parser needs python-multipart, a dependency the
            # bridge does not otherwise have.
            fields = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
            self.requests.append(Received(path, fields))
            if self.failure == "slow":
                await asyncio.sleep(self.delay)
            elif self.failure == "error_500":
                return PlainTextResponse("PHP Fatal error: Uncaught PDOException", 500)
            elif self.failure == "garbage":
                return PlainTextResponse("<html><body>502 Bad Gateway</body></html>")
            if path == "/app/xml_cdr/chkcon.php":
                response = await handler(fields)
            elif fields.get("username") != self.username or fields.get("password") != self.password:
                response = self._refuse_credentials(fields)
            else:
                response = await handler(fields)
            if self.failure == "truncated":
                return _TruncatedResponse(response.body)
            return response

        return endpoint

    def _refuse_credentials(self, fields: dict[str, str]) -> Response:
        if self.auth_style == "401":
            return JSONResponse({"success": 0, "message": "Unauthorized"}, 401)
        if self.auth_style == "echo":
            # A careless script that repeats what it was sent.
            tried = f"{fields.get('username')}/{fields.get('password')}"
            return _answer(False, f"Authentication failed for {tried}")
        return _answer(False, "Authentication failed")

    async def _chkcon(self, fields: dict[str, str]) -> Response:
        # The seeds: chkcon.php checks the caller's IP only, never the credentials.
        return _answer(True, GRANTED) if self.whitelisted else _answer(False, DENIED)

    async def _status(self, fields: dict[str, str]) -> Response:
        return _answer(True, "FusionPBX 5.3.2 online", version="5.3.2")

    async def _registration(self, fields: dict[str, str]) -> Response:
        key = (fields.get("tenant_domain", ""), fields.get("extension", ""))
        return _answer(True, "", registered=key in self.registered)

    async def _manage_extension(self, fields: dict[str, str]) -> Response:
        key = (fields.get("domain", ""), fields.get("extension", ""))
        return self._toggle(self.extensions, key, fields.get("action", ""), "Extension")

    async def _provision_gateway(self, fields: dict[str, str]) -> Response:
        key = (fields.get("domain", ""), fields.get("gateway_name", ""))
        return self._toggle(self.gateways, key, fields.get("action", ""), "Gateway")

    def _toggle(
        self, table: dict[tuple[str, str], bool], key: tuple[str, str], action: str, kind: str
    ) -> Response:
        domain, name = key
        if action not in ("enable", "disable"):
            return _answer(False, f"Unknown action {action!r}")
        if key not in table:
            return _answer(False, f"{kind} {name} not found in domain {domain}")
        wanted = action == "enable"
        changed = table[key] != wanted
        table[key] = wanted
        return _answer(True, f"{kind} {name}@{domain} {action}d", changed=int(changed))

    async def _export(self, fields: dict[str, str]) -> Response:
        if fields.get("format") != "JSON":
            return _answer(False, "Only format=JSON is supported")
        start = datetime.fromisoformat(fields["date_start"])
        end = datetime.fromisoformat(fields["date_end"])
        domain = fields.get("domain")
        if self.sloppy_filters:
            # Like a script that filters on whole dates and forgets the tenant.
            start = start.replace(hour=0, minute=0, second=0, microsecond=0)
            end = end.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
            domain = None
        if fields.get("window") != "recorded":
            return _answer(False, "This fake serves window=recorded only")
        rows = sorted(
            (
                {**row, "recorded": row.get("insert_date") or row["start_stamp"]}
                for row in self.cdrs
                if start <= self._recorded(row) < end
                and (domain is None or row.get("domain_name") == domain)
            ),
            key=lambda row: (self._recorded(row), row["xml_cdr_uuid"]),
        )
        if "after_uuid" in fields and not self.ignore_cursor:
            cursor = (self._stamp(fields["after_recorded"]), fields["after_uuid"])
            position = next(
                (
                    index
                    for index, row in enumerate(rows)
                    if (self._recorded(row), row["xml_cdr_uuid"]) > cursor
                ),
                len(rows),
            )
            # An offset-paging script whose data moved shows the previous page's last row again.
            rows = rows[max(position - 1, 0) :] if self.overlap_pages else rows[position:]
        return JSONResponse(rows[: int(fields.get("limit", "1000"))])

    def _recorded(self, row: dict[str, Any]) -> datetime:
        return self._stamp(row.get("insert_date") or row["start_stamp"])

    def _stamp(self, text: str) -> datetime:
        stamp = datetime.fromisoformat(text)
        return stamp if stamp.tzinfo else stamp.replace(tzinfo=self.timezone)


def _answer(success: bool, message: str, **extra: Any) -> Response:
    body = {"success": int(success), "message": message, **extra}
    return Response(json.dumps(body), media_type="application/json")
