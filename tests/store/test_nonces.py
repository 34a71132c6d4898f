"""The nonce store: each nonce is accepted once inside the replay window."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import Connection

from bridge.store.migrate import upgrade_database
from bridge.store.nonces import PURGE_BATCH, forget_expired_nonces, remember_nonce
from bridge.store.tables import nonces

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
WINDOW = timedelta(seconds=300)


@pytest.fixture(name="sqlite_conn")
def _sqlite_conn(tmp_path: Path) -> Iterator[Connection]:
    """A connection in a transaction on a freshly migrated SQLite file."""
    engine = create_engine(f"sqlite:///{tmp_path / 'bridge.db'}")
    upgrade_database(engine)
    with engine.begin() as conn:
        yield conn
    engine.dispose()


def _count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(nonces)).scalar_one())


class TestRememberNonce:
    def test_first_use_accepted_second_refused(self, conn: Connection) -> None:
        """A nonce is accepted once; the same nonce again is refused."""
        assert remember_nonce(conn, "a1" * 16, now=NOW)
        assert not remember_nonce(conn, "a1" * 16, now=NOW + timedelta(seconds=5))

    def test_distinct_nonces_are_independent(self, conn: Connection) -> None:
        """Different nonces never collide."""
        assert remember_nonce(conn, "b2" * 16, now=NOW)
        assert remember_nonce(conn, "c3" * 16, now=NOW)

    def test_a_replay_leaves_the_transaction_usable(self, conn: Connection) -> None:
        """Refusing a replay raises nothing, so the caller's transaction carries on unharmed."""
        remember_nonce(conn, "f6" * 16, now=NOW)

        assert not remember_nonce(conn, "f6" * 16, now=NOW)
        assert remember_nonce(conn, "f7" * 16, now=NOW)
        assert _count(conn) == 2

    def test_over_long_nonce_is_refused_not_cut(self, conn: Connection) -> None:
        """A nonce wider than its column is an error: cutting it could make two nonces one."""
        with pytest.raises(ValueError, match="1 to 64"):
            remember_nonce(conn, "a" * 65, now=NOW)
        assert _count(conn) == 0

    def test_sqlite_accepts_once_too(self, sqlite_conn: Connection) -> None:
        """On SQLite (the demo) a nonce is likewise accepted once."""
        assert remember_nonce(sqlite_conn, "a1" * 16, now=NOW)
        assert not remember_nonce(sqlite_conn, "a1" * 16, now=NOW)
        assert remember_nonce(sqlite_conn, "A1" * 16, now=NOW)


class TestForgetExpiredNonces:
    def test_expired_nonces_are_forgotten(self, conn: Connection) -> None:
        """Nonces older than twice the window are purged; recent ones stay refused."""
        remember_nonce(conn, "d4" * 16, now=NOW)
        remember_nonce(conn, "e5" * 16, now=NOW + 3 * WINDOW)

        assert forget_expired_nonces(conn, now=NOW + 3 * WINDOW, window=WINDOW) == 1

        stored = conn.execute(select(nonces.c.nonce)).scalars().all()
        assert stored == ["e5" * 16]
        assert not remember_nonce(conn, "e5" * 16, now=NOW + 3 * WINDOW)

    def test_nonces_inside_twice_the_window_are_kept(self, conn: Connection) -> None:
        """A nonce just under twice the window old could still be replayed, so it is kept."""
        remember_nonce(conn, "d4" * 16, now=NOW)

        assert forget_expired_nonces(conn, now=NOW + 2 * WINDOW, window=WINDOW) == 0
        assert _count(conn) == 1

    def test_each_purge_is_bounded(self, conn: Connection) -> None:
        """A backlog goes a batch at a time, oldest first, so no call does unbounded work."""
        for n in range(PURGE_BATCH + 5):
            remember_nonce(conn, f"{n:032x}", now=NOW + timedelta(seconds=n))
        later = NOW + timedelta(days=1)

        first = forget_expired_nonces(conn, now=later, window=WINDOW)
        second = forget_expired_nonces(conn, now=later, window=WINDOW)

        assert (first, second, _count(conn)) == (PURGE_BATCH, 5, 0)

    def test_sqlite_purges_too(self, sqlite_conn: Connection) -> None:
        """On SQLite the purge removes the expired nonces and keeps the others."""
        remember_nonce(sqlite_conn, "d4" * 16, now=NOW)
        remember_nonce(sqlite_conn, "e5" * 16, now=NOW + 3 * WINDOW)

        assert forget_expired_nonces(sqlite_conn, now=NOW + 3 * WINDOW, window=WINDOW) == 1
        assert _count(sqlite_conn) == 1
