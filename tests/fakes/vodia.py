"""A fake Vodia PBX: the REST endpoints the bridge's adapter uses, and ways to make them fail.

It keeps tenants with their extensions and calls, logs in with ``PUT /rest/system/session``
(``"<user> <md5(password)>"``) and answers the session id as a JSON string, requires the
``session`` cookie everywhere else, lists calls by day in its own timezone and pages them newest
first, and enables and disables extensions. Setting :attr:`FakeVodia.failure` makes the paths that
contain :attr:`FakeVodia.fail_path` misbehave: ``"timeout"`` (answers after
:attr:`FakeVodia.delay` seconds), ``"500"``, ``"garbage"`` (an HTML page instead of JSON),
``"truncated"`` (a body shorter than its Content-Length), ``"echo"`` (a 403 quoting the request's
body and cookie back, as careless servers do) or ``"401"`` (every session refused).
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send


class FakeVodia:
    """A Vodia PBX's REST API over tenants, extensions and calls held in memory."""

    def __init__(self, *, username: str = "admin", password: str = "", zone: str = "UTC") -> None:
        self.username = username
        self.password = password
        self.zone = ZoneInfo(zone)
        self.extensions: dict[str, dict[str, bool]] = {}
        self.calls: dict[str, list[dict[str, Any]]] = {}
        self.sessions: set[str] = set()
        self.issued: list[str] = []
        self.logins = 0
        self.requests: list[str] = []
        self.failure = ""
        self.fail_path = ""
        self.delay = 2.0
        self.overlap_pages = False
        self.app = Starlette(
            routes=[
                Route("/rest/system/session", self._login, methods=["PUT"]),
                Route("/rest/system/domaininfo", self._domains, methods=["GET"]),
                Route("/rest/domain/{tenant}/cdrs", self._cdrs, methods=["GET"]),
                Route("/rest/domain/{tenant}/users", self._users, methods=["GET"]),
                Route(
                    "/rest/domain/{tenant}/user_settings/{account}", self._settings, methods=["PUT"]
                ),
            ]
        )

    def add_tenant(self, tenant: str, extensions: dict[str, bool]) -> None:
        """Create ``tenant`` with its extensions (number -> disabled)."""
        self.extensions[tenant] = dict(extensions)
        self.calls.setdefault(tenant, [])

    def add_call(
        self,
        tenant: str,
        call_id: str,
        *,
        caller: str,
        callee: str,
        start: datetime,
        ring: float = 3.0,
        talk: float | None = 60.0,
        trunks: list[int] | None = None,
        extensions: list[int] | None = None,
    ) -> None:
        """Record a call as Vodia lists it: epoch strings, ``from``/``to`` in SIP header form."""
        begin = start.timestamp()
        connect = "" if talk is None else f"{begin + ring:.3f}"
        end = begin + ring + (talk or 0.0)
        self.calls[tenant].append(
            {
                "id": len(self.calls[tenant]) + 1,
                "call_id": call_id,
                "from": f'"{caller}" <sip:{caller}@{tenant}>',
                "to": f'"{callee}" <sip:{callee}@{tenant}>',
                "start": f"{begin:.3f}",
                "connect": connect,
                "end": f"{end:.3f}",
                "rating": "",
                "pcap": False,
                "extensions": extensions or [],
                "trunks": [106] if trunks is None else trunks,
            }
        )

    def expire_sessions(self) -> None:
        """Forget every session, as a PBX restart does."""
        self.sessions.clear()

    async def _login(self, request: Request) -> Response:
        if (failed := await self._misbehave(request)) is not None:
            return failed
        body = await request.json()
        digest = hashlib.md5(self.password.encode()).hexdigest()  # noqa: S324
        if body != {"name": "auth", "value": f"{self.username} {digest}"}:
            return PlainTextResponse("Login failed: wrong user name or password", status_code=403)
        token = secrets.token_hex(16)
        self.sessions.add(token)
        self.issued.append(token)
        self.logins += 1
        return JSONResponse(token)

    async def _domains(self, request: Request) -> Response:
        if (refused := await self._gate(request)) is not None:
            return refused
        return JSONResponse(
            [
                {"id": n, "name": name, "alias": [name], "extensions": len(extensions)}
                for n, (name, extensions) in enumerate(sorted(self.extensions.items()), start=1)
            ]
        )

    async def _cdrs(self, request: Request) -> Response:
        if (refused := await self._gate(request)) is not None:
            return refused
        tenant = request.path_params["tenant"]
        if tenant not in self.calls:
            return PlainTextResponse(f"Domain {tenant} not found", status_code=404)
        first = _day(request.query_params["start"])
        last = _day(request.query_params.get("end", request.query_params["start"]))
        page = int(request.query_params.get("page", "1"))
        size = int(request.query_params.get("size", "30"))
        listed = sorted(
            (call for call in self.calls[tenant] if first <= self._local_day(call) <= last),
            key=lambda call: float(call["start"]),
            reverse=True,
        )
        offset = (page - 1) * size
        if self.overlap_pages and page > 1:
            offset -= 1
        return JSONResponse(listed[offset : offset + size])

    async def _users(self, request: Request) -> Response:
        if (refused := await self._gate(request)) is not None:
            return refused
        tenant = request.path_params["tenant"]
        if tenant not in self.extensions:
            return PlainTextResponse(f"Domain {tenant} not found", status_code=404)
        accounts: list[dict[str, Any]] = [
            {"id": str(n), "name": name, "disabled": disabled, "usertype": "extensions"}
            for n, (name, disabled) in enumerate(sorted(self.extensions[tenant].items()))
        ]
        accounts.append({"id": "99", "name": "700", "disabled": False, "usertype": "hunts"})
        return JSONResponse(accounts)

    async def _settings(self, request: Request) -> Response:
        if (refused := await self._gate(request)) is not None:
            return refused
        tenant, account = request.path_params["tenant"], request.path_params["account"]
        if account not in self.extensions.get(tenant, {}):
            return PlainTextResponse(f"Account {account} not found", status_code=404)
        body = await request.json()
        self.extensions[tenant][account] = body["disabled"] == "true"
        return JSONResponse({})

    async def _gate(self, request: Request) -> Response | None:
        if (failed := await self._misbehave(request)) is not None:
            return failed
        if self.failure == "401" or request.cookies.get("session") not in self.sessions:
            return PlainTextResponse("Unauthorized: session expired", status_code=401)
        return None

    async def _misbehave(self, request: Request) -> Response | None:
        self.requests.append(f"{request.method} {request.url.path}?{request.url.query}")
        if not self.failure or self.fail_path not in request.url.path:
            return None
        if self.failure == "timeout":
            await asyncio.sleep(self.delay)
        elif self.failure == "500":
            return PlainTextResponse("Internal error: database is locked", status_code=500)
        elif self.failure == "garbage":
            return Response("<html><body>Vodia is updating</body></html>", media_type="text/html")
        elif self.failure == "echo":
            echoed = f"{(await request.body()).decode()} {request.headers.get('cookie', '')}"
            return PlainTextResponse(f"Rejected request: {echoed}", status_code=403)
        elif self.failure == "truncated":
            return _Truncated(b'[{"id": 1, "call_id": "a1@pbx", "from": "\\"2001\\" <sip:2001')
        return None

    def _local_day(self, call: dict[str, Any]) -> date:
        return datetime.fromtimestamp(float(call["start"]), UTC).astimezone(self.zone).date()


class _Truncated(Response):
    """A response that promises twice the bytes it sends, then ends, like a dropped connection."""

    def __init__(self, body: bytes) -> None:
        super().__init__(body, media_type="application/json")
        self.headers["content-length"] = str(2 * len(body))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": self.body, "more_body": False})


def _day(text: str) -> date:
    return datetime.strptime(text, "%Y%m%d").date()
