"""Vodia's CDR push against MariaDB: token checks, both CDR shapes, idempotence, service mapping."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as fuzzing
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.engine import URL, Connection
from starlette.testclient import TestClient

from bridge.app import create_app
from bridge.clock import utc_now
from bridge.db import BoundDatabase, EngineDatabase, make_engine
from bridge.settings import Settings
from bridge.store.cdrs import count_cdrs, list_quarantined
from bridge.store.servers import issue_push_token
from bridge.store.tables import cdrs
from bridge.web.signing import MAX_BODY_BYTES
from tests.factories.whmcs import make_client, make_server, make_service
from tests.hostile import json_bodies, records_like

TENANT = "acme.example.net"
LEG: dict[str, Any] = {
    "action": "call-data-record",
    "PrimaryCallID": "PRA93Tta2CzVcV73Yvs8tQ..",
    "CallID": "mte7y70@pbx",
    "Direction": "O",
    "Type": "extcall",
    "TrunkName": "SIP Trunk Vodia",
    "TrunkID": "10",
    "RemoteParty": "+61132221",
    "LocalParty": '"Tom Jones" <sip:504@acme.example.net>',
    "Domain": TENANT,
    "TimeStart": "2026-11-20 12:18:02",
    "TimeConnected": "2026-11-20 12:18:05",
    "TimeEnd": "2026-11-20 12:19:07",
}
WEBCDR: dict[str, Any] = {
    "version": "69.5.2",
    "domain": TENANT,
    "callid": "1490779371@10.254.43.9",
    "from": '"099652200" <sip:099652200@acme.example.net>',
    "to": '"5195550100" <sip:5195550100@acme.example.net>',
    "start": 1795572559.444,
    "connect": 1795572562.1,
    "end": 1795572656.86,
    "trunks": [106],
}


@pytest.fixture(name="client")
def _client(settings: Settings, database: BoundDatabase) -> Iterator[TestClient]:
    with TestClient(create_app(settings, database=database)) as client:
        yield client


@pytest.fixture(name="server_id")
def _server_id(conn: Connection) -> int:
    return make_server(conn, module="vodia", hostname="vodia.example.net")


@pytest.fixture(name="token")
def _token(conn: Connection, server_id: int) -> str:
    return issue_push_token(conn, server_id, now=utc_now())


def _post(client: TestClient, server_id: int, payload: Any, **kwargs: Any) -> Any:
    return client.post(f"/v1/cdr/vodia/{server_id}", content=json.dumps(payload), **kwargs)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _vodia_service(conn: Connection, client_id: int, server_id: int, domain: str) -> int:
    return make_service(
        conn, client_id, server_id=server_id, module="vodia", domain=domain, username="8300"
    )


def _stored(conn: Connection, server_id: int) -> list[tuple[str, int | None, str, int]]:
    rows = conn.execute(
        select(cdrs.c.uuid, cdrs.c.service_id, cdrs.c.direction, cdrs.c.billsec)
        .where(cdrs.c.server_id == server_id)
        .order_by(cdrs.c.uuid)
    )
    return [(row.uuid, row.service_id, row.direction, row.billsec) for row in rows]


class TestStorePushedCdrs:
    def test_a_leg_posted_three_times_is_stored_once(
        self, client: TestClient, conn: Connection, server_id: int, token: str
    ) -> None:
        """Vodia repeating a post adds nothing: stored once, then counted as a duplicate."""
        answers = [_post(client, server_id, LEG, headers=_bearer(token)) for _ in range(3)]

        assert [a.status_code for a in answers] == [200, 200, 200]
        assert [a.json()["result"] for a in answers] == [
            {"stored": 1, "duplicates": 0, "quarantined": 0},
            {"stored": 0, "duplicates": 1, "quarantined": 0},
            {"stored": 0, "duplicates": 1, "quarantined": 0},
        ]
        assert _stored(conn, server_id) == [("mte7y70@pbx", None, "outbound", 62)]

    def test_webcdr_with_the_token_in_the_query(
        self, client: TestClient, conn: Connection, server_id: int, token: str
    ) -> None:
        """A WebCDR posted to ``?token=`` is stored as an inbound call with its answered seconds."""
        answer = _post(client, server_id, WEBCDR, params={"token": token})

        assert answer.json() == {
            "ok": True,
            "result": {"stored": 1, "duplicates": 0, "quarantined": 0},
        }
        assert _stored(conn, server_id) == [("1490779371@10.254.43.9", None, "inbound", 95)]

    def test_basic_auth_password_is_the_token(
        self, client: TestClient, conn: Connection, server_id: int, token: str
    ) -> None:
        """``webcdrs://user:TOKEN@host`` arrives as HTTP Basic and is accepted."""
        answer = _post(client, server_id, WEBCDR, auth=("vodia", token))

        assert answer.status_code == 200
        assert count_cdrs(conn, server_id) == 1

    def test_a_list_mixing_both_shapes(
        self, client: TestClient, conn: Connection, server_id: int, token: str
    ) -> None:
        """A JSON list with a leg, a WebCDR and a repeat of the leg stores two calls."""
        answer = _post(client, server_id, [LEG, WEBCDR, LEG], headers=_bearer(token))

        assert answer.json()["result"] == {"stored": 2, "duplicates": 1, "quarantined": 0}
        assert count_cdrs(conn, server_id) == 2

    def test_calls_go_to_the_service_of_their_tenant(
        self, client: TestClient, conn: Connection, server_id: int, token: str
    ) -> None:
        """A call in a tenant that exactly one service on this server uses is that service's."""
        client_id = make_client(conn)
        service_id = _vodia_service(conn, client_id, server_id, f"{TENANT} | 5195550100")
        _vodia_service(conn, client_id, server_id, "other.example.net | 5195550111")

        _post(client, server_id, LEG, headers=_bearer(token))

        assert _stored(conn, server_id)[0][1] == service_id

    def test_a_tenant_shared_by_two_services_is_left_unassigned(
        self, client: TestClient, conn: Connection, server_id: int, token: str
    ) -> None:
        """When two services claim the tenant the bridge does not guess; service_id stays empty."""
        client_id = make_client(conn)
        for _ in range(2):
            _vodia_service(conn, client_id, server_id, f"{TENANT} | 5195550100")

        _post(client, server_id, LEG, headers=_bearer(token))

        assert _stored(conn, server_id)[0][1] is None


