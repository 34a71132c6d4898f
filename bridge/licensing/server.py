"""The small reference license server (``bridge license-server serve``), a Starlette app.

``POST /v1/activate`` and ``POST /v1/verify`` take ``{"key", "domain", "ip", "nonce"}`` and answer
``{"ok": true, "result": {"status", "message", "token"}}``, the token signed with the server's
Ed25519 key whatever the status (active, suspended, expired, invalid). Activation of a valid key
binds it to the asking domain and IP, which releases any other installation; verification is
active only for the installation the key is bound to. ``GET /healthz`` answers with the public
key the bridges need.

Every request is limited per client IP (a token bucket; 429 with ``Retry-After`` when spent), and
bad input (not JSON, too large, wrong types, unknown fields) is a JSON 4xx, never a 500. Errors use
the bridge's envelope ``{"ok": false, "error": {"code", "message"}}``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bridge.clock import utc_now
from bridge.errors import BridgeError, InvalidRequest, PayloadTooLarge, RateLimited
from bridge.licensing.keystore import LicenseKey, bind_key, find_key
from bridge.licensing.tokens import (
    LicenseClaims,
    LicenseStatus,
    key_digest,
    key_hint,
    normalize_key,
    public_key_text,
    sign_token,
)
from bridge.licensing.verdict import normalize_domain, normalize_ip

log = logging.getLogger("bridge.licensing.server")

MAX_BODY_BYTES = 4096
_FIELDS = frozenset({"key", "domain", "ip", "nonce"})
_KEY = re.compile(r"[A-Z0-9-]{1,64}")
_NONCE = re.compile(r"[0-9a-f]{16,64}")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")


@dataclass(frozen=True, slots=True)
class RateLimit:
    """How many requests one client IP may send per period (a burst of all of them at once)."""

    requests: int = 30
    per_seconds: int = 60


@dataclass(frozen=True, slots=True)
class Query:
    """A well-formed activate or verify request."""

    key: str
    domain: str
    ip: str
    nonce: str


class RateLimiter:
    """A token bucket per client IP, refilled continuously at ``requests / per_seconds``."""

    def __init__(self, limit: RateLimit, *, max_clients: int = 10_000) -> None:
        self.limit = limit
        self.max_clients = max_clients
        self._buckets: dict[str, tuple[float, datetime]] = {}

    def take(self, client: str, now: datetime) -> int:
        """Spend one request of ``client``; return 0 if allowed, else the seconds to wait."""
        capacity = float(self.limit.requests)
        rate = capacity / self.limit.per_seconds
        tokens, then = self._buckets.get(client, (capacity, now))
        tokens = min(capacity, tokens + max(0.0, (now - then).total_seconds()) * rate)
        if tokens < 1:
            self._buckets[client] = (tokens, now)
            return max(1, int((1 - tokens) / rate + 0.999))
        if client not in self._buckets and len(self._buckets) >= self.max_clients:
            self._forget_idle(now)
        self._buckets[client] = (tokens - 1, now)
        return 0

    def _forget_idle(self, now: datetime) -> None:
        # A bucket that has refilled completely holds nothing worth remembering.
        full = self.limit.per_seconds
        for client, (_tokens, then) in list(self._buckets.items()):
            if (now - then).total_seconds() >= full:
                del self._buckets[client]
        while len(self._buckets) >= self.max_clients:
            del self._buckets[next(iter(self._buckets))]


def create_license_app(
    engine: Engine,
    signing_key: Ed25519PrivateKey,
    *,
    rate_limit: RateLimit | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> Starlette:
    """Build the license server app on the key database ``engine``, signing with ``signing_key``."""
    limiter = RateLimiter(rate_limit or RateLimit())

    async def answer(request: Request, action: str) -> Response:
        client = request.client.host if request.client else "unknown"
        wait = limiter.take(client, clock())
        if wait:
            raise RateLimited(
                f"Too many license requests from {client}; try again in {wait} seconds.",
                retry_after=wait,
            )
        query = parse_query(await _read_body(request))
        result = await run_in_threadpool(
            decide_and_sign, engine, signing_key, action, query, clock()
        )
        log.info("license.%s key=%s domain=%s ip=%s client=%s status=%s", action,
                 key_hint(query.key), query.domain, query.ip, client, result["status"])  # fmt: skip
        return JSONResponse({"ok": True, "result": result})

    async def activate(request: Request) -> Response:
        return await answer(request, "activate")

    async def verify(request: Request) -> Response:
        return await answer(request, "verify")

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True, "result": {"public_key": public_key_text(signing_key)}})

    return Starlette(
        routes=[
            Route("/v1/activate", activate, methods=["POST"]),
            Route("/v1/verify", verify, methods=["POST"]),
            Route("/healthz", health, methods=["GET"]),
        ],
        exception_handlers={
            BridgeError: _render_error,
            HTTPException: _render_http_error,
            Exception: _render_unexpected,
        },
    )


def parse_query(body: bytes) -> Query:
    """Return the request in ``body``, or raise :class:`InvalidRequest` saying what is wrong."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        raise InvalidRequest("The request body is not JSON.") from None
    if not isinstance(payload, dict):
        raise InvalidRequest('The request body must be a JSON object {"key", "domain", ...}.')
    unknown, missing = sorted(set(payload) - _FIELDS), sorted(_FIELDS - set(payload))
    if unknown or missing:
        parts = [f"unknown field(s) {', '.join(map(repr, unknown))}"] if unknown else []
        parts += [f"missing field(s) {', '.join(missing)}"] if missing else []
        raise InvalidRequest(f"Bad request: {'; '.join(parts)}.")
    wrong = sorted(name for name in _FIELDS if not isinstance(payload[name], str))
    if wrong:
        raise InvalidRequest(f"Bad request: {', '.join(wrong)} must be text.")
    key = normalize_key(payload["key"])
    domain = normalize_domain(payload["domain"])
    if not _KEY.fullmatch(key):
        raise InvalidRequest("Bad request: key is not a license key.")
    if len(domain) > 253 or not _DOMAIN.fullmatch(domain):
        raise InvalidRequest("Bad request: domain is not a domain name.")
    if not _NONCE.fullmatch(payload["nonce"]):
        raise InvalidRequest("Bad request: nonce must be 16 to 64 lower-case hex digits.")
    try:
        ip = normalize_ip(payload["ip"])
    except InvalidRequest:
        ip = ""
    if not ip:
        raise InvalidRequest("Bad request: ip is not an IP address.")
    return Query(key=key, domain=domain, ip=ip, nonce=payload["nonce"])


