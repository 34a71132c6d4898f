"""VoIP servers for adapters: one whose settings cannot be read is set apart, not fatal to all."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Connection
from starlette.datastructures import Secret

from bridge.errors import ConfigError
from bridge.store.servers import save_server_settings
from bridge.usecases.pbx_servers import load_pbx_servers, read_pbx_servers
from tests.factories.whmcs import make_server

KEY = Secret(base64.urlsafe_b64encode(b"k" * 32).decode())
OLD_KEY = Secret(base64.urlsafe_b64encode(b"o" * 32).decode())
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def test_a_server_with_a_secret_under_another_key_is_set_apart(conn: Connection) -> None:
    """The readable servers are loaded; the other is returned apart with the reason."""
    good = make_server(conn, module="vodia")
    broken = make_server(conn, module="fusionpbx")
    save_server_settings(conn, good, key=KEY, now=NOW, secret_values={"api_password": "a"})
    save_server_settings(conn, broken, key=OLD_KEY, now=NOW, secret_values={"api_password": "b"})

    loaded, apart = read_pbx_servers(conn, key=KEY)

    assert [pbx.id for pbx, _settings in loaded] == [good]
    assert [(b.server_id, b.module) for b in apart] == [(broken, "fusionpbx")]
    assert "cannot be decrypted" in apart[0].message
    with pytest.raises(ConfigError, match=rf"^Server #{broken} \(fusionpbx server\): A stored"):
        load_pbx_servers(conn, key=KEY, server_id=broken)
    assert [pbx.id for pbx, _ in load_pbx_servers(conn, key=KEY, server_id=good)] == [good]
