"""Signed calls, CDR pushes and health checks in parallel on MariaDB: no 5xx, nothing starved.

WHMCS's admin pages and its cron call the bridge at the same time, so this runs the real app under
uvicorn on loopback against a committed MariaDB database (the per-test rolled-back connection
would serialise everything) and fires a burst of signed calls from a thread pool.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import URL
from starlette.datastructures import Secret
from starlette.testclient import TestClient

from bridge.app import create_app
from bridge.db import EngineDatabase, make_engine
from bridge.settings import Settings
from bridge.store.cdrs import count_cdrs, list_quarantined
from bridge.store.servers import issue_push_token, save_server_settings
from bridge.store.tables import nonces
from bridge.whmcs.tables import servers
from tests.conftest import TEST_SECRET, throwaway_whmcs_database
from tests.factories.whmcs import make_server
from tests.fakes import Served, Switchboard, serve
from tests.fakes.fusionpbx import FakeFusionPbx
from tests.web.signing_helpers import signing_headers

CALLS = 200
PARALLEL = 50
PATH = "/v1/whmcs/vodia/meta"
BODY = json.dumps({"params": {}, "whmcs": {"version": "8.13.1"}}).encode()
OLD = datetime(2020, 1, 1)


@pytest.fixture(name="bridge_url", params=[0, 400], ids=["empty", "expired-backlog"])
def _bridge_url(mariadb_url: URL, request: pytest.FixtureRequest) -> Iterator[tuple[Served, URL]]:
    """The real app under uvicorn on 127.0.0.1, on a committed, migrated MariaDB database.

    Its nonce table starts empty (a purge then locks the very gap new nonces go into), or with a
    backlog of long-expired nonces, so that purges delete rows while other calls insert.
    """
    expired = [
        {"nonce": f"{n:032x}", "seen_at": OLD + timedelta(seconds=n)} for n in range(request.param)
    ]
    with throwaway_whmcs_database(mariadb_url, "concurrency", migrate=True) as url:
        if expired:
            engine = create_engine(url)
            with engine.begin() as conn:
                conn.execute(nonces.insert(), expired)
            engine.dispose()
        settings = Settings(database_url=url, secret=Secret(TEST_SECRET), database_configured=True)
        database = EngineDatabase(make_engine(settings))
        with serve(create_app(settings, database=database)) as served:
            yield served, url
        database.engine.dispose()


def _post(client: httpx.Client, headers: dict[str, str]) -> int:
    return client.post(PATH, content=BODY, headers=headers).status_code


def test_parallel_signed_calls_all_succeed_and_replays_are_refused(
    bridge_url: tuple[Served, URL],
) -> None:
    """200 valid signed calls, 50 at a time, all answer 200; sending them again gives 401s."""
    served, url = bridge_url
    signed = [signing_headers(PATH, BODY) for _ in range(CALLS)]
    # No keep-alive: on a loaded machine uvicorn closes an idle connection (after 5 s) just as the
    # client reuses it, which fails the request on the client's side, not the server's.
    limits = httpx.Limits(max_connections=PARALLEL, max_keepalive_connections=0)

    with (
        httpx.Client(base_url=served.url, limits=limits, timeout=60) as client,
        ThreadPoolExecutor(PARALLEL) as pool,
    ):
        first = list(pool.map(lambda headers: _post(client, headers), signed))
        replayed = list(pool.map(lambda headers: _post(client, headers), signed))

    assert sorted(set(first)) == [200], {status: first.count(status) for status in set(first)}
    assert set(replayed) == {401}
    engine = create_engine(url)
    with engine.connect() as conn:
        kept = conn.execute(select(func.count()).where(nonces.c.seen_at > OLD + timedelta(days=1)))
        left = conn.execute(select(func.count()).where(nonces.c.seen_at < OLD + timedelta(days=1)))
        # Every call's nonce is kept; expired ones were purged along the way.
        assert (kept.scalar_one(), left.scalar_one()) == (CALLS, 0)
    engine.dispose()


def test_a_purge_kept_waiting_does_not_fail_the_call(
    mariadb_url: URL, caplog: pytest.LogCaptureFixture
) -> None:
    """While another session locks an expired nonce, a valid call still answers 200."""
    expired = {"nonce": "ee" * 16, "seen_at": OLD}
    with throwaway_whmcs_database(mariadb_url, "purge", migrate=True) as url:
        other = create_engine(url)
        with other.begin() as conn:
            conn.execute(nonces.insert(), [expired])
        settings = Settings(
            database_url=url,
            secret=Secret(TEST_SECRET),
            database_configured=True,
            db_lock_timeout=1,
        )
        database = EngineDatabase(make_engine(settings))
        with TestClient(create_app(settings, database=database)) as http, other.connect() as conn:
            locking = conn.begin()
            conn.execute(select(nonces).where(nonces.c.nonce == expired["nonce"]).with_for_update())
            blocked = http.post(PATH, content=BODY, headers=signing_headers(PATH, BODY))
            locking.rollback()
            after = http.post(PATH, content=BODY, headers=signing_headers(PATH, BODY))
            left = conn.execute(select(func.count()).where(nonces.c.seen_at == OLD)).scalar_one()
        database.engine.dispose()
        other.dispose()

    assert (blocked.status_code, after.status_code, left) == (200, 200, 0)
    assert "nonce.purge_skipped" in caplog.text


KEY = Secret(base64.urlsafe_b64encode(b"c" * 32).decode())
TENANT = "load.example.net"


def _leg(call_id: str) -> dict[str, Any]:
    return {
        "action": "call-data-record", "CallID": call_id, "Direction": "O", "TrunkID": "1",
        "LocalParty": "<sip:100@load.example.net>", "RemoteParty": "<sip:14165550100@trunk>",
        "Domain": TENANT, "TimeStart": "1764590400", "TimeConnected": "1764590402",
        "TimeEnd": "1764590462",
    }  # fmt: skip


def test_pushes_and_signed_calls_in_parallel_never_fail(mariadb_url: URL) -> None:
    """200 Vodia posts (repeats and a bad record among them) and 100 signed calls: no 5xx."""
    with throwaway_whmcs_database(mariadb_url, "pushload", migrate=True) as url:
        engine = create_engine(url)
        with engine.begin() as conn:
            server = make_server(conn, module="vodia")
            token = issue_push_token(conn, server, now=datetime.now(UTC))
        settings = Settings(database_url=url, secret=Secret(TEST_SECRET), database_configured=True)
        database = EngineDatabase(make_engine(settings))
        # 100 distinct calls each posted twice, every tenth post carrying an unreadable record.
        posts = [
            [_leg(f"load-{n % 100}")] + ([{"CallID": f"bad-{n}"}] if n % 10 == 0 else [])
            for n in range(200)
        ]
        signed = [signing_headers(PATH, BODY) for _ in range(100)]
        limits = httpx.Limits(max_connections=PARALLEL, max_keepalive_connections=0)
        auth = {"Authorization": f"Bearer {token}"}
        with (
            serve(create_app(settings, database=database)) as served,
            httpx.Client(base_url=served.url, limits=limits, timeout=60) as client,
            ThreadPoolExecutor(PARALLEL) as pool,
        ):
            pushed = pool.map(
                lambda body: client.post(f"/v1/cdr/vodia/{server}", json=body, headers=auth),
                posts,
            )
            called = pool.map(lambda headers: _post(client, headers), signed)
            answers, statuses = list(pushed), list(called)
        with engine.connect() as conn:
            stored = count_cdrs(conn, server)
            (aside,) = list_quarantined(conn)
        database.engine.dispose()
        engine.dispose()

    assert {answer.status_code for answer in answers} == {200}
    assert set(statuses) == {200}
    assert sum(answer.json()["result"]["stored"] for answer in answers) == stored == 100
    assert aside.records == 20


def test_pbx_health_checks_are_shared_and_never_hold_up_module_calls(
    mariadb_url: URL, switchboard: Switchboard
) -> None:
    """45 unauthenticated ?pbx=1 calls to a hanging PBX ask it once; signed calls go on."""
    fake = FakeFusionPbx(failure="slow", delay=8.0)
    with (
        switchboard.plug(fake.app) as pbx,
        throwaway_whmcs_database(mariadb_url, "healthload", migrate=True) as url,
    ):
        engine = create_engine(url)
        with engine.begin() as conn:
            server = make_server(conn, module="fusionpbx", hostname=pbx.host)
            conn.execute(
                servers.update()
                .where(servers.c.id == server)
                .values(port=pbx.port, secure="", username=fake.username)
            )
            save_server_settings(
                conn, server, key=KEY, now=datetime.now(UTC),
                secret_values={"api_password": fake.password},
            )  # fmt: skip
        engine.dispose()
        settings = Settings(
            database_url=url, secret=Secret(TEST_SECRET), database_configured=True,
            encryption_key=KEY,
        )  # fmt: skip
        database = EngineDatabase(make_engine(settings))
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=0)
        with (
            serve(create_app(settings, database=database)) as served,
            httpx.Client(base_url=served.url, limits=limits, timeout=60) as client,
            ThreadPoolExecutor(65) as pool,
        ):
            health = [pool.submit(client.get, "/healthz?pbx=1") for _ in range(45)]
            deadline = time.monotonic() + 30
            while not fake.requests:  # the one check has reached the PBX and hangs there
                assert time.monotonic() < deadline, "no health check reached the PBX in 30 s"
                time.sleep(0.05)
            signed = [signing_headers(PATH, BODY) for _ in range(20)]
            statuses = list(pool.map(lambda headers: _post(client, headers), signed))
            pending = sum(not answer.done() for answer in health)
            answers = [answer.result() for answer in health]
        database.engine.dispose()

    assert set(statuses) == {200}
    # Every signed call was answered while the health checks were all still waiting on the PBX.
    assert pending == 45
    assert {answer.status_code for answer in answers} == {200}
    assert len(fake.requests) == 1
