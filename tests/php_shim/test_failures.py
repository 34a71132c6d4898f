"""The PHP modules when things go wrong: no bridge, a slow one, a web page instead of the bridge,
a wrong secret, a replayed request, and every function called with empty $params.

Whatever happens, each function returns the type WHMCS expects, with a sentence the admin can
act on and without a PHP warning (error_reporting(E_ALL)).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import httpx
import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bridge.app import create_app
from bridge.db import BoundDatabase
from bridge.settings import Settings
from bridge.whmcs.tables import module_log
from tests.factories.pbx_service import TENANT, World
from tests.fakes import Served, Switchboard
from tests.php_shim.harness import MODULES, PhpShim

CLOSED = "http://127.0.0.1:9"
# Every module function and the PHP type WHMCS expects of it.
FUNCTIONS = {
    "MetaData": "array",
    "ConfigOptions": "array",
    "CreateAccount": "string",
    "SuspendAccount": "string",
    "UnsuspendAccount": "string",
    "TerminateAccount": "string",
    "ChangePackage": "string",
    "TestConnection": "array",
    "AdminCustomButtonArray": "array",
    "verifyLicense": "string",
    "activateLicense": "string",
    "collectCdrs": "string",
    "AdminServicesTabFields": "array",
    "ClientArea": "array",
    "ClientAreaAllowedFunctions": "array",
    "exportCalls": "string",
}
NO_ARGUMENT = ("MetaData", "ClientAreaAllowedFunctions")


@dataclass
class Recorder:
    """An ASGI app in front of the bridge that keeps every request's headers and body."""

    inner: ASGIApp
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Record the request, then let the bridge answer it."""
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.requests.append((scope["path"], headers, body))

        async def replay() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        await self.inner(scope, replay, send)


def _answering(response: Response, delay: float = 0.0) -> Starlette:
    """Return an app that answers every POST with ``response`` after ``delay`` seconds."""

    async def endpoint(request: Request) -> Response:
        await asyncio.sleep(delay)
        return response

    return Starlette(routes=[Route("/{path:path}", endpoint, methods=["POST"])])


@pytest.fixture(name="impostor")
def _impostor(bridge_board: Switchboard, php: PhpShim) -> Switchboard:
    """The bridge's address with nothing plugged in yet: the test plugs what answers there."""
    php.configure(
        f"http://127.0.0.1:{bridge_board.served.port if bridge_board.served else 0}",
        cache_dir=str(php.home / "cache-impostor"),
        timeout=1,
    )
    return bridge_board


class TestEveryFunctionKeepsItsType:
    @pytest.mark.parametrize("module", MODULES)
    @pytest.mark.parametrize("where", ["unreachable", "not configured", "bridge up"])
    def test_empty_params(
        self, php: PhpShim, bridge_board: Switchboard, module: str, where: str,
        request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
    ) -> None:  # fmt: skip
        """Called with empty $params, every function returns its WHMCS type, warning-free."""
        if where == "bridge up":
            request.getfixturevalue("bridge")
        cache = tmp_path_factory.mktemp("empty-cache")
        if where == "unreachable":
            php.configure(CLOSED, cache_dir=str(cache))
        elif where == "not configured":
            php.config_file.unlink(missing_ok=True)

        for name, expected in FUNCTIONS.items():
            args: tuple[dict[str, str], ...] = () if name in NO_ARGUMENT else ({},)
            result = php.call(f"{module}_{name}", *args)

            assert (name, result.type, result.warnings) == (name, expected, "")
            if where == "not configured" and expected == "string":
                assert result.value.startswith("voipbridge is not configured: copy")

    def test_bridge_down_is_a_clear_error(self, php: PhpShim, world: World) -> None:
        """No bridge listening: Suspend says it cannot be reached and to check bridge_url."""
        php.configure(CLOSED)

        result = php.call("fusionpbx_SuspendAccount", world.params)

        assert result.value.startswith("The voipbridge service at http://127.0.0.1:9 cannot be")
        assert "Check that it is running and that bridge_url is right." in result.value


class TestMisbehavingBridge:
    def test_a_slow_bridge_times_out_with_a_clear_error(
        self, php: PhpShim, impostor: Switchboard, world: World
    ) -> None:
        """A bridge slower than the configured timeout (1 s) is given up on after 1 s."""
        slow = _answering(Response('{"ok": true, "result": "late"}'), delay=3)
        with impostor.plug(slow):
            started = time.monotonic()
            result = php.call("fusionpbx_SuspendAccount", world.params)
            took = time.monotonic() - started

        assert result.value.startswith("The voipbridge service at http://127.0.0.1:")
        assert "did not answer within 1 seconds" in result.value
        assert took < 3

    def test_a_web_page_instead_of_the_bridge(
        self, php: PhpShim, impostor: Switchboard, world: World
    ) -> None:
        """An HTML answer (a proxy's page) is named as not the bridge's JSON, with an excerpt."""
        page = HTMLResponse("<html><body><h1>Welcome to nginx!</h1></body></html>")
        with impostor.plug(_answering(page)):
            suspended = php.call("fusionpbx_SuspendAccount", world.params)
            tested = php.call("fusionpbx_TestConnection", world.server_params)

        assert "answered HTTP 200 (text/html; charset=utf-8)" in suspended.value
        assert "not its JSON" in suspended.value
        assert '"Welcome to nginx!"' in suspended.value
        assert tested.value == {"success": False, "error": suspended.value}

    def test_a_wrong_secret_is_refused_and_writes_nothing(
        self, php: PhpShim, bridge: Served, world: World
    ) -> None:
        """With another secret the bridge refuses the call; the PBX and WHMCS are untouched."""
        php.configure(bridge.url, secret="not-the-bridge-secret-at-all")

        result = php.call("fusionpbx_SuspendAccount", world.params)

        assert result.value.startswith("Bad request signature.")
        assert world.pbx.requests == []
        count = world.conn.execute(select(func.count()).select_from(module_log)).scalar_one()
        assert count == 0

    def test_a_replayed_request_is_refused(
        self,
        php: PhpShim,
        bridge_board: Switchboard,
        bridge_settings: Settings,
        world: World,
    ) -> None:
        """Each call has a fresh nonce; sending a recorded call again is refused, not redone."""
        recorder = Recorder(create_app(bridge_settings, database=BoundDatabase(world.conn)))
        world.pbx.add_tenant(TENANT, ("2112", "2113"), enabled=True)
        with bridge_board.plug(recorder) as served:
            php.configure(served.url)
            assert php.call("fusionpbx_SuspendAccount", world.params).value == "success"
            assert php.call("fusionpbx_SuspendAccount", world.params).value == "success"
            calls = list(recorder.requests)
            path, headers, body = calls[0]
            replayed = httpx.post(f"{served.url}{path}", content=body, headers=headers)

        assert len({headers["x-bridge-nonce"] for _path, headers, _body in calls}) == 2
        assert replayed.status_code == 401
        assert replayed.json()["error"]["code"] == "nonce_reused"
        count = world.conn.execute(select(func.count()).select_from(module_log)).scalar_one()
        assert count == 2
