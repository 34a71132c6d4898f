"""The reference license server running for real on 127.0.0.1, and helpers to drive it in tests.

:func:`running_license_server` builds the server exactly as ``bridge license-server serve`` does
(SQLite key database and Ed25519 signing key files in a temporary folder) and serves it with
uvicorn through :func:`tests.fakes.serve`. Its clock is the bridge's (``utc_now``, so freezegun
moves it) unless a test passes its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine
from starlette.datastructures import Secret

from bridge.clock import utc_now
from bridge.licensing.keystore import (
    LicenseKey,
    create_key,
    load_signing_key,
    open_keystore,
    resolve_key,
    set_expiry,
    set_suspended,
)
from bridge.licensing.server import RateLimit, create_license_app
from bridge.licensing.tokens import public_key_text
from bridge.settings import Settings
from tests.conftest import TEST_SECRET
from tests.fakes import Served, serve


@dataclass(frozen=True, slots=True)
class LicenseServer:
    """A running reference license server and its key database."""

    served: Served
    engine: Engine
    signing_key: Ed25519PrivateKey

    @property
    def url(self) -> str:
        """Return the server's base URL."""
        return self.served.url

    @property
    def public_key(self) -> str:
        """Return the public key, as BRIDGE_LICENSE_PUBLIC_KEY holds it."""
        return public_key_text(self.signing_key)

    def create_key(self, *, expires_on: date | None = None) -> str:
        """Create a key on the server and return it."""
        with self.engine.begin() as conn:
            key, _record = create_key(conn, now=utc_now(), expires_on=expires_on)
        return key

    def record(self, key: str) -> LicenseKey:
        """Return the server's record of ``key``."""
        with self.engine.begin() as conn:
            return resolve_key(conn, key)

    def suspend(self, key: str, suspended: bool = True) -> None:
        """Suspend (or unsuspend) ``key`` on the server."""
        with self.engine.begin() as conn:
            set_suspended(conn, resolve_key(conn, key).id, suspended, now=utc_now())

    def set_expiry(self, key: str, expires_on: date | None) -> None:
        """Set the day ``key`` expires on the server."""
        with self.engine.begin() as conn:
            set_expiry(conn, resolve_key(conn, key).id, expires_on, now=utc_now())

    def settings(self, *, grace_days: int = 7, url: str | None = None) -> Settings:
        """Return bridge settings pointing at this server (or at ``url``)."""
        return Settings(
            secret=Secret(TEST_SECRET),
            license_url=url or self.url,
            license_public_key=self.public_key,
            license_grace_days=grace_days,
        )


@contextmanager
def running_license_server(
    folder: Path,
    *,
    rate_limit: RateLimit | None = None,
    clock: Callable[[], datetime] = lambda: utc_now(),
) -> Iterator[LicenseServer]:
    """Serve a fresh reference license server from files in ``folder`` for the block."""
    engine = open_keystore(folder / "license-server.db")
    signing_key = load_signing_key(folder / "license-server.key")
    app = create_license_app(
        engine, signing_key, rate_limit=rate_limit or RateLimit(requests=1000), clock=clock
    )
    try:
        with serve(app) as served:
            yield LicenseServer(served, engine, signing_key)
    finally:
        engine.dispose()
