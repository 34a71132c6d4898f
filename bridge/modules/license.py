"""The license server adapter: ``POST /v1/activate`` and ``POST /v1/verify`` over the HTTP border.

The bridge sends a license key with the installation it is used on (WHMCS domain, server IP) and
a fresh nonce; the server answers ``{"ok": true, "result": {"status", "message", "token"}}``. This
adapter only moves that exchange over HTTP and checks its shape: whether the token is genuine is
decided by :mod:`bridge.licensing`, which holds the server's public key. Failures are those of
:class:`~bridge.modules.http.HttpBorder`: unreachable, timeout, 5xx or 429 (its rate limit) is
:class:`~bridge.errors.ProviderUnavailable` (the bridge may then use its cached token for a
grace period); any other 4xx is :class:`~bridge.errors.ProviderRejected` with the server's own
message. The key is masked out of every message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Self

from bridge.errors import ProviderRejected
from bridge.modules.http import SHORT_TIMEOUT, HttpBorder

MAX_TOKEN_LENGTH = 4096


@dataclass(frozen=True, slots=True)
class LicenseQuery:
    """What the bridge asks the license server about one key."""

    key: str = field(repr=False)
    domain: str
    ip: str
    nonce: str


@dataclass(frozen=True, slots=True)
class LicenseAnswer:
    """The license server's answer, not yet checked: the token is what counts."""

    status: str
    message: str
    token: str = field(repr=False)


class LicenseServerClient:
    """Talks to the license server at ``url`` (BRIDGE_LICENSE_URL)."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self._http = HttpBorder(
            self.url + "/", label=f"License server ({self.url})", timeout=SHORT_TIMEOUT
        )

    def activate(self, query: LicenseQuery) -> LicenseAnswer:
        """Register the key to ``query``'s domain and IP (moving it off any other) and answer."""
        return self._ask("v1/activate", query)

    def verify(self, query: LicenseQuery) -> LicenseAnswer:
        """Ask for the key's status for ``query``'s domain and IP."""
        return self._ask("v1/verify", query)

    def _ask(self, path: str, query: LicenseQuery) -> LicenseAnswer:
        body = {"key": query.key, "domain": query.domain, "ip": query.ip, "nonce": query.nonce}
        # The key is this request's secret: masked out of any error message about it.
        self._http.secrets = (query.key,) if len(query.key) >= 4 else ()
        payload = self._http.json("POST", path, json=body)
        result = payload.get("result") if isinstance(payload, dict) else None
        if not isinstance(result, dict) or not _is_answer(result):
            raise ProviderRejected(
                f"License server ({self.url}) answered {path} without a status and token; "
                "is BRIDGE_LICENSE_URL the voipbridge license server?"
            )
        return LicenseAnswer(result["status"], result["message"], result["token"])

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _is_answer(result: dict[str, Any]) -> bool:
    texts = (result.get("status"), result.get("message"), result.get("token"))
    return all(isinstance(value, str) for value in texts) and len(result["token"]) in range(
        1, MAX_TOKEN_LENGTH + 1
    )
