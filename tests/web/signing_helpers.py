"""An independent implementation of the shim's side of DESIGN.md §3, for driving the bridge."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from starlette.testclient import TestClient

from tests.conftest import TEST_SECRET


def signing_headers(
    path: str,
    body: bytes,
    *,
    secret: str = TEST_SECRET,
    method: str = "POST",
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """Return the three X-Bridge-* headers the PHP shim would send for this request."""
    ts = int(time.time()) if timestamp is None else timestamp
    nonce = nonce or secrets.token_hex(16)
    message = f"{ts}\n{nonce}\n{method}\n{path}\n{hashlib.sha256(body).hexdigest()}"
    signature = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    return {
        "X-Bridge-Timestamp": str(ts),
        "X-Bridge-Nonce": nonce,
        "X-Bridge-Signature": signature,
        "Content-Type": "application/json",
    }


def call_module(
    http: TestClient, module: str, action: str, params: dict[str, Any] | None = None
) -> Any:
    """POST a correctly signed module call and return the response."""
    path = f"/v1/whmcs/{module}/{action}"
    body = json.dumps({"params": params or {}, "whmcs": {"version": "8.13.1"}}).encode()
    return http.post(path, content=body, headers=signing_headers(path, body))