def decide(
    record: LicenseKey | None, action: str, query: Query, today: date
) -> tuple[LicenseStatus, str]:
    """Return the key's status for the asking installation, with a reason unless active."""
    if record is None:
        return LicenseStatus.INVALID, "the license server does not know this key."
    if record.suspended:
        return LicenseStatus.SUSPENDED, "the key is suspended."
    if record.expired(today):
        return LicenseStatus.EXPIRED, f"the key expired on {record.expires_on}."
    if action == "activate":
        return LicenseStatus.ACTIVE, ""
    if not record.domain:
        return LicenseStatus.INVALID, "this key has not been activated yet; press Activate License."
    if (record.domain, record.ip) != (query.domain, query.ip):
        return (
            LicenseStatus.INVALID,
            "this key is registered to another domain/IP; press Activate License to move it here.",
        )
    return LicenseStatus.ACTIVE, ""


def decide_and_sign(
    engine: Engine, signing_key: Ed25519PrivateKey, action: str, query: Query, now: datetime
) -> dict[str, Any]:
    """Decide the key's status (binding it on a valid activation) and return the signed answer."""
    with engine.begin() as conn:
        record = find_key(conn, query.key)
        status, reason = decide(record, action, query, now.date())
        if record is not None and action == "activate" and status is LicenseStatus.ACTIVE:
            record = bind_key(conn, record.id, query.domain, query.ip, now=now)
    claims = LicenseClaims(
        key_sha256=key_digest(query.key),
        domain=query.domain,
        ip=query.ip,
        status=status,
        expires_on=record.expires_on if record else None,
        issued_at=now,
        nonce=query.nonce,
        reason=reason,
    )
    message = f"{status.value}: {reason}" if reason else status.value
    return {"status": status.value, "message": message, "token": sign_token(claims, signing_key)}


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"The request body is over {MAX_BODY_BYTES} bytes.")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"The request body is over {MAX_BODY_BYTES} bytes.")
    return bytes(body)


async def _render_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BridgeError)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    return JSONResponse(exc.to_payload(), status_code=exc.status_code, headers=headers)


async def _render_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = "not_found" if exc.status_code == 404 else "http_error"
    body = {"ok": False, "error": {"code": code, "message": str(exc.detail)}}
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


async def _render_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("license.failed path=%s", request.url.path, exc_info=exc)
    body = {"ok": False, "error": {"code": "internal", "message": "Internal error; see the log."}}
    return JSONResponse(body, status_code=500)
