"""License Activate, Verify, and the check that guards provisioning (DESIGN.md §8).

The edges call three things:

* :func:`activate_license` (the Activate License button) registers the key to this installation
  (WHMCS's System URL domain and server IP) on the license server, which moves it off any other;
* :func:`verify_license` (the Verify License button) asks the license server for the key's status
  here, falling back to the stored token when the server cannot be reached;
* :func:`check_license` / :func:`require_license` (create and the client area) judge the stored
  token, refreshing it online once it is older than :data:`REFRESH_AFTER`. Suspension and billing
  never call them: an invalid license stops new provisioning, not the service clients pay for.

Every answer the server gives is a signed token (:mod:`bridge.licensing.tokens`); the newest one
is stored per key, whatever it says, so a suspension reaches every check. When the server is
unreachable a stored token stays valid for ``BRIDGE_LICENSE_GRACE_DAYS`` after it was signed.
No database transaction is held open while the license server is asked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.engine import Connection

from bridge.db import Database
from bridge.errors import (
    InvalidRequest,
    LicenseRefused,
    LicenseTokenInvalid,
    NotConfigured,
    ProviderError,
    ProviderUnavailable,
)
from bridge.licensing.tokens import (
    LicenseClaims,
    key_digest,
    key_hint,
    new_nonce,
    normalize_key,
    parse_public_key,
    read_token,
)
from bridge.licensing.verdict import (
    Binding,
    LicenseReport,
    invalid,
    judge,
    normalize_ip,
    system_domain,
)
from bridge.modules.license import LicenseQuery, LicenseServerClient
from bridge.settings import Settings
from bridge.store.licenses import StoredLicense, load_license, note_refresh_failure, save_license
from bridge.whmcs.configuration import get_setting

log = logging.getLogger("bridge.usecases.licenses")

# A stored token older than this is refreshed online by the next check; after a failed attempt
# the server is asked again no sooner than RETRY_AFTER, so an outage does not slow every page.
REFRESH_AFTER = timedelta(hours=12)
RETRY_AFTER = timedelta(minutes=15)
NO_KEY = "no license key is set; enter it in the product's Module Settings, then Activate License."


@dataclass(frozen=True, slots=True)
class _Setup:
    url: str
    public_key: Ed25519PublicKey
    grace: timedelta


def activate_license(
    database: Database, key: str, *, settings: Settings, server_ip: str, now: datetime
) -> LicenseReport:
    """Register ``key`` to this WHMCS domain and server IP on the license server."""
    key = normalize_key(key)
    if not key:
        return invalid(NO_KEY)
    setup = _setup(settings)
    ip = normalize_ip(server_ip)
    if not ip:
        raise InvalidRequest(
            "The WHMCS module did not send the server's IP address (whmcs.server_ip), which the "
            "license is bound to; update the module files from this bridge's php_shim/."
        )
    with database.transaction() as conn:
        binding = Binding(_whmcs_domain(conn), ip)
    claims = _ask(setup, "activate", key, binding, now=now, database=database)
    report = judge(
        claims, key_sha256=key_digest(key), binding=binding, now=now, grace=setup.grace,
        fresh=True, activated=True,
    )  # fmt: skip
    log.info("license.activate key=%s status=%s", key_hint(key), report.status)
    return report


def verify_license(
    database: Database, key: str, *, settings: Settings, server_ip: str, now: datetime
) -> LicenseReport:
    """Ask the license server about ``key`` here; use the stored token if it cannot be reached."""
    key = normalize_key(key)
    if not key:
        return invalid(NO_KEY)
    setup = _setup(settings)
    ip = normalize_ip(server_ip)
    with database.transaction() as conn:
        binding = Binding(_whmcs_domain(conn), ip)
        stored = load_license(conn, key_digest(key))
    cached, problem = _read_stored(stored, setup)
    asked_ip = ip or (cached.ip if cached else "")
    if not asked_ip:
        return invalid(problem or "this key is not activated here; press Activate License.")
    try:
        claims = _ask(
            setup, "verify", key, Binding(binding.domain, asked_ip), now=now, database=database
        )
    except ProviderUnavailable as exc:
        report = _judge_offline(database, key, cached, problem, binding, setup, now, exc.message)
    else:
        report = judge(
            claims, key_sha256=key_digest(key), binding=binding, now=now, grace=setup.grace,
            fresh=True,
        )  # fmt: skip
    log.info("license.verify key=%s status=%s offline=%s", key_hint(key), report.status,
             report.offline)  # fmt: skip
    return report


def check_license(
    database: Database, key: str, *, settings: Settings, now: datetime, server_ip: str = ""
) -> LicenseReport:
    """Judge ``key``'s stored license here, refreshing it online when due; a bad license or an
    unreachable server is a report, never an exception."""
    key = normalize_key(key)
    if not key:
        return invalid(NO_KEY)
    try:
        setup = _setup(settings)
        ip = normalize_ip(server_ip)
        with database.transaction() as conn:
            binding = Binding(_whmcs_domain(conn), ip)
            stored = load_license(conn, key_digest(key))
    except (NotConfigured, InvalidRequest, LicenseTokenInvalid) as exc:
        return invalid(exc.message)
    cached, problem = _read_stored(stored, setup)
    if stored is None or cached is None:
        return invalid(problem or "this key is not activated here; press Activate License.")
    if not _refresh_due(stored, cached, setup, now):
        failed = stored.refresh_failed_at
        why = f"the license server did not answer at {failed:%Y-%m-%d %H:%M} UTC" if failed else ""
        return judge(
            cached, key_sha256=stored.key_sha256, binding=binding, now=now, grace=setup.grace,
            offline_because=why if failed and failed > cached.issued_at else "",
        )  # fmt: skip
    try:
        claims = _ask(
            setup, "verify", key, Binding(binding.domain, ip or cached.ip), now=now,
            database=database,
        )  # fmt: skip
    except ProviderError as exc:
        # Rejections count too: a rate limit or a broken answer must not stop provisioning
        # while the stored token is still within its grace period.
        return _judge_offline(database, key, cached, problem, binding, setup, now, exc.message)
    return judge(
        claims, key_sha256=stored.key_sha256, binding=binding, now=now, grace=setup.grace,
        fresh=True,
    )  # fmt: skip


def license_allows_provisioning(
    database: Database, key: str, *, settings: Settings, now: datetime, server_ip: str = ""
) -> bool:
    """Tell whether create and the client area may run under ``key`` here."""
    report = check_license(database, key, settings=settings, now=now, server_ip=server_ip)
    return report.allows_provisioning


def require_license(
    database: Database, key: str, *, settings: Settings, now: datetime, server_ip: str = ""
) -> LicenseReport:
    """Return the license report, or raise :class:`LicenseRefused` with its message if invalid."""
    report = check_license(database, key, settings=settings, now=now, server_ip=server_ip)
    if not report.allows_provisioning:
        raise LicenseRefused(report.message)
    return report


def _setup(settings: Settings) -> _Setup:
    if settings.license_public_key is None:
        raise NotConfigured(
            "The bridge cannot check licenses: BRIDGE_LICENSE_PUBLIC_KEY is not set. Set it to "
            "the license server's public key (`bridge license-server public-key`)."
        )
    return _Setup(
        url=settings.license_url,
        public_key=parse_public_key(settings.license_public_key),
        grace=timedelta(days=settings.license_grace_days),
    )


def _whmcs_domain(conn: Connection) -> str:
    return system_domain(get_setting(conn, "SystemURL"))


def _read_stored(stored: StoredLicense | None, setup: _Setup) -> tuple[LicenseClaims | None, str]:
    if stored is None:
        return None, ""
    try:
        return read_token(stored.token, setup.public_key), ""
    except LicenseTokenInvalid as exc:
        return None, f"the stored license cannot be used ({exc.message}); press Activate License."


def _refresh_due(
    stored: StoredLicense, cached: LicenseClaims, setup: _Setup, now: datetime
) -> bool:
    if now - cached.issued_at < min(REFRESH_AFTER, setup.grace):
        return False
    failed = stored.refresh_failed_at
    return failed is None or now - failed >= RETRY_AFTER


def _ask(
    setup: _Setup, action: str, key: str, binding: Binding, *, now: datetime, database: Database
) -> LicenseClaims:
    """Ask the license server, check that its signed answer is for this very request, store it."""
    query = LicenseQuery(key=key, domain=binding.domain, ip=binding.ip, nonce=new_nonce())
    with LicenseServerClient(setup.url) as client:
        answer = client.activate(query) if action == "activate" else client.verify(query)
    claims = read_token(answer.token, setup.public_key)
    sent = (key_digest(key), query.domain, query.ip, query.nonce)
    if (claims.key_sha256, claims.domain, claims.ip, claims.nonce) != sent:
        raise LicenseTokenInvalid(
            f"License server ({setup.url}) answered with a token for another request (key, "
            "domain, IP or nonce differ); it was not stored."
        )
    with database.transaction() as conn:
        save_license(
            conn, key_digest(key), key_hint=key_hint(key), token=answer.token,
            confirmed_at=claims.issued_at, now=now,
        )  # fmt: skip
    return claims


def _judge_offline(
    database: Database,
    key: str,
    cached: LicenseClaims | None,
    problem: str,
    binding: Binding,
    setup: _Setup,
    now: datetime,
    because: str,
) -> LicenseReport:
    log.warning("license.server_unreachable key=%s reason=%s", key_hint(key), because)
    if cached is None:
        return invalid(problem or f"the license server could not be asked ({because})", binding)
    with database.transaction() as conn:
        note_refresh_failure(conn, key_digest(key), now=now)
    return judge(
        cached, key_sha256=key_digest(key), binding=binding, now=now, grace=setup.grace,
        offline_because=because,
    )  # fmt: skip
