"""The reference license server over real HTTP: statuses, re-binding, signing, bad input, limits."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from bridge.licensing.server import MAX_BODY_BYTES, RateLimit, RateLimiter
from bridge.licensing.tokens import LicenseClaims, LicenseStatus, parse_public_key, read_token
from tests.licensing.harness import LicenseServer, running_license_server

OLD = {"domain": "billing.example.net", "ip": "203.0.113.10"}
NEW = {"domain": "portal.example.org", "ip": "198.51.100.7"}
NONCE = "00112233445566778899aabbccddeeff"


@pytest.fixture(name="server", scope="module")
def _server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LicenseServer]:
    with running_license_server(tmp_path_factory.mktemp("license")) as server:
        yield server


def _post(server: LicenseServer, action: str, key: str, where: dict[str, str]) -> httpx.Response:
    body = {"key": key, "nonce": NONCE, **where}
    return httpx.post(f"{server.url}/v1/{action}", json=body, timeout=10)


def _claims(server: LicenseServer, response: httpx.Response) -> LicenseClaims:
    assert response.status_code == 200, response.text
    return read_token(response.json()["result"]["token"], parse_public_key(server.public_key))


class TestStatuses:
    def test_activation_binds_and_verify_then_answers_active(self, server: LicenseServer) -> None:
        """Activating a new key binds it here; verifying from here is then active."""
        key = server.create_key(expires_on=date(2030, 1, 1))

        activated = _claims(server, _post(server, "activate", key, OLD))
        verified = _claims(server, _post(server, "verify", key, OLD))

        assert activated.status is LicenseStatus.ACTIVE
        assert (verified.status, verified.domain, verified.ip) == (
            LicenseStatus.ACTIVE, "billing.example.net", "203.0.113.10",
        )  # fmt: skip
        assert verified.expires_on == date(2030, 1, 1)
        assert verified.nonce == NONCE
        assert (server.record(key).domain, server.record(key).ip) == (OLD["domain"], OLD["ip"])

    def test_rebinding_moves_the_key_off_the_old_installation(self, server: LicenseServer) -> None:
        """Activating elsewhere moves the key: the new place is active, the old one invalid."""
        key = server.create_key()
        _post(server, "activate", key, OLD)

        _post(server, "activate", key, NEW)

        assert _claims(server, _post(server, "verify", key, NEW)).status is LicenseStatus.ACTIVE
        old = _claims(server, _post(server, "verify", key, OLD))
        assert old.status is LicenseStatus.INVALID
        assert "registered to another domain/IP" in old.reason
        assert (server.record(key).domain, server.record(key).ip) == (NEW["domain"], NEW["ip"])

    def test_same_domain_new_ip_is_another_installation(self, server: LicenseServer) -> None:
        """A binding is domain and IP: moving WHMCS to a new IP needs Activate again."""
        key = server.create_key()
        _post(server, "activate", key, OLD)

        moved = _claims(server, _post(server, "verify", key, {**OLD, "ip": "203.0.113.99"}))

        assert moved.status is LicenseStatus.INVALID

    def test_verify_before_activation(self, server: LicenseServer) -> None:
        """A key never activated is invalid, telling the admin to activate it."""
        claims = _claims(server, _post(server, "verify", server.create_key(), OLD))

        assert claims.status is LicenseStatus.INVALID
        assert "not been activated" in claims.reason

    def test_unknown_key(self, server: LicenseServer) -> None:
        """A key the server never issued gets a signed invalid answer, not an error."""
        claims = _claims(server, _post(server, "activate", "VB-NOPE0-NOPE0-NOPE0-NOPE0", OLD))

        assert claims.status is LicenseStatus.INVALID
        assert "does not know this key" in claims.reason

    def test_suspended_key_answers_suspended_and_keeps_its_binding(
        self, server: LicenseServer
    ) -> None:
        """A suspended key is suspended on verify and on activate, and activate moves nothing."""
        key = server.create_key()
        _post(server, "activate", key, OLD)
        server.suspend(key)

        verified = _claims(server, _post(server, "verify", key, OLD))
        reactivated = _claims(server, _post(server, "activate", key, NEW))

        assert verified.status is reactivated.status is LicenseStatus.SUSPENDED
        assert server.record(key).domain == OLD["domain"]
        server.suspend(key, suspended=False)
        assert _claims(server, _post(server, "verify", key, OLD)).status is LicenseStatus.ACTIVE

    def test_expired_key_answers_expired(self, server: LicenseServer) -> None:
        """A key past its expiry day is expired on verify and activate, with the date."""
        key = server.create_key()
        _post(server, "activate", key, OLD)
        yesterday = datetime.now(UTC).date() - timedelta(days=1)
        server.set_expiry(key, yesterday)

        verified = _claims(server, _post(server, "verify", key, OLD))
        activated = _claims(server, _post(server, "activate", key, NEW))

        assert verified.status is activated.status is LicenseStatus.EXPIRED
        assert f"expired on {yesterday}" in verified.reason
        assert verified.expires_on == yesterday

    def test_keys_are_case_and_space_insensitive(self, server: LicenseServer) -> None:
        """A key typed in lower case with stray spaces is the same key."""
        key = server.create_key()

        claims = _claims(server, _post(server, "activate", f" {key.lower()} ", OLD))

        assert claims.status is LicenseStatus.ACTIVE

    def test_health_publishes_the_public_key(self, server: LicenseServer) -> None:
        """GET /healthz gives the public key the bridges must be configured with."""
        response = httpx.get(f"{server.url}/healthz", timeout=10)

        assert response.json() == {"ok": True, "result": {"public_key": server.public_key}}


def _raw(server: LicenseServer, content: bytes, path: str = "/v1/verify") -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    return httpx.post(f"{server.url}{path}", content=content, headers=headers, timeout=10)


def _error(response: httpx.Response) -> tuple[int, str, str]:
    body = response.json()
    assert body["ok"] is False
    return response.status_code, body["error"]["code"], body["error"]["message"]


GOOD: dict[str, Any] = {"key": "VB-AAAAA-BBBBB-CCCCC-DDDDD", "nonce": NONCE, **OLD}


class TestBadInput:
    @pytest.mark.parametrize(
        ("body", "message"),
        [
            (b"key=1&domain=2", "not JSON"),
            (b"\xff\xfe\x00", "not JSON"),
            (b"", "not JSON"),
            (b"[1, 2]", "must be a JSON object"),
            (b'"text"', "must be a JSON object"),
            (b"[" * 3000 + b"]" * 3000, "over 4096 bytes"),
            (b"[" * 2000 + b"]" * 2000, "not JSON"),
            (json.dumps({**GOOD, "admin": True}).encode(), "unknown field(s) 'admin'"),
            (json.dumps({"key": GOOD["key"]}).encode(), "missing field(s) domain, ip, nonce"),
            (json.dumps({**GOOD, "ip": 2130706433}).encode(), "ip must be text"),
            (json.dumps({**GOOD, "key": None}).encode(), "key must be text"),
            (json.dumps({**GOOD, "domain": ["a"]}).encode(), "domain must be text"),
            (json.dumps({**GOOD, "key": "VB-€€€"}).encode(), "not a license key"),
            (json.dumps({**GOOD, "domain": "bad domain"}).encode(), "not a domain name"),
            (json.dumps({**GOOD, "domain": "a" * 300}).encode(), "not a domain name"),
            (json.dumps({**GOOD, "ip": "999.1.1.1"}).encode(), "not an IP address"),
            (json.dumps({**GOOD, "ip": ""}).encode(), "not an IP address"),
            (json.dumps({**GOOD, "nonce": "XYZ"}).encode(), "nonce must be"),
        ],
    )
    def test_bad_bodies_are_clear_4xx(
        self, server: LicenseServer, body: bytes, message: str
    ) -> None:
        """Each malformed request gets a JSON 4xx saying what is wrong."""
        status, _code, text = _error(_raw(server, body))

        assert 400 <= status < 500
        assert message in text

    def test_body_over_the_limit(self, server: LicenseServer) -> None:
        """A body over the limit is a 413 in the JSON envelope, declared or streamed."""

        def chunks() -> Iterator[bytes]:
            # Chunked upload: no Content-Length to refuse it by, so the server counts as it reads.
            for _ in range(5):
                yield b"x" * 1024

        declared = _raw(server, b"x" * (MAX_BODY_BYTES + 1))
        streamed = httpx.post(f"{server.url}/v1/verify", content=chunks(), timeout=10)

        assert _error(declared)[:2] == (413, "payload_too_large")
        assert _error(streamed)[:2] == (413, "payload_too_large")

    def test_wrong_method_and_unknown_path(self, server: LicenseServer) -> None:
        """A GET on the API and an unknown path answer JSON 405 and 404."""
        wrong_method = httpx.get(f"{server.url}/v1/verify", timeout=10)
        unknown = _raw(server, b"{}", path="/v1/delete-everything")

        assert _error(wrong_method)[0] == 405
        assert _error(unknown)[:2] == (404, "not_found")

    @settings(
        max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(
        body=st.one_of(
            st.binary(max_size=600),
            st.recursive(
                st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
                lambda inner: (
                    st.lists(inner, max_size=4)
                    | st.dictionaries(st.sampled_from([*GOOD, "x"]), inner, max_size=5)
                ),
                max_leaves=12,
            ).map(lambda value: json.dumps(value).encode()),
        )
    )
    def test_arbitrary_bodies_never_cause_a_server_error(
        self, server: LicenseServer, body: bytes
    ) -> None:
        """Whatever the body, the answer is JSON and never a 5xx."""
        response = _raw(server, body)

        assert response.status_code < 500, response.text
        assert isinstance(response.json()["ok"], bool)


class TestBrokenDatabase:
    def test_internal_failure_is_a_json_500_without_details(self, tmp_path: Path) -> None:
        """If the key database breaks, clients get a generic JSON 500; details go to the log."""
        with running_license_server(tmp_path) as server:
            with server.engine.begin() as conn:
                conn.execute(text("DROP TABLE license_keys"))
            response = _post(server, "verify", GOOD["key"], OLD)

        assert _error(response) == (500, "internal", "Internal error; see the log.")


class _Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class TestRateLimit:
    def test_burst_over_the_limit_gets_429_and_refills(self, tmp_path: Path) -> None:
        """The 4th request in a minute from one IP is a JSON 429 with Retry-After; time refills."""
        clock = _Clock()
        with running_license_server(
            tmp_path, rate_limit=RateLimit(requests=3, per_seconds=60), clock=clock
        ) as server:
            key = server.create_key()
            allowed = [_post(server, "verify", key, OLD).status_code for _ in range(3)]
            limited = _post(server, "verify", key, OLD)
            clock.now += timedelta(seconds=20)
            refilled = _post(server, "verify", key, OLD)

        assert allowed == [200, 200, 200]
        status, code, message = _error(limited)
        assert (status, code) == (429, "rate_limited")
        assert "try again in 20 seconds" in message
        assert limited.headers["Retry-After"] == "20"
        assert refilled.status_code == 200

    def test_limit_is_per_client_ip(self, tmp_path: Path) -> None:
        """One client spending its limit does not block another (seen through a trusted proxy)."""
        with running_license_server(
            tmp_path, rate_limit=RateLimit(requests=1, per_seconds=60)
        ) as server:
            url = f"{server.url}/v1/verify"
            body = {"key": GOOD["key"], "nonce": NONCE, **OLD}

            def ask(client: str) -> int:
                headers = {"X-Forwarded-For": client}
                return httpx.post(url, json=body, headers=headers, timeout=10).status_code

            first, second, other = ask("192.0.2.1"), ask("192.0.2.1"), ask("192.0.2.2")

        assert (first, second, other) == (200, 429, 200)

    def test_bad_requests_count_too(self, tmp_path: Path) -> None:
        """Garbage is rate limited like good requests, so it cannot be sent without end."""
        with running_license_server(
            tmp_path, rate_limit=RateLimit(requests=2, per_seconds=60)
        ) as server:
            codes = [_raw(server, b"garbage").status_code for _ in range(3)]

        assert codes == [422, 422, 429]

    def test_limiter_makes_room_when_every_client_is_busy(self) -> None:
        """With no idle client to forget, the oldest one is dropped; memory stays bounded."""
        limiter = RateLimiter(RateLimit(requests=1, per_seconds=60), max_clients=2)
        start = datetime(2026, 1, 1, tzinfo=UTC)
        limiter.take("a", start)
        limiter.take("b", start)

        assert limiter.take("c", start) == 0
        assert limiter.take("a", start) == 0  # forgotten, so it starts with a full bucket
        assert limiter.take("c", start) == 60

    def test_limiter_forgets_idle_clients_when_full(self) -> None:
        """The limiter's memory stays bounded: idle clients are dropped to admit new ones."""
        limiter = RateLimiter(RateLimit(requests=1, per_seconds=60), max_clients=2)
        start = datetime(2026, 1, 1, tzinfo=UTC)
        limiter.take("a", start)
        limiter.take("b", start)

        assert limiter.take("c", start + timedelta(minutes=2)) == 0
        assert limiter.take("a", start + timedelta(minutes=2)) == 0
        assert limiter.take("a", start + timedelta(minutes=2)) == 60
