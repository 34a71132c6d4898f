"""What a token means for this installation: the five statuses, binding, expiry, grace period."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from bridge.errors import InvalidRequest
from bridge.licensing.tokens import LicenseClaims, LicenseStatus, key_digest
from bridge.licensing.verdict import (
    Binding,
    ReportStatus,
    judge,
    normalize_ip,
    system_domain,
)

KEY = key_digest("VB-7KQ2M-XR4TD-9PH3W-ZC8NB")
HERE = Binding("billing.example.net", "203.0.113.10")
SIGNED = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
GRACE = timedelta(days=7)
CLAIMS = LicenseClaims(
    key_sha256=KEY,
    domain=HERE.domain,
    ip=HERE.ip,
    status=LicenseStatus.ACTIVE,
    expires_on=date(2027, 6, 30),
    issued_at=SIGNED,
    nonce="0123456789abcdef",
)


def _judge(
    claims: LicenseClaims | None,
    *,
    key_sha256: str = KEY,
    binding: Binding = HERE,
    now: datetime = SIGNED + timedelta(minutes=1),
    grace: timedelta = GRACE,
    fresh: bool = False,
    activated: bool = False,
    offline_because: str = "",
) -> tuple[ReportStatus, str]:
    report = judge(
        claims, key_sha256=key_sha256, binding=binding, now=now, grace=grace, fresh=fresh,
        activated=activated, offline_because=offline_because,
    )  # fmt: skip
    return report.status, report.message


class TestStatuses:
    def test_active_names_domain_and_expiry(self) -> None:
        """A valid token reads License Active with the registered domain and expiry date."""
        assert _judge(CLAIMS) == (
            ReportStatus.ACTIVE,
            "License Active (billing.example.net, expires 2027-06-30)",
        )

    def test_active_without_expiry(self) -> None:
        """A key that never expires says so."""
        assert _judge(replace(CLAIMS, expires_on=None))[1] == (
            "License Active (billing.example.net, no expiry)"
        )

    def test_activated(self) -> None:
        """A fresh activation reads License Activated with the domain and IP registered."""
        status, message = _judge(CLAIMS, fresh=True, activated=True)

        assert status is ReportStatus.ACTIVATED
        assert message.startswith("License Activated: billing.example.net (203.0.113.10)")

    def test_suspended(self) -> None:
        """A suspended key reads License Suspended and says to contact the provider."""
        assert _judge(replace(CLAIMS, status=LicenseStatus.SUSPENDED)) == (
            ReportStatus.SUSPENDED,
            "License Suspended: contact your license provider.",
        )

    def test_expired_by_the_server(self) -> None:
        """The server's expired verdict reads License Expired with the date."""
        status, message = _judge(replace(CLAIMS, status=LicenseStatus.EXPIRED))

        assert status is ReportStatus.EXPIRED
        assert message.startswith("License Expired: it expired on 2027-06-30")

    def test_expiry_date_reached_offline(self) -> None:
        """A token whose expiry day has come is expired even before the server says so."""
        day_before = datetime(2027, 6, 29, 23, 59, tzinfo=UTC)
        on_the_day = datetime(2027, 6, 30, 0, 0, tzinfo=UTC)
        claims = replace(CLAIMS, issued_at=day_before - timedelta(hours=1))

        assert _judge(claims, now=day_before)[0] is ReportStatus.ACTIVE
        assert _judge(claims, now=on_the_day)[0] is ReportStatus.EXPIRED

    def test_invalid_gives_the_server_reason(self) -> None:
        """An invalid verdict carries the server's signed reason."""
        claims = replace(CLAIMS, status=LicenseStatus.INVALID, reason="unknown key.")

        assert _judge(claims) == (ReportStatus.INVALID, "Invalid License: unknown key.")

    def test_no_token(self) -> None:
        """Without a stored token the license is invalid and the admin is told to activate."""
        status, message = _judge(None)

        assert status is ReportStatus.INVALID
        assert "press Activate License" in message


