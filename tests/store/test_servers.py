"""Per-server settings: secrets encrypted at rest, push tokens hashed and checked."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Connection
from starlette.datastructures import Secret

from bridge.errors import InvalidRequest
from bridge.store.servers import (
    check_push_token,
    get_server_settings,
    issue_push_token,
    save_server_settings,
)
from bridge.store.tables import servers

KEY = Secret(base64.urlsafe_b64encode(b"k" * 32).decode())
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
DSN = "host=10.0.0.5 dbname=fusionpbx user=voipbridge_ro password=ro-pass-123"


class TestServerSettings:
    def test_defaults_for_an_unconfigured_server(self, conn: Connection) -> None:
        """A server the bridge has no settings for reads as UTC, no source, no secrets."""
        settings = get_server_settings(conn, 3, key=KEY)

        assert (settings.timezone.key, settings.cdr_source, dict(settings.secrets)) == (
            "UTC",
            "",
            {},
        )

    def test_secrets_are_encrypted_at_rest(self, conn: Connection) -> None:
        """The DSN is readable through the bridge but not in the table."""
        save_server_settings(
            conn, 3, key=KEY, now=NOW, timezone="America/Toronto", cdr_source="database",
            secret_values={"db_dsn": DSN},
        )  # fmt: skip

        raw = conn.execute(select(servers.c.secrets).where(servers.c.server_id == 3)).scalar_one()
        settings = get_server_settings(conn, 3, key=KEY)

        assert "ro-pass-123" not in raw
        assert settings.secrets["db_dsn"] == DSN
        assert settings.timezone.key == "America/Toronto"
        assert "ro-pass-123" not in repr(settings)

    def test_partial_update_keeps_the_rest(self, conn: Connection) -> None:
        """Changing the timezone keeps the stored secrets; an empty secret value removes one."""
        save_server_settings(conn, 3, key=KEY, now=NOW, secret_values={"db_dsn": DSN, "x": "1"})

        save_server_settings(conn, 3, key=KEY, now=NOW, timezone="Europe/London")
        save_server_settings(conn, 3, key=KEY, now=NOW, secret_values={"x": ""})

        settings = get_server_settings(conn, 3, key=KEY)
        assert dict(settings.secrets) == {"db_dsn": DSN}
        assert settings.timezone.key == "Europe/London"

    @pytest.mark.parametrize(
        ("field", "value"), [("timezone", "Mars/Olympus"), ("cdr_source", "carrier pigeon")]
    )
    def test_bad_values_are_refused(self, conn: Connection, field: str, value: str) -> None:
        """An unknown timezone or CDR source is refused with the accepted values."""
        with pytest.raises(InvalidRequest):
            save_server_settings(conn, 3, key=KEY, now=NOW, **{field: value})  # type: ignore[arg-type]


class TestPushTokens:
    def test_issued_token_checks_and_replacing_revokes_it(self, conn: Connection) -> None:
        """A token works until a new one is issued; only a digest is stored."""
        first = issue_push_token(conn, 3, now=NOW)
        second = issue_push_token(conn, 3, now=NOW)

        stored = conn.execute(
            select(servers.c.push_token_hash).where(servers.c.server_id == 3)
        ).scalar_one()
        assert check_push_token(conn, 3, second)
        assert not check_push_token(conn, 3, first)
        assert second not in stored

    def test_server_without_token_accepts_nothing(self, conn: Connection) -> None:
        """No token issued means every push is refused, even an empty token."""
        assert not check_push_token(conn, 4, "")
        assert not check_push_token(conn, 4, "anything")
