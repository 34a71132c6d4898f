"""FusionPBX's ``v_xml_cdr`` table: read from its PostgreSQL, and mapped to :class:`CollectedCdr`.

FusionPBX keeps one row per call leg in ``v_xml_cdr`` (column facts:
``../shared/reference/rating-anchors.md`` §4, from fusionpbx/fusionpbx
``app/xml_cdr/app_config.php``). The bridge reads it with a DSN of its own (a read-only role with
``SELECT`` on ``v_xml_cdr``), one connection per fetch, with the session set read-only, the
session time zone UTC and a statement timeout. Rows are selected by ``domain_name`` (the tenant)
and ``start_stamp`` in the half-open window, ordered by ``(start_stamp, xml_cdr_uuid)`` and read
in keyset batches (``(start_stamp, xml_cdr_uuid) > last row``), so a busy tenant never produces
one huge result and a batch boundary neither repeats nor skips a call.

Mapping (shared with the ``export_cdr.php`` source, whose rows carry the same column names):

* ``uuid`` = ``xml_cdr_uuid`` as text; ``caller_number`` = ``caller_id_number``.
* ``direction``: ``inbound``/``outbound``/``local``, case-insensitive. Empty or NULL is ``local``,
  as FusionPBX's own dialplan decides (``035_call_direction.xml`` sets ``local`` when empty). Any
  other value is also stored as ``local`` (never billed) and logged as a warning with the uuid, so
  the call stays visible in the store instead of being dropped or blocking every later collection.
* ``billsec`` (numeric) rounds a fraction up to the next whole second; NULL is 0 (not answered).
  Rating uses ``billsec``, never ``status`` (reference §6.6).
* ``start_stamp`` (timestamptz) becomes aware UTC; an export stamp without an offset is read in
  the PBX's timezone. ``leg`` NULL or empty is ``a``; b-legs are yielded with ``leg='b'`` and the
  store keeps them unbilled.

psycopg errors never leave this module: an unreachable server, timeout or dropped link is
:class:`~bridge.errors.ProviderUnavailable`; a refused login, a missing database, table, column or
privilege is :class:`~bridge.errors.ProviderRejected` saying what to fix. Messages name the host,
database and user but never echo the DSN, and the password is masked.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, tzinfo
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from typing import Any

import psycopg
from psycopg import errors as pgerrors
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row

from bridge.errors import ProviderError, ProviderRejected, ProviderUnavailable
from bridge.modules.base import CollectedCdr, TimeWindow
from bridge.rating.models import Direction
from bridge.redact import redact

log = logging.getLogger("bridge.modules.fusionpbx")

COLUMNS = (
    "xml_cdr_uuid",
    "domain_name",
    "direction",
    "caller_id_number",
    "caller_destination",
    "destination_number",
    "start_stamp",
    "billsec",
    "leg",
    "hangup_cause",
)
# libpq reports a refused login only as text ("FATAL: ..."), without an SQLSTATE; these phrases
# mean a person must change the DSN or the PBX's grants, so retrying would not help.
_LOGIN_REFUSED = (
    "password authentication failed",
    "authentication failed",
    "does not exist",
    "no pg_hba.conf entry",
    "not permitted to log in",
    "permission denied",
)


class BadCdrRow(ValueError):
    """A ``v_xml_cdr`` row (or export row) holds a value the bridge cannot store."""


class FusionPbxCdrDatabase:
    """Read calls from one FusionPBX server's ``v_xml_cdr``, read-only, in keyset batches."""

    def __init__(
        self,
        dsn: str,
        *,
        server_name: str,
        secrets: tuple[str, ...] = (),
        batch_size: int = 5000,
        connect_timeout: int = 5,
        statement_timeout_ms: int = 120_000,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}")
        self._dsn = dsn
        self.server_name = server_name
        self.batch_size = batch_size
        self.connect_timeout = connect_timeout
        self.statement_timeout_ms = statement_timeout_ms
        try:
            params = conninfo_to_dict(dsn)
        except psycopg.Error:
            # libpq's parse error quotes the DSN, password included, so it is not repeated here.
            raise ProviderRejected(
                f"{server_name}: the CDR database DSN is not a libpq connection string or "
                "postgresql:// URL (e.g. 'host=pbx.example.com dbname=fusionpbx "
                "user=voipbridge_ro password=...')."
            ) from None
        password = str(params.get("password") or "")
        self._secrets = tuple(s for s in (*secrets, dsn, password) if len(s) >= 4)
        self.where = (
            f"database {params.get('dbname') or '?'} as user {params.get('user') or '?'} "
            f"on {params.get('host') or params.get('hostaddr') or 'localhost'}"
        )

    @contextmanager
    def connect(self) -> Iterator[psycopg.Connection[dict[str, Any]]]:
        """Open a read-only, UTC, time-limited session; translate psycopg errors on the way."""
        with self._translated():
            conn = psycopg.connect(
                self._dsn,
                connect_timeout=self.connect_timeout,
                autocommit=True,
                application_name="voipbridge",
                row_factory=dict_row,
            )
        try:
            with self._translated():
                conn.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
                conn.execute("SET TIME ZONE 'UTC'")
                conn.execute(
                    sql.SQL("SET statement_timeout = {}").format(
                        sql.Literal(self.statement_timeout_ms)
                    )
                )
            yield conn
        finally:
            conn.close()

    def fetch(self, domain: str | None, window: TimeWindow) -> Iterator[CollectedCdr]:
        """Yield the legs of ``domain`` (``None``: every domain) that started in ``window``."""
        with self.connect() as conn:
            after: tuple[datetime, Any] | None = None
            while True:
                query, params = self._batch_query(domain, window, after)
                with self._translated():
                    rows = conn.execute(query, params).fetchall()
                for row in rows:
                    try:
                        yield cdr_from_row(row, zone=UTC)
                    except BadCdrRow as exc:
                        raise ProviderRejected(
                            f"{self.server_name}: v_xml_cdr row {row['xml_cdr_uuid']}: {exc}"
                        ) from None
                if len(rows) < self.batch_size:
                    return
                after = (rows[-1]["start_stamp"], rows[-1]["xml_cdr_uuid"])

    def _batch_query(
        self, domain: str | None, window: TimeWindow, after: tuple[datetime, Any] | None
    ) -> tuple[sql.Composed, dict[str, Any]]:
        conditions = [sql.SQL("start_stamp >= %(start)s AND start_stamp < %(end)s")]
        params: dict[str, Any] = {"start": window.start, "end": window.end}
        if domain is not None:
            conditions.append(sql.SQL("domain_name = %(domain)s"))
            params["domain"] = domain
        if after is not None:
            conditions.append(
                sql.SQL("(start_stamp, xml_cdr_uuid) > (%(after_stamp)s, %(after_uuid)s)")
            )
            params["after_stamp"], params["after_uuid"] = after
        params["limit"] = self.batch_size
        query = sql.SQL(
            "SELECT {columns} FROM v_xml_cdr WHERE {conditions} "
            "ORDER BY start_stamp, xml_cdr_uuid LIMIT %(limit)s"
        ).format(
            columns=sql.SQL(", ").join(sql.Identifier(name) for name in COLUMNS),
            conditions=sql.SQL(" AND ").join(conditions),
        )
        return query, params

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except psycopg.Error as exc:
            raise self._provider_error(exc) from None

    def _provider_error(self, exc: psycopg.Error) -> ProviderError:
        # The primary message leaves out libpq's echo of the query; connection errors have none.
        detail = self._scrub(" ".join((exc.diag.message_primary or str(exc)).split()))
        where = f"{self.server_name}: CDR {self.where}"
        if isinstance(exc, pgerrors.UndefinedTable):
            return ProviderRejected(
                f"{where} has no v_xml_cdr table ({detail}). Does the DSN name FusionPBX's "
                "database (usually 'fusionpbx')?"
            )
        if isinstance(exc, pgerrors.InsufficientPrivilege):
            return ProviderRejected(
                f"{where} may not read v_xml_cdr ({detail}). On the PBX run: "
                "GRANT SELECT ON v_xml_cdr TO <the DSN's user>;"
            )
        if isinstance(exc, pgerrors.UndefinedColumn):
            return ProviderRejected(
                f"{where}: v_xml_cdr lacks a column the bridge reads ({detail}); the bridge "
                f"needs {', '.join(COLUMNS)}. Is FusionPBX older than 5.0?"
            )
        if isinstance(exc, pgerrors.QueryCanceled):
            return ProviderUnavailable(
                f"{where}: the query ran out of time ({detail}); will retry."
            )
        if isinstance(exc, psycopg.OperationalError):
            if any(phrase in detail for phrase in _LOGIN_REFUSED):
                return ProviderRejected(
                    f"{where} refused the login ({detail}). Check the user, password and "
                    "database in the server's CDR database DSN, and pg_hba.conf on the PBX."
                )
            return ProviderUnavailable(f"{where}: cannot connect ({detail}); will retry.")
        return ProviderRejected(f"{where}: the query failed ({detail}).")

    def _scrub(self, text: str) -> str:
        return redact(text, self._secrets)


