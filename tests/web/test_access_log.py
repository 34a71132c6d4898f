"""The access log records each request without its query string."""

from __future__ import annotations

import logging

import pytest
from starlette.testclient import TestClient


def test_query_strings_stay_out_of_the_access_log(
    http: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    """A token passed in the query string is not written to the log; path and status are."""
    caplog.set_level(logging.INFO, logger="bridge.access")

    http.get("/healthz?token=very-secret-token-123")

    lines = [r.getMessage() for r in caplog.records if r.name == "bridge.access"]
    assert len(lines) == 1
    assert "GET /healthz 200" in lines[0]
    assert "very-secret-token-123" not in caplog.text
