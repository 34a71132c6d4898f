"""Request signing between the PHP shim and the bridge (DESIGN.md §3).

The shim sends three headers with every call::

    X-Bridge-Timestamp: unix seconds
    X-Bridge-Nonce:     random hex, 16-64 characters
    X-Bridge-Signature: hex HMAC-SHA256(secret, message)

    message = "{ts}\\n{nonce}\\n{METHOD}\\n{path}\\n{sha256hex(body)}"

The bridge checks, in order: the body is at most 1 MiB; all three headers are present and
well-formed; the signature matches (constant-time); the timestamp is within 300 s of the bridge's
clock; the endpoint's own checks of the body pass; the nonce was not used before (this last check
is the only write, and happens only for a request that passed every other check).

Every signed endpoint — the shim's module calls, cron, admin and client-area pages — goes through
:func:`accept_signed`, which runs these checks in this order around the endpoint's parser.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from bridge.clock import utc_now
from bridge.db import Database
from bridge.errors import (
    DatabaseBusy,
    NonceReused,
    NotConfigured,
    PayloadTooLarge,
    SignatureInvalid,
    SignatureMissing,
    TimestampSkew,
)
from bridge.store.nonces import forget_expired_nonces, remember_nonce
from bridge.web.state import app_state

T = TypeVar("T")

log = logging.getLogger("bridge.web.signing")

MAX_BODY_BYTES = 1024 * 1024
MAX_SKEW_SECONDS = 300
TIMESTAMP_HEADER = "X-Bridge-Timestamp"
NONCE_HEADER = "X-Bridge-Nonce"
SIGNATURE_HEADER = "X-Bridge-Signature"

_NONCE = re.compile(r"[0-9a-f]{16,64}")
_SIGNATURE = re.compile(r"[0-9a-f]{64}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


@dataclass(frozen=True, slots=True)
class SignedHeaders:
    """The three signing headers of a request, validated for form."""

    timestamp: int
    nonce: str
    signature: str


def sign(secret: str, timestamp: int, nonce: str, method: str, path: str, body: bytes) -> str:
    """Return the hex signature the shim sends for this request."""
    digest = hashlib.sha256(body).hexdigest()
    message = f"{timestamp}\n{nonce}\n{method.upper()}\n{path}\n{digest}"
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def parse_headers(request: Request) -> SignedHeaders:
    """Return the signing headers of ``request``, or raise :class:`SignatureMissing`."""
    timestamp = request.headers.get(TIMESTAMP_HEADER, "").strip()
    nonce = request.headers.get(NONCE_HEADER, "").strip().lower()
    signature = request.headers.get(SIGNATURE_HEADER, "").strip().lower()
    if not (timestamp and nonce and signature):
        missing = [
            name
            for name, value in (
                (TIMESTAMP_HEADER, timestamp),
                (NONCE_HEADER, nonce),
                (SIGNATURE_HEADER, signature),
            )
            if not value
        ]
        raise SignatureMissing(
            f"Unsigned request: missing {', '.join(missing)}. Check that the WHMCS module's "
            "bridge secret is set."
        )
    if not _TIMESTAMP.fullmatch(timestamp):
        raise SignatureMissing(f"{TIMESTAMP_HEADER} must be unix seconds.")
    if not _NONCE.fullmatch(nonce):
        raise SignatureMissing(f"{NONCE_HEADER} must be 16 to 64 hex characters.")
    if not _SIGNATURE.fullmatch(signature):
        raise SignatureMissing(f"{SIGNATURE_HEADER} must be a hex SHA-256 HMAC.")
    return SignedHeaders(timestamp=int(timestamp), nonce=nonce, signature=signature)


def verify_signature(
    secret: str, headers: SignedHeaders, method: str, path: str, body: bytes, *, now: datetime
) -> None:
    """Raise unless ``headers`` sign this exact request and were made within the skew window."""
    expected = sign(secret, headers.timestamp, headers.nonce, method, path, body)
    if not hmac.compare_digest(expected, headers.signature):
        raise SignatureInvalid(
            "Bad request signature. The WHMCS module and the bridge must share the same secret "
            "(BRIDGE_SECRET)."
        )
    skew = abs(now.timestamp() - headers.timestamp)
    if skew > MAX_SKEW_SECONDS:
        raise TimestampSkew(
            f"Request timestamp is {int(skew)} s away from the bridge's clock (limit "
            f"{MAX_SKEW_SECONDS} s). Synchronise the clocks of WHMCS and the bridge (NTP)."
        )


async def read_limited_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """Return the request body, raising :class:`PayloadTooLarge` once it passes ``limit``."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"Request body of {declared} bytes is over the {limit}-byte limit.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"Request body is over the {limit}-byte limit.")
        chunks.append(chunk)
    return b"".join(chunks)


async def authenticate(
    request: Request, secret: str | None, *, now: datetime
) -> tuple[bytes, SignedHeaders]:
    """Return the body and signing headers of a correctly signed, fresh ``request``, or raise."""
    if not secret:
        raise NotConfigured(
            "The bridge has no BRIDGE_SECRET, so it accepts no module calls. Set the same secret "
            "in the bridge's environment and in the WHMCS module settings."
        )
    body = await read_limited_body(request)
    headers = parse_headers(request)
    verify_signature(secret, headers, request.method, request.url.path, body, now=now)
    return body, headers


async def accept_signed(request: Request, parse: Callable[[bytes], T]) -> T:
    """Return ``parse(body)`` of a correctly signed, fresh request, its nonce spent; or raise.

    ``parse`` checks everything the endpoint needs of the request (route, body) and raises a
    4xx for anything wrong; only once it returned is the nonce spent, so a refused request
    writes nothing and may be corrected and sent again with the same nonce.
    """
    state = app_state(request)
    now = utc_now()
    secret = str(state.settings.secret) if state.settings.secret is not None else None
    body, headers = await authenticate(request, secret, now=now)
    request.state.authenticated = True
    # Off the event loop: however the body is built, parsing it never holds up other requests.
    parsed = await run_in_threadpool(parse, body)
    await run_in_threadpool(spend_nonce, state.database, headers.nonce, now)
    return parsed


def spend_nonce(database: Database, nonce: str, now: datetime) -> None:
    """Record ``nonce`` as used, or raise :class:`NonceReused` if it was used in the window."""
    with database.transaction() as conn:
        fresh = remember_nonce(conn, nonce, now=now)
    # Purging in the nonce's own transaction let two parallel calls deadlock (bridge/store/nonces).
    # It is housekeeping: if it waits too long, the next call purges instead.
    try:
        with database.transaction() as conn:
            forget_expired_nonces(conn, now=now, window=timedelta(seconds=MAX_SKEW_SECONDS))
    except DatabaseBusy:
        log.warning("nonce.purge_skipped reason=database_busy")
    if not fresh:
        raise NonceReused("This request was already received (replayed nonce); it was ignored.")
