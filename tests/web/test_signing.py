"""Every way a shim request can fail signing is a JSON 4xx, and none writes anything."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import httpx2
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from starlette.testclient import TestClient

from bridge.app import create_app
from bridge.db import BoundDatabase
from bridge.settings import Settings
from bridge.store.tables import nonces
from bridge.web.signing import MAX_BODY_BYTES
from tests.web.signing_helpers import signing_headers

PATH = "/v1/whmcs/fusionpbx/meta"
BODY = json.dumps({"params": {"serviceid": 12}, "whmcs": {"version": "8.13.1"}}).encode()


def _nonce_count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(nonces)).scalar_one())


def _post(
    http: TestClient, headers: dict[str, str], body: bytes = BODY, path: str = PATH
) -> httpx2.Response:
    return http.post(path, content=body, headers=headers)


def _without(name: str) -> Callable[[dict[str, str]], dict[str, str]]:
    return lambda headers: {k: v for k, v in headers.items() if k != name}


def _replace(name: str, value: str) -> Callable[[dict[str, str]], dict[str, str]]:
    return lambda headers: {**headers, name: value}


class TestRejections:
    @pytest.mark.parametrize(
        ("tamper", "code"),
        [
            (_without("X-Bridge-Timestamp"), "signature_missing"),
            (_without("X-Bridge-Nonce"), "signature_missing"),
            (_without("X-Bridge-Signature"), "signature_missing"),
            (_replace("X-Bridge-Timestamp", "yesterday"), "signature_missing"),
            (_replace("X-Bridge-Nonce", "not-hex!"), "signature_missing"),
            (_replace("X-Bridge-Nonce", "abc"), "signature_missing"),
            (_replace("X-Bridge-Signature", "00" * 16), "signature_missing"),
            (_replace("X-Bridge-Signature", "0" * 64), "signature_invalid"),
        ],
        ids=[
            "no-timestamp",
            "no-nonce",
            "no-signature",
            "bad-timestamp",
            "bad-nonce-chars",
            "short-nonce",
            "short-signature",
            "wrong-signature",
        ],
    )
    def test_malformed_or_wrong_headers(
        self,
        http: TestClient,
        conn: Connection,
        tamper: Callable[[dict[str, str]], dict[str, str]],
        code: str,
    ) -> None:
        """Missing, malformed or wrong signing headers get 401 with a named code."""
        response = _post(http, tamper(signing_headers(PATH, BODY)))

        body = response.json()
        assert response.status_code == 401
        assert (body["ok"], body["error"]["code"]) == (False, code)
        assert body["error"]["message"]
        assert _nonce_count(conn) == 0

    def test_signature_over_a_different_body(self, http: TestClient, conn: Connection) -> None:
        """A signature made for one body does not authorise another."""
        headers = signing_headers(PATH, BODY)

        response = _post(http, headers, body=BODY.replace(b"12", b"13"))

        assert (response.status_code, response.json()["error"]["code"]) == (
            401,
            "signature_invalid",
        )
        assert _nonce_count(conn) == 0

    def test_signature_for_a_different_path(self, http: TestClient, conn: Connection) -> None:
        """A signature for one action cannot be replayed against another."""
        headers = signing_headers("/v1/whmcs/fusionpbx/config-options", BODY)

        response = _post(http, headers)

        assert response.json()["error"]["code"] == "signature_invalid"
        assert _nonce_count(conn) == 0

    def test_wrong_secret(self, http: TestClient, conn: Connection) -> None:
        """A shim configured with another secret is told the secrets must match."""
        response = _post(http, signing_headers(PATH, BODY, secret="x" * 40))

        assert response.status_code == 401
        assert "same secret" in response.json()["error"]["message"]
        assert _nonce_count(conn) == 0

    @pytest.mark.parametrize("offset", [-301, 301, -86_400])
    def test_timestamp_outside_the_window(
        self, http: TestClient, conn: Connection, offset: int
    ) -> None:
        """A correctly signed request more than 300 s from the bridge's clock is refused."""
        headers = signing_headers(PATH, BODY, timestamp=int(time.time()) + offset)

        response = _post(http, headers)

        assert (response.status_code, response.json()["error"]["code"]) == (401, "timestamp_skew")
        assert "NTP" in response.json()["error"]["message"]
        assert _nonce_count(conn) == 0

    def test_replayed_request(self, http: TestClient, conn: Connection) -> None:
        """The same signed request sent twice is accepted once; the replay writes nothing."""
        headers = signing_headers(PATH, BODY)

        first = _post(http, headers)
        replay = _post(http, headers)

        assert first.status_code == 200
        assert (replay.status_code, replay.json()["error"]["code"]) == (401, "nonce_reused")
        assert _nonce_count(conn) == 1

    def test_body_over_one_mebibyte(self, http: TestClient, conn: Connection) -> None:
        """A body over 1 MiB is refused with 413, signed or not."""
        big = b'{"params": {"blob": "' + b"a" * MAX_BODY_BYTES + b'"}}'

        response = _post(http, signing_headers(PATH, big), body=big)

        assert (response.status_code, response.json()["error"]["code"]) == (
            413,
            "payload_too_large",
        )
        assert _nonce_count(conn) == 0

    def test_chunked_body_over_the_limit(self, http: TestClient, conn: Connection) -> None:
        """A streamed body without Content-Length is cut off at the limit too."""
        chunk = b"a" * 65536
        chunks = (chunk for _ in range(MAX_BODY_BYTES // len(chunk) + 2))
        headers = signing_headers(PATH, b"")

        response = http.post(PATH, content=chunks, headers=headers)

        assert response.status_code == 413
        assert _nonce_count(conn) == 0

    def test_no_secret_configured(
        self, settings: Settings, database: BoundDatabase, conn: Connection
    ) -> None:
        """A bridge without BRIDGE_SECRET refuses module calls and says what to set."""
        app = create_app(Settings(database_url=settings.database_url), database=database)
        with TestClient(app) as http:
            response = _post(http, signing_headers(PATH, BODY))

        assert (response.status_code, response.json()["error"]["code"]) == (503, "not_configured")
        assert "BRIDGE_SECRET" in response.json()["error"]["message"]
        assert _nonce_count(conn) == 0


class TestAcceptance:
    def test_timestamp_inside_the_window_is_accepted(self, http: TestClient) -> None:
        """A request signed 200 s ago (clock drift within limits) is accepted."""
        headers = signing_headers(PATH, BODY, timestamp=int(time.time()) - 200)

        assert _post(http, headers).status_code == 200
