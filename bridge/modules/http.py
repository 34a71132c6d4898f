"""Outbound HTTP for adapters: explicit timeouts, and failures translated at the border.

Every adapter talks through :class:`PbxHttp` (bound to a PBX server); other remote services, such
as the license server (:mod:`bridge.modules.license`), through its base :class:`HttpBorder`. A
timeout, refused connection, TLS failure, 5xx or 429 (a rate limit, such as the FusionPBX-side
scripts' per-IP limit) becomes :class:`~bridge.errors.ProviderUnavailable` (temporary: the next
cron run retries); any other 4xx becomes :class:`~bridge.errors.ProviderRejected` carrying the
server's own message, which the admin sees on the WHMCS button. The server's secrets are masked
out of every message, and no ``httpx`` exception escapes.

This is the only module that imports ``httpx`` (``tests/test_layers.py`` holds that line): adapters
use the names it exports (:data:`Request`, :data:`Response`, :data:`Auth`, :func:`basic_auth`),
so the HTTP library, its timeouts and its failures are decided in one place.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Self
from urllib.parse import urlsplit

import httpx

from bridge.errors import ProviderRejected, ProviderUnavailable
from bridge.modules.base import PbxServer
from bridge.redact import redact

log = logging.getLogger("bridge.modules.http")
# httpx logs every request's full URL at INFO, and some URLs carry a secret (a LesNet CDR link's
# token): the bridge logs its own calls, without query strings, so httpx's are kept quiet.
logging.getLogger("httpx").setLevel(logging.WARNING)

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=20.0, write=10.0, pool=5.0)
# For services asked in the middle of an admin's or client's page (the license server): when slow,
# they are as good as down, and the page should say so quickly.
SHORT_TIMEOUT = httpx.Timeout(connect=3.0, read=8.0, write=5.0, pool=3.0)

# The HTTP vocabulary adapters need (a login flow, a response to read), under the border's names.
Request = httpx.Request
Response = httpx.Response
Auth = httpx.Auth


class HttpBorder:
    """An HTTP client for one remote service, every failure turned into a provider error."""

    # Said after "did not answer JSON": what usually causes it for this kind of server.
    not_json_hint = ""

    def __init__(
        self,
        base_url: str,
        *,
        label: str,
        secrets: tuple[str, ...] = (),
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.label = label
        self.secrets = secrets
        self._client = httpx.Client(
            base_url=base_url,
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
            headers={"User-Agent": "voipbridge"},
        )

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send a request and return a 2xx/3xx response, or raise a provider error."""
        where = f"{self.label} {method} {_shown(path)}"
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise ProviderUnavailable(f"{where}: no answer in time; will retry.") from None
        except httpx.HTTPError as exc:
            reason = self.scrub(str(exc) or type(exc).__name__)
            raise ProviderUnavailable(f"{where}: cannot connect ({reason}); will retry.") from None
        if response.status_code == 429:
            wait = response.headers.get("Retry-After", "").strip()
            after = f" (it asks to wait {wait} s)" if wait.isdigit() else ""
            raise ProviderUnavailable(
                f"{where}: rate limited{after}: {self.excerpt(response)}; will retry."
            )
        if response.status_code >= 500:
            raise ProviderUnavailable(
                f"{where}: server error {response.status_code} ({self.excerpt(response)}); "
                "will retry."
            )
        if response.status_code >= 400:
            raise ProviderRejected(
                f"{where}: refused with {response.status_code}: {self.excerpt(response)}"
            )
        log.debug("http %s -> %s", where, response.status_code)
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send a request and return its JSON body, or raise a provider error."""
        response = self.request(method, path, **kwargs)
        try:
            return response.json()
        except (ValueError, RecursionError):  # not JSON, digit floods, deep nesting
            hint = f" {self.not_json_hint}" if self.not_json_hint else ""
            raise ProviderRejected(
                f"{self.label}: {method} {_shown(path)} did not answer JSON "
                f"({self.excerpt(response)}).{hint}"
            ) from None

    def excerpt(self, response: httpx.Response, limit: int = 300) -> str:
        """Return the start of a response body, secrets masked, for an error message.

        A body in the bridge family's error envelope (``{"error": {"message": ...}}``, which the
        reference license server answers) gives just its message.
        """
        text = _envelope_message(response) or response.text.strip().replace("\n", " ")
        return self.scrub(text[:limit] or response.reason_phrase or "empty body")

    def scrub(self, text: str) -> str:
        """Return ``text`` with the server's secrets masked."""
        return redact(text, self.secrets)

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class PbxHttp(HttpBorder):
    """An HTTP client bound to one PBX server."""

    not_json_hint = "Is the bridge's script installed on the PBX?"

    def __init__(
        self,
        server: PbxServer,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(
            server.base_url,
            label=f"{server.name} ({server.hostname})",
            secrets=server.secrets,
            timeout=timeout,
            transport=transport,
        )
        self.server = server


def _envelope_message(response: httpx.Response) -> str:
    if not response.headers.get("content-type", "").startswith("application/json"):
        return ""
    try:
        body = response.json()
    except (ValueError, RecursionError):  # not JSON, digit floods, deep nesting
        return ""
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    return message.strip() if isinstance(message, str) else ""


def _shown(path: str) -> str:
    """Return ``path`` fit for a message: no query string or user info, which may hold tokens."""
    parts = urlsplit(path)
    host = parts.hostname or ""
    origin = f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}" if host else ""
    return origin + parts.path


def basic_auth(username: str, password: str) -> httpx.Auth:
    """Return HTTP Basic credentials to pass as ``auth=`` to :meth:`PbxHttp.request`."""
    return httpx.BasicAuth(username, password)


def same_origin(url: str, base_url: str) -> bool:
    """Tell whether ``url`` is relative, or has the scheme, host and port of ``base_url``."""
    target, own = httpx.URL(url), httpx.URL(base_url)
    if target.is_relative_url:
        return True
    return (target.scheme, target.host, target.port) == (own.scheme, own.host, own.port)


def form(values: Mapping[str, object]) -> dict[str, str]:
    """Return form fields as strings (PHP scripts read ``$_POST`` as text)."""
    return {key: str(value) for key, value in values.items()}
