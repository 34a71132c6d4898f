"""The bridge's one error tree.

Every failure the bridge expects is a :class:`BridgeError`. Each class carries an HTTP status and a
stable machine ``code``; one handler (``bridge.app``) renders any of them as
``{"ok": false, "error": {"code": ..., "message": ...}}`` and the CLI prints ``message`` and exits
non-zero. Messages are written for the WHMCS admin who will read them on a module button: they say
what is wrong and what to do, and never contain a password or secret.

    BridgeError (500 internal)
    ├── ConfigError (500 config_error) ............... a BRIDGE_* setting is missing or malformed
    ├── InvalidRequest (422 invalid_request) ......... input that can never succeed as sent
    │   ├── InvalidAmount (422 invalid_amount)
    │   ├── InvalidFile (422 invalid_file) ............ a file's lines are bad (``bad_lines``)
    │   ├── InvalidCdr (422 invalid_cdr) .............. a call record holds a value we cannot store
    │   ├── InvalidAssignment (422 invalid_assignment)  a service's PBX assignment is malformed
    │   ├── EmailTemplateDisabled (422 email_template_disabled)  an alert's template is switched off
    │   └── UnknownAction (404 unknown_action)
    ├── NotFound (404 not_found)
    │   ├── ClientNotFound (404 client_not_found)
    │   ├── ServiceNotFound (404 service_not_found)
    │   ├── CustomFieldNotFound (404 custom_field_not_found)
    │   └── EmailTemplateNotFound (404 email_template_not_found)  no General template of that name
    ├── AuthError (401 unauthorized) ................. a shim request that fails §3 signing
    │   ├── SignatureMissing (401 signature_missing)
    │   ├── SignatureInvalid (401 signature_invalid)
    │   ├── TimestampSkew (401 timestamp_skew)
    │   └── NonceReused (401 nonce_reused)
    ├── PayloadTooLarge (413 payload_too_large)
    ├── RateLimited (429 rate_limited) ............... the reference license server's per-IP limit
    ├── LicenseRefused (403 license_refused) ......... no valid license: provisioning is refused
    ├── AccessDenied (403 access_denied) ............. a client asked for a service not theirs
    ├── NotConfigured (503 not_configured) ........... the bridge lacks a setting this call needs
    ├── RatingError (500 rating_error) ............... bridge/rating/errors.py; 422 for bad input
    ├── ProviderError (502 provider_error) ........... a PBX or provider failed us
    │   ├── ProviderUnavailable (503 provider_unavailable)  transient: unreachable, timeout, 5xx
    │   ├── ProviderRejected (502 provider_rejected) ...... permanent: 4xx, refused credentials
    │   │   ├── LicenseTokenInvalid (502 license_token_invalid)  not signed by the license server
    │   │   └── MessageRejected (502 message_rejected) ..... the mail service refused this message
    │   └── ProviderUnsupported (501 provider_unsupported)  no API for this action: a person must
    └── DatabaseError (503 database_error)
        ├── DatabaseUnavailable (503 database_unavailable)  transient: cannot connect, link dropped
        ├── DatabaseBusy (503 database_busy) .............. transient: lock wait timeout, deadlock
        ├── SchemaMismatch (500 schema_mismatch) .......... a WHMCS table or column is missing
        ├── MigrationFailed (500 migration_failed) ........ `bridge migrate` stopped; rerun resumes
        └── BulkWriteRefused (500 bulk_write_refused) ..... a bulk load would have changed a value

Transient errors (``retryable = True``) are worth retrying on the next cron run; the others need a
person to change something first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class BadLine:
    """One rejected line of an input file (a rate card, a CDR export) and why."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class BridgeError(Exception):
    """Base of every error the bridge raises on purpose."""

    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "internal"
    retryable: ClassVar[bool] = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_payload(self) -> dict[str, Any]:
        """Return the JSON envelope the shim understands for this error."""
        return {"ok": False, "error": {"code": self.code, "message": self.message}}


class ConfigError(BridgeError):
    """A ``BRIDGE_*`` setting is missing or malformed."""

    code = "config_error"


class InvalidRequest(BridgeError):
    """The input can never succeed as sent."""

    status_code = 422
    code = "invalid_request"


class InvalidAmount(InvalidRequest):
    """A money amount is zero, not a number, or finer than cents."""

    code = "invalid_amount"


class InvalidFile(InvalidRequest):
    """A file cannot be read as what it should be; ``bad_lines`` lists its bad lines by number."""

    code = "invalid_file"

    def __init__(self, message: str, bad_lines: Sequence[BadLine] = ()) -> None:
        super().__init__(message)
        self.bad_lines = tuple(bad_lines)


