"""The HTTP border: every failure becomes a provider error with a usable message, secrets masked."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bridge.errors import ProviderRejected, ProviderUnavailable
from bridge.modules.base import PbxServer
from bridge.modules.http import PbxHttp
from bridge.redact import MASK
from tests.fakes import Served, free_port, serve

PASSWORD = "s3cret-pbx-password"


async def _ok(request: Request) -> Response:
    return JSONResponse({"success": 1})


async def _echo_password(request: Request) -> Response:
    return PlainTextResponse(f"login failed for admin/{PASSWORD}", status_code=403)


async def _boom(request: Request) -> Response:
    return PlainTextResponse("database is down", status_code=500)


async def _slow(request: Request) -> Response:
    await asyncio.sleep(2)
    return JSONResponse({})


async def _rate_limited(request: Request) -> Response:
    body = {"success": 0, "message": "Too many requests: more than 120 requests per minute"}
    return JSONResponse(body, status_code=429, headers={"Retry-After": "42"})


async def _not_json(request: Request) -> Response:
    return PlainTextResponse("<html>Welcome to nginx</html>")


async def _hostile_json(request: Request) -> Response:
    kind = request.query_params.get("kind", "")
    body = {"digits": b"9" * 5000, "deep": b"[" * 100_000 + b"]" * 100_000}[kind]
    return Response(body, media_type="application/json")


APP = Starlette(
    routes=[
        Route("/hostile", _hostile_json, methods=["POST"]),
        Route("/ok", _ok, methods=["GET", "POST"]),
        Route("/denied", _echo_password, methods=["POST"]),
        Route("/boom", _boom),
        Route("/slow", _slow),
        Route("/html", _not_json, methods=["POST"]),
        Route("/limited", _rate_limited, methods=["POST"]),
    ]
)


def _http(served: Served, *, read_timeout: float = 20.0) -> PbxHttp:
    server = PbxServer(
        id=1, name="pbx1", module="fusionpbx", hostname=served.host, port=served.port,
        secure=False, username="admin", password=PASSWORD,
    )  # fmt: skip
    timeout = httpx.Timeout(connect=2.0, read=read_timeout, write=2.0, pool=2.0)
    return PbxHttp(server, timeout=timeout)


@pytest.fixture(name="served", scope="module")
def _served() -> Iterator[Served]:
    with serve(APP) as served:
        yield served


class TestPbxHttp:
    def test_json_answer(self, served: Served) -> None:
        """A 2xx JSON answer is returned decoded."""
        with _http(served) as http:
            assert http.json("POST", "/ok") == {"success": 1}

    def test_429_is_temporary_with_the_wait_and_the_message(self, served: Served) -> None:
        """A rate-limited call is retried later, not shown as a refusal needing a fix."""
        with _http(served) as http, pytest.raises(ProviderUnavailable) as caught:
            http.json("POST", "/limited")

        assert caught.value.retryable
        assert "rate limited (it asks to wait 42 s)" in caught.value.message
        assert "more than 120 requests per minute" in caught.value.message

    def test_4xx_is_rejected_with_the_pbx_message_password_masked(
        self, served: Served, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A refusal shows the PBX's own words, with the password masked."""
        caplog.set_level(logging.DEBUG)
        with _http(served) as http, pytest.raises(ProviderRejected) as caught:
            http.request("POST", "/denied")

        assert "refused with 403: login failed for admin/" + MASK in caught.value.message
        assert PASSWORD not in caught.value.message
        assert PASSWORD not in caplog.text

    def test_5xx_is_temporary(self, served: Served) -> None:
        """A server error is retried next run, not shown as the PBX refusing."""
        with (
            _http(served) as http,
            pytest.raises(ProviderUnavailable, match=r"server error 500 .database is down.") as e,
        ):
            http.request("GET", "/boom")
        assert e.value.retryable

    def test_timeout_is_temporary(self, served: Served) -> None:
        """A PBX that does not answer in time is unavailable, not an exception from httpx."""
        with (
            _http(served, read_timeout=0.3) as http,
            pytest.raises(ProviderUnavailable, match="no answer in time"),
        ):
            http.request("GET", "/slow")

    def test_refused_connection_is_temporary(self) -> None:
        """Nothing listening on the port is an unavailable PBX."""
        closed = Served("127.0.0.1", free_port())

        with _http(closed) as http, pytest.raises(ProviderUnavailable, match="cannot connect"):
            http.request("GET", "/ok")

    def test_non_json_answer_suggests_the_script_is_missing(self, served: Served) -> None:
        """An HTML page where JSON was expected points at the PBX-side script."""
        with (
            _http(served) as http,
            pytest.raises(ProviderRejected, match=r"did not answer JSON .*script installed"),
        ):
            http.json("POST", "/html")

    @pytest.mark.parametrize("kind", ["digits", "deep"])
    def test_json_python_refuses_oddly_is_a_rejection_not_a_crash(
        self, served: Served, kind: str
    ) -> None:
        """A PBX answering a 5,000-digit number or 100,000-deep brackets is a provider error."""
        with (
            _http(served) as http,
            pytest.raises(ProviderRejected, match=r"did not answer JSON"),
        ):
            http.json("POST", f"/hostile?kind={kind}")

    def test_query_strings_stay_out_of_messages(self, served: Served) -> None:
        """A token in a URL's query string (a CDR link) never reaches an error message."""
        with (
            _http(served) as http,
            pytest.raises(ProviderUnavailable) as caught,
        ):
            http.request("GET", f"{served.url}/boom?token=abcdef123456")

        assert "abcdef123456" not in caught.value.message
        assert f"{served.url}/boom" in caught.value.message
