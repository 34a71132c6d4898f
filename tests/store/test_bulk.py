"""Bulk writes: LOAD DATA and the plain multi-row insert store the same rows, or refuse alike."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from bridge.calls import MAX_SECONDS, CollectedCdr
from bridge.errors import BulkWriteRefused
from bridge.rating.models import Cdr, Direction
from bridge.store import bulk
from bridge.store.bulk import BulkTable, load_data_available
from bridge.store.cdrs import StoreResult, store_cdrs
from bridge.store.tables import cdrs

NOW = datetime(2026, 11, 21, 12, 0, 0, 250000, tzinfo=UTC)
FAST, PLAIN = 11, 12  # server ids: one per path, so both land in the same table
# Text the LOAD DATA format must escape or could misread, and text MariaDB must keep whole.
AWKWARD = (
    "tab\there",
    "new\nline",
    "back\\slash",
    "\\N",
    "NULL",
    "quote ' and \" both",
    "carriage\rreturn",
    "nul\x00byte",
    "Zoë 日本 \U0001f600",
    "",
    "trailing\\",
)


def _cdr(uuid: str, *, name: str = "Desk", **call: object) -> CollectedCdr:
    values: dict[str, object] = {
        "uuid": uuid,
        "direction": Direction.OUTBOUND,
        "caller_number": "2112",
        "caller_destination": "",
        "destination_number": "14165550100",
        "start": NOW - timedelta(hours=1),
        "billsec": 95,
    }
    values.update(call)
    return CollectedCdr(
        Cdr(**values),  # type: ignore[arg-type]
        domain="acme.pbx.example",
        hangup_cause="NORMAL_CLEARING",
        caller_name=name,
    )


@pytest.fixture(name="plain")
def _plain(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Within the block, bulk writes take the plain path (a multi-row INSERT IGNORE)."""
    with monkeypatch.context() as patch:
        patch.setattr(bulk, "load_data_available", lambda _conn: False)
        yield


def _stored(conn: Connection, server_id: int) -> list[tuple[object, ...]]:
    columns = [c for c in cdrs.c if c.name not in ("id", "server_id")]
    query = select(*columns).where(cdrs.c.server_id == server_id).order_by(cdrs.c.uuid)
    return [tuple(row) for row in conn.execute(query)]


def _both(
    conn: Connection, monkeypatch: pytest.MonkeyPatch, batches: list[list[CollectedCdr]]
) -> tuple[list[StoreResult], list[StoreResult]]:
    fast = [store_cdrs(conn, FAST, batch, now=NOW, service_id=None) for batch in batches]
    with monkeypatch.context() as patch:
        patch.setattr(bulk, "load_data_available", lambda _conn: False)
        plain = [store_cdrs(conn, PLAIN, batch, now=NOW, service_id=None) for batch in batches]
    return fast, plain


def test_the_test_server_takes_the_fast_path(conn: Connection) -> None:
    """The test MariaDB allows LOAD DATA LOCAL, so the fast path is what these tests exercise."""
    assert load_data_available(conn), "the test server has local_infile off"


def test_fast_and_plain_paths_store_identical_rows_and_counts(
    conn: Connection, monkeypatch: pytest.MonkeyPatch, sql_mode: str
) -> None:
    """Awkward text, NULLs, boundary values and repeats store the same rows with the same counts."""
    first = [_cdr(f"t{n}", name=name) for n, name in enumerate(AWKWARD)]
    first += [
        _cdr("edge-low", billsec=0, start=datetime(1970, 1, 1, tzinfo=UTC)),
        _cdr(
            "edge-high", billsec=MAX_SECONDS, start=datetime(9998, 12, 31, 23, 59, 59, tzinfo=UTC)
        ),
        _cdr("x" * 64, name="y" * 255, destination_number="9" * 64),
        _cdr("t0", name="a repeat within the batch"),
    ]
    second = [_cdr("t1"), _cdr("t2"), _cdr("fresh\\id\t")]

    fast, plain = _both(conn, monkeypatch, [first, second])

    assert fast == plain
    assert [(r.inserted, r.duplicates) for r in fast] == [(len(first) - 1, 0), (1, 2)]
    assert _stored(conn, FAST) == _stored(conn, PLAIN)
    assert len(_stored(conn, FAST)) == len(first)


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    names=st.lists(st.text(max_size=300), min_size=1, max_size=6),
    numbers=st.lists(st.text(max_size=70), min_size=1, max_size=6),
)
def test_arbitrary_text_is_stored_the_same_by_both_paths(
    conn: Connection, monkeypatch: pytest.MonkeyPatch, names: list[str], numbers: list[str]
) -> None:
    """Whatever text a PBX sends, both paths store the same value (fitted to its column)."""
    batch = [
        _cdr(f"h{n}", name=name, destination_number=number, caller_number=number)
        for n, (name, number) in enumerate(zip(names, numbers, strict=False))
    ]
    conn.execute(cdrs.delete().where(cdrs.c.server_id.in_([FAST, PLAIN])))

    fast, plain = _both(conn, monkeypatch, [batch])

    assert fast == plain
    assert _stored(conn, FAST) == _stored(conn, PLAIN)


