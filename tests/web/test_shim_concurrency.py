"""Signed shim calls in parallel on MariaDB: every valid call succeeds, every replay is refused.

WHMCS's admin pages and its cron call the bridge at the same time, so this runs the real app under
uvicorn on loopback against a committed MariaDB database (the per-test rolled-back connection
would serialise everything) and fires a burst of signed calls from a thread pool.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import URL
from starlette.datastructures import Secret
from starlette.testclient import TestClient

from bridge.app import create_app
from bridge.db import EngineDatabase, make_engine
from bridge.settings import Settings
from bridge.store.tables import nonces
from tests.conftest import TEST_SECRET, throwaway_whmcs_database
from tests.fakes import Served, serve
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
