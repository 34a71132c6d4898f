"""The reference license server's own data: its license keys (SQLite) and its signing key file.

This is a separate database from WHMCS's and the bridge's: the license server runs elsewhere, for
the vendor, with a SQLite file by default (``license-server.db``). Its one table is created on
first use. Keys are stored as SHA-256 digests with their last characters for display, so the file
holds no usable key; the full key is printed once, when it is created.

A key has one binding (domain and IP) at a time: activating it elsewhere overwrites the binding,
which is what releases the old installation.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    select,
)
from sqlalchemy.engine import Connection, RowMapping

from bridge.db import sqlite_url
from bridge.errors import ConfigError, NotFound
from bridge.licensing.tokens import key_digest, key_hint, normalize_key

# Crockford's base32 alphabet: no I, L, O or U to misread when a key is typed in.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
KEY_GROUPS = 4
KEY_GROUP_LENGTH = 5

METADATA = MetaData()

license_keys = Table(
    "license_keys",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key_sha256", String(64), nullable=False, unique=True),
    Column("key_hint", String(16), nullable=False),
    Column("note", String(200), nullable=False, default=""),
    Column("suspended", Integer, nullable=False, default=0),
    Column("expires_on", Date(), nullable=True),
    Column("domain", String(253), nullable=False, default=""),
    Column("ip", String(45), nullable=False, default=""),
    Column("bound_at", DateTime(), nullable=True),
    Column("created_at", DateTime(), nullable=False),
    Column("updated_at", DateTime(), nullable=False),
)


@dataclass(frozen=True, slots=True)
class LicenseKey:
    """One license key as the license server keeps it."""

    id: int
    hint: str
    note: str
    suspended: bool
    expires_on: date | None
    domain: str
    ip: str
    bound_at: datetime | None

    def expired(self, today: date) -> bool:
        """Tell whether the key has expired by ``today`` (it expires at the start of that day)."""
        return self.expires_on is not None and today >= self.expires_on


def open_keystore(path: Path) -> Engine:
    """Return an engine on the SQLite file at ``path``, creating the file and table if needed."""
    engine = create_engine(
        sqlite_url(path),
        # The server runs sync handlers in a thread pool; SQLite's file lock keeps writers apart.
        connect_args={"check_same_thread": False, "timeout": 10},
    )
    METADATA.create_all(engine)
    return engine


def generate_key() -> str:
    """Return a new random license key, ``VB-XXXXX-XXXXX-XXXXX-XXXXX`` (100 bits)."""
    groups = (
        "".join(secrets.choice(_ALPHABET) for _ in range(KEY_GROUP_LENGTH))
        for _ in range(KEY_GROUPS)
    )
    return "VB-" + "-".join(groups)


def create_key(
    conn: Connection, *, now: datetime, expires_on: date | None = None, note: str = ""
) -> tuple[str, LicenseKey]:
    """Create a key and return it in full (shown once) with its stored record."""
    key = generate_key()
    stamp = _naive(now)
    inserted = conn.execute(
        license_keys.insert().values(
            key_sha256=key_digest(key), key_hint=key_hint(key), note=note[:200],
            suspended=0, expires_on=expires_on, created_at=stamp, updated_at=stamp,
        )
    )  # fmt: skip
    primary_key = inserted.inserted_primary_key
    assert primary_key is not None
    key_id = int(primary_key[0])
    return key, _get(conn, key_id)


def list_keys(conn: Connection) -> list[LicenseKey]:
    """Return every key, oldest first."""
    rows = conn.execute(select(license_keys).order_by(license_keys.c.id)).mappings()
    return [_key_from(row) for row in rows]


def find_key(conn: Connection, key: str) -> LicenseKey | None:
    """Return the record of ``key`` (compared as normalised), or ``None``."""
    row = (
        conn.execute(select(license_keys).where(license_keys.c.key_sha256 == key_digest(key)))
        .mappings()
        .first()
    )
    return _key_from(row) if row else None


def resolve_key(conn: Connection, key_or_id: str) -> LicenseKey:
    """Return the key named by its full text or its numeric id, as the CLI accepts either."""
    text = normalize_key(key_or_id)
    # Ids are short; a long run of digits would overflow SQLite's INTEGER, and is no id anyway.
    found = _get(conn, int(text)) if text.isdigit() and len(text) <= 9 else find_key(conn, text)
    if found is None:
        raise NotFound(f"No license key {key_or_id!r}; `bridge license-server list` shows them.")
    return found


def set_suspended(conn: Connection, key_id: int, suspended: bool, *, now: datetime) -> LicenseKey:
    """Suspend or unsuspend a key; return its new record."""
    return _update(conn, key_id, now, suspended=int(suspended))


def set_expiry(
    conn: Connection, key_id: int, expires_on: date | None, *, now: datetime
) -> LicenseKey:
    """Set the day a key expires (``None``: never); return its new record."""
    return _update(conn, key_id, now, expires_on=expires_on)


def bind_key(conn: Connection, key_id: int, domain: str, ip: str, *, now: datetime) -> LicenseKey:
    """Bind a key to ``domain`` and ``ip``, replacing (and so releasing) its previous binding."""
    return _update(conn, key_id, now, domain=domain, ip=ip, bound_at=_naive(now))


def load_signing_key(path: Path, *, create: bool = True) -> Ed25519PrivateKey:
    """Return the server's Ed25519 signing key from ``path``, generating it there if missing."""
    if not path.exists():
        if not create:
            raise ConfigError(f"No signing key at {path}; `bridge license-server serve` makes one.")
        private_key = Ed25519PrivateKey.generate()
        pem = private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        # Created owner-only and never overwritten: losing this key orphans every token issued.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
        return private_key
    try:
        loaded = load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(f"Cannot read the signing key {path}: {exc}") from None
    if not isinstance(loaded, Ed25519PrivateKey):
        raise ConfigError(f"{path} holds a key that is not Ed25519.")
    return loaded


def _update(conn: Connection, key_id: int, now: datetime, **values: object) -> LicenseKey:
    updated = conn.execute(
        license_keys.update()
        .where(license_keys.c.id == key_id)
        .values(updated_at=_naive(now), **values)
    )
    if updated.rowcount == 0:
        raise NotFound(f"No license key with id {key_id}.")
    return _get(conn, key_id)


def _get(conn: Connection, key_id: int) -> LicenseKey:
    row = conn.execute(select(license_keys).where(license_keys.c.id == key_id)).mappings().first()
    if row is None:
        raise NotFound(f"No license key with id {key_id}.")
    return _key_from(row)


def _key_from(row: RowMapping) -> LicenseKey:
    bound = row["bound_at"]
    return LicenseKey(
        id=row["id"],
        hint=row["key_hint"],
        note=row["note"],
        suspended=bool(row["suspended"]),
        expires_on=row["expires_on"],
        domain=row["domain"],
        ip=row["ip"],
        bound_at=bound.replace(tzinfo=UTC) if bound else None,
    )


def _naive(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(tzinfo=None, microsecond=0)