def test_a_value_the_server_would_cut_is_refused(conn: Connection, sql_mode: str) -> None:
    """A value too long for its column raises instead of being stored cut (any sql_mode)."""
    columns = ("server_id", "uuid", "domain", "direction", "start_utc", "billsec", "collected_at")
    table = BulkTable(cdrs, columns)
    start = datetime(2026, 1, 1)
    row = (FAST, "too-long", "d" * 256, "outbound", start, 5, start)

    with pytest.raises(BulkWriteRefused, match="domain"):
        table.insert(conn, [row], ignore_duplicates=True)


def test_a_duplicate_is_refused_when_duplicates_are_not_expected(conn: Connection) -> None:
    """Without ``ignore_duplicates`` a row whose key is stored raises rather than being skipped."""
    columns = ("server_id", "uuid", "direction", "start_utc", "billsec", "collected_at")
    table = BulkTable(cdrs, columns)
    row = (FAST, "once", "outbound", datetime(2026, 1, 1), 5, datetime(2026, 1, 1))
    assert table.insert(conn, [row], ignore_duplicates=False) == 1

    with pytest.raises(BulkWriteRefused, match="Duplicate entry"):
        table.insert(conn, [row], ignore_duplicates=False)


def test_the_plain_path_counts_the_same(conn: Connection, plain: None) -> None:
    """With LOAD DATA unavailable the batch still stores each call once, with exact counts."""
    batch = [_cdr("p1"), _cdr("p2"), _cdr("p1")]

    results = [store_cdrs(conn, PLAIN, batch, now=NOW) for _ in range(2)]

    assert [(r.inserted, r.duplicates) for r in results] == [(2, 0), (0, 2)]


def test_the_server_gets_no_local_file_outside_a_bulk_write(engine: Engine) -> None:
    """A LOAD DATA LOCAL the bridge did not issue itself is refused by the client."""
    with engine.connect() as other:
        with pytest.raises(RuntimeError, match="local_infile"):
            other.exec_driver_sql(f"LOAD DATA LOCAL INFILE '/etc/hostname' INTO TABLE {cdrs.name}")
        other.invalidate()  # the server is still waiting for a file: drop the connection


def test_local_files_are_closed_again_after_a_bulk_write(conn: Connection) -> None:
    """After a batch, the connection refuses file requests again."""
    store_cdrs(conn, FAST, [_cdr("closed")], now=NOW)

    assert conn.connection.dbapi_connection._local_infile is False  # type: ignore[union-attr]


def test_times_keep_their_fraction_as_the_plain_path_sends_it(
    conn: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A start with microseconds is stored as the plain path stores it."""
    precise = _cdr("frac", start=NOW - timedelta(microseconds=700001))

    _both(conn, monkeypatch, [[precise, dataclasses.replace(precise)]])

    assert _stored(conn, FAST) == _stored(conn, PLAIN)


def _rows(server_id: int, *uuids: str) -> list[tuple[object, ...]]:
    at = datetime(2026, 1, 1)
    return [(server_id, uuid, "outbound", at, 5, at) for uuid in uuids]


_SMALL = BulkTable(cdrs, ("server_id", "uuid", "direction", "start_utc", "billsec", "collected_at"))


def test_batches_follow_the_first_step_and_count_what_they_insert(conn: Connection) -> None:
    """``first`` runs before any batch (here: it stores a row a batch then repeats)."""
    batches = [_rows(FAST, "b1", "b2"), _rows(FAST, "b2", "b3"), _rows(FAST, "b4")]

    inserted = _SMALL.insert_batches(
        conn,
        iter(batches),
        ignore_duplicates=True,
        first=lambda: _SMALL.insert(conn, _rows(FAST, "b3"), ignore_duplicates=False),
    )

    assert inserted == 3  # b1, b2 and b4; b2 again and b3 were already stored
    assert len(_stored(conn, FAST)) == 4


def test_a_failing_first_step_writes_no_batch(conn: Connection) -> None:
    """An error in ``first`` stops the batches before any is written."""

    def fail() -> None:
        raise RuntimeError("first step failed")

    with pytest.raises(RuntimeError, match="first step failed"):
        _SMALL.insert_batches(
            conn, iter([_rows(FAST, "never")]), ignore_duplicates=True, first=fail
        )

    assert _stored(conn, FAST) == []


def test_a_refused_batch_stops_the_rest(conn: Connection) -> None:
    """A batch the server refuses raises, and no later batch is written."""
    batches = [_rows(FAST, "r1"), _rows(FAST, "r1"), _rows(FAST, "r2")]

    with pytest.raises(BulkWriteRefused):
        _SMALL.insert_batches(conn, iter(batches), ignore_duplicates=False)

    assert [row[0] for row in _stored(conn, FAST)] == ["r1"]


def test_batches_on_the_plain_path_run_the_first_step_too(conn: Connection, plain: None) -> None:
    """Without LOAD DATA, ``first`` and the batches run in order on the caller's thread."""
    done: list[str] = []

    inserted = _SMALL.insert_batches(
        conn,
        iter([_rows(PLAIN, "p1", "p2")]),
        ignore_duplicates=True,
        first=lambda: done.append("first"),
    )

    assert (inserted, done) == (2, ["first"])
