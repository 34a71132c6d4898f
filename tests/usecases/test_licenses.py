"""Activate, Verify and the provisioning check, against the real license server and MariaDB."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlalchemy import select, text
from sqlalchemy.engine import Connection
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bridge.clock import utc_now
from bridge.db import BoundDatabase
from bridge.errors import (
    InvalidRequest,
    LicenseRefused,
    LicenseTokenInvalid,
    NotConfigured,
)
from bridge.licensing.server import RateLimit
from bridge.licensing.tokens import key_digest
from bridge.licensing.verdict import ReportStatus
from bridge.settings import Settings
from bridge.store.licenses import load_license
from bridge.store.tables import licenses
from bridge.usecases.licenses import (
    REFRESH_AFTER,
    RETRY_AFTER,
    activate_license,
    check_license,
    license_allows_provisioning,
    require_license,
    verify_license,
)
from bridge.whmcs.seeding import insert_setting
from tests.fakes import free_port, serve
from tests.licensing.harness import LicenseServer, running_license_server

IP = "203.0.113.10"
START = "2026-11-29 10:00:00"


@pytest.fixture(name="server", scope="module")
def _server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LicenseServer]:
    with running_license_server(tmp_path_factory.mktemp("license")) as server:
        yield server


@pytest.fixture(name="whmcs")
def _whmcs(conn: Connection) -> Connection:
    insert_setting(conn, "SystemURL", "https://billing.example.net/whmcs/")
    return conn


def _move_whmcs(conn: Connection, system_url: str) -> None:
    conn.execute(
        text("UPDATE tblconfiguration SET value = :url WHERE setting = 'SystemURL'"),
        {"url": system_url},
    )


def _unreachable(server: LicenseServer, **options: int) -> Settings:
    return server.settings(url=f"http://127.0.0.1:{free_port()}", **options)


def _activate(database: BoundDatabase, server: LicenseServer, key: str, ip: str = IP) -> str:
    report = activate_license(
        database, key, settings=server.settings(), server_ip=ip, now=utc_now()
    )
    return report.message


def _verify(database: BoundDatabase, settings: Settings, key: str, ip: str = IP) -> ReportStatus:
    return verify_license(database, key, settings=settings, server_ip=ip, now=utc_now()).status


def _check(database: BoundDatabase, settings: Settings, key: str) -> ReportStatus:
    return check_license(database, key, settings=settings, now=utc_now()).status


class TestActivateAndVerify:
    def test_activate_then_verify(
        self, whmcs: Connection, database: BoundDatabase, server: LicenseServer
    ) -> None:
        """Activate registers this domain and IP; Verify then reads License Active with expiry."""
        key = server.create_key(expires_on=date(2030, 1, 1))

        activated = _activate(database, server, key)
        verified = verify_license(
            database, key, settings=server.settings(), server_ip=IP, now=utc_now()
        )

        assert activated.startswith(
            "License Activated: billing.example.net (203.0.113.10) is now registered"
        )
        assert verified.message == "License Active (billing.example.net, expires 2030-01-01)"
        assert (server.record(key).domain, server.record(key).ip) == ("billing.example.net", IP)
        assert license_allows_provisioning(database, key, settings=server.settings(), now=utc_now())
        allowed = require_license(database, key, settings=server.settings(), now=utc_now())
        assert allowed.domain == "billing.example.net"

    def test_stored_token_never_holds_the_key(
        self, whmcs: Connection, database: BoundDatabase, server: LicenseServer
    ) -> None:
        """The bridge's table keeps the signed token under the key's digest, with a hint only."""
        key = server.create_key()
        _activate(database, server, key)

        row = whmcs.execute(select(licenses)).mappings().one()

        assert row["key_sha256"] == key_digest(key)
        assert row["key_hint"] == f"…{key[-5:]}"
        assert not [part for part in key.split("-")[1:4] if part in str(dict(row))]

    def test_rebinding_moves_the_license_off_the_old_installation(
        self, whmcs: Connection, database: BoundDatabase, server: LicenseServer
    ) -> None:
        """Activating on a new WHMCS leaves the old one with Invalid License, and it stays so."""
        key = server.create_key()
        _activate(database, server, key)
        _move_whmcs(whmcs, "https://portal.example.org/")
        moved = _activate(database, server, key, ip="198.51.100.7")
        _move_whmcs(whmcs, "https://billing.example.net/whmcs/")

        old = verify_license(database, key, settings=server.settings(), server_ip=IP, now=utc_now())

        assert moved.startswith("License Activated: portal.example.org (198.51.100.7)")
        assert old.status is ReportStatus.INVALID
        assert "registered to another domain/IP; press Activate License" in old.message
        assert not license_allows_provisioning(
            database, key, settings=server.settings(), now=utc_now()
        )

    def test_suspended_license(
        self, whmcs: Connection, database: BoundDatabase, server: LicenseServer
    ) -> None:
        """A key suspended on the server reads License Suspended and refuses provisioning."""
        key = server.create_key()
        _activate(database, server, key)
        server.suspend(key)

        report = verify_license(
            database, key, settings=server.settings(), server_ip=IP, now=utc_now()
        )

        assert report.message == "License Suspended: contact your license provider."
        with pytest.raises(LicenseRefused, match="License Suspended"):
            require_license(database, key, settings=server.settings(), now=utc_now())

    def test_expiry(
        self, whmcs: Connection, database: BoundDatabase, server: LicenseServer
    ) -> None:
        """A key works up to its expiry day and reads License Expired from it, online or not."""
        key = server.create_key(expires_on=date(2031, 3, 1))
        with freeze_time("2031-02-28 12:00:00") as clock:
            _activate(database, server, key)
            before = _verify(database, server.settings(), key)
            clock.move_to("2031-03-01 00:00:01")
            offline = _check(database, _unreachable(server), key)
            online = verify_license(
                database, key, settings=server.settings(), server_ip=IP, now=utc_now()
            )

        assert before is ReportStatus.ACTIVE
        assert offline is ReportStatus.EXPIRED
        assert online.message.startswith("License Expired: it expired on 2031-03-01")

    def test_unknown_key(
        self, whmcs: Connection, database: BoundDatabase, server: LicenseServer
    ) -> None:
        """A key the license server never issued reads Invalid License, saying so."""
        message = _activate(database, server, "VB-00000-00000-00000-00000")

        assert message == "Invalid License: the license server does not know this key."

    def test_no_key_set(self, whmcs: Connection, database: BoundDatabase) -> None:
        """A product with an empty License Key is invalid on every path, saying where to set it."""
        settings, now = Settings(), utc_now()
        reports = [
            check_license(database, "  ", settings=settings, now=now),
            verify_license(database, "", settings=settings, server_ip=IP, now=now),
            activate_license(database, "", settings=settings, server_ip=IP, now=now),
        ]

        assert {report.status for report in reports} == {ReportStatus.INVALID}
        assert all("enter it in the product's Module Settings" in r.message for r in reports)

    def test_verify_without_ip_or_stored_license(
        self, whmcs: Connection, database: BoundDatabase, server: LicenseServer
    ) -> None:
        """Verify from a call without the server IP, on a key never activated, asks to activate."""
        report = verify_license(
            database, server.create_key(), settings=server.settings(), server_ip="", now=utc_now()
        )

        assert report.status is ReportStatus.INVALID
        assert "not activated here; press Activate License" in report.message

    def test_activate_needs_the_server_ip(
        self, whmcs: Connection, database: BoundDatabase, server: LicenseServer
    ) -> None:
        """Without the WHMCS server's IP the license cannot be bound, and the admin is told why."""
        with pytest.raises(InvalidRequest, match=r"whmcs\.server_ip"):
            activate_license(
                database, server.create_key(), settings=server.settings(), server_ip="",
                now=utc_now(),
            )  # fmt: skip

    def test_without_public_key(
        self, whmcs: Connection, database: BoundDatabase, server: LicenseServer
    ) -> None:
        """With no public key configured the buttons say what to set; provisioning is refused."""
        settings = replace(server.settings(), license_public_key=None)

        with pytest.raises(NotConfigured, match="BRIDGE_LICENSE_PUBLIC_KEY"):
            _verify(database, settings, server.create_key())
        report = check_license(database, "VB-X", settings=settings, now=utc_now())
        assert report.status is ReportStatus.INVALID
        assert "BRIDGE_LICENSE_PUBLIC_KEY" in report.message

    def test_key_never_logged_in_full(
        self,
        whmcs: Connection,
        database: BoundDatabase,
        server: LicenseServer,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """Activate and Verify, online and offline, log the key's hint only."""
        key = server.create_key()
        with caplog.at_level(logging.DEBUG):
            _activate(database, server, key)
            _verify(database, server.settings(), key)
            _verify(database, _unreachable(server), key)

        assert f"…{key[-5:]}" in caplog.text
        assert not [part for part in key.split("-")[1:4] if part in caplog.text]


class TestStoredToken:
    def test_tampered_token_is_refused(
        self, whmcs: Connection, database: BoundDatabase, server: LicenseServer
    ) -> None:
        """A stored token edited in the database no longer counts: Invalid License."""
        key = server.create_key()
        _activate(database, server, key)
        token = whmcs.execute(select(licenses.c.token)).scalar_one()
        prefix, payload, signature = token.split(".")
        forged = f"{prefix}.{payload[:-2]}{'AA' if payload[-2:] != 'AA' else 'BB'}.{signature}"
        whmcs.execute(licenses.update().values(token=forged))

        report = check_license(database, key, settings=server.settings(), now=utc_now())

        assert report.status is ReportStatus.INVALID
        assert "the stored license cannot be used" in report.message

    def test_token_for_another_domain(
        self, whmcs: Connection, database: BoundDatabase, server: LicenseServer
    ) -> None:
        """After WHMCS moves to another domain the stored token is invalid until re-activated."""
        key = server.create_key()
        _activate(database, server, key)
        _move_whmcs(whmcs, "https://new.example.org/")

        report = check_license(database, key, settings=server.settings(), now=utc_now())

        assert report.status is ReportStatus.INVALID
        assert "registered for billing.example.net, not new.example.org" in report.message

    def test_replayed_answer_is_refused_and_not_stored(
        self, whmcs: Connection, database: BoundDatabase, server: LicenseServer
    ) -> None:
        """A genuine old answer replayed by an impostor fails the nonce check; nothing is stored."""
        key = server.create_key()
        _activate(database, server, key)
        stored = load_license(whmcs, key_digest(key))
        assert stored is not None

        async def replay(request: Request) -> JSONResponse:
            result = {"status": "active", "message": "active", "token": stored.token}
            return JSONResponse({"ok": True, "result": result})

        impostor = Starlette(routes=[Route("/v1/verify", replay, methods=["POST"])])
        with serve(impostor) as served, pytest.raises(LicenseTokenInvalid, match="nonce"):
            _verify(database, server.settings(url=served.url), key)
        assert load_license(whmcs, key_digest(key)) == stored


class TestServerUnreachable:
    def test_grace_period(
        self, whmcs: Connection, database: BoundDatabase, server: LicenseServer
    ) -> None:
        """Offline, the stored token works for the grace period after it was signed, not after."""
        key = server.create_key()
        with freeze_time(START) as clock:
            _activate(database, server, key)
            clock.tick(timedelta(days=6, hours=23))
            inside = verify_license(
                database, key, settings=_unreachable(server), server_ip=IP, now=utc_now()
            )
            gate_inside = _check(database, _unreachable(server), key)
            clock.tick(timedelta(hours=1))
            after = verify_license(
                database, key, settings=_unreachable(server), server_ip=IP, now=utc_now()
            )
            gate_after = _check(database, _unreachable(server), key)

        assert inside.status is ReportStatus.ACTIVE
        assert "working offline (License server" in inside.message
        assert "valid offline until 2026-12-06 10:00 UTC" in inside.message
        assert gate_inside is ReportStatus.ACTIVE
        assert after.status is gate_after is ReportStatus.INVALID
        assert "grace period ended 2026-12-06 10:00 UTC" in after.message

    def test_server_back_restores_the_license(
        self, whmcs: Connection, database: BoundDatabase, server: LicenseServer
    ) -> None:
        """Once the server answers again, Verify brings the license back after the grace period."""
        key = server.create_key()
        with freeze_time(START) as clock:
            _activate(database, server, key)
            clock.tick(timedelta(days=30))
            offline = _verify(database, _unreachable(server), key)
            online = _verify(database, server.settings(), key)

        assert (offline, online) == (ReportStatus.INVALID, ReportStatus.ACTIVE)

    def test_nothing_stored_and_server_unreachable(
        self, whmcs: Connection, database: BoundDatabase, server: LicenseServer
    ) -> None:
        """Verify without a stored token and without the server is invalid, saying why."""
        report = verify_license(
            database, server.create_key(), settings=_unreachable(server), server_ip=IP,
            now=utc_now(),
        )  # fmt: skip

        assert report.status is ReportStatus.INVALID
        assert "could not be asked (License server" in report.message
        assert "cannot connect" in report.message


class TestProvisioningCheck:
    def test_fresh_token_needs_no_server(
        self, whmcs: Connection, database: BoundDatabase, server: LicenseServer
    ) -> None:
        """Within the refresh interval the check uses the stored token without asking."""
        key = server.create_key()
        with freeze_time(START) as clock:
            _activate(database, server, key)
            clock.tick(REFRESH_AFTER - timedelta(minutes=1))
            report = check_license(database, key, settings=_unreachable(server), now=utc_now())

        # Asking the unreachable server would have added "working offline" to the message.
        assert report.message == "License Active (billing.example.net, no expiry)"

    def test_due_token_is_refreshed_online(
        self, whmcs: Connection, database: BoundDatabase, server: LicenseServer
    ) -> None:
        """Once the token is due, the check asks the server and sees a suspension."""
        key = server.create_key()
        with freeze_time(START) as clock:
            _activate(database, server, key)
            server.suspend(key)
            clock.tick(REFRESH_AFTER - timedelta(minutes=1))
            not_yet = _check(database, server.settings(), key)
            clock.tick(timedelta(minutes=2))
            refreshed = _check(database, server.settings(), key)

        assert (not_yet, refreshed) == (ReportStatus.ACTIVE, ReportStatus.SUSPENDED)

    def test_failed_refresh_is_not_retried_on_every_check(
        self, whmcs: Connection, database: BoundDatabase, server: LicenseServer
    ) -> None:
        """After a failed refresh the server is asked again only after the retry interval."""
        key = server.create_key()
        with freeze_time(START) as clock:
            _activate(database, server, key)
            server.suspend(key)
            clock.tick(REFRESH_AFTER)
            failed = check_license(database, key, settings=_unreachable(server), now=utc_now())
            clock.tick(RETRY_AFTER - timedelta(minutes=1))
            waiting = check_license(database, key, settings=server.settings(), now=utc_now())
            clock.tick(timedelta(minutes=2))
            retried = _check(database, server.settings(), key)

        assert failed.status is waiting.status is ReportStatus.ACTIVE
        assert "working offline" in failed.message
        assert "did not answer at 2026-11-29 22:00 UTC" in waiting.message
        assert retried is ReportStatus.SUSPENDED

    def test_rate_limited_server_counts_as_unavailable(
        self, whmcs: Connection, database: BoundDatabase, tmp_path: Path
    ) -> None:
        """A 429 is temporary: Verify and the check use the stored token, showing the reason."""
        with running_license_server(
            tmp_path, rate_limit=RateLimit(requests=1, per_seconds=10**8)
        ) as limited:
            key = limited.create_key()
            _activate(database, limited, key)
            verified = verify_license(
                database, key, settings=limited.settings(), server_ip=IP, now=utc_now()
            )
            with freeze_time(utc_now() + REFRESH_AFTER):
                checked = check_license(database, key, settings=limited.settings(), now=utc_now())

        assert verified.status is checked.status is ReportStatus.ACTIVE
        assert "rate limited (it asks to wait" in verified.message
        assert "Too many license requests" in checked.message
