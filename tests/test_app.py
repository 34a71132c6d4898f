"""The app's error handling: bugs become a generic JSON 500 without internals."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from bridge.app import create_app
from bridge.settings import Settings


class _BrokenDatabase:
    backend = "mysql"

    def transaction(self) -> Any:
        raise RuntimeError("unexpected: secret-ish internals")

    def session(self) -> Any:
        raise RuntimeError("unexpected: secret-ish internals")

    def ping(self) -> float:
        raise RuntimeError("unexpected: secret-ish internals")


def test_unexpected_error_is_a_generic_json_500() -> None:
    """An unexpected exception answers 500 in the envelope and keeps its details in the log."""
    app = create_app(Settings(), database=_BrokenDatabase())
    with TestClient(app, raise_server_exceptions=False) as http:
        response = http.get("/healthz")

    assert response.status_code == 500
    assert response.json() == {
        "ok": False,
        "error": {"code": "internal", "message": "Internal error; see the log."},
    }
    assert "internals" not in response.text
