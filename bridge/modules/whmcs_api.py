"""WHMCS's own API (``includes/api.php``), over the HTTP border; today only ``SendEmail``.

Every call is a form POST with ``action``, the API credential pair (``identifier``/``secret``),
the optional ``accesskey`` (WHMCS's way around its API IP allow-list) and ``responsetype=json``.
WHMCS answers ``{"result": "success", ...}`` or ``{"result": "error", "message": "..."}``; the
message is what the admin sees. Failures, as the outbox needs them:

- unreachable, timeout, 5xx, 429: :class:`~bridge.errors.ProviderUnavailable` (retry later);
- an error about this one message ("Email Template not found", "Email Template is disabled",
  "The custom variables you provided are invalid.", "A related ID is required"):
  :class:`~bridge.errors.MessageRejected` (sending it again cannot help);
- anything else WHMCS refuses (its 403 for credentials or IP, a role without ``SendEmail``,
  "Sending Failed" when its own mailer failed): :class:`~bridge.errors.ProviderRejected` with
  WHMCS's message; an admin fixes the cause once and every queued message can go.

The identifier, secret and access key are masked out of every message.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import urlsplit

import phpserialize

from bridge.errors import MessageRejected, ProviderRejected
from bridge.modules.http import HttpBorder, Response

# Lowercased starts of the SendEmail errors that are about the message itself.
_MESSAGE_REFUSALS = (
    "email template not found",
    "email template is disabled",
    "the custom variables you provided are invalid",
    "a related id is required",
    "client id not found",
)


@dataclass(frozen=True, slots=True)
class WhmcsApiCredentials:
    """Where WHMCS's API is and how the bridge logs in to it (an API credential, Setup > Staff)."""

    url: str
    identifier: str = field(repr=False)
    secret: str = field(repr=False)
    access_key: str = field(default="", repr=False)


class _WhmcsHttp(HttpBorder):
    not_json_hint = "Is BRIDGE_WHMCS_API_URL the address of WHMCS's includes/api.php?"

    def excerpt(self, response: Response, limit: int = 300) -> str:
        """Return WHMCS's own error message when the body has one, else the body's start."""
        message = _whmcs_message(response)
        return self.scrub(message[:limit]) if message else super().excerpt(response, limit)


class WhmcsApiClient:
    """Calls WHMCS's API with one API credential."""

    def __init__(self, credentials: WhmcsApiCredentials) -> None:
        parts = urlsplit(credentials.url)
        folder, _, self._script = parts.path.rpartition("/")
        self.credentials = credentials
        secrets = (credentials.identifier, credentials.secret, credentials.access_key)
        self._http = _WhmcsHttp(
            f"{parts.scheme}://{parts.netloc}{folder}/",
            label=f"WHMCS API ({parts.hostname})",
            secrets=tuple(secret for secret in secrets if len(secret) >= 4),
        )

    def call(self, action: str, params: Mapping[str, str]) -> dict[str, Any]:
        """Run API ``action`` with ``params`` and return WHMCS's answer, or raise."""
        form = {
            "action": action,
            "identifier": self.credentials.identifier,
            "secret": self.credentials.secret,
            "responsetype": "json",
            **params,
        }
        if self.credentials.access_key:
            form["accesskey"] = self.credentials.access_key
        answer = self._http.json("POST", self._script, data=form)
        if not isinstance(answer, dict):
            raise ProviderRejected(f"{self._http.label}: {action} answered something not JSON.")
        # WHMCS's own examples sometimes say "status" where the others say "result".
        result = answer.get("result", answer.get("status"))
        if result == "success":
            return answer
        message = self._http.scrub(str(answer.get("message") or "no message"))
        error = f"{self._http.label}: {action} refused: {message}"
        if action == "SendEmail" and message.lower().startswith(_MESSAGE_REFUSALS):
            raise MessageRejected(error)
        raise ProviderRejected(error)

    def send_email(
        self, template_name: str, client_id: int, merge_fields: Mapping[str, str]
    ) -> None:
        """Have WHMCS send General template ``template_name`` to the client, with these fields."""
        self.call(
            "SendEmail",
            {
                "messagename": template_name,
                "id": str(client_id),
                "customvars": encode_custom_vars(merge_fields),
            },
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def encode_custom_vars(values: Mapping[str, str]) -> str:
    """Return ``values`` as WHMCS's API wants an array: base64 of PHP's ``serialize()``."""
    serialized: bytes = phpserialize.dumps(dict(values), charset="utf-8")
    return base64.b64encode(serialized).decode("ascii")


def _whmcs_message(response: Response) -> str:
    try:
        body = response.json()
    except (ValueError, RecursionError):  # not JSON, digit floods, deep nesting
        return ""
    message = body.get("message") if isinstance(body, dict) else None
    return message.strip() if isinstance(message, str) else ""