class TestBinding:
    def test_token_for_another_domain(self) -> None:
        """A token registered for another domain is invalid here, naming both domains."""
        status, message = _judge(replace(CLAIMS, domain="old.example.org"))

        assert status is ReportStatus.INVALID
        assert "registered for old.example.org, not billing.example.net" in message

    def test_token_for_another_ip(self) -> None:
        """A token registered for another server IP is invalid here."""
        status, message = _judge(replace(CLAIMS, ip="198.51.100.7"))

        assert status is ReportStatus.INVALID
        assert "IP 198.51.100.7, not 203.0.113.10" in message

    def test_unknown_ip_is_not_compared(self) -> None:
        """A check that does not know the server IP (a cron run) compares the domain only."""
        assert _judge(CLAIMS, binding=Binding(HERE.domain))[0] is ReportStatus.ACTIVE

    def test_token_for_another_key(self) -> None:
        """A token for a different key (the product's key was changed) is invalid."""
        status, message = _judge(CLAIMS, key_sha256=key_digest("VB-OTHER-KEY00-00000-00000"))

        assert status is ReportStatus.INVALID
        assert "another key" in message


class TestGracePeriod:
    def test_cached_token_valid_until_grace_ends(self) -> None:
        """Offline, a cached token works until the grace period after it was signed, not after."""
        why = "license server unreachable"
        just_inside = SIGNED + GRACE - timedelta(seconds=1)

        assert _judge(CLAIMS, now=just_inside, offline_because=why)[0] is ReportStatus.ACTIVE
        status, message = _judge(CLAIMS, now=SIGNED + GRACE, offline_because=why)
        assert status is ReportStatus.INVALID
        assert "grace period ended 2026-12-06 10:00 UTC (license server unreachable)" in message

    def test_offline_message_says_until_when(self) -> None:
        """Working offline is stated, with the date the offline use ends."""
        message = _judge(CLAIMS, offline_because="no answer in time")[1]

        assert message.startswith("License Active (billing.example.net, expires 2027-06-30); ")
        assert "working offline (no answer in time)" in message
        assert "valid offline until 2026-12-06 10:00 UTC" in message

    def test_fresh_token_needs_no_grace(self) -> None:
        """A token the server signed for this very request is valid even with no grace period."""
        assert _judge(CLAIMS, grace=timedelta(0), fresh=True)[0] is ReportStatus.ACTIVE
        assert _judge(CLAIMS, grace=timedelta(0))[0] is ReportStatus.INVALID


class TestInstallation:
    @pytest.mark.parametrize(
        ("system_url", "domain"),
        [
            ("https://billing.example.net/", "billing.example.net"),
            ("https://www.Example.COM/whmcs/", "example.com"),
            ("http://billing.example.net:8443/portal", "billing.example.net"),
            ("billing.example.net", "billing.example.net"),
            ("https://facturación.example.es/", "xn--facturacin-obb.example.es"),
        ],
    )
    def test_domain_from_system_url(self, system_url: str, domain: str) -> None:
        """The license domain is the System URL's host, lower case, without www."""
        assert system_domain(system_url) == domain

    @pytest.mark.parametrize("system_url", [None, "", "   ", "https:///path"])
    def test_missing_system_url(self, system_url: str | None) -> None:
        """Without a System URL the admin is told where to set it."""
        with pytest.raises(InvalidRequest, match="General Settings"):
            system_domain(system_url)

    def test_ip_forms(self) -> None:
        """IPv4 and IPv6 addresses are kept canonical; blank means unknown; garbage is refused."""
        assert normalize_ip(" 203.0.113.10 ") == "203.0.113.10"
        assert normalize_ip("2001:DB8:0:0::1") == "2001:db8::1"
        assert normalize_ip("") == ""
        with pytest.raises(InvalidRequest, match="not an IP address"):
            normalize_ip("localhost")
