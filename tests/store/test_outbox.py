"""The outbox table: one row per dedupe key, claimed for a lease, marked sent, retried or failed."""

from __future__ import annotations

import secrets
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import URL, Connection, Engine

from bridge.store import outbox
from bridge.store.tables import outbox as outbox_table

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
LEASE = timedelta(minutes=10)
FIELDS = {"client_id": "12", "client_first_name": "Zoë 🚀", "client_credit": "3.20"}


def _add(conn: Connection, key: str = "low-balance:12:2026-03-01", **changes: object) -> bool:
    values: dict[str, object] = {
        "dedupe_key": key,
        "template_name": "Low Balance Alert",
        "client_id": 12,
        "merge_fields": FIELDS,
        "now": NOW,
    }
    values.update(changes)
    return outbox.add_entry(conn, **values)  # type: ignore[arg-type]


class TestAddEntry:
    def test_a_key_is_queued_once(self, conn: Connection) -> None:
        """The second message under one key is not queued and the first stays as it was."""
        assert _add(conn)
        assert not _add(conn, merge_fields={"client_id": "99"}, template_name="Other")

        (entry,) = outbox.list_entries(conn)
        assert entry.template_name == "Low Balance Alert"
        assert entry.merge_fields == FIELDS
        assert outbox.has_key(conn, "low-balance:12:2026-03-01")

    def test_snapshot_round_trips_with_four_byte_characters(self, conn: Connection) -> None:
        """Merge fields come back exactly, emoji included, and the row is due at once."""
        _add(conn)

        entry = outbox.get_entry(conn, "low-balance:12:2026-03-01")

        assert entry is not None
        assert entry.merge_fields == FIELDS
        assert (entry.status, entry.attempts, entry.last_error) == (outbox.QUEUED, 0, "")
        assert entry.next_attempt_at == NOW
        assert entry.created_at == NOW
        assert entry.sent_at is None

    def test_keys_are_compared_exactly(self, conn: Connection) -> None:
        """Keys differing only in case are two alerts (MySQL collations would fold them)."""
        assert _add(conn, "zero-balance:12:abc")
        assert _add(conn, "zero-balance:12:ABC")

    @pytest.mark.parametrize("key", ["", "k" * 192, "low-balance:Zoë"])
    def test_keys_that_could_be_cut_or_folded_are_refused(self, conn: Connection, key: str) -> None:
        """Empty, over-long or non-ASCII keys are refused rather than stored altered."""
        with pytest.raises(ValueError, match="ASCII"):
            _add(conn, key)
        assert outbox.list_entries(conn) == []

    def test_naive_times_are_refused(self, conn: Connection) -> None:
        """A naive datetime has no instant; the outbox keeps UTC."""
        with pytest.raises(ValueError, match="aware"):
            _add(conn, now=NOW.replace(tzinfo=None))


