"""The fake-server harness itself: a real listener on loopback that stops cleanly."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from tests.fakes import serve


async def _hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse("hello")


def test_serve_answers_over_tcp_and_stops() -> None:
    """A served app answers real HTTP on 127.0.0.1 and refuses connections once stopped."""
    app = Starlette(routes=[Route("/", _hello)])

    with serve(app) as served:
        assert httpx.get(served.url, timeout=5).text == "hello"

    with pytest.raises(httpx.ConnectError):
        httpx.get(served.url, timeout=2)
