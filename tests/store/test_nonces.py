"""The nonce store: each nonce is accepted once inside the replay window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from bridge.store.nonces import remember_nonce
from bridge.store.tables import nonces

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
WINDOW = timedelta(seconds=300)


class TestRememberNonce:
    def test_first_use_accepted_second_refused(self, conn: Connection) -> None:
        """A nonce is accepted once; the same nonce again is refused."""
        assert remember_nonce(conn, "a1" * 16, now=NOW, window=WINDOW)
        assert not remember_nonce(conn, "a1" * 16, now=NOW + timedelta(seconds=5), window=WINDOW)

    def test_distinct_nonces_are_independent(self, conn: Connection) -> None:
        """Different nonces never collide."""
        assert remember_nonce(conn, "b2" * 16, now=NOW, window=WINDOW)
        assert remember_nonce(conn, "c3" * 16, now=NOW, window=WINDOW)

    def test_expired_nonces_are_forgotten(self, conn: Connection) -> None:
        """Nonces older than twice the window are purged, keeping the table small."""
        remember_nonce(conn, "d4" * 16, now=NOW, window=WINDOW)

        remember_nonce(conn, "e5" * 16, now=NOW + 3 * WINDOW, window=WINDOW)

        stored = conn.execute(select(nonces.c.nonce)).scalars().all()
        assert stored == ["e5" * 16]
        assert conn.execute(select(func.count()).select_from(nonces)).scalar_one() == 1
