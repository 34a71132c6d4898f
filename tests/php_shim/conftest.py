"""Fixtures for the PHP shim tests: the installed modules, one bridge per test module, a PBX.

The bridge is the real app under uvicorn on 127.0.0.1, started once per test module as a
:class:`~tests.fakes.Switchboard`; each test plugs in an app bound to its own rolled-back
connection, so what the PHP call changed is visible to the test and gone afterwards. The fake
FusionPBX answers on the session's switchboard; the reference license server runs per module.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Connection
from starlette.datastructures import Secret

from bridge.app import create_app
from bridge.db import BoundDatabase
from bridge.settings import Settings
from tests.conftest import TEST_SECRET
from tests.factories.pbx_service import KEY, World, fusionpbx_world
from tests.fakes import Served, Switchboard, serve
from tests.licensing.harness import LicenseServer, running_license_server
from tests.php_shim.harness import PhpShim, install_shim


@pytest.fixture(scope="module", name="php")
def _php(tmp_path_factory: pytest.TempPathFactory) -> PhpShim:
    """The three modules and the library, installed into a WHMCS folder by install.sh."""
    return install_shim(tmp_path_factory.mktemp("whmcs"))


@pytest.fixture(scope="module", name="bridge_board")
def _bridge_board() -> Iterator[Switchboard]:
    board = Switchboard()
    with serve(board) as served:
        board.served = served
        yield board


@pytest.fixture(scope="module", name="license_server")
def _license_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LicenseServer]:
    with running_license_server(tmp_path_factory.mktemp("license")) as server:
        yield server


@pytest.fixture(name="bridge_settings")
def _bridge_settings(
    settings: Settings, license_server: LicenseServer, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """The bridge's settings; the license buttons read theirs from the environment."""
    monkeypatch.setenv("BRIDGE_LICENSE_URL", license_server.url)
    monkeypatch.setenv("BRIDGE_LICENSE_PUBLIC_KEY", license_server.public_key)
    return Settings(
        database_url=settings.database_url,
        secret=Secret(TEST_SECRET),
        encryption_key=KEY,
        database_configured=True,
        license_url=license_server.url,
        license_public_key=license_server.public_key,
    )


@pytest.fixture(name="bridge")
def _bridge(
    bridge_board: Switchboard, bridge_settings: Settings, conn: Connection, php: PhpShim
) -> Iterator[Served]:
    """The bridge on this test's connection, and the shim configured to call it."""
    app = create_app(bridge_settings, database=BoundDatabase(conn))
    with bridge_board.plug(app) as served:
        php.configure(served.url, cache_dir=str(php.home / "cache"))
        yield served


@pytest.fixture(name="world")
def _world(
    conn: Connection, switchboard: Switchboard, license_server: LicenseServer
) -> Iterator[World]:
    """A WHMCS with one client, a fusionpbx product, server and service on a fake PBX."""
    with fusionpbx_world(conn, switchboard, license_server.create_key()) as world:
        yield world
