"""The bridge's stored license tokens: one per key, replaced by each new answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Connection

from bridge.store.licenses import StoredLicense, load_license, note_refresh_failure, save_license

DIGEST = "a" * 64
NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


class TestLicenseStore:
    def test_save_replaces_and_clears_a_failure(self, conn: Connection) -> None:
        """A newer token replaces the old one and forgets the last failed refresh."""
        save_license(
            conn, DIGEST, key_hint="…ABCDE", token="vb1.old.sig", confirmed_at=NOW, now=NOW
        )
        note_refresh_failure(conn, DIGEST, now=NOW + timedelta(hours=13))
        failed = load_license(conn, DIGEST)
        later = NOW + timedelta(days=1)
        save_license(conn, DIGEST, key_hint="…ABCDE", token="vb1.new.sig", confirmed_at=later,
                     now=later)  # fmt: skip

        assert failed is not None
        assert failed.refresh_failed_at == NOW + timedelta(hours=13)
        assert load_license(conn, DIGEST) == StoredLicense(DIGEST, "…ABCDE", "vb1.new.sig", later)

    def test_unknown_key(self, conn: Connection) -> None:
        """A key never stored has no token."""
        assert load_license(conn, "b" * 64) is None
