"""A fake WHMCS API (``POST /includes/api.php``) that checks every parameter of ``SendEmail``.

Like WHMCS it answers ``{"result": "success"}`` or ``{"result": "error", "message": ...}``: a
bad credential or access key with HTTP 403, an unknown or disabled template, a client it does not
know ("Sending Failed") or a bad ``customvars`` with HTTP 200. Unlike WHMCS it is strict about
its input: any parameter it does not expect, a missing ``responsetype=json``, a non-numeric
``id`` or ``customvars`` that are not base64 of a PHP-serialized array of strings are refused
with a message saying so, so a test fails loudly when the bridge sends something WHMCS would
misread. Each accepted mail is kept, its ``customvars`` decoded with ``phpserialize``.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import phpserialize
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

API_PATH = "/includes/api.php"
IDENTIFIER = "D4j1nBp9XyZ0identifier00000000"
SECRET = "s3cr3t-Fq8aVw2TzK1secret000000000"
_EXPECTED = {"action", "identifier", "secret", "accesskey", "responsetype"}
_SEND_EMAIL = {"messagename", "id", "customvars"}


@dataclass(frozen=True)
class SentEmail:
    """A SendEmail call the fake accepted."""

    messagename: str
    client_id: int
    customvars: dict[str, str]


@dataclass
class FakeWhmcsApi:
    """The fake's configuration (credentials, templates, clients) and what it received."""

    templates: set[str] = field(default_factory=lambda: {"Low Balance Alert", "VoIP Zero Balance"})
    disabled: set[str] = field(default_factory=set)
    clients: set[int] = field(default_factory=set)
    access_key: str = ""
    # "down": 503 for every call; "sending_failed": WHMCS's mailer fails; "html": a login page.
    fault: str = ""
    # Added to the 403's message, as a careless proxy might echo what it was sent.
    echo_secret: bool = False
    sent: list[SentEmail] = field(default_factory=list)
    calls: int = 0

    def app(self) -> Starlette:
        """Return the ASGI app serving ``includes/api.php``."""
        return Starlette(routes=[Route(API_PATH, self._api, methods=["POST"])])

    async def _api(self, request: Request) -> Response:
        self.calls += 1
        if self.fault == "down":
            return PlainTextResponse("Service Unavailable", status_code=503)
        if self.fault == "html":
            return Response("<html><body>Login</body></html>", media_type="text/html")
        if request.headers.get("content-type", "") != "application/x-www-form-urlencoded":
            return _error("The fake WHMCS reads form-encoded POST bodies only")
        pairs = parse_qsl(
            (await request.body()).decode(), keep_blank_values=True, strict_parsing=True
        )
        form = dict(pairs)
        if len(form) != len(pairs):
            return _error("The fake WHMCS got a parameter twice")
        refusal = self._authenticate(form)
        if refusal is not None:
            return refusal
        if form.get("responsetype") != "json":
            return _error("The fake WHMCS answers responsetype=json only")
        if form.get("action") != "SendEmail":
            return _error(f"The fake WHMCS does not offer action {form.get('action')!r}")
        unexpected = sorted(set(form) - _EXPECTED - _SEND_EMAIL)
        if unexpected:
            return _error(f"The fake WHMCS does not know parameters {unexpected}")
        return self._send_email(form)

    def _authenticate(self, form: dict[str, str]) -> Response | None:
        if self.access_key and form.get("accesskey") != self.access_key:
            return _error("Invalid IP 127.0.0.1", status=403)
        if (form.get("identifier"), form.get("secret")) != (IDENTIFIER, SECRET):
            echoed = f" (secret {form.get('secret')})" if self.echo_secret else ""
            return _error(f"Authentication Failed{echoed}", status=403)
        return None

    def _send_email(self, form: dict[str, str]) -> Response:
        name = form.get("messagename", "")
        if name not in self.templates:
            return _error("Email Template not found")
        if name in self.disabled:
            return _error("Email Template is disabled")
        related = form.get("id", "")
        if not related:
            return _error("A related ID is required")
        if not related.isdigit():
            return _error(f"The fake WHMCS expects a numeric id, not {related!r}")
        customvars = _decode_customvars(form.get("customvars", ""))
        if customvars is None:
            return _error("The custom variables you provided are invalid.")
        if int(related) not in self.clients or self.fault == "sending_failed":
            return _error("Sending Failed")
        self.sent.append(SentEmail(name, int(related), customvars))
        return JSONResponse({"result": "success"})


def _decode_customvars(encoded: str) -> dict[str, str] | None:
    try:
        decoded: Any = phpserialize.loads(
            base64.b64decode(encoded, validate=True), decode_strings=True
        )
    except (binascii.Error, ValueError):
        return None
    if not isinstance(decoded, dict):
        return None
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in decoded.items()):
        return None
    return dict(decoded)


def _error(message: str, *, status: int = 200) -> JSONResponse:
    return JSONResponse({"result": "error", "message": message}, status_code=status)