class TestRefusedPushes:
    @pytest.mark.parametrize(
        "headers",
        [{}, {"Authorization": "Bearer not-the-token"}, {"Authorization": "Basic %%%"}],
    )
    def test_bad_or_missing_token_writes_nothing(
        self,
        client: TestClient,
        conn: Connection,
        server_id: int,
        token: str,
        headers: dict[str, str],
    ) -> None:
        """Without this server's token the post is a 401 and no call is stored."""
        answer = _post(client, server_id, LEG, headers=headers)

        assert (answer.status_code, answer.json()["error"]["code"]) == (401, "unauthorized")
        assert count_cdrs(conn, server_id) == 0

    def test_another_servers_token_is_refused(
        self, client: TestClient, conn: Connection, server_id: int, token: str
    ) -> None:
        """A token is valid for its own server only."""
        other = make_server(conn, module="vodia", hostname="vodia2.example.net")

        answer = _post(client, other, LEG, headers=_bearer(token))

        assert answer.status_code == 401
        assert count_cdrs(conn, other) == 0

    def test_body_that_is_not_json(
        self, client: TestClient, conn: Connection, server_id: int, token: str
    ) -> None:
        """Garbage is a 422 saying the post is not JSON."""
        answer = client.post(
            f"/v1/cdr/vodia/{server_id}", content=b"<xml/>", headers=_bearer(token)
        )

        assert answer.status_code == 422
        assert "not JSON" in answer.json()["error"]["message"]

    def test_an_unreadable_record_is_quarantined_and_the_rest_stored(
        self, client: TestClient, conn: Connection, server_id: int, token: str
    ) -> None:
        """A foreign record is quarantined, a 65-character call id kept: nothing else is lost."""
        long_id = {**LEG, "CallID": "c" * 65}
        answer = _post(
            client, server_id, [LEG, {"event": "NewCdr"}, long_id], headers=_bearer(token)
        )

        assert answer.status_code == 200
        assert answer.json()["result"] == {"stored": 2, "duplicates": 0, "quarantined": 1}
        assert count_cdrs(conn, server_id) == 2
        (aside,) = list_quarantined(conn)
        assert (aside.server_id, aside.records) == (server_id, 1)
        assert aside.reason.startswith("Not a Vodia CDR")

    @pytest.mark.parametrize(
        "body",
        [
            b'{"CallID": ' + b"9" * 5000 + b"}",
            b"[" * 100_000 + b"]" * 100_000,
            b'{"CallID": "\\udfff", "Direction": "O"}',
            b"Infinity",
            b"42",
        ],
        ids=["5000-digit integer", "100000-deep", "lone surrogate", "Infinity", "a number"],
    )
    def test_json_python_refuses_oddly_is_a_422(
        self, client: TestClient, conn: Connection, server_id: int, token: str, body: bytes
    ) -> None:
        """A body json.loads meets with ValueError or RecursionError is a 422 storing nothing."""
        answer = client.post(f"/v1/cdr/vodia/{server_id}", content=body, headers=_bearer(token))

        assert (answer.status_code, answer.json()["error"]["code"]) == (422, "invalid_request")
        assert count_cdrs(conn, server_id) == 0
        assert list_quarantined(conn) == []

    def test_hostile_numbers_are_quarantined_at_once(
        self, client: TestClient, conn: Connection, server_id: int, token: str
    ) -> None:
        """An end time of 1e999999 (text or JSON number) costs one quarantined record, no CPU."""
        posts = [
            {**LEG, "CallID": "e1", "TimeEnd": "1e999999"},
            {**LEG, "CallID": "e2", "TimeConnected": 1e308, "TimeEnd": 1e308},
            {**WEBCDR, "callid": "e3", "end": "99999999999.999999999"},
        ]

        answer = _post(client, server_id, posts, headers=_bearer(token))

        assert answer.json()["result"] == {"stored": 0, "duplicates": 0, "quarantined": 3}

    def test_a_database_outage_is_not_described_to_the_caller(self, mariadb_url: URL) -> None:
        """An unauthenticated push while the database is down is a 503 naming no host or port."""
        settings = Settings(database_url=mariadb_url.set(host="127.0.0.1", port=1))
        app = create_app(settings, database=EngineDatabase(make_engine(settings)))
        with TestClient(app) as http:
            answer = _post(http, 7, LEG, headers=_bearer("whatever"))

        assert answer.status_code == 503
        assert answer.json()["error"]["code"] == "database_unavailable"
        assert "127.0.0.1" not in answer.text
        assert ":1" not in answer.text

    def test_oversized_body_is_refused(
        self, client: TestClient, conn: Connection, server_id: int, token: str
    ) -> None:
        """A body over 1 MiB is a 413 and nothing is stored."""
        answer = client.post(
            f"/v1/cdr/vodia/{server_id}",
            content=b"[" + b" " * MAX_BODY_BYTES + b"]",
            headers=_bearer(token),
        )

        assert answer.status_code == 413
        assert count_cdrs(conn, server_id) == 0

    def test_token_never_reaches_the_log(
        self,
        client: TestClient,
        server_id: int,
        token: str,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """Accepted and refused posts log the server and outcome, never the token."""
        caplog.set_level(logging.DEBUG)

        _post(client, server_id, LEG, params={"token": token})
        _post(client, server_id, LEG, params={"token": token + "x"})

        # Only the bridge's own loggers: the test client logs the URL it requested.
        logged = "\n".join(
            record.getMessage() for record in caplog.records if record.name.startswith("bridge")
        )
        assert "push.stored" in logged
        assert "push.refused" in logged
        assert token not in logged


VODIA_KEYS = sorted({*LEG, *WEBCDR, "call_id", "trunks", "extensions"})


def _aside(conn: Connection, server_id: int) -> int:
    return sum(q.records for q in list_quarantined(conn) if q.server_id == server_id)


class TestHostileBodies:
    @fuzzing(
        max_examples=200,
        deadline=timedelta(seconds=2),
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        body=json_bodies
        | st.lists(records_like(VODIA_KEYS), min_size=1, max_size=4).map(
            lambda items: json.dumps(items).encode()
        )
    )
    def test_any_body_is_stored_whole_or_refused_whole(
        self, client: TestClient, conn: Connection, server_id: int, token: str, body: bytes
    ) -> None:
        """Any bytes or hostile JSON: a 200 counting every record, or a 422 storing nothing."""
        before = (count_cdrs(conn, server_id), _aside(conn, server_id))

        answer = client.post(f"/v1/cdr/vodia/{server_id}", content=body, headers=_bearer(token))

        assert answer.status_code in (200, 422), answer.text
        after = (count_cdrs(conn, server_id), _aside(conn, server_id))
        if answer.status_code == 422:
            assert after == before
            return
        result = answer.json()["result"]
        posted = json.loads(body)
        records = len(posted) if isinstance(posted, list) else 1
        assert result["stored"] + result["duplicates"] + result["quarantined"] == records
        assert after[0] == before[0] + result["stored"]
