"""What a license token means for this installation, in the words the admin sees (pure, no I/O).

An installation is bound by its WHMCS domain (the host of ``tblconfiguration.SystemURL``) and the
WHMCS server's IP address. :func:`judge` compares a token's signed claims with that binding and the
current time and returns the status the module buttons show: License Active (domain, expiry),
License Activated, Invalid License, License Expired or License Suspended.

A token keeps working offline for a grace period after the license server last signed it, so a
license server outage does not stop provisioning; after that the license counts as invalid until
the server answers again.
"""

from __future__ import annotations

import contextlib
import ipaddress
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

from bridge.errors import InvalidRequest
from bridge.licensing.tokens import LicenseClaims, LicenseStatus

MAX_DOMAIN_LENGTH = 253


class ReportStatus(StrEnum):
    """The five statuses the license buttons answer with."""

    ACTIVE = "active"
    ACTIVATED = "activated"
    INVALID = "invalid"
    EXPIRED = "expired"
    SUSPENDED = "suspended"


_TITLES = {
    ReportStatus.ACTIVE: "License Active",
    ReportStatus.ACTIVATED: "License Activated",
    ReportStatus.INVALID: "Invalid License",
    ReportStatus.EXPIRED: "License Expired",
    ReportStatus.SUSPENDED: "License Suspended",
}


@dataclass(frozen=True, slots=True)
class Binding:
    """The installation a license is used on: WHMCS's domain and, when known, its server IP."""

    domain: str
    ip: str = ""


@dataclass(frozen=True, slots=True)
class LicenseReport:
    """A license's status for this installation and the one-line message the admin reads."""

    status: ReportStatus
    message: str
    domain: str = ""
    ip: str = ""
    expires_on: date | None = None
    confirmed_at: datetime | None = None
    offline: bool = False

    @property
    def allows_provisioning(self) -> bool:
        """Tell whether create and the client area may run under this license."""
        return self.status in (ReportStatus.ACTIVE, ReportStatus.ACTIVATED)


def system_domain(system_url: str | None) -> str:
    """Return the domain a license binds to from WHMCS's System URL (``https://host/path/``)."""
    text = (system_url or "").strip()
    host = urlsplit(text if "//" in text else f"//{text}").hostname if text else None
    if not host:
        raise InvalidRequest(
            "WHMCS has no System URL to bind the license to; set it under Setup > General "
            "Settings > General (e.g. https://billing.example.com/)."
        )
    # An internationalised domain travels as its ASCII (punycode) form.
    with contextlib.suppress(UnicodeError):
        host = host.encode("idna").decode("ascii")
    return normalize_domain(host)


def normalize_domain(domain: str) -> str:
    """Return ``domain`` as licenses compare it: lower case, no trailing dot, no ``www.``."""
    host = domain.strip().lower().rstrip(".")
    return host.removeprefix("www.")


def normalize_ip(text: str) -> str:
    """Return an IP address in its canonical form, or ``""`` for none; refuse anything else."""
    text = text.strip()
    if not text:
        return ""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise InvalidRequest(f"{text[:60]!r} is not an IP address.") from None


def invalid(reason: str, binding: Binding | None = None) -> LicenseReport:
    """Return an Invalid License report for ``reason``."""
    domain, ip = (binding.domain, binding.ip) if binding else ("", "")
    return LicenseReport(ReportStatus.INVALID, f"Invalid License: {reason}", domain, ip)


def judge(
    claims: LicenseClaims | None,
    *,
    key_sha256: str,
    binding: Binding,
    now: datetime,
    grace: timedelta,
    fresh: bool = False,
    activated: bool = False,
    offline_because: str = "",
) -> LicenseReport:
    """Return what ``claims`` (``None``: no usable token) mean for ``binding`` at ``now``.

    ``fresh`` claims were signed by the license server for this very request; older (cached)
    ones are valid only within ``grace`` of being signed. ``offline_because`` says why the
    server could not be asked, for the message.
    """
    if claims is None:
        return invalid("this key is not activated here; press Activate License.", binding)
    if claims.key_sha256 != key_sha256:
        return invalid(
            "the stored license is for another key; press Activate License for this one.",
            binding,
        )
    if claims.domain != binding.domain:
        return invalid(
            f"the license is registered for {claims.domain or 'no domain'}, not "
            f"{binding.domain}; press Activate License to move it here.",
            binding,
        )
    if binding.ip and claims.ip != binding.ip:
        return invalid(
            f"the license is registered for IP {claims.ip or 'none'}, not {binding.ip}; press "
            "Activate License to move it here.",
            binding,
        )
    found = LicenseReport(
        ReportStatus.INVALID,
        "",
        domain=claims.domain,
        ip=claims.ip,
        expires_on=claims.expires_on,
        confirmed_at=claims.issued_at,
        offline=not fresh,
    )
    if claims.status is LicenseStatus.SUSPENDED:
        return _said(found, ReportStatus.SUSPENDED, "contact your license provider.")
    if claims.status is LicenseStatus.INVALID:
        return _said(found, ReportStatus.INVALID, claims.reason or "the key is not valid here.")
    if claims.status is LicenseStatus.EXPIRED or (
        claims.expires_on is not None and now.date() >= claims.expires_on
    ):
        when = f" on {claims.expires_on.isoformat()}" if claims.expires_on else ""
        return _said(
            found, ReportStatus.EXPIRED, f"it expired{when}; renew it, then press Verify License."
        )
    valid_until = claims.issued_at + grace
    why = f" ({offline_because.rstrip('.')})" if offline_because else ""
    if not fresh and now >= valid_until:
        return _said(
            found,
            ReportStatus.INVALID,
            f"the license server has not confirmed it since {_when(claims.issued_at)} and the "
            f"offline grace period ended {_when(valid_until)}{why}.",
        )
    expiry = f"expires {claims.expires_on.isoformat()}" if claims.expires_on else "no expiry"
    if activated:
        return replace(
            found,
            status=ReportStatus.ACTIVATED,
            message=(
                f"License Activated: {claims.domain} ({claims.ip}) is now registered with this "
                f"key, {expiry}; any other installation using it was released."
            ),
        )
    message = f"License Active ({claims.domain}, {expiry})"
    if offline_because:
        message += (
            f"; working offline{why}: confirmed {_when(claims.issued_at)}, valid offline until "
            f"{_when(valid_until)}."
        )
    return replace(found, status=ReportStatus.ACTIVE, message=message)


def _said(found: LicenseReport, status: ReportStatus, detail: str) -> LicenseReport:
    return replace(found, status=status, message=f"{_TITLES[status]}: {detail}")


def _when(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%d %H:%M UTC")
