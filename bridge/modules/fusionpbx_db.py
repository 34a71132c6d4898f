"""FusionPBX's ``v_xml_cdr`` table, read straight from the PBX's PostgreSQL.

The bridge reads it with a DSN of its own (a read-only role with ``SELECT`` on ``v_xml_cdr``), one
connection per fetch, with the session set read-only, the session time zone UTC and a statement
timeout. Rows are mapped by :func:`bridge.modules.fusionpbx_cdr.cdr_from_row`, the mapping the
export and CSV sources share.

**Which rows.** FusionPBX writes a call's row when the call ends, and its importer can fall behind
(it imports the XML files FreeSWITCH leaves behind), so a window on ``start_stamp`` misses a call
longer than its lookback, or one imported late. Rows are therefore selected by when they were
*recorded*: ``insert_date``, which FusionPBX stamps on every row it writes (``COALESCE``'d with
``start_stamp`` for rows some older importer left without one), in the half-open window, filtered
by ``domain_name`` (the tenant) when one is given, ordered by ``(recorded, xml_cdr_uuid)`` and read
in keyset batches (``(recorded, xml_cdr_uuid) > last row``), so a busy tenant never produces one
huge result and a batch boundary neither repeats nor skips a call.

FusionPBX creates no index on ``insert_date``; without one each batch query scans ``v_xml_cdr``
(``docs/performance.md`` has the figures). The operator may add the index that matches the query::

    CREATE INDEX CONCURRENTLY voipbridge_v_xml_cdr_recorded
        ON v_xml_cdr ((COALESCE(insert_date, start_stamp)), xml_cdr_uuid);

psycopg errors never leave this module: an unreachable server, timeout or dropped link is
:class:`~bridge.errors.ProviderUnavailable`; a refused login, a missing database, table, column or
privilege is :class:`~bridge.errors.ProviderRejected` saying what to fix. Messages name the host,
database and user but never echo the DSN, and the password is masked. A row holding a value the
bridge cannot store is :class:`~bridge.errors.ProviderRejected` naming its uuid.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import errors as pgerrors
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row

from bridge.calls import Intake
from bridge.errors import ProviderError, ProviderRejected, ProviderUnavailable
from bridge.modules.base import TimeWindow
from bridge.modules.fusionpbx_cdr import COLUMNS, read_row
from bridge.redact import redact

log = logging.getLogger("bridge.modules.fusionpbx")

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


# When FusionPBX recorded a row; the collection window and the keyset order run on it.
RECORDED = sql.SQL("COALESCE(insert_date, start_stamp)")


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

    def fetch(self, domain: str | None, window: TimeWindow) -> Iterator[Intake]:
        """Yield the legs of ``domain`` (``None``: every domain) recorded in ``window``."""
        with self.connect() as conn:
            after: tuple[datetime, Any] | None = None
            while True:
                query, params = self._batch_query(domain, window, after)
                with self._translated():
                    rows = conn.execute(query, params).fetchall()
                for row in rows:
                    yield read_row(row, zone=UTC)
                if len(rows) < self.batch_size:
                    return
                after = (rows[-1]["recorded"], rows[-1]["xml_cdr_uuid"])

    def _batch_query(
        self, domain: str | None, window: TimeWindow, after: tuple[datetime, Any] | None
    ) -> tuple[sql.Composed, dict[str, Any]]:
        conditions: list[sql.Composable] = [
            sql.SQL("{recorded} >= %(start)s AND {recorded} < %(end)s").format(recorded=RECORDED)
        ]
        params: dict[str, Any] = {"start": window.start, "end": window.end}
        if domain is not None:
            conditions.append(sql.SQL("domain_name = %(domain)s"))
            params["domain"] = domain
        if after is not None:
            conditions.append(
                sql.SQL("({recorded}, xml_cdr_uuid) > (%(after_stamp)s, %(after_uuid)s)").format(
                    recorded=RECORDED
                )
            )
            params["after_stamp"], params["after_uuid"] = after
        params["limit"] = self.batch_size
        query = sql.SQL(
            "SELECT {columns}, {recorded} AS recorded FROM v_xml_cdr WHERE {conditions} "
            "ORDER BY {recorded}, xml_cdr_uuid LIMIT %(limit)s"
        ).format(
            columns=sql.SQL(", ").join(sql.Identifier(name) for name in COLUMNS),
            recorded=RECORDED,
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
