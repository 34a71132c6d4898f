"""The license server's key database and signing key file."""

from __future__ import annotations

import re
import stat
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from bridge.errors import ConfigError, NotFound
from bridge.licensing.keystore import (
    bind_key,
    create_key,
    list_keys,
    load_signing_key,
    open_keystore,
    resolve_key,
    set_suspended,
)
from bridge.licensing.tokens import public_key_text

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


class TestKeys:
    def test_new_keys_are_readable_random_and_not_stored_in_full(self, tmp_path: Path) -> None:
        """Keys look like VB-XXXXX-...; the database file holds only their digest and hint."""
        engine = open_keystore(tmp_path / "keys.db")
        with engine.begin() as conn:
            first, record = create_key(conn, now=NOW, expires_on=date(2027, 1, 1), note="Acme")
            second, _ = create_key(conn, now=NOW)
        engine.dispose()

        assert re.fullmatch(r"VB(-[0-9A-HJKMNP-TV-Z]{5}){4}", first)
        assert first != second
        assert (record.note, record.expires_on, record.hint) == ("Acme", date(2027, 1, 1),
                                                                  f"…{first[-5:]}")  # fmt: skip
        stored = (tmp_path / "keys.db").read_bytes()
        assert first.encode() not in stored
        assert first[3:20].encode() not in stored

    def test_resolve_by_key_or_id(self, tmp_path: Path) -> None:
        """The CLI names a key by its text (any case) or its id; an unknown one is a clear error."""
        engine = open_keystore(tmp_path / "keys.db")
        with engine.begin() as conn:
            key, record = create_key(conn, now=NOW)

            assert resolve_key(conn, key.lower()).id == record.id
            assert resolve_key(conn, str(record.id)).hint == record.hint
            with pytest.raises(NotFound, match="bridge license-server list"):
                resolve_key(conn, "VB-NOPE")
            with pytest.raises(NotFound):
                resolve_key(conn, "9" * 40)
            with pytest.raises(NotFound, match="id 99"):
                set_suspended(conn, 99, True, now=NOW)
        engine.dispose()

    def test_one_binding_at_a_time(self, tmp_path: Path) -> None:
        """Binding a key again replaces its domain and IP; keys list oldest first."""
        engine = open_keystore(tmp_path / "keys.db")
        with engine.begin() as conn:
            _key, record = create_key(conn, now=NOW)
            bind_key(conn, record.id, "old.example.net", "203.0.113.10", now=NOW)
            bind_key(conn, record.id, "new.example.net", "198.51.100.7", now=NOW)
            create_key(conn, now=NOW)
            listed = list_keys(conn)
        engine.dispose()

        assert [(k.domain, k.ip) for k in listed] == [
            ("new.example.net", "198.51.100.7"), ("", ""),
        ]  # fmt: skip


class TestSigningKey:
    def test_created_private_and_reloaded_unchanged(self, tmp_path: Path) -> None:
        """The signing key file is made owner-only on first use and gives the same key after."""
        path = tmp_path / "server.key"

        created = load_signing_key(path)
        reloaded = load_signing_key(path)

        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert public_key_text(created) == public_key_text(reloaded)

    def test_missing_or_unreadable_key(self, tmp_path: Path) -> None:
        """A missing key (when not to be created) or a file that is no key is a clear error."""
        with pytest.raises(ConfigError, match="No signing key"):
            load_signing_key(tmp_path / "absent.key", create=False)
        garbage = tmp_path / "garbage.key"
        garbage.write_text("not a key")
        with pytest.raises(ConfigError, match="Cannot read the signing key"):
            load_signing_key(garbage)

    def test_key_of_another_kind(self, tmp_path: Path) -> None:
        """A PEM key that is not Ed25519 (say, an EC key put there by mistake) is refused."""
        path = tmp_path / "ec.key"
        ec_key = ec.generate_private_key(ec.SECP256R1())
        path.write_bytes(ec_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))

        with pytest.raises(ConfigError, match="not Ed25519"):
            load_signing_key(path)