class TestClaimAndMark:
    def test_due_messages_longest_waiting_first(self, conn: Connection) -> None:
        """Only queued messages due by now are listed, the oldest due first, up to the limit."""
        _add(conn, "a", now=NOW)
        _add(conn, "b", now=NOW - timedelta(minutes=5))
        _add(conn, "c", now=NOW + timedelta(minutes=1))
        ids = {entry.dedupe_key: entry.id for entry in outbox.list_entries(conn)}

        assert outbox.list_due_ids(conn, now=NOW, limit=10) == [ids["b"], ids["a"]]
        assert outbox.list_due_ids(conn, now=NOW, limit=1) == [ids["b"]]

    def test_a_claim_counts_the_attempt_and_holds_the_message(self, conn: Connection) -> None:
        """A claimed message cannot be claimed again until its lease ends."""
        _add(conn)
        (entry_id,) = outbox.list_due_ids(conn, now=NOW, limit=10)

        claimed = outbox.claim_entry(conn, entry_id, now=NOW, lease=LEASE)

        assert claimed is not None
        assert claimed.attempts == 1
        assert (
            outbox.claim_entry(conn, entry_id, now=NOW + timedelta(minutes=9), lease=LEASE) is None
        )
        assert outbox.list_due_ids(conn, now=NOW + timedelta(minutes=9), limit=10) == []
        again = outbox.claim_entry(conn, entry_id, now=NOW + LEASE, lease=LEASE)
        assert again is not None
        assert again.attempts == 2

    def test_sent_messages_are_never_due_again(self, conn: Connection) -> None:
        """Marked sent, a message keeps its key and leaves the queue."""
        _add(conn)
        (entry_id,) = outbox.list_due_ids(conn, now=NOW, limit=10)
        outbox.claim_entry(conn, entry_id, now=NOW, lease=LEASE)

        outbox.mark_sent(conn, entry_id, now=NOW + timedelta(seconds=3))

        entry = outbox.get_entry(conn, "low-balance:12:2026-03-01")
        assert entry is not None
        assert (entry.status, entry.sent_at) == (outbox.SENT, NOW + timedelta(seconds=3))
        assert outbox.list_due_ids(conn, now=NOW + timedelta(days=9), limit=10) == []
        assert not _add(conn)

    def test_retry_waits_and_records_the_error(self, conn: Connection) -> None:
        """A retried message is due again at its retry time, with the error kept (clipped)."""
        _add(conn)
        (entry_id,) = outbox.list_due_ids(conn, now=NOW, limit=10)
        outbox.claim_entry(conn, entry_id, now=NOW, lease=LEASE)

        outbox.mark_retry(conn, entry_id, error="x" * 900, retry_at=NOW + timedelta(minutes=2))

        assert outbox.list_due_ids(conn, now=NOW + timedelta(minutes=1), limit=10) == []
        assert outbox.list_due_ids(conn, now=NOW + timedelta(minutes=2), limit=10) == [entry_id]
        entry = outbox.get_entry(conn, "low-balance:12:2026-03-01")
        assert entry is not None
        assert len(entry.last_error) == 500

    def test_failed_messages_stay_failed(self, conn: Connection) -> None:
        """A failed message is never due again and is listed as failed."""
        _add(conn)
        (entry_id,) = outbox.list_due_ids(conn, now=NOW, limit=10)

        outbox.mark_failed(conn, entry_id, error="Email Template not found")

        assert outbox.list_due_ids(conn, now=NOW + timedelta(days=1), limit=10) == []
        (failed,) = outbox.list_entries(conn, status=outbox.FAILED, client_id=12)
        assert failed.last_error == "Email Template not found"


class TestTwoInstances:
    def test_one_key_racing_from_two_connections_is_queued_once(self, engine: Engine) -> None:
        """Two instances queueing the same alert at once: one row, one True, one False."""
        key = f"race:{secrets.token_hex(6)}"
        first = engine.connect()
        first.begin()
        results: dict[str, bool] = {}
        try:
            results["first"] = _add(first, key)

            # The second insert waits for the first transaction's key lock, then sees the row.
            def second() -> None:
                with engine.begin() as conn:
                    results["second"] = _add(conn, key)

            worker = threading.Thread(target=second)
            worker.start()
            worker.join(timeout=0.5)
            assert worker.is_alive()  # blocked behind the uncommitted row
            first.commit()
            worker.join(timeout=10)
        finally:
            first.close()
            _delete(engine, key)

        assert results == {"first": True, "second": False}

    def test_a_message_is_claimed_by_one_instance(self, mariadb_url: URL, engine: Engine) -> None:
        """Of two deliveries that both saw one message due, only one claims it."""
        key = f"claim:{secrets.token_hex(6)}"
        with engine.begin() as conn:
            _add(conn, key)
            entry = outbox.get_entry(conn, key)
        assert entry is not None
        other = create_engine(mariadb_url)
        try:
            with other.begin() as conn_b:
                # B's snapshot still shows the message due when A claims it and commits.
                assert outbox.list_due_ids(conn_b, now=NOW, limit=1000).count(entry.id) == 1
                with engine.begin() as conn_a:
                    won_a = outbox.claim_entry(conn_a, entry.id, now=NOW, lease=LEASE)
                won_b = outbox.claim_entry(conn_b, entry.id, now=NOW, lease=LEASE)
        finally:
            other.dispose()
            _delete(engine, key)

        assert won_a is not None
        assert won_b is None


def _delete(engine: Engine, key: str) -> None:
    with engine.begin() as conn:
        conn.execute(outbox_table.delete().where(outbox_table.c.dedupe_key == key))
