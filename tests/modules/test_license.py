"""The license server adapter: its exchange over real HTTP and how failures reach the admin."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bridge.errors import ProviderRejected, ProviderUnavailable
from bridge.modules.license import LicenseQuery, LicenseServerClient
from bridge.redact import MASK
from tests.fakes import Served, free_port, serve
from tests.licensing.harness import running_license_server

KEY = "VB-SECRT-SECRT-SECRT-SECRT"
QUERY = LicenseQuery(
    key=KEY, domain="billing.example.net", ip="203.0.113.10", nonce="0123456789abcdef"
)


async def _down(request: Request) -> Response:
    return PlainTextResponse("maintenance", status_code=503)


async def _echo_key(request: Request) -> Response:
    body = await request.json()
    error = {"code": "invalid_request", "message": f"key {body['key']} is banned"}
    return JSONResponse({"ok": False, "error": error}, status_code=403)


async def _no_token(request: Request) -> Response:
    return JSONResponse({"ok": True, "result": {"status": "active", "message": "active"}})


async def _limited(request: Request) -> Response:
    error = {
        "code": "rate_limited",
        "message": "Too many license requests; try again in 9 seconds.",
    }
    body = {"ok": False, "error": error}
    return JSONResponse(body, status_code=429, headers={"Retry-After": "9"})


async def _html(request: Request) -> Response:
    return PlainTextResponse("<html>It works!</html>")


ODD = Starlette(
    routes=[
        Route("/down/v1/verify", _down, methods=["POST"]),
        Route("/banned/v1/verify", _echo_key, methods=["POST"]),
        Route("/tokenless/v1/verify", _no_token, methods=["POST"]),
        Route("/html/v1/verify", _html, methods=["POST"]),
        Route("/limited/v1/verify", _limited, methods=["POST"]),
    ]
)


@pytest.fixture(name="odd", scope="module")
def _odd() -> Iterator[Served]:
    with serve(ODD) as served:
        yield served


class TestLicenseServerClient:
    def test_real_server_answer(self, tmp_path: Path) -> None:
        """Against the reference server the answer carries a status, a message and a token."""
        with running_license_server(tmp_path) as server, LicenseServerClient(server.url) as client:
            answer = client.activate(QUERY)

        assert answer.status == "invalid"
        assert answer.message == "invalid: the license server does not know this key."
        assert answer.token.startswith("vb1.")

    def test_unreachable_server_is_unavailable(self) -> None:
        """Nothing listening: the server is unavailable (the cached token may be used)."""
        with (
            LicenseServerClient(f"http://127.0.0.1:{free_port()}") as client,
            pytest.raises(ProviderUnavailable, match="cannot connect"),
        ):
            client.verify(QUERY)

    def test_server_error_is_unavailable(self, odd: Served) -> None:
        """A 5xx is a temporary failure, not a verdict."""
        with (
            LicenseServerClient(f"{odd.url}/down") as client,
            pytest.raises(ProviderUnavailable, match="server error 503 \\(maintenance\\)"),
        ):
            client.verify(QUERY)

    def test_4xx_shows_the_server_message_with_the_key_masked(self, odd: Served) -> None:
        """A refusal carries the server's own message, and never the key."""
        with (
            LicenseServerClient(f"{odd.url}/banned") as client,
            pytest.raises(ProviderRejected) as caught,
        ):
            client.verify(QUERY)

        assert f"refused with 403: key {MASK} is banned" in caught.value.message
        assert KEY not in caught.value.message

    def test_rate_limit_is_temporary(self, odd: Served) -> None:
        """A 429 is unavailable (try later), with the wait and the server's message."""
        with (
            LicenseServerClient(f"{odd.url}/limited") as client,
            pytest.raises(ProviderUnavailable, match=r"wait 9 s\): Too many license requests"),
        ):
            client.verify(QUERY)

    def test_answer_without_token(self, odd: Served) -> None:
        """A JSON answer without a token is rejected as not being the license server's."""
        with (
            LicenseServerClient(f"{odd.url}/tokenless") as client,
            pytest.raises(ProviderRejected, match="without a status and token"),
        ):
            client.verify(QUERY)

    def test_answer_that_is_not_json(self, odd: Served) -> None:
        """A web server's page at the license URL is rejected, saying it is not JSON."""
        with (
            LicenseServerClient(f"{odd.url}/html") as client,
            pytest.raises(ProviderRejected, match="did not answer JSON"),
        ):
            client.verify(QUERY)
