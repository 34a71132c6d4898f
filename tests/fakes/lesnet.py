"""A fake LesNet portal: CDR text files served per path, each able to fail on demand.

``FakeLesNet`` holds the files and the faults; :meth:`FakeLesNet.app` is the Starlette app to run
with :func:`tests.fakes.serve`. A file may have several versions, served one per fetch and the last
one from then on, which is how the 24-hour refresh is played: the same calls plus new ones. A
fault set for a path (:class:`Fault`) replaces the normal answer until it is cleared. When the
portal is given credentials it demands HTTP Basic auth and, like a careless portal, echoes the
password it was sent in its refusal, so tests can prove the bridge masks it.
"""

from __future__ import annotations

import asyncio
import base64
from enum import StrEnum

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

# What a damaged file may hold between real lines: control bytes, a stray quote, a cut record.
GARBAGE = ("\x00\x1b[2J\ufffd\ufffd", '"2025-12-29 10:00:00,unterminated', "2025-12-29,,")
PORTAL_PAGE = "<!DOCTYPE html><html><head><title>LES.NET Portal</title></head><body>Login</body>"


class Fault(StrEnum):
    """How the fake answers a request for one file instead of serving it."""

    NOT_FOUND = "not_found"  # 404, as for a mistyped CDR Link
    SERVER_ERROR = "server_error"  # 500
    TIMEOUT = "timeout"  # answers only after ``FakeLesNet.delay`` seconds
    SHORT_BODY = "short_body"  # Content-Length promises more bytes than are sent
    CUT_LAST_LINE = "cut_last_line"  # a complete response whose last line stops half way
    LOGIN_PAGE = "login_page"  # 200 with an HTML login page instead of the text file
    GARBAGE_LINES = "garbage_lines"  # a junk line after every second line of the file


class FakeLesNet:
    """The fake portal's files, faults, and the requests (paths, Authorization headers) seen."""

    def __init__(self, *, delay: float = 1.0) -> None:
        self.delay = delay
        self.files: dict[str, list[str]] = {}
        self.faults: dict[str, Fault] = {}
        self.credentials: tuple[str, str] | None = None
        self.requests: list[str] = []
        self.authorizations: list[str] = []
        self._served: dict[str, int] = {}

    def publish(self, path: str, *versions: str) -> None:
        """Serve ``versions`` of the file at ``path``, one per fetch, the last one repeatedly."""
        self.files[path] = list(versions)
        self._served[path] = 0

    def fail(self, path: str, fault: Fault) -> None:
        """Answer requests for ``path`` with ``fault`` until :meth:`heal` is called."""
        self.faults[path] = fault

    def heal(self, path: str) -> None:
        """Serve ``path`` normally again."""
        self.faults.pop(path, None)

    def app(self) -> Starlette:
        """Return the ASGI app: ``/`` is the portal's login page, every other path a file."""
        return Starlette(routes=[Route("/", self._portal), Route("/{path:path}", self._file)])

    async def _portal(self, request: Request) -> Response:
        self.requests.append("/")
        return HTMLResponse(PORTAL_PAGE)

    async def _file(self, request: Request) -> Response:
        path = request.url.path
        self.requests.append(path)
        self.authorizations.append(request.headers.get("authorization", ""))
        refusal = self._refuse_credentials(request)
        if refusal is not None:
            return refusal
        fault = self.faults.get(path)
        if fault is Fault.TIMEOUT:
            await asyncio.sleep(self.delay)
        elif fault is Fault.NOT_FOUND:
            return PlainTextResponse("File not found", status_code=404)
        elif fault is Fault.SERVER_ERROR:
            return PlainTextResponse("Internal Server Error", status_code=500)
        elif fault is Fault.LOGIN_PAGE:
            return HTMLResponse(PORTAL_PAGE)
        if path not in self.files:
            return PlainTextResponse("File not found", status_code=404)
        body = self._next_version(path)
        if fault is Fault.SHORT_BODY:
            return _ShortBody(body.encode())
        if fault is Fault.CUT_LAST_LINE:
            body = _cut_last_line(body)
        elif fault is Fault.GARBAGE_LINES:
            body = with_garbage(body)
        return PlainTextResponse(body)

    def _next_version(self, path: str) -> str:
        versions = self.files[path]
        served = self._served.get(path, 0)
        self._served[path] = served + 1
        return versions[min(served, len(versions) - 1)]

    def _refuse_credentials(self, request: Request) -> Response | None:
        if self.credentials is None:
            return None
        username, password = self.credentials
        sent_user, sent_password = _basic_auth(request.headers.get("authorization", ""))
        if (sent_user, sent_password) == (username, password):
            return None
        return PlainTextResponse(
            f"Login failed for {sent_user!r} with password {sent_password!r}", status_code=401
        )


class _ShortBody(Response):
    """A response that declares more bytes than it sends, then closes the connection."""

    def __init__(self, body: bytes) -> None:
        super().__init__(status_code=200, media_type="text/plain")
        self.sent = body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the headers with an inflated Content-Length and the body, and stop half way."""
        headers = [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(self.sent) + 200).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        # more_body=True and then nothing: uvicorn drops the connection mid-body.
        await send({"type": "http.response.body", "body": self.sent, "more_body": True})


def with_garbage(body: str) -> str:
    """Return ``body`` with a line of :data:`GARBAGE` after its 2nd, 4th, 6th... line."""
    out: list[str] = []
    for index, line in enumerate(body.rstrip("\n").split("\n")):
        out.append(line)
        if index % 2 == 1:
            out.append(GARBAGE[(index // 2) % len(GARBAGE)])
    return "\n".join(out) + "\n"


def _cut_last_line(body: str) -> str:
    text = body.rstrip("\n")
    last_break = text.rfind("\n")
    last_line = text[last_break + 1 :]
    return text[: last_break + 1 + len(last_line) // 2]


def _basic_auth(header: str) -> tuple[str, str]:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        decoded = base64.b64decode(encoded).decode()
    except ValueError:
        return "", ""
    username, _, password = decoded.partition(":")
    return username, password
