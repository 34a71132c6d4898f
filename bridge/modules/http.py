"""Outbound HTTP for adapters: explicit timeouts, and failures translated at the border.

Every adapter talks through :class:`PbxHttp`. A timeout, refused connection, TLS failure, 5xx
or 429 (a rate limit, such as the FusionPBX-side scripts' per-IP limit) becomes
:class:`~bridge.errors.ProviderUnavailable` (temporary: the next cron run retries); any other
4xx becomes :class:`~bridge.errors.ProviderRejected` carrying the PBX's own message, which the
admin sees on the WHMCS button. The server's secrets are masked out of every message, and no
``httpx`` exception escapes.

This is the only module that imports ``httpx`` (``tests/test_layers.py`` holds that line): adapters
use the names it exports (:data:`Request`, :data:`Response`, :data:`Auth`, :func:`basic_auth`),
so the HTTP library, its timeouts and its failures are decided in one place.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from bridge.errors import ProviderRejected, ProviderUnavailable
from bridge.modules.base import PbxServer
from bridge.redact import redact

log = logging.getLogger("bridge.modules.http")

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=20.0, write=10.0, pool=5.0)

# The HTTP vocabulary adapters need (a login flow, a response to read), under the border's names.
Request = httpx.Request
Response = httpx.Response
Auth = httpx.Auth


class PbxHttp:
    """An HTTP client bound to one PBX server."""

    def __init__(
        self,
        server: PbxServer,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.server = server
        self._client = httpx.Client(
            base_url=server.base_url,
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
            headers={"User-Agent": "voipbridge"},
        )

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send a request and return a 2xx/3xx response, or raise a provider error."""
        where = f"{self.server.name} ({self.server.hostname}) {method} {_shown(path)}"
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
        log.debug("pbx.http %s -> %s", where, response.status_code)
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send a request and return its JSON body, or raise a provider error."""
        response = self.request(method, path, **kwargs)
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ProviderRejected(
                f"{self.server.name}: {method} {path} did not answer JSON "
                f"({self.excerpt(response)}). Is the bridge's script installed on the PBX?"
            ) from None

    def excerpt(self, response: httpx.Response, limit: int = 300) -> str:
        """Return the start of a response body, secrets masked, for an error message."""
        text = response.text.strip().replace("\n", " ")
        return self.scrub(text[:limit] or response.reason_phrase or "empty body")

    def scrub(self, text: str) -> str:
        """Return ``text`` with the server's secrets masked."""
        return redact(text, self.server.secrets)

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def __enter__(self) -> PbxHttp:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


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
