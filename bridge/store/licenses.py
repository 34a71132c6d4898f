"""The license tokens the bridge keeps (``mod_voipbridge_licenses``), one per license key.

The token is signed by the license server, so it is stored as is: editing it would break its
signature. The key is named by its SHA-256 digest and shown by its last characters only, so the
table never holds a key in full. ``refresh_failed_at`` remembers the last failed attempt to reach
the license server, so a server outage costs one attempt per interval rather than one per call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from bridge.store.tables import licenses


@dataclass(frozen=True, slots=True)
class StoredLicense:
    """The last token the license server signed for one key."""

    key_sha256: str
    key_hint: str
    token: str
    confirmed_at: datetime
    refresh_failed_at: datetime | None = None


def load_license(conn: Connection, key_sha256: str) -> StoredLicense | None:
    """Return the stored token for the key with this digest, or ``None``."""
    row = (
        conn.execute(select(licenses).where(licenses.c.key_sha256 == key_sha256)).mappings().first()
    )
    if row is None:
        return None
    failed = row["refresh_failed_at"]
    return StoredLicense(
        key_sha256=row["key_sha256"],
        key_hint=row["key_hint"],
        token=row["token"],
        confirmed_at=row["confirmed_at"].replace(tzinfo=UTC),
        refresh_failed_at=failed.replace(tzinfo=UTC) if failed else None,
    )


def save_license(
    conn: Connection,
    key_sha256: str,
    *,
    key_hint: str,
    token: str,
    confirmed_at: datetime,
    now: datetime,
) -> None:
    """Store ``token`` as the key's current token, replacing any older one."""
    values = {
        "key_hint": key_hint,
        "token": token,
        "confirmed_at": _naive(confirmed_at),
        "refresh_failed_at": None,
        "updated_at": _naive(now),
    }
    updated = conn.execute(
        licenses.update().where(licenses.c.key_sha256 == key_sha256).values(**values)
    )
    if updated.rowcount == 0:
        conn.execute(licenses.insert().values(key_sha256=key_sha256, **values))


def note_refresh_failure(conn: Connection, key_sha256: str, *, now: datetime) -> None:
    """Record that the license server could not be asked about this key at ``now``."""
    conn.execute(
        licenses.update()
        .where(licenses.c.key_sha256 == key_sha256)
        .values(refresh_failed_at=_naive(now), updated_at=_naive(now))
    )


def _naive(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(tzinfo=None, microsecond=0)