def cdr_from_row(row: Mapping[str, Any], *, zone: tzinfo = UTC) -> CollectedCdr:
    """Map one ``v_xml_cdr`` row (database or export) to a :class:`CollectedCdr`.

    ``zone`` reads a start stamp that has no offset (exports only; the database's are aware).
    """
    uuid = _text(row.get("xml_cdr_uuid"))
    if not uuid:
        raise BadCdrRow("xml_cdr_uuid is empty")
    return CollectedCdr(
        uuid=uuid,
        direction=_direction(row.get("direction"), uuid),
        caller_number=_text(row.get("caller_id_number")),
        caller_destination=_text(row.get("caller_destination")),
        destination_number=_text(row.get("destination_number")),
        start=_start(row.get("start_stamp"), zone),
        billsec=_billsec(row.get("billsec")),
        domain=_text(row.get("domain_name")),
        leg=_text(row.get("leg")).lower() or "a",
        hangup_cause=_text(row.get("hangup_cause")),
    )


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _direction(value: object, uuid: str) -> Direction:
    text = _text(value).lower()
    if not text:
        return Direction.LOCAL
    try:
        return Direction(text)
    except ValueError:
        log.warning("fusionpbx.unknown_direction uuid=%s direction=%r stored=local", uuid, text)
        return Direction.LOCAL


def _start(value: object, zone: tzinfo) -> datetime:
    if isinstance(value, datetime):
        stamp = value
    elif isinstance(value, str) and value.strip():
        try:
            stamp = datetime.fromisoformat(value.strip())
        except ValueError:
            raise BadCdrRow(f"start_stamp {value!r} is not a date and time") from None
    else:
        raise BadCdrRow(f"start_stamp {value!r} is not a date and time")
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=zone)
    return stamp.astimezone(UTC)


def _billsec(value: object) -> int:
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise BadCdrRow(f"billsec {value!r} is not a number of seconds")
    try:
        seconds = Decimal(str(value).strip())
    except InvalidOperation:
        raise BadCdrRow(f"billsec {value!r} is not a number of seconds") from None
    if not seconds.is_finite() or seconds < 0:
        raise BadCdrRow(f"billsec {value!r} is not a number of seconds")
    # A fraction of a second answered is a second started: round up, never down.
    return int(seconds.to_integral_value(rounding=ROUND_CEILING))
