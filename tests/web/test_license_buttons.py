"""The Verify License and Activate License buttons through the signed shim endpoint."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx2
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from starlette.testclient import TestClient

from bridge.store.tables import licenses
from bridge.whmcs.seeding import insert_setting
from tests.fakes import free_port
from tests.licensing.harness import LicenseServer, running_license_server
from tests.web.signing_helpers import signing_headers

IP = "203.0.113.10"


@pytest.fixture(name="server", scope="module")
def _server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LicenseServer]:
    with running_license_server(tmp_path_factory.mktemp("license")) as server:
        yield server


@pytest.fixture(name="licensed")
def _licensed(
    conn: Connection, server: LicenseServer, monkeypatch: pytest.MonkeyPatch
) -> LicenseServer:
    insert_setting(conn, "SystemURL", "https://billing.example.net/")
    monkeypatch.setenv("BRIDGE_LICENSE_URL", server.url)
    monkeypatch.setenv("BRIDGE_LICENSE_PUBLIC_KEY", server.public_key)
    return server


def _press(
    http: TestClient, button: str, key: str, *, module: str = "fusionpbx", ip: str | None = IP
) -> httpx2.Response:
    """Send the button call the PHP shim sends: WHMCS's $params and the server's IP."""
    path = f"/v1/whmcs/{module}/button/{button}"
    params: dict[str, Any] = {"serviceid": 12, "configoption1": key, "configoption2": "Gold"}
    whmcs = {"version": "8.13.1", "system_url": "https://billing.example.net/"}
    if ip is not None:
        whmcs["server_ip"] = ip
    body = json.dumps({"params": params, "whmcs": whmcs}).encode()
    return http.post(path, content=body, headers=signing_headers(path, body))


class TestLicenseButtons:
    def test_activate_then_verify(self, http: TestClient, licensed: LicenseServer) -> None:
        """Activate succeeds with License Activated, then Verify with License Active and expiry."""
        key = licensed.create_key()

        activated = _press(http, "activate-license", key)
        verified = _press(http, "verify-license", key, module="vodia")

        assert activated.status_code == 200
        assert activated.json()["result"]["success"] is True
        assert activated.json()["result"]["message"].startswith(
            "License Activated: billing.example.net (203.0.113.10)"
        )
        active = "License Active (billing.example.net, no expiry)"
        assert verified.json() == {"ok": True, "result": {"success": True, "message": active}}

    def test_invalid_license(self, http: TestClient, licensed: LicenseServer) -> None:
        """A key the server does not know reads Invalid License, and the button did not succeed."""
        response = _press(http, "activate-license", "VB-NOPE0-NOPE0-NOPE0-NOPE0")

        assert response.json()["result"] == {
            "success": False,
            "message": "Invalid License: the license server does not know this key.",
        }

    def test_suspended_and_expired(self, http: TestClient, licensed: LicenseServer) -> None:
        """Verify reads License Suspended, then License Expired, as the server's record changes."""
        key = licensed.create_key()
        _press(http, "activate-license", key)
        licensed.suspend(key)
        suspended = _press(http, "verify-license", key).json()["result"]["message"]
        licensed.suspend(key, suspended=False)
        licensed.set_expiry(key, date(2020, 1, 1))
        expired = _press(http, "verify-license", key).json()["result"]["message"]

        assert suspended == "License Suspended: contact your license provider."
        assert expired.startswith("License Expired: it expired on 2020-01-01")

    def test_empty_params(self, http: TestClient, licensed: LicenseServer) -> None:
        """WHMCS's empty-$params call gets Invalid License asking for the key, not an error."""
        path = "/v1/whmcs/lesnet/button/verify-license"
        body = b'{"params": [], "whmcs": []}'

        response = http.post(path, content=body, headers=signing_headers(path, body))

        assert response.status_code == 200
        assert response.json()["result"]["success"] is False
        assert "no license key is set" in response.json()["result"]["message"]

    def test_activate_without_server_ip(
        self, http: TestClient, licensed: LicenseServer, conn: Connection
    ) -> None:
        """An old shim that sends no server IP gets a 422 naming the field; nothing is stored."""
        response = _press(http, "activate-license", licensed.create_key(), ip=None)

        assert response.status_code == 422
        assert "whmcs.server_ip" in response.json()["error"]["message"]
        assert conn.execute(select(func.count()).select_from(licenses)).scalar_one() == 0

    def test_activate_with_server_unreachable(
        self, http: TestClient, licensed: LicenseServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Activate cannot work offline: a 503 says the license server cannot be reached."""
        monkeypatch.setenv("BRIDGE_LICENSE_URL", f"http://127.0.0.1:{free_port()}")

        response = _press(http, "activate-license", licensed.create_key())

        assert response.status_code == 503
        assert response.json()["error"]["code"] == "provider_unavailable"
        assert "License server" in response.json()["error"]["message"]

    def test_unsigned_call_is_refused(self, http: TestClient, licensed: LicenseServer) -> None:
        """The buttons sit behind the shim's signature like every module call."""
        path = "/v1/whmcs/fusionpbx/button/activate-license"
        headers = signing_headers(path, b"{}", secret="wrong-secret-" + "x" * 32)

        response = http.post(path, content=b"{}", headers=headers)

        assert response.status_code == 401
