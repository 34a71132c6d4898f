"""Per-server PBX settings the bridge keeps itself (``mod_voipbridge_servers``).

WHMCS's server entry holds the hostname and API user; what WHMCS has no field for lives here:
the PBX's timezone, where its CDRs come from, and secrets such as the read-only database DSN of a
FusionPBX server. Secrets are stored encrypted with ``BRIDGE_ENCRYPTION_KEY`` and are never
returned in a repr. Push tokens (Vodia's CDR push) are stored only as a SHA-256 digest and
checked in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.engine import Connection
from starlette.datastructures import Secret

from bridge.clock import parse_timezone
from bridge.crypto import decrypt_text, encrypt_text
from bridge.errors import InvalidRequest
from bridge.store.tables import servers

CDR_SOURCES = ("", "database", "export", "push", "file")


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """The bridge's settings for one WHMCS server."""

    server_id: int
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    cdr_source: str = ""
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)


def get_server_settings(conn: Connection, server_id: int, *, key: Secret | None) -> ServerSettings:
    """Return the settings of ``server_id`` (defaults when none are stored), secrets decrypted."""
    row = conn.execute(select(servers).where(servers.c.server_id == server_id)).mappings().first()
    if row is None:
        return ServerSettings(server_id=server_id)
    stored = json.loads(decrypt_text(key, row["secrets"])) if row["secrets"] else {}
    return ServerSettings(
        server_id=server_id,
        timezone=ZoneInfo(row["timezone"]),
        cdr_source=row["cdr_source"],
        secrets=stored,
    )


def get_server_timezone(conn: Connection, server_id: int) -> ZoneInfo:
    """Return the PBX timezone of ``server_id`` (UTC when none is stored), reading no secret."""
    zone = conn.execute(
        select(servers.c.timezone).where(servers.c.server_id == server_id)
    ).scalar_one_or_none()
    return ZoneInfo(zone or "UTC")


def save_server_settings(
    conn: Connection,
    server_id: int,
    *,
    key: Secret | None,
    now: datetime,
    timezone: str | None = None,
    cdr_source: str | None = None,
    secret_values: Mapping[str, str] | None = None,
) -> ServerSettings:
    """Update the given settings of ``server_id`` (others keep their value); return them all."""
    current = get_server_settings(conn, server_id, key=key)
    zone = current.timezone if timezone is None else parse_timezone(timezone)
    source = current.cdr_source if cdr_source is None else cdr_source
    if source not in CDR_SOURCES:
        raise InvalidRequest(f"CDR source {source!r} is not one of {', '.join(CDR_SOURCES[1:])}.")
    merged = {**current.secrets, **(secret_values or {})}
    merged = {name: value for name, value in merged.items() if value}
    values = {
        "timezone": zone.key,
        "cdr_source": source,
        "secrets": encrypt_text(key, json.dumps(merged)) if merged else "",
        "updated_at": now.replace(tzinfo=None),
    }
    _upsert(conn, server_id, values)
    return ServerSettings(server_id, zone, source, merged)


def issue_push_token(conn: Connection, server_id: int, *, now: datetime) -> str:
    """Create a new push token for ``server_id`` (replacing any old one) and return it once."""
    token = secrets.token_urlsafe(32)
    _upsert(
        conn,
        server_id,
        {"push_token_hash": _digest(token), "updated_at": now.replace(tzinfo=None)},
    )
    return token


def check_push_token(conn: Connection, server_id: int, token: str) -> bool:
    """Tell whether ``token`` is the current push token of ``server_id`` (constant time)."""
    stored = conn.execute(
        select(servers.c.push_token_hash).where(servers.c.server_id == server_id)
    ).scalar_one_or_none()
    if not stored:
        return False
    return hmac.compare_digest(stored, _digest(token))


def _upsert(conn: Connection, server_id: int, values: dict[str, object]) -> None:
    exists = conn.execute(
        select(servers.c.server_id).where(servers.c.server_id == server_id).with_for_update()
    ).first()
    if exists:
        conn.execute(servers.update().where(servers.c.server_id == server_id).values(**values))
    else:
        conn.execute(servers.insert().values(server_id=server_id, **{"secrets": "", **values}))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