class InvalidCdr(InvalidRequest):
    """A call record from a PBX holds a value the bridge cannot store (a time, a duration)."""

    code = "invalid_cdr"


class EmailTemplateDisabled(InvalidRequest):
    """The email template an alert is sent with is disabled in WHMCS."""

    code = "email_template_disabled"


class UnknownAction(InvalidRequest):
    """The shim asked for a module or action the bridge does not offer."""

    status_code = 404
    code = "unknown_action"


class InvalidAssignment(InvalidRequest):
    """A service's domain/username assignment does not follow its module's format."""

    code = "invalid_assignment"


class NotFound(BridgeError):
    """A record the request names does not exist."""

    status_code = 404
    code = "not_found"


class ClientNotFound(NotFound):
    """No ``tblclients`` row has this id."""

    code = "client_not_found"


class ServiceNotFound(NotFound):
    """No ``tblhosting`` row has this id."""

    code = "service_not_found"


class CustomFieldNotFound(NotFound):
    """No custom field of that type has this name."""

    code = "custom_field_not_found"


class EmailTemplateNotFound(NotFound):
    """WHMCS has no General Messages email template of this name (in its default language)."""

    code = "email_template_not_found"


class AuthError(BridgeError):
    """A shim request failed the signing rules of DESIGN.md §3."""

    status_code = 401
    code = "unauthorized"


class SignatureMissing(AuthError):
    """A signing header is absent or malformed."""

    code = "signature_missing"


class SignatureInvalid(AuthError):
    """The HMAC does not match the request."""

    code = "signature_invalid"


class TimestampSkew(AuthError):
    """The request's timestamp is too far from the bridge's clock."""

    code = "timestamp_skew"


class NonceReused(AuthError):
    """The nonce was already used inside the replay window."""

    code = "nonce_reused"


class PayloadTooLarge(BridgeError):
    """The request body is over the limit."""

    status_code = 413
    code = "payload_too_large"


class RateLimited(BridgeError):
    """A client sent more requests than the reference license server allows; it may retry later."""

    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class LicenseRefused(BridgeError):
    """The product's license is not valid here, so provisioning and the client area are refused."""

    status_code = 403
    code = "license_refused"


class AccessDenied(BridgeError):
    """The client WHMCS says is logged in asked for a service that is not theirs to see."""

    status_code = 403
    code = "access_denied"


class NotConfigured(BridgeError):
    """The bridge lacks a setting this call needs."""

    status_code = 503
    code = "not_configured"


class ProviderError(BridgeError):
    """A PBX or provider did not do what the bridge asked."""

    status_code = 502
    code = "provider_error"


class ProviderUnavailable(ProviderError):
    """The PBX could not be reached or answered with a server error; retry later."""

    status_code = 503
    code = "provider_unavailable"
    retryable = True


class ProviderRejected(ProviderError):
    """The PBX refused the request (4xx, credentials, whitelist); its message is shown."""

    code = "provider_rejected"


class LicenseTokenInvalid(ProviderRejected):
    """A license token is malformed, not signed with the configured key, or not for this request."""

    code = "license_token_invalid"


class MessageRejected(ProviderRejected):
    """The mail service refused this one message (no such template, a refused recipient).

    Sending it again cannot help, unlike a refusal of the bridge's credentials, which an admin
    fixes once for every message.
    """

    code = "message_rejected"


class ProviderUnsupported(ProviderError):
    """The provider offers no API for this action; an admin has to do it by hand."""

    status_code = 501
    code = "provider_unsupported"


class DatabaseError(BridgeError):
    """The database failed in a way the bridge recognises."""

    status_code = 503
    code = "database_error"


class DatabaseUnavailable(DatabaseError):
    """The database cannot be reached or the connection dropped."""

    code = "database_unavailable"
    retryable = True


class DatabaseBusy(DatabaseError):
    """A row lock was not granted in time, or the transaction lost a deadlock."""

    code = "database_busy"
    retryable = True


class SchemaMismatch(DatabaseError):
    """A WHMCS table or column the bridge uses does not exist."""

    status_code = 500
    code = "schema_mismatch"


class MigrationFailed(DatabaseError):
    """Creating or upgrading the bridge's own tables failed part way; a rerun resumes."""

    status_code = 500
    code = "migration_failed"


class BulkWriteRefused(DatabaseError):
    """A bulk load was refused: the server would have cut or converted a value (a bridge bug)."""

    status_code = 500
    code = "bulk_write_refused"
